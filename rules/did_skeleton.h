// The walking skeleton's evaluator: segments whose rule is `did(EVENT)`
// (all time, no filters). It lets Kafka → segd → Kafka run end to end until
// the full rule language and the LMDB-backed engine replace it.
//
// Membership is kept in memory per partition (DidState), so a restart
// forgets who entered; the durable engine removes that limit.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/change_record.h"
#include "common/record.h"
#include "common/status.h"
#include "rules/rule_file.h"

namespace segd {

// The compiled rule set: which event makes a user enter which segments.
class DidRuleSet {
 public:
  // Compiles every segment of `file`; a rule of another form is refused
  // with its line and column. REQUIRES: errors != nullptr.
  static Result<DidRuleSet> Compile(const RuleFile& file, std::vector<RuleError>* errors);

  struct Segment {
    std::string id;
    std::string event;
  };
  const std::vector<Segment>& segments() const { return segments_; }
  // Indexes of the segments that `event` makes a user enter, in definition order.
  const std::vector<int>* SegmentsFor(const std::string& event) const;

 private:
  std::vector<Segment> segments_;
  std::unordered_map<std::string, std::vector<int>> by_event_;
};

// One partition's memberships. Single writer: the partition's worker.
class DidState {
 public:
  explicit DidState(const DidRuleSet* rules) : rules_(rules) {}

  // Applies `record` at clock `now_ms`, appending the changes it causes.
  void Apply(const Record& record, int64_t now_ms, std::vector<ChangeRecord>* out);

  // Members of segment `index`.
  size_t MemberCount(int index) const;

 private:
  const DidRuleSet* rules_;
  // user id → indexes of the segments the user is in.
  std::unordered_map<std::string, std::unordered_set<int>> members_;
  std::vector<size_t> counts_;
};

// Parses `did(NAME)` or did(`NAME`) with optional spaces; the event name or
// an error with the 0-based offset in `rule` where it went wrong.
Result<std::string> ParseDidRule(std::string_view rule, size_t* error_offset);

}  // namespace segd
