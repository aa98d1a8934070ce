// Evaluates one rule on one user's full history at one instant, by brute
// force: every aggregate rescans the history. No state, no cleverness.
#ifndef SEGD_TESTS_DIFFERENTIAL_EVALUATOR_H_
#define SEGD_TESTS_DIFFERENTIAL_EVALUATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "rule_ast.h"

namespace segd_ref {

// One accepted behaviour event.
struct Event {
  int64_t ts = 0;
  int64_t seq = 0;  // arrival order, global
  std::string name;
  std::vector<std::pair<std::string, Scalar>> props;
  int64_t day = 0;   // Calendar::Day(ts)
  int64_t hour = 0;  // Calendar::Hour(ts)
};

// One `set` (value) or `unset` / `set: null` (nullopt) of one user property.
struct PropOp {
  int64_t ts = 0;
  int64_t seq = 0;
  std::string key;
  std::optional<Scalar> value;
};

struct UserHistory {
  std::vector<Event> events;     // sorted by (ts, seq)
  std::vector<PropOp> prop_ops;  // arrival order
};

// The instant a rule is evaluated at, in calendar terms.
struct Instant {
  int64_t now = 0;
  int64_t today = 0;        // Calendar::Day(now)
  int64_t hour = 0;         // Calendar::Hour(now)
  int64_t today_start = 0;  // Calendar::DayFloor(now)
};

struct NodeStats {
  int64_t true_count = 0;
  int64_t false_count = 0;
};

// Things worth knowing for the coverage report.
struct EvalCounters {
  int64_t sum_non_numeric = 0;  // a summed property existed but was not a number
  int64_t missing_compare = 0;  // a comparison saw a missing value
  int64_t infinite_days_since = 0;
};

struct EvalInput {
  const UserHistory* user = nullptr;
  const std::string* user_id = nullptr;
  Instant at;
  // Membership of this user in every segment, already updated at this
  // instant for the segments defined before the one evaluated.
  const std::vector<bool>* membership = nullptr;
  const std::map<std::string, int>* segment_index = nullptr;
  const std::map<std::string, std::set<std::string>>* lists = nullptr;
  std::vector<NodeStats>* stats = nullptr;  // by node id; may be null
  EvalCounters* counters = nullptr;         // may be null
};

bool Evaluate(const Node& node, const EvalInput& in);

bool EventMatches(const Selector& selector, const Event& event);
bool InWindow(const Window& window, const Event& event, const Instant& at);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_EVALUATOR_H_
