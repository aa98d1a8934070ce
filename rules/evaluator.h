// Evaluating a compiled segment on one user's state at an instant, and
// finding the next instant at which time alone changes it.
//
// Thread-safety: an Evaluator holds a Calendar with a cache; use one per
// thread (per partition worker).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rules/plan.h"
#include "rules/value.h"
#include "state/user_state.h"

namespace segd::rules {

// Whether the user being evaluated is in a static list.
class ListMembership {
 public:
  virtual ~ListMembership() = default;
  virtual bool Contains(int list, std::string_view user_id) const = 0;
};

struct EvalInput {
  const UserState* state = nullptr;
  std::string_view user_id;
  int64_t now = 0;
  const ListMembership* lists = nullptr;  // nullptr: every list is empty
  // Membership at `now` of the segments before the one evaluated (index <
  // it), as just computed. nullptr: in_segment evaluates the other rule.
  const std::vector<uint8_t>* members = nullptr;
};

class Evaluator {
 public:
  explicit Evaluator(const RuleSet* rules) : rules_(rules), cal_(rules->calendar()) {}

  // This evaluator's calendar (same zone as the rule set; its own cache).
  const Calendar& calendar() const { return cal_; }

  // The rule of segment `seg` on the input's state at input.now.
  bool Segment(int seg, const EvalInput& in);

  // The earliest instant t > in.now at which Segment(seg) at t differs from
  // its value at in.now with no new record, or kNever when time alone never
  // changes it. May return an earlier instant at which nothing changes only
  // when the rule has more than kMaxCandidates instants to look at, or
  // compares days_since with something other than a number literal.
  int64_t NextChange(int seg, const EvalInput& in);

  // The value of `v` at in.now (for explanations and tests).
  Val Evaluate(const Value& v, const EvalInput& in);
  bool Evaluate(const Expr& e, const EvalInput& in);

  // Instants after in.now at which a term of `e` can change value. When
  // open_ended, terms may also change after the last instant listed.
  struct Candidates {
    std::vector<int64_t> instants;
    bool open_ended = false;
  };
  void CollectCandidates(const Expr& e, const EvalInput& in, Candidates* out);

  static constexpr size_t kMaxCandidates = 64;

  // The funnel attempt the window of `e` (a kDropped) holds at `t` in
  // state `fs`, or nullptr (for explanations).
  const EventRef* Attempt(const Expr& e, const FunnelState& fs, int64_t t);

 private:
  struct UnitRange {
    bool all = true;
    bool hours = false;
    int64_t lo = 0, hi = -1;
  };
  UnitRange Range(const Window& w, int64_t t);
  Val Aggregate(const Value& v, const EvalInput& in);
  Val DaysSince(const Value& v, const EvalInput& in);
  Val UserProp(const Value& v, const EvalInput& in);
  bool Dropped(const Expr& e, const EvalInput& in);
  bool InWindow(const Window& w, int64_t ts, int64_t t);

  // `thresholds`: the numbers `v` is compared with, or nullptr when it is
  // compared with something else.
  void ValueCandidates(const Value& v, const std::span<const double>* thresholds,
                       const EvalInput& in, Candidates* out);
  void SeriesCandidates(const BucketSeries& series, int sum_index, const Window& w,
                        const EvalInput& in, Candidates* out);
  void DroppedCandidates(const Expr& e, const EvalInput& in, Candidates* out);
  void ComparisonFlips(const Value& agg, CmpOp op, const Value& literal, bool agg_on_right,
                       const EvalInput& in, Candidates* out);
  void ComparisonFlips(AggKind agg, const Window& w, int ref, int k, CmpOp op, const Val& lit,
                       bool agg_on_right, const EvalInput& in, Candidates* out);
  // Aggregate of feature `ref` over `w` at in.now; k: the sum's index (kSum).
  Val AggregateOf(AggKind agg, const Window& w, int ref, int k, const EvalInput& in);
  int64_t UnitStart(bool hours, int64_t unit);

  const RuleSet* rules_;
  Calendar cal_;
  Candidates scratch_;  // reused by NextChange to spare an allocation per call
  std::vector<double> numbers_scratch_;  // CollectCandidates, kIn
};

}  // namespace segd::rules
