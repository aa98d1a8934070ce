#include "daemon/inspect.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "common/json.h"
#include "daemon/catalog.h"
#include "rules/definitions.h"
#include "rules/engine.h"
#include "rules/explain.h"
#include "rules/partition_view.h"
#include "rules/plan.h"
#include "rules/rule_file.h"
#include "rules/user_report.h"
#include "state/partition_store.h"

namespace segd {

namespace {

namespace fs = std::filesystem;

bool IsStore(const fs::path& dir) { return fs::exists(dir / "data.mdb"); }

// The partition stores under `data_dir`: itself when it is one, else its
// `<topic>-<partition>` folders ordered by topic, then partition number.
Result<std::vector<fs::path>> PartitionDirs(const std::string& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) return Status::NotFound("no data folder " + data_dir);
  if (IsStore(data_dir)) {
    fs::path dir(data_dir);
    if (!dir.has_filename()) dir = dir.parent_path();  // "events-0/": named events-0
    return std::vector<fs::path>{dir};
  }
  std::vector<std::tuple<std::string, long long, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    if (!entry.is_directory() || !IsStore(entry.path())) continue;
    std::string name = entry.path().filename().string();
    size_t dash = name.rfind('-');
    long long partition = -1;
    if (dash != std::string::npos && dash + 1 < name.size() &&
        name.find_first_not_of("0123456789", dash + 1) == std::string::npos) {
      partition = std::stoll(name.substr(dash + 1));
      name.resize(dash);
    }
    found.emplace_back(name, partition, entry.path());
  }
  if (ec) return Status::Internal("cannot list " + data_dir + ": " + ec.message());
  if (found.empty()) return Status::NotFound("no partition store (data.mdb) in " + data_dir);
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::get<2>(f));
  return out;
}

// `status` with the partition folder in front of its message.
Status InDir(const fs::path& dir, const Status& status) {
  return Status(status.code(), dir.string() + ": " + status.message());
}

Result<std::unique_ptr<PartitionStore>> OpenReadOnly(const fs::path& dir) {
  LmdbOptions options;
  options.read_only = true;
  auto store = PartitionStore::Open(dir.string(), options);
  if (!store.ok()) return InDir(dir, store.status());
  return store;
}

// One partition opened for reading, with the rule set to read it by.
struct Partition {
  std::unique_ptr<PartitionStore> store;
  std::unique_ptr<PartitionStore::Reader> reader;
  // Heap-held: the view points at them while Partition moves.
  std::unique_ptr<rules::RuleSet> stored_rules;  // when no --rules
  std::optional<rules::PartitionView> view;      // nullopt: nothing committed yet
};

// `given`: the --rules rule set, or nullptr for the stored one.
Result<Partition> OpenPartition(const fs::path& dir, const rules::RuleSet* given) {
  Partition p;
  auto store = OpenReadOnly(dir);
  if (!store.ok()) return store.status();
  p.store = std::move(store).value();
  auto reader = p.store->Read();
  if (!reader.ok()) return reader.status();
  p.reader = std::move(reader).value();
  const rules::RuleSet* rules = given;
  if (rules == nullptr) {
    auto defs = rules::ReadStoredDefinitions(*p.reader);
    if (!defs.ok()) return defs.status();
    if (!defs->has_value()) return p;
    auto compiled = rules::CompileStored(**defs);
    if (!compiled.ok()) return InDir(dir, compiled.status());
    p.stored_rules = std::make_unique<rules::RuleSet>(std::move(compiled).value());
    rules = p.stored_rules.get();
  }
  auto view = rules::PartitionView::Open(rules, p.reader.get());
  if (!view.ok()) return InDir(dir, view.status());
  p.view.emplace(std::move(view).value());
  return p;
}

// `{"partition":"events-0",` + the rest of `object`.
std::string WithPartition(const fs::path& dir, const std::string& object) {
  std::string out = "{\"partition\":";
  AppendJsonString(&out, dir.filename().string());
  return out + "," + object.substr(1);
}

std::string SegmentList(const rules::RuleSet& rules) {
  std::string out;
  for (const auto& s : rules.segments()) out += (out.empty() ? "" : ", ") + s.id;
  return out.empty() ? "none" : out;
}

// The folder whose catalog.json (the admin API's segments and uploaded
// lists, which `segd run` keeps in its data_dir) goes with `data_dir`: the
// data_dir itself, or the data_dir a partition store is in.
std::string CatalogDir(const std::string& data_dir) {
  std::error_code ec;
  fs::path dir(data_dir);
  if (fs::exists(dir / "catalog.json", ec)) return data_dir;
  fs::path parent = fs::absolute(dir, ec).lexically_normal();
  if (!parent.has_filename()) parent = parent.parent_path();  // a trailing slash
  parent = parent.parent_path();
  if (fs::exists(dir / "data.mdb", ec) && fs::exists(parent / "catalog.json", ec)) {
    return parent.string();
  }
  return data_dir;
}

}  // namespace

int RunInspectUser(const InspectOptions& options, std::ostream& out, std::ostream& err) {
  std::shared_ptr<const rules::RuleSet> given;
  std::optional<rules::StaticLists> lists;
  if (!options.rules_path.empty()) {
    // The rule file, then what the admin API added (segments, uploaded
    // lists) as the data folder's catalog.json holds it: the rule set the
    // running segd compiles.
    std::vector<RuleError> warnings;
    auto catalog = Catalog::Open(options.rules_path, CatalogDir(options.data_dir),
                                 options.max_window_days, &warnings);
    if (!catalog.ok()) {
      err << "segd: " << catalog.status().message() << "\n";
      return 2;
    }
    given = (*catalog)->rules();
    lists.emplace(*given);
  }
  auto dirs = PartitionDirs(options.data_dir);
  if (!dirs.ok()) {
    err << "segd: " << dirs.status().message() << "\n";
    return 1;
  }
  int found = 0;
  for (const fs::path& dir : *dirs) {
    auto p = OpenPartition(dir, given.get());
    if (!p.ok()) {
      err << "segd: " << p.status().message() << "\n";
      return 1;
    }
    if (!p->view) continue;
    rules::PartitionView& view = *p->view;
    auto user = view.LoadUser(options.user);
    if (!user.ok()) {
      err << "segd: " << dir.string() << ": " << user.status().ToString() << "\n";
      return 1;
    }
    if (!user->has_value()) continue;
    ++found;
    const rules::ListMembership* l = lists ? &*lists : nullptr;
    std::string text, json;
    if (!options.explain.empty()) {
      int seg = rules::FindSegment(view.rules(), options.explain);
      if (seg < 0) {
        err << "segd: no segment " << options.explain << " in the rule set of " << dir.string()
            << " (segments: " << SegmentList(view.rules()) << ")\n";
        return 2;
      }
      rules::Explainer explainer(&view.rules(), l);
      auto x = explainer.Explain(seg, (*user)->record.state, options.user, view.now(),
                                 (*user)->members[seg] != 0);
      text = rules::ToText(x);
      if (options.json) json = rules::ToJson(x);
    } else {
      auto report = rules::DescribeUser(view, **user, l);
      text = rules::ToText(report);
      if (options.json) json = rules::ToJson(report);
    }
    if (options.json) {
      out << WithPartition(dir, json) << "\n";
    } else {
      out << "partition " << dir.filename().string() << "\n" << text;
    }
  }
  if (found == 0) {
    err << "segd: user " << options.user << " is not in " << options.data_dir << " ("
        << dirs->size() << (dirs->size() == 1 ? " partition" : " partitions") << ")\n";
    return 1;
  }
  return 0;
}

int RunExport(const ExportOptions& options, std::ostream& out, std::ostream& err) {
  if (options.format != "csv" && options.format != "jsonl") {
    err << "segd: --format must be csv or jsonl\n";
    return 2;
  }
  auto dirs = PartitionDirs(options.data_dir);
  if (!dirs.ok()) {
    err << "segd: " << dirs.status().message() << "\n";
    return 1;
  }
  bool defined = false;
  if (options.format == "csv") out << "user_id\n";
  std::string line;
  for (const fs::path& dir : *dirs) {
    auto p = OpenPartition(dir, nullptr);
    if (!p.ok()) {
      err << "segd: " << p.status().message() << "\n";
      return 1;
    }
    if (!p->view) continue;
    int seg = rules::FindSegment(p->view->rules(), options.segment);
    if (seg < 0) continue;
    defined = true;
    Status s = p->view->ForEachMember(seg, "", [&](std::string_view user) {
      line.clear();
      if (options.format == "jsonl") {
        line = "{\"user_id\":";
        AppendJsonString(&line, user);
        line += "}";
      } else if (user.find_first_of(",\"\r\n") != std::string_view::npos) {
        line = "\"";  // RFC 4180: quoted, quotes doubled
        for (char c : user) line += c == '"' ? std::string("\"\"") : std::string(1, c);
        line += "\"";
      } else {
        line = std::string(user);
      }
      out << line << "\n";
      return static_cast<bool>(out);
    });
    if (!s.ok()) {
      err << "segd: " << dir.string() << ": " << s.ToString() << "\n";
      return 1;
    }
  }
  if (!defined) {
    err << "segd: no partition in " << options.data_dir << " defines segment " << options.segment
        << "\n";
    return 2;
  }
  out.flush();
  return out ? 0 : 1;
}

}  // namespace segd
