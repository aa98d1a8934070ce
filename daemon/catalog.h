// The segment definitions and lists segd runs: the rule file's, then those
// created or uploaded through the admin API, in creation order (SEMANTICS.md
// §5: a new segment goes after the existing ones). A change is prepared
// here, travels as an entry of the definitions topic (PrepareEntry reads
// one back; Rebuild reads the whole compacted topic) and is kept in
// `<data_dir>/catalog.json`, written atomically: with definitions.enabled
// off that file is what a restart runs, otherwise a copy for offline tools.
//
// Thread-safety: every method may be called from any thread; changes are
// serialized by the caller (one writer at a time: the admin API's).
#pragma once

#include <atomic>
#include <map>
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

// Keys of the definitions topic's entries (stream/definitions_log.h): one
// per API segment and per uploaded list; values as in catalog.json.
std::string SegmentEntryKey(const std::string& id);
std::string ListEntryKey(const std::string& name);

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
    // The change as a definitions topic entry (SegmentEntryKey or
    // ListEntryKey; value nullopt: a deletion).
    std::string key;
    std::optional<std::string> value;
    bool unchanged = false;  // an entry that changes nothing (a repeated deletion)
  };
  Result<Change> PreparePut(const ApiSegment& seg, std::vector<RuleError>* errors) const;
  Result<Change> PrepareDelete(const std::string& id, std::vector<RuleError>* errors) const;
  // The catalog with list `name` replaced by `users` (created when new). A
  // list of the rule file is refused (FailedPrecondition).
  Result<Change> PreparePutList(const std::string& name, std::vector<std::string> users) const;
  // The change a definitions topic entry makes (the entry's own times and
  // creation order are kept). An entry that does not apply (bad content, a
  // rule-file name, a rule set that no longer compiles) is an error.
  Result<Change> PrepareEntry(const std::string& key, const std::optional<std::string>& value,
                              std::vector<RuleError>* errors) const;
  // Makes `change` current, persisting it first when `save`.
  Status Commit(Change change, bool save = true);
  // Replaces the API segments and lists (in memory) by what the
  // definitions topic holds once each key's last entry is taken (`last`:
  // key → value, nullopt for a deletion), as a compacted topic read from
  // its beginning gives them. Entries that do not apply are left out and
  // named in `skipped`; should the whole not compile (an entry that lost a
  // race with another instance's), the segments that do are kept, in
  // definition order.
  void Rebuild(const std::map<std::string, std::optional<std::string>>& last,
               std::vector<std::string>* skipped);
  // Whether catalog.json is a copy of the definitions topic (saved so from
  // now on) rather than the only record of the API's changes.
  bool mirror() const { return mirror_; }
  void set_mirror() { mirror_ = true; }
  // The current value of a definitions entry (nullopt: nothing defined).
  std::optional<std::string> EntryValue(const std::string& key) const;
  // Persists the current API segments and lists.
  Status Save() const;
  // Writes the current API segments and lists to `path` as the catalog of
  // an instance that has not published them yet (not a mirror): moved to
  // catalog.json, they are published to an empty definitions topic at the
  // next start.
  Status SaveUnpublished(const std::string& path) const;
  const std::string& path() const { return path_; }
  // The current API segments (in definition order) and lists as
  // definitions topic entries (key, value).
  std::vector<std::pair<std::string, std::string>> Entries() const;

 private:
  Catalog() = default;
  Result<std::shared_ptr<const rules::RuleSet>> Compile(const std::vector<ApiSegment>& segments,
                                                        const std::vector<ApiList>& lists,
                                                        std::vector<RuleError>* errors,
                                                        std::vector<RuleError>* warnings) const;
  Result<Change> WithSegment(Change change, ApiSegment seg, std::vector<RuleError>* errors) const;
  Result<Change> WithList(Change change, ApiList list) const;
  Status Load();
  Status Save(const Change& change) const { return Write(change, path_, mirror_); }
  Status Write(const Change& change, const std::string& path, bool mirror) const;

  std::string path_;
  RuleFile file_;
  int max_window_days_ = 400;
  int64_t loaded_ms_ = 0;
  std::atomic<bool> mirror_{false};
  mutable std::mutex mu_;
  std::vector<ApiSegment> segments_;
  std::vector<ApiList> lists_;
  std::shared_ptr<const rules::RuleSet> rules_;
};

}  // namespace segd
