#include "daemon/admin_api.h"

#include <simdjson.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "common/json.h"
#include "common/log.h"
#include "fmt/format.h"
#include "rules/engine.h"
#include "rules/explain.h"
#include "rules/partition_view.h"
#include "rules/user_report.h"
#include "stream/record_decoder.h"

namespace segd {

namespace {

constexpr int kApplyTimeoutMs = 120000;
constexpr size_t kDefaultPage = 10000;
constexpr size_t kMaxPage = 100000;
// Requests per second per client, and the burst allowed.
constexpr double kRatePerSecond = 500;
constexpr double kBurst = 1000;

const std::vector<AdminApi::Route> kRoutes = {
    {"GET", "/healthz"},
    {"GET", "/readyz"},
    {"GET", "/metrics"},
    {"GET", "/segments"},
    {"GET", "/segments/{id}"},
    {"PUT", "/segments/{id}"},
    {"DELETE", "/segments/{id}"},
    {"GET", "/segments/{id}/members"},
    {"GET", "/segments/{id}/members/{user}"},
    {"GET", "/users/{user}"},
    {"GET", "/users/{user}/explain/{segment}"},
    {"GET", "/lists"},
    {"PUT", "/lists/{name}"},
};

HttpResponse Json(int status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

HttpResponse Error(int status, const char* code, const std::string& message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, code);
  body += ",\"message\":";
  AppendJsonString(&body, message);
  body += "}";
  return Json(status, std::move(body));
}

// The answer to a segment or list change that did not apply.
HttpResponse ChangeError(const Status& s) {
  switch (s.code()) {
    case Status::Code::kFailedPrecondition:
      return Error(409, "conflict", s.message());
    case Status::Code::kResourceExhausted:
      return Error(413, "payload_too_large", s.message());
    default:
      return Error(503, "unavailable", s.message());
  }
}

std::string Rfc3339(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `s`; nullopt on a malformed escape.
std::optional<std::string> Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> path;  // decoded segments
  std::map<std::string, std::string> query;
};

std::optional<Target> ParseTarget(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') return std::nullopt;
  size_t i = 1;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    auto seg = Decode(path.substr(i, slash - i), false);
    if (!seg) return std::nullopt;
    t.path.push_back(std::move(*seg));
    i = slash + 1;
  }
  if (!t.path.empty() && t.path.back().empty() && t.path.size() > 1) t.path.pop_back();
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      size_t eq = kv.find('=');
      auto k = Decode(kv.substr(0, eq), true);
      auto v = Decode(eq == std::string_view::npos ? "" : kv.substr(eq + 1), true);
      if (!k || !v) return std::nullopt;
      if (!k->empty()) t.query[*k] = *v;
      rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
    }
  }
  return t;
}

// Matches `path` against a route pattern; fills the {params} in order.
bool Match(const char* pattern, const std::vector<std::string>& path,
           std::vector<std::string>* params) {
  std::vector<std::string_view> parts;
  std::string_view p(pattern + 1);
  while (true) {
    size_t slash = p.find('/');
    parts.push_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p = p.substr(slash + 1);
  }
  if (parts.size() != path.size()) return false;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i].front() == '{') {
      if (path[i].empty()) return false;
      params->push_back(path[i]);
    } else if (parts[i] != path[i]) {
      return false;
    }
  }
  return true;
}

std::string PartitionsJson(Pipeline* pipeline) {
  std::string out = "[";
  pipeline->ForEachStore([&](const TopicPartition& tp, PartitionStore*) {
    if (out.size() > 1) out += ",";
    out += "{\"topic\":";
    AppendJsonString(&out, tp.topic);
    out += fmt::format(",\"partition\":{}}}", tp.partition);
  });
  return out + "]";
}

// A segment's JSON object, left open: the caller adds fields or the "}".
std::string SegmentJson(const rules::CompiledSegment& seg, const Catalog& catalog,
                        uint64_t members) {
  auto api = catalog.api_segment(seg.id);
  std::string out = "{\"id\":";
  AppendJsonString(&out, seg.id);
  out += ",\"name\":";
  AppendJsonString(&out, seg.name);
  out += ",\"rule\":";
  AppendJsonString(&out, api ? api->rule : seg.rule_text);
  out += fmt::format(",\"emit_initial\":{},\"source\":\"{}\",\"members\":{}",
                     seg.emit_initial ? "true" : "false", api ? "api" : "file", members);
  int64_t created = api ? api->created_ms : catalog.loaded_ms();
  int64_t updated = api ? api->updated_ms : catalog.loaded_ms();
  out += ",\"created\":\"" + Rfc3339(created) + "\",\"updated\":\"" + Rfc3339(updated) + "\"";
  return out;
}

// The body of PUT /segments/{id}: {"rule": str, "name": str?, "emit_initial": bool?}.
std::optional<std::string> ParseSegmentBody(const std::string& body, ApiSegment* seg) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return "the body is not valid JSON";
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return "the body must be a JSON object";
  bool has_rule = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == "rule") {
      std::string_view rule;
      if (field.value.get(rule) != simdjson::SUCCESS) return "\"rule\" must be a string";
      seg->rule = rule;
      has_rule = true;
    } else if (key == "name") {
      std::string_view name;
      if (field.value.get(name) != simdjson::SUCCESS) return "\"name\" must be a string";
      seg->name = name;
    } else if (key == "emit_initial") {
      if (field.value.get(seg->emit_initial) != simdjson::SUCCESS) {
        return "\"emit_initial\" must be true or false";
      }
    } else {
      return "unknown field \"" + std::string(key) + "\" (expected rule, name, emit_initial)";
    }
  }
  if (!has_rule) return "\"rule\" is required";
  return std::nullopt;
}

bool IsValidListName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The body of PUT /lists/{name}: user ids one per line (text/plain; blank
// lines skipped) or {"users": [str, ...]} (application/json).
std::optional<std::string> ParseListBody(const HttpRequest& req, std::vector<std::string>* users) {
  std::string_view type = req.content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  auto check = [&](std::string_view id) -> std::optional<std::string> {
    if (id.size() > DecoderOptions::kMaxUserIdBytes) {
      return fmt::format("user id {} is over {} bytes", users->size() + 1,
                         DecoderOptions::kMaxUserIdBytes);
    }
    return std::nullopt;
  };
  if (type == "application/json") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(req.body).get(doc) != simdjson::SUCCESS) return "the body is not valid JSON";
    simdjson::dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS) return "the body must be a JSON object";
    bool has_users = false;
    for (auto field : obj) {
      if (field.key != "users") {
        return "unknown field \"" + std::string(field.key) + "\" (expected users)";
      }
      simdjson::dom::array arr;
      if (field.value.get(arr) != simdjson::SUCCESS) return "\"users\" must be an array";
      for (simdjson::dom::element e : arr) {
        std::string_view id;
        if (e.get(id) != simdjson::SUCCESS || id.empty()) {
          return "\"users\" must hold non-empty strings";
        }
        if (auto why = check(id)) return why;
        users->emplace_back(id);
      }
      has_users = true;
    }
    if (!has_users) return "\"users\" is required";
    return std::nullopt;
  }
  if (type != "text/plain" && !type.empty()) {
    return "the body is text/plain (one user id per line) or application/json";
  }
  if (!simdjson::validate_utf8(req.body.data(), req.body.size())) return "the body is not UTF-8";
  std::string_view rest = req.body;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (auto why = check(line)) return why;
    users->emplace_back(line);
  }
  return std::nullopt;
}

// The members cursor: "<topic>\t<partition>\t<last user id>", hex-encoded.
std::string EncodeCursor(const TopicPartition& tp, std::string_view user) {
  std::string raw = tp.topic + "\t" + std::to_string(tp.partition) + "\t" + std::string(user);
  std::string out;
  for (unsigned char c : raw) out += fmt::format("{:02x}", c);
  return out;
}

std::optional<std::pair<TopicPartition, std::string>> DecodeCursor(std::string_view c) {
  if (c.size() % 2 != 0) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < c.size(); i += 2) {
    int hi = HexValue(c[i]), lo = HexValue(c[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  size_t a = raw.find('\t');
  size_t b = a == std::string::npos ? a : raw.find('\t', a + 1);
  if (b == std::string::npos) return std::nullopt;
  TopicPartition tp;
  tp.topic = raw.substr(0, a);
  std::string part = raw.substr(a + 1, b - a - 1);
  if (part.empty() || part.size() > 9 ||
      part.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  tp.partition = std::stoi(part);
  return std::make_pair(tp, raw.substr(b + 1));
}

// Opens a short-lived reader of `store` and a view of it under `rules`.
Status WithView(PartitionStore* store, const rules::RuleSet* rules,
                const std::function<Status(rules::PartitionView&)>& fn) {
  auto reader = store->Read();
  if (!reader.ok()) return reader.status();
  auto view = rules::PartitionView::Open(rules, reader->get());
  if (!view.ok()) return view.status();
  return fn(*view);
}

}  // namespace

AdminApi::AdminApi(Catalog* catalog, Pipeline* pipeline, Metrics* metrics, std::string token)
    : catalog_(catalog), pipeline_(pipeline), metrics_(metrics), token_(std::move(token)) {}

const std::vector<AdminApi::Route>& AdminApi::Routes() { return kRoutes; }

bool AdminApi::Allow(const std::string& client) {
  std::lock_guard lock(rate_mu_);
  auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{kBurst, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.at).count();
  b.tokens = std::min(kBurst, b.tokens + elapsed * kRatePerSecond);
  b.at = now;
  if (buckets_.size() > 10000) buckets_.clear();  // bounded: forget old clients
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

HttpResponse AdminApi::Handle(const HttpRequest& req) {
  if (!Allow(req.client)) {
    HttpResponse r = Error(429, "too_many_requests", "rate limit exceeded; retry shortly");
    r.headers.push_back({"Retry-After", "1"});
    return r;
  }
  auto target = ParseTarget(req.target);
  if (!target) return Error(400, "bad_request", "malformed request target");
  const Route* route = nullptr;
  bool path_known = false;
  std::vector<std::string> params;
  for (const Route& r : kRoutes) {
    if (!Match(r.path, target->path, &params)) continue;
    path_known = true;
    if (req.method == r.method) {
      route = &r;
      break;
    }
  }
  if (route == nullptr) {
    if (path_known) return Error(405, "method_not_allowed", "method not allowed on this path");
    return Error(404, "not_found", "no such route");
  }
  std::string path = route->path;
  std::string method = route->method;

  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n", {}};
  if (path == "/readyz") {
    bool ok = pipeline_->ready();
    return {ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ready\n" : "not ready\n", {}};
  }
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_->Serialize(), {}};
  }

  if (method != "GET") {
    if (token_.empty()) {
      return Error(401, "unauthorized", "writes are disabled: admin.token is not set");
    }
    if (req.authorization != "Bearer " + token_) {
      HttpResponse r = Error(401, "unauthorized", "a valid bearer token is required");
      r.headers.push_back({"WWW-Authenticate", "Bearer"});
      return r;
    }
  }

  auto rules = catalog_->rules();
  if (path == "/segments") {
    auto counts = pipeline_->MemberCounts();
    std::string body = "{\"segments\":[";
    for (size_t i = 0; i < rules->segments().size(); ++i) {
      const auto& seg = rules->segments()[i];
      if (i > 0) body += ",";
      body += SegmentJson(seg, *catalog_, counts[seg.id]) + "}";
    }
    body += "],\"partitions\":" + PartitionsJson(pipeline_) + "}";
    return Json(200, std::move(body));
  }

  if (path == "/lists") {
    std::string body = "{\"lists\":[";
    bool first = true;
    auto add = [&](const std::string& name, const char* source, int64_t updated) {
      int l = rules->ListIndex(name);
      if (!first) body += ",";
      first = false;
      body += "{\"name\":";
      AppendJsonString(&body, name);
      body += fmt::format(",\"users\":{},\"source\":\"{}\",\"updated\":\"{}\"}}",
                          l >= 0 ? rules->ListSize(l) : 0, source, Rfc3339(updated));
    };
    auto api = catalog_->api_lists();
    for (const auto& [name, ids] : rules->lists()) {
      auto it = std::find_if(api.begin(), api.end(), [&](const ApiList& a) { return a.name == name; });
      if (it == api.end()) add(name, "file", catalog_->loaded_ms());
    }
    for (const ApiList& a : api) add(a.name, "api", a.updated_ms);
    return Json(200, body + "]}");
  }
  if (path == "/lists/{name}") {
    const std::string& name = params[0];
    if (!IsValidListName(name)) {
      return Error(400, "bad_request", "a list name is 1 to 128 of A-Z a-z 0-9 _ . -");
    }
    std::vector<std::string> users;
    if (auto why = ParseListBody(req, &users)) return Error(400, "bad_request", *why);
    std::lock_guard lock(write_mu_);
    auto change = catalog_->PreparePutList(name, std::move(users));
    if (!change.ok()) {
      if (change.status().code() == Status::Code::kFailedPrecondition) {
        return Error(409, "conflict", change.status().message());
      }
      return Error(400, "bad_request", change.status().message());
    }
    auto new_rules = change->rules;
    size_t count = new_rules->ListSize(new_rules->ListIndex(name));
    Status applied = pipeline_->ChangeDefinitions(std::move(change).value(), kApplyTimeoutMs);
    if (!applied.ok()) return ChangeError(applied);
    LogInfo("List saved", {{"list", name}, {"users", count}});
    std::string body = "{\"name\":";
    AppendJsonString(&body, name);
    return Json(200, body + fmt::format(",\"users\":{}}}", count));
  }

  const std::string& id = params[0];
  if (path == "/segments/{id}" && method == "PUT") {
    if (!IsValidSegmentId(id)) {
      return Error(400, "bad_request", "a segment id is 1 to 64 of A-Z a-z 0-9 _ -");
    }
    ApiSegment seg;
    seg.id = id;
    if (auto why = ParseSegmentBody(req.body, &seg)) return Error(400, "bad_request", *why);
    if (seg.name.empty()) seg.name = id;
    std::lock_guard lock(write_mu_);
    bool existed = catalog_->api_segment(id).has_value();
    std::vector<RuleError> errors;
    auto change = catalog_->PreparePut(seg, &errors);
    if (!change.ok()) {
      if (change.status().code() == Status::Code::kFailedPrecondition) {
        return Error(409, "conflict", change.status().message());
      }
      if (errors.empty()) return Error(400, "invalid_rule", change.status().message());
      const RuleError& e = errors.front();
      std::string body = "{\"error\":\"invalid_rule\",\"message\":";
      AppendJsonString(&body, e.reason);
      body += fmt::format(",\"line\":{},\"column\":{}}}", e.pos.line, e.pos.column);
      return Json(400, std::move(body));
    }
    Status applied = pipeline_->ChangeDefinitions(std::move(change).value(), kApplyTimeoutMs);
    if (!applied.ok()) return ChangeError(applied);
    LogInfo("Segment saved", {{"segment", id}, {"created", !existed}});
    auto now_rules = catalog_->rules();
    int seg_index = rules::FindSegment(*now_rules, id);
    if (seg_index < 0) return Error(409, "conflict", "segment " + id + " was deleted meanwhile");
    std::string body =
        SegmentJson(now_rules->segments()[seg_index], *catalog_, pipeline_->MemberCounts()[id]);
    body += ",\"partitions\":" + PartitionsJson(pipeline_) + "}";
    return Json(existed ? 200 : 201, std::move(body));
  }
  if (!IsValidSegmentId(id) && path.rfind("/segments", 0) == 0) {
    return Error(404, "not_found", "no segment " + id);
  }
  if (path == "/segments/{id}" && method == "DELETE") {
    std::lock_guard lock(write_mu_);
    if (rules::FindSegment(*rules, id) < 0) return Error(404, "not_found", "no segment " + id);
    std::vector<RuleError> errors;
    auto change = catalog_->PrepareDelete(id, &errors);
    if (!change.ok()) {
      if (change.status().code() == Status::Code::kNotFound) {
        return Error(404, "not_found", change.status().message());
      }
      return Error(409, "conflict", change.status().message());
    }
    Status applied = pipeline_->ChangeDefinitions(std::move(change).value(), kApplyTimeoutMs);
    if (!applied.ok()) return ChangeError(applied);
    LogInfo("Segment deleted", {{"segment", id}});
    std::string body = "{\"deleted\":";
    AppendJsonString(&body, id);
    return Json(200, body + "}");
  }

  if (path.rfind("/segments/{id}", 0) == 0) {
    int seg = rules::FindSegment(*rules, id);
    if (seg < 0) return Error(404, "not_found", "no segment " + id);
    if (path == "/segments/{id}") {
      auto counts = pipeline_->MemberCounts();
      std::string body = SegmentJson(rules->segments()[seg], *catalog_, counts[id]);
      body += ",\"partitions\":" + PartitionsJson(pipeline_) + "}";
      return Json(200, std::move(body));
    }
    if (path == "/segments/{id}/members/{user}") {
      const std::string& user = params[1];
      bool seen = false, member = false;
      Status bad = Status::Ok();
      pipeline_->ForEachStore([&](const TopicPartition&, PartitionStore* store) {
        if (seen || !bad.ok()) return;
        bad = WithView(store, rules.get(), [&](rules::PartitionView& view) {
          auto u = view.LoadUser(user);
          if (!u.ok()) return u.status();
          if (u->has_value()) {
            seen = true;
            member = (**u).members[seg] != 0;
          }
          return Status::Ok();
        });
      });
      if (!bad.ok()) return Error(503, "unavailable", bad.ToString());
      std::string body = "{\"segment\":";
      AppendJsonString(&body, id);
      body += ",\"user_id\":";
      AppendJsonString(&body, user);
      body += fmt::format(",\"member\":{},\"seen\":{}}}", member ? "true" : "false",
                          seen ? "true" : "false");
      return Json(200, std::move(body));
    }
    // GET /segments/{id}/members
    std::string format = "jsonl";
    size_t limit = kDefaultPage;
    std::optional<std::pair<TopicPartition, std::string>> cursor;
    for (const auto& [k, v] : target->query) {
      if (k == "format") {
        format = v;
        if (format != "jsonl" && format != "csv") {
          return Error(400, "bad_request", "format is jsonl or csv");
        }
      } else if (k == "limit") {
        if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(v) < 1 || std::stoul(v) > kMaxPage) {
          return Error(400, "bad_request", fmt::format("limit is 1 to {}", kMaxPage));
        }
        limit = std::stoul(v);
      } else if (k == "cursor") {
        cursor = DecodeCursor(v);
        if (!cursor) return Error(400, "bad_request", "malformed cursor");
      } else {
        return Error(400, "bad_request", "unknown query parameter " + k);
      }
    }
    std::string body = format == "csv" ? "user_id\n" : "";
    size_t n = 0;
    std::optional<std::string> next;
    Status bad = Status::Ok();
    pipeline_->ForEachStore([&](const TopicPartition& tp, PartitionStore* store) {
      if (next || !bad.ok()) return;
      std::string after;
      if (cursor) {
        if (tp < cursor->first) return;
        if (tp == cursor->first) after = cursor->second;
      }
      bad = WithView(store, rules.get(), [&](rules::PartitionView& view) {
        return view.ForEachMember(seg, after, [&](std::string_view user) {
          if (n == limit) {
            next = EncodeCursor(tp, after);
            return false;
          }
          if (format == "csv") {
            bool quote = user.find_first_of(",\"\r\n") != std::string_view::npos;
            if (quote) {
              body += '"';
              for (char c : user) {
                if (c == '"') body += '"';
                body += c;
              }
              body += "\"\n";
            } else {
              body.append(user).push_back('\n');
            }
          } else {
            body += "{\"user_id\":";
            AppendJsonString(&body, user);
            body += "}\n";
          }
          after = std::string(user);
          ++n;
          return true;
        });
      });
    });
    if (!bad.ok()) return Error(503, "unavailable", bad.ToString());
    HttpResponse r{200,
                   format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
                   std::move(body),
                   {}};
    if (next) r.headers.push_back({"X-Next-Cursor", *next});
    return r;
  }

  // /users/{user} and /users/{user}/explain/{segment}
  const std::string& user = params[0];
  int seg = -1;
  if (path == "/users/{user}/explain/{segment}") {
    seg = rules::FindSegment(*rules, params[1]);
    if (seg < 0) return Error(404, "not_found", "no segment " + params[1]);
  }
  rules::StaticLists lists(*rules);
  std::optional<std::string> found;
  Status bad = Status::Ok();
  pipeline_->ForEachStore([&](const TopicPartition& tp, PartitionStore* store) {
    if (found || !bad.ok()) return;
    bad = WithView(store, rules.get(), [&](rules::PartitionView& view) {
      auto u = view.LoadUser(user);
      if (!u.ok()) return u.status();
      if (!u->has_value()) return Status::Ok();
      std::string json;
      if (seg >= 0) {
        rules::Explainer explainer(rules.get(), &lists);
        json = rules::ToJson(
            explainer.Explain(seg, (**u).record.state, user, view.now(), (**u).members[seg] != 0));
      } else {
        json = rules::ToJson(rules::DescribeUser(view, **u, &lists));
      }
      // {"topic":..,"partition":..,<the report's fields>}
      std::string out = "{\"topic\":";
      AppendJsonString(&out, tp.topic);
      out += fmt::format(",\"partition\":{}", tp.partition);
      if (json.size() > 2)
        out += "," + json.substr(1);
      else
        out += "}";
      found = std::move(out);
      return Status::Ok();
    });
  });
  if (!bad.ok()) return Error(503, "unavailable", bad.ToString());
  if (!found) return Error(404, "not_found", "user " + user + " has not been seen here");
  return Json(200, std::move(*found));
}

}  // namespace segd
