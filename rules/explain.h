// Why a user is in or out of a segment: the segment's rule tree with every
// term's value and verdict at `now`, and the next instant at which time
// alone changes the answer, with its reason ("the visit of 2026-11-16
// leaves the 7d window at 2026-11-23 00:00 Asia/Shanghai: ...").
//
// Verdicts and instants are the Evaluator's (the engine's own), so they are
// what the engine decides: the verdict is the membership (SEMANTICS.md §4),
// and with no new record for the user the engine emits the time-caused
// change at next_change. The language is two-valued: a comparison with a
// missing value, or between values of different types, is false (§3).
//
// Thread-safety: an Explainer holds an Evaluator; one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ast.h"
#include "rules/calendar.h"
#include "rules/evaluator.h"
#include "rules/plan.h"
#include "state/user_state.h"

namespace segd::rules {

// An instant: epoch ms and local wall time in the rule set's zone
// ("2026-11-23 00:00 Asia/Shanghai"; seconds shown when not on a minute).
struct Instant {
  int64_t ms = kNever;
  std::string local;
};
Instant MakeInstant(const Calendar& cal, int64_t ms);

// What a term is worth at `now`.
struct ExplainedValue {
  enum class Kind { kMissing, kNumber, kString, kBool, kInfinity };
  std::string text;  // the term's canonical text: "active_days(visit, 30d)", "user.tier", "15"
  Kind kind = Kind::kMissing;
  // kNumber: decimal text (a sum exactly, from its millionths); kString:
  // the string; kBool: "true" or "false"; otherwise empty.
  std::string value;

  // "17", "\"gold\"", "missing", "infinity", as a person reads it.
  std::string Display() const;
};

struct ExplainedNode {
  Expr::Kind kind = Expr::Kind::kAnd;
  std::string text;  // canonical text of the node (rules::ToString)
  bool verdict = false;
  // kCompare: both sides; kIn: the left side; kDid: count(S, W).
  std::vector<ExplainedValue> values;
  std::string detail;  // what decided it, for people, when the values do not say
  std::vector<ExplainedNode> children;  // kAnd, kOr, kNot
};

struct Explanation {
  std::string segment;
  std::string name;
  std::string user_id;
  std::string time_zone;
  Instant now;
  bool verdict = false;        // the rule at now: the membership
  std::optional<bool> member;  // the stored membership, when the caller knows it
  ExplainedNode rule;
  // The engine's next instant for this segment (ms kNever: time alone never
  // changes it). `flips` false: the engine only looks again then (a rule
  // with more instants to check than it looks at in one go).
  Instant next_change;
  bool flips = false;
  std::vector<std::string> reasons;  // the terms that change at next_change, and why
};

class Explainer {
 public:
  // `lists`: the static lists (nullptr: every list is empty). REQUIRES:
  // rules and lists outlive the explainer.
  explicit Explainer(const RuleSet* rules, const ListMembership* lists = nullptr)
      : rules_(rules), lists_(lists), eval_(rules) {}

  // Segment `seg` of the rule set on `state` (shaped to its plan) at `now`.
  Explanation Explain(int seg, const UserState& state, std::string_view user_id, int64_t now,
                      std::optional<bool> member = std::nullopt);

 private:
  ExplainedNode Node(const Expr& e, const EvalInput& in);
  ExplainedValue ValueOf(const Value& v, const EvalInput& in);
  std::string DroppedDetail(const Expr& e, const EvalInput& in);
  void Reasons(const Expr& e, const EvalInput& in, int64_t t, std::vector<std::string>* out);
  void ValueCauses(const Value& v, const EvalInput& in, int64_t t, std::vector<std::string>* out);
  std::string FunnelCause(const Expr& e, const EvalInput& in, int64_t t);

  const RuleSet* rules_;
  const ListMembership* lists_;
  Evaluator eval_;
};

// One JSON object (no trailing newline) and a text rendering for people.
std::string ToJson(const Explanation& e);
std::string ToText(const Explanation& e);

// Helpers shared with rules/user_report.h.
ExplainedValue MakeValue(std::string text, const Val& v);
std::string FormatMillionths(int64_t m);  // 12500000 → "12.5"
// {"text":..,"type":..,"value":..}
void AppendValueJson(std::string* out, const ExplainedValue& v);

}  // namespace segd::rules
