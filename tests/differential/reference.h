// The reference engine of the differential test: SEMANTICS.md read
// independently of segd and implemented by brute force.
//
// It keeps every accepted record of every user and, at every instant it is
// asked about, recomputes every segment of a user from that full history
// (evaluator.h). Only `clock: event` and one partition: now is the largest
// ts of the records accepted so far. When a record moves now from t0 to t1,
// every candidate instant in (t0, t1] — each local day start, each local hour
// start (if some rule has an Nh window) and each funnel deadline A.ts+within —
// is visited in time order and every segment of every seen user is evaluated
// there (cause "time", at = the instant). Membership is a pure function of
// (history, now) that can only change at those instants, so visiting extra
// instants changes nothing. Then the record is applied and its user is
// evaluated at now (cause "event").
#ifndef SEGD_TESTS_DIFFERENTIAL_REFERENCE_H_
#define SEGD_TESTS_DIFFERENTIAL_REFERENCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "calendar.h"
#include "evaluator.h"
#include "record.h"
#include "rule_ast.h"
#include "rule_file.h"

namespace segd_ref {

struct Change {
  std::string user_id;
  std::string segment;
  bool enter = false;
  int64_t at = 0;
  bool time_cause = false;  // "time", else "event"
  int64_t n = 0;            // this user's change number in this segment (generation 1)

  // The change record of SEMANTICS §4, keys in order id, user_id, segment,
  // change, at, cause.
  std::string ToJson() const;
};

struct FeedResult {
  bool accepted = false;
  std::string reason;  // when rejected
  InputRecord record;  // when accepted
  bool had_clock = false;
  int64_t clock_before = 0;
  bool late = false;            // ts < clock_before
  std::vector<Change> changes;  // time-caused (in time order), then record-caused
};

struct ReferenceOptions {
  // Test only: also visit every multiple of this many ms (0: off) and every
  // hour start. If membership could change between the candidate instants,
  // a dense run would differ from a normal one; reference_test checks it does
  // not.
  int64_t dense_step_ms = 0;
};

class Reference {
 public:
  // Parses the rules; nullptr with *error naming the segment if one is invalid.
  static std::unique_ptr<Reference> Create(const RuleSet& rules, std::string* error,
                                           ReferenceOptions options = {});

  // Reads one input line (JSON) and returns what it caused.
  FeedResult Feed(std::string_view line);

  bool has_clock() const { return has_clock_; }
  int64_t now() const { return now_; }
  const Calendar& calendar() const { return calendar_; }
  const RuleSet& rules() const { return rules_; }
  const Node& rule(size_t segment) const { return *roots_[segment]; }
  size_t user_count() const { return users_.size(); }
  bool IsMember(const std::string& user_id, const std::string& segment) const;
  int64_t MemberCount(size_t segment) const;
  // True if t is A.ts + within for some funnel start event A of this user.
  bool IsDeadline(const std::string& user_id, int64_t t) const;
  // True if some user has an event matching `selector` with a day in [from, to].
  bool AnyEventInRange(const Selector& selector, int64_t from_day, int64_t to_day) const;

  const std::vector<std::vector<NodeStats>>& node_stats() const { return stats_; }
  const EvalCounters& counters() const { return counters_; }

 private:
  struct User {
    std::string id;
    UserHistory history;
    std::vector<bool> member;
    std::vector<int64_t> change_count;
    std::set<int64_t> deadlines;
  };
  struct Funnel {
    const Selector* start;
    int64_t within_ms;
  };

  Reference() = default;
  void AdvanceClock(int64_t t1, std::vector<Change>* out);
  void Apply(const InputRecord& record, User* user);
  void EvaluateUser(User* user, int64_t now, bool time_cause, std::vector<Change>* out);

  RuleSet rules_;
  ReferenceOptions options_;
  Calendar calendar_;
  std::vector<std::unique_ptr<Node>> roots_;
  std::map<std::string, int> segment_index_;
  std::map<std::string, std::set<std::string>> lists_;
  bool uses_hours_ = false;
  std::vector<Funnel> funnels_;

  std::map<std::string, size_t> user_index_;
  std::vector<User> users_;  // first-seen order
  std::multiset<int64_t> deadlines_;
  bool has_clock_ = false;
  int64_t now_ = 0;
  int64_t seq_ = 0;

  std::vector<std::vector<NodeStats>> stats_;
  EvalCounters counters_;
};

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_REFERENCE_H_
