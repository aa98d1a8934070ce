// The segment definitions and lists segd runs: the rule file's, then those
// created or uploaded through the admin API (SEMANTICS.md §5: a new segment
// goes after the existing ones). API segments and lists persist in
// `<data_dir>/catalog.json`, written atomically before a change is applied,
// so a restart runs the same rule set.
//
// Thread-safety: every method may be called from any thread; changes are
// serialized by the caller (one writer at a time: the admin API's).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "rules/plan.h"
#include "rules/rule_file.h"

namespace segd {

// "rule file PATH refused:" and every error with its line and column.
Status RuleFileRefused(const std::string& path, const std::vector<RuleError>& errors);

// Reads and compiles a rule file (no API segments: `segd check`, `inspect`).
Result<rules::RuleSet> LoadRuleSet(const std::string& path, int max_window_days,
                                   std::vector<RuleError>* warnings);

struct ApiSegment {
  std::string id;
  std::string name;
  std::string rule;
  bool emit_initial = false;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// A list uploaded through the admin API (SEMANTICS.md §5): distinct ids.
struct ApiList {
  std::string name;
  std::vector<std::string> users;
  int64_t updated_ms = 0;
};

class Catalog {
 public:
  // Reads the rule file and the persisted API segments, and compiles them.
  // Errors name the file and the position.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& rules_path,
                                               const std::string& data_dir, int max_window_days,
                                               std::vector<RuleError>* warnings);

  // The current rule set (file segments, then API segments).
  std::shared_ptr<const rules::RuleSet> rules() const;
  std::vector<ApiSegment> api_segments() const;
  std::optional<ApiSegment> api_segment(const std::string& id) const;
  bool IsFileSegment(const std::string& id) const;
  std::vector<ApiList> api_lists() const;
  bool IsFileList(const std::string& name) const;
  // When the rule file was loaded (the created/updated time of its segments).
  int64_t loaded_ms() const { return loaded_ms_; }

  // A candidate change: the catalog with `seg` put (created or replaced) or
  // the segment `id` deleted, compiled. Errors (positions within the rule
  // text) in `errors`; the catalog itself is unchanged.
  struct Change {
    std::vector<ApiSegment> segments;
    std::vector<ApiList> lists;
    std::shared_ptr<const rules::RuleSet> rules;
  };
  Result<Change> PreparePut(const ApiSegment& seg, std::vector<RuleError>* errors) const;
  Result<Change> PrepareDelete(const std::string& id, std::vector<RuleError>* errors) const;
  // The catalog with list `name` replaced by `users` (created when new). A
  // list of the rule file is refused (FailedPrecondition).
  Result<Change> PreparePutList(const std::string& name, std::vector<std::string> users) const;
  // Persists `change` and makes it current.
  Status Commit(Change change);

 private:
  Catalog() = default;
  Result<std::shared_ptr<const rules::RuleSet>> Compile(const std::vector<ApiSegment>& segments,
                                                        const std::vector<ApiList>& lists,
                                                        std::vector<RuleError>* errors,
                                                        std::vector<RuleError>* warnings) const;
  Status Load();
  Status Save(const Change& change) const;

  std::string path_;
  RuleFile file_;
  int max_window_days_ = 400;
  int64_t loaded_ms_ = 0;
  mutable std::mutex mu_;
  std::vector<ApiSegment> segments_;
  std::vector<ApiList> lists_;
  std::shared_ptr<const rules::RuleSet> rules_;
};

}  // namespace segd
