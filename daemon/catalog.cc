#include "daemon/catalog.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json.h"
#include "fmt/format.h"

namespace segd {

namespace {

constexpr int kFormatVersion = 1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An API segment as the rule compiler sees it: positions are those within
// its rule text (line 1, column 1 is the text's first byte).
SegmentDef ToDef(const ApiSegment& s) {
  SegmentDef d;
  d.id = s.id;
  d.name = s.name;
  d.rule = s.rule;
  d.emit_initial = s.emit_initial;
  d.rule_pos = {1, 1};
  d.rule_pieces = {{0, {1, 1}}};
  return d;
}

std::string EncodeSegment(const ApiSegment& s) {
  std::string out = "{\"id\":";
  AppendJsonString(&out, s.id);
  out += ",\"name\":";
  AppendJsonString(&out, s.name);
  out += ",\"rule\":";
  AppendJsonString(&out, s.rule);
  out += fmt::format(",\"emit_initial\":{},\"created_ms\":{},\"updated_ms\":{}}}",
                     s.emit_initial ? "true" : "false", s.created_ms, s.updated_ms);
  return out;
}

std::string EncodeList(const ApiList& l) {
  std::string out = "{\"name\":";
  AppendJsonString(&out, l.name);
  out += fmt::format(",\"updated_ms\":{},\"users\":[", l.updated_ms);
  for (size_t j = 0; j < l.users.size(); ++j) {
    if (j > 0) out += ",";
    AppendJsonString(&out, l.users[j]);
  }
  return out + "]}";
}

// Empty when `e` is a segment entry; otherwise what is wrong with it.
std::optional<std::string> DecodeSegment(simdjson::dom::element e, ApiSegment* s) {
  std::string_view id, name, rule;
  if (e["id"].get(id) || e["name"].get(name) || e["rule"].get(rule) ||
      e["emit_initial"].get(s->emit_initial) || e["created_ms"].get(s->created_ms) ||
      e["updated_ms"].get(s->updated_ms)) {
    return "a segment entry lacks a field";
  }
  s->id = id;
  s->name = name;
  s->rule = rule;
  return std::nullopt;
}

std::optional<std::string> DecodeList(simdjson::dom::element e, ApiList* l) {
  std::string_view name;
  simdjson::dom::array users;
  if (e["name"].get(name) || e["users"].get(users) || e["updated_ms"].get(l->updated_ms)) {
    return "a list entry lacks a field";
  }
  l->name = name;
  for (simdjson::dom::element u : users) {
    std::string_view id;
    if (u.get(id)) return "list " + l->name + " holds a user id that is not a string";
    l->users.emplace_back(id);
  }
  return std::nullopt;
}

// Definition order of the API segments (SEMANTICS.md §5): by creation,
// which every instance reads from the entries themselves, so the order is
// the same wherever and whenever the definitions topic is read.
void SortByCreation(std::vector<ApiSegment>* segments) {
  std::stable_sort(segments->begin(), segments->end(), [](const ApiSegment& a, const ApiSegment& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms : a.id < b.id;
  });
}

}  // namespace

std::string SegmentEntryKey(const std::string& id) { return "segment:" + id; }
std::string ListEntryKey(const std::string& name) { return "list:" + name; }

Status RuleFileRefused(const std::string& path, const std::vector<RuleError>& errors) {
  std::string msg = "rule file " + path + " refused:";
  for (const auto& e : errors) msg += "\n  " + path + ":" + e.ToString();
  return Status::InvalidArgument(msg);
}

Result<rules::RuleSet> LoadRuleSet(const std::string& path, int max_window_days,
                                   std::vector<RuleError>* warnings) {
  std::vector<RuleError> errors;
  auto file = LoadRuleFile(path, &errors);
  Result<rules::RuleSet> rules =
      file.ok() ? rules::RuleSet::Compile(*file, {max_window_days}, &errors, warnings)
                : Result<rules::RuleSet>(file.status());
  if (rules.ok() || errors.empty()) return rules;
  return RuleFileRefused(path, errors);
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& rules_path,
                                               const std::string& data_dir, int max_window_days,
                                               std::vector<RuleError>* warnings) {
  std::unique_ptr<Catalog> c(new Catalog());
  c->path_ = data_dir + "/catalog.json";
  c->max_window_days_ = max_window_days;
  c->loaded_ms_ = NowMs();
  std::vector<RuleError> errors;
  auto file = LoadRuleFile(rules_path, &errors);
  if (!file.ok()) return errors.empty() ? file.status() : RuleFileRefused(rules_path, errors);
  c->file_ = std::move(file).value();
  SEGD_RETURN_IF_ERROR(c->Load());
  for (const auto& s : c->segments_) {
    if (c->IsFileSegment(s.id)) {
      return Status::InvalidArgument(fmt::format(
          "segment {} is defined in the rule file {} and also through the admin API ({}); "
          "delete one of them",
          s.id, rules_path, c->path_));
    }
  }
  for (const auto& l : c->lists_) {
    if (c->IsFileList(l.name)) {
      return Status::InvalidArgument(fmt::format(
          "list {} is declared in the rule file {} and also uploaded through the admin API "
          "({}); remove one of them",
          l.name, rules_path, c->path_));
    }
  }
  auto rules = c->Compile(c->segments_, c->lists_, &errors, warnings);
  if (!rules.ok()) {
    std::string msg =
        "rule file " + rules_path + " with the API segments of " + c->path_ + " refused:";
    for (const auto& e : errors) msg += "\n  " + e.ToString();
    return Status::InvalidArgument(msg);
  }
  c->rules_ = *rules;
  return c;
}

Result<std::shared_ptr<const rules::RuleSet>> Catalog::Compile(
    const std::vector<ApiSegment>& segments, const std::vector<ApiList>& lists,
    std::vector<RuleError>* errors, std::vector<RuleError>* warnings) const {
  RuleFile file = file_;
  for (const auto& s : segments) file.segments.push_back(ToDef(s));
  for (const auto& l : lists) file.lists[l.name] = l.users;
  std::vector<RuleError> ignored;
  auto rules = rules::RuleSet::Compile(file, {max_window_days_}, errors,
                                       warnings != nullptr ? warnings : &ignored);
  if (!rules.ok()) return rules.status();
  return std::make_shared<const rules::RuleSet>(std::move(rules).value());
}

std::shared_ptr<const rules::RuleSet> Catalog::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

std::vector<ApiSegment> Catalog::api_segments() const {
  std::lock_guard lock(mu_);
  return segments_;
}

std::optional<ApiSegment> Catalog::api_segment(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& s : segments_) {
    if (s.id == id) return s;
  }
  return std::nullopt;
}

std::vector<ApiList> Catalog::api_lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}

bool Catalog::IsFileList(const std::string& name) const { return file_.lists.count(name) > 0; }

bool Catalog::IsFileSegment(const std::string& id) const {
  for (const auto& s : file_.segments) {
    if (s.id == id) return true;
  }
  return false;
}

Result<Catalog::Change> Catalog::PreparePut(const ApiSegment& seg,
                                            std::vector<RuleError>* errors) const {
  if (IsFileSegment(seg.id)) {
    return Status::FailedPrecondition("segment " + seg.id +
                                      " is defined in the rule file; change it there");
  }
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  ApiSegment put = seg;
  put.updated_ms = NowMs();
  put.created_ms = put.updated_ms;
  bool replaced = false;
  for (auto& s : change.segments) {
    if (s.id == seg.id) {
      put.created_ms = s.created_ms;
      replaced = true;
    }
  }
  if (!replaced) {
    // A new segment goes after the existing ones, whatever the clock did.
    for (const auto& s : change.segments) put.created_ms = std::max(put.created_ms, s.created_ms + 1);
  }
  return WithSegment(std::move(change), std::move(put), errors);
}

Result<Catalog::Change> Catalog::WithSegment(Change change, ApiSegment seg,
                                             std::vector<RuleError>* errors) const {
  std::erase_if(change.segments, [&](const ApiSegment& s) { return s.id == seg.id; });
  change.key = SegmentEntryKey(seg.id);
  change.value = EncodeSegment(seg);
  change.segments.push_back(std::move(seg));
  SortByCreation(&change.segments);
  auto rules = Compile(change.segments, change.lists, errors, nullptr);
  if (!rules.ok()) return rules.status();
  change.rules = *rules;
  return change;
}

Result<Catalog::Change> Catalog::PrepareDelete(const std::string& id,
                                               std::vector<RuleError>* errors) const {
  if (IsFileSegment(id)) {
    return Status::FailedPrecondition("segment " + id +
                                      " is defined in the rule file; remove it there");
  }
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  size_t before = change.segments.size();
  std::erase_if(change.segments, [&](const ApiSegment& s) { return s.id == id; });
  if (change.segments.size() == before) return Status::NotFound("no segment " + id);
  change.key = SegmentEntryKey(id);
  change.value.reset();
  std::vector<RuleError> compile_errors;
  auto rules = Compile(change.segments, change.lists, &compile_errors, nullptr);
  if (!rules.ok()) {
    // The only way a deletion breaks the rule set: another segment reads it.
    std::string msg = "segment " + id + " cannot be deleted while others depend on it:";
    for (const auto& e : compile_errors) msg += " " + e.reason + ";";
    if (errors != nullptr)
      errors->insert(errors->end(), compile_errors.begin(), compile_errors.end());
    return Status::FailedPrecondition(msg);
  }
  change.rules = *rules;
  return change;
}

Result<Catalog::Change> Catalog::PreparePutList(const std::string& name,
                                                std::vector<std::string> users) const {
  if (IsFileList(name)) {
    return Status::FailedPrecondition("list " + name +
                                      " is declared in the rule file; change it there");
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  return WithList(std::move(change), ApiList{name, std::move(users), NowMs()});
}

Result<Catalog::Change> Catalog::WithList(Change change, ApiList list) const {
  change.key = ListEntryKey(list.name);
  change.value = EncodeList(list);
  auto it = std::find_if(change.lists.begin(), change.lists.end(),
                         [&](const ApiList& l) { return l.name == list.name; });
  if (it == change.lists.end()) {
    change.lists.push_back(std::move(list));
  } else {
    *it = std::move(list);
  }
  std::vector<RuleError> errors;
  auto rules = Compile(change.segments, change.lists, &errors, nullptr);
  if (!rules.ok()) return rules.status();
  change.rules = *rules;
  return change;
}

Result<Catalog::Change> Catalog::PrepareEntry(const std::string& key,
                                              const std::optional<std::string>& value,
                                              std::vector<RuleError>* errors) const {
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (value && parser.parse(*value).get(doc) != simdjson::SUCCESS) {
    return Status::InvalidArgument("entry " + key + ": not valid JSON");
  }
  if (EntryValue(key) == value) {
    // What is applied already: a repeated deletion, or the value a request
    // that lost a race put back.
    change.unchanged = true;
    change.rules = rules();
    return change;
  }
  if (key.rfind("segment:", 0) == 0) {
    std::string id = key.substr(8);
    if (IsFileSegment(id)) {
      return Status::FailedPrecondition("segment " + id + " is defined in the rule file");
    }
    if (!value) return PrepareDelete(id, errors);
    ApiSegment seg;
    if (auto why = DecodeSegment(doc, &seg)) return Status::InvalidArgument("entry " + key + ": " + *why);
    if (seg.id != id) return Status::InvalidArgument("entry " + key + " defines segment " + seg.id);
    return WithSegment(std::move(change), std::move(seg), errors);
  }
  if (key.rfind("list:", 0) == 0) {
    std::string name = key.substr(5);
    if (IsFileList(name)) {
      return Status::FailedPrecondition("list " + name + " is declared in the rule file");
    }
    if (!value) {  // no route deletes a list; an operator's tombstone does
      std::erase_if(change.lists, [&](const ApiList& l) { return l.name == name; });
      change.key = key;
      auto rules = Compile(change.segments, change.lists, errors, nullptr);
      if (!rules.ok()) return rules.status();
      change.rules = *rules;
      return change;
    }
    ApiList list;
    if (auto why = DecodeList(doc, &list)) return Status::InvalidArgument("entry " + key + ": " + *why);
    if (list.name != name) return Status::InvalidArgument("entry " + key + " defines list " + list.name);
    return WithList(std::move(change), std::move(list));
  }
  return Status::InvalidArgument("entry " + key + ": not a segment or list");
}

void Catalog::Rebuild(const std::map<std::string, std::optional<std::string>>& last,
                      std::vector<std::string>* skipped) {
  std::vector<ApiSegment> segments;
  std::vector<ApiList> lists;
  simdjson::dom::parser parser;
  for (const auto& [key, value] : last) {
    if (!value) continue;
    simdjson::dom::element doc;
    std::optional<std::string> why;
    if (parser.parse(*value).get(doc) != simdjson::SUCCESS) {
      why = "not valid JSON";
    } else if (key.rfind("segment:", 0) == 0) {
      ApiSegment s;
      why = DecodeSegment(doc, &s);
      if (!why && (s.id != key.substr(8) || IsFileSegment(s.id))) {
        why = "defines a segment of the rule file or of another key";
      }
      if (!why) segments.push_back(std::move(s));
    } else if (key.rfind("list:", 0) == 0) {
      ApiList l;
      why = DecodeList(doc, &l);
      if (!why && (l.name != key.substr(5) || IsFileList(l.name))) {
        why = "defines a list of the rule file or of another key";
      }
      if (!why) lists.push_back(std::move(l));
    } else {
      why = "not a segment or list";
    }
    if (why) skipped->push_back(key + ": " + *why);
  }
  SortByCreation(&segments);
  std::vector<RuleError> errors;
  auto rules = Compile(segments, lists, &errors, nullptr);
  if (!rules.ok()) {
    std::vector<ApiSegment> kept;
    for (auto& s : segments) {
      kept.push_back(s);
      errors.clear();
      if (!Compile(kept, lists, &errors, nullptr).ok()) {
        kept.pop_back();
        skipped->push_back(SegmentEntryKey(s.id) + ": " +
                           (errors.empty() ? std::string("does not compile") : errors.front().reason));
      }
    }
    segments = std::move(kept);
    errors.clear();
    rules = Compile(segments, lists, &errors, nullptr);
  }
  std::lock_guard lock(mu_);
  segments_ = std::move(segments);
  lists_ = std::move(lists);
  if (rules.ok()) rules_ = *rules;
}

std::optional<std::string> Catalog::EntryValue(const std::string& key) const {
  std::lock_guard lock(mu_);
  for (const auto& s : segments_) {
    if (SegmentEntryKey(s.id) == key) return EncodeSegment(s);
  }
  for (const auto& l : lists_) {
    if (ListEntryKey(l.name) == key) return EncodeList(l);
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> Catalog::Entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : api_segments()) out.emplace_back(SegmentEntryKey(s.id), EncodeSegment(s));
  for (const auto& l : api_lists()) out.emplace_back(ListEntryKey(l.name), EncodeList(l));
  return out;
}

Status Catalog::Save() const {
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  return Save(change);
}

Status Catalog::SaveUnpublished(const std::string& path) const {
  Change change;
  change.segments = api_segments();
  change.lists = api_lists();
  return Write(change, path, /*mirror=*/false);
}

Status Catalog::Commit(Change change, bool save) {
  if (save) SEGD_RETURN_IF_ERROR(Save(change));
  std::lock_guard lock(mu_);
  segments_ = std::move(change.segments);
  lists_ = std::move(change.lists);
  rules_ = std::move(change.rules);
  return Status::Ok();
}

Status Catalog::Load() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Status::Ok();  // no API segments yet
  std::stringstream text;
  text << in.rdbuf();
  std::string bytes = text.str();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(path_ + ": " + why +
                                   " (the file is written by segd; restore it from a backup)");
  };
  if (parser.parse(bytes).get(doc) != simdjson::SUCCESS) return bad("not valid JSON");
  int64_t version = 0;
  if (doc["version"].get(version) != simdjson::SUCCESS || version != kFormatVersion) {
    return bad("unknown format version");
  }
  bool mirror = false;
  if (doc["mirror"].get(mirror) == simdjson::SUCCESS) mirror_ = mirror;  // absent before the topic
  simdjson::dom::array segments;
  if (doc["segments"].get(segments) != simdjson::SUCCESS) return bad("no segments array");
  for (simdjson::dom::element e : segments) {
    ApiSegment s;
    if (auto why = DecodeSegment(e, &s)) return bad(*why);
    segments_.push_back(std::move(s));
  }
  simdjson::dom::array lists;
  if (doc["lists"].get(lists) == simdjson::SUCCESS) {  // absent before lists
    for (simdjson::dom::element e : lists) {
      ApiList l;
      if (auto why = DecodeList(e, &l)) return bad(*why);
      lists_.push_back(std::move(l));
    }
  }
  return Status::Ok();
}

Status Catalog::Write(const Change& change, const std::string& path, bool mirror) const {
  const std::vector<ApiSegment>& segments = change.segments;
  std::string out = fmt::format("{{\"version\":{},\"mirror\":{},\"segments\":[", kFormatVersion,
                                mirror ? "true" : "false");
  for (size_t i = 0; i < segments.size(); ++i) {
    out += (i > 0 ? ",\n" : "\n") + EncodeSegment(segments[i]);
  }
  out += "\n],\"lists\":[";
  for (size_t i = 0; i < change.lists.size(); ++i) {
    out += (i > 0 ? ",\n" : "\n") + EncodeList(change.lists[i]);
  }
  out += "\n]}\n";
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  bool ok =
      ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::ResourceExhausted("cannot write " + path + " (disk full?)");
  }
  int dir = ::open(std::filesystem::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

}  // namespace segd
