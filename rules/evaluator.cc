#include "rules/evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "rules/features.h"

namespace segd::rules {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// A relative window holds units [cur - back, cur - front] of the current
// unit `cur`: an event in unit u is inside from unit u + front to u + back.
struct Span {
  bool hours = false;
  int64_t back = 0, front = 0;
};

bool Relative(const Window& w, Span* span) {
  switch (w.kind) {
    case Window::Kind::kDays: *span = {false, w.n - 1, 0}; return true;
    case Window::Kind::kHours: *span = {true, w.n - 1, 0}; return true;
    case Window::Kind::kToday: *span = {false, 0, 0}; return true;
    case Window::Kind::kYesterday: *span = {false, 1, 1}; return true;
    default: return false;
  }
}

}  // namespace

int64_t Evaluator::UnitStart(bool hours, int64_t unit) {
  return hours ? cal_.HourStart(unit) : cal_.DayStart(static_cast<int32_t>(unit));
}

Evaluator::UnitRange Evaluator::Range(const Window& w, int64_t t) {
  Span s;
  if (Relative(w, &s)) {
    int64_t cur = s.hours ? cal_.HourOf(t) : cal_.DayOf(t);
    return {false, s.hours, cur - s.back, cur - s.front};
  }
  if (w.kind == Window::Kind::kDateRange) return {false, false, w.first_day, w.last_day};
  return {};
}

bool Evaluator::InWindow(const Window& w, int64_t ts, int64_t t) {
  UnitRange r = Range(w, t);
  if (r.all) return true;
  int64_t u = r.hours ? cal_.HourOf(ts) : cal_.DayOf(ts);
  return u >= r.lo && u <= r.hi;
}

Val Evaluator::Aggregate(const Value& v, const EvalInput& in) {
  int k = v.agg == AggKind::kSum ? rules_->features()[v.ref].SumIndex(v.prop) : -1;
  return AggregateOf(v.agg, v.window, v.ref, k, in);
}

Val Evaluator::AggregateOf(AggKind agg, const Window& w, int ref, int k, const EvalInput& in) {
  const FeatureState& fs = in.state->features[ref];
  UnitRange r = Range(w, in.now);
  if (r.all) {
    switch (agg) {
      case AggKind::kCount: return Val::Number(static_cast<double>(fs.count));
      case AggKind::kActiveDays: return Val::Number(static_cast<double>(fs.active_days.size()));
      case AggKind::kSum: return Val::Exact(fs.sums[k]);
    }
  }
  const BucketSeries& series = r.hours ? fs.hours : fs.days;
  uint64_t count = 0, units = 0;
  int64_t sum = 0;
  for (size_t i = series.LowerBound(r.lo); i < series.size() && series.unit(i) <= r.hi; ++i) {
    count += series.count(i);
    ++units;
    if (k >= 0) sum = SaturatingAdd(sum, series.sum(i, k));
  }
  switch (agg) {
    case AggKind::kCount: return Val::Number(static_cast<double>(count));
    case AggKind::kActiveDays: return Val::Number(static_cast<double>(units));
    case AggKind::kSum: return Val::Exact(sum);
  }
  return Val::Missing();
}

Val Evaluator::DaysSince(const Value& v, const EvalInput& in) {
  int64_t last = in.state->features[v.ref].last_ts;
  if (last == kNever) return Val::Number(kInfinity);
  int64_t days = static_cast<int64_t>(cal_.DayOf(in.now)) - cal_.DayOf(last);
  return Val::Number(static_cast<double>(std::max<int64_t>(0, days)));
}

Val Evaluator::UserProp(const Value& v, const EvalInput& in) {
  const PropState& ps = in.state->props[v.ref];
  const PropUpdate* u = v.at_yesterday ? PropBeforeDay(ps, cal_.DayOf(in.now)) : CurrentProp(ps);
  return u == nullptr ? Val::Missing() : Val::FromProp(u->value);
}

Val Evaluator::Evaluate(const Value& v, const EvalInput& in) {
  switch (v.kind) {
    case Value::Kind::kLiteral: return Val::FromLiteral(v.literal);
    case Value::Kind::kAggregate: return Aggregate(v, in);
    case Value::Kind::kDaysSince: return DaysSince(v, in);
    case Value::Kind::kUserProp: return UserProp(v, in);
  }
  return Val::Missing();
}

// SEMANTICS.md §3, dropped(): the latest attempt in the window reached every
// step but the last, and its deadline has passed.
const EventRef* Evaluator::Attempt(const Expr& e, const FunnelState& fs, int64_t t) {
  if (fs.attempt && InWindow(e.window, fs.attempt->ts, t)) return &*fs.attempt;
  // Only a `yesterday` window keeps an earlier day's attempt: the window
  // holds it while today's attempt is outside.
  if (fs.prev_attempt && InWindow(e.window, fs.prev_attempt->ts, t)) return &*fs.prev_attempt;
  return nullptr;
}

bool Evaluator::Dropped(const Expr& e, const EvalInput& in) {
  const FunnelState& fs = in.state->funnels[e.ref];
  const EventRef* attempt = Attempt(e, fs, in.now);
  if (attempt == nullptr) return false;
  int64_t deadline = SaturatingAdd(attempt->ts, e.within_ms);
  EventRef prev = *attempt;
  size_t reached = 0;
  for (const auto& events : fs.steps) {
    auto it = std::upper_bound(events.begin(), events.end(), prev);
    if (it == events.end() || it->ts >= deadline) break;
    prev = *it;
    ++reached;
  }
  if (reached == fs.steps.size()) return false;  // completed
  return reached + 1 == fs.steps.size() && in.now >= deadline;
}

bool Evaluator::Evaluate(const Expr& e, const EvalInput& in) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
      for (const auto& c : e.children) {
        if (!Evaluate(*c, in)) return false;
      }
      return true;
    case Expr::Kind::kOr:
      for (const auto& c : e.children) {
        if (Evaluate(*c, in)) return true;
      }
      return false;
    case Expr::Kind::kNot: return !Evaluate(*e.children[0], in);
    case Expr::Kind::kCompare: return Compare(Evaluate(e.lhs, in), e.op, Evaluate(e.rhs, in));
    case Expr::Kind::kIn: {
      Val v = Evaluate(e.lhs, in);
      for (const Literal& l : e.in_values) {
        if (Compare(v, CmpOp::kEq, Val::FromLiteral(l))) return true;
      }
      return false;
    }
    case Expr::Kind::kDid:
      return AggregateOf(AggKind::kCount, e.window, e.ref, -1, in).num >= 1;
    case Expr::Kind::kInSegment:
      if (in.members != nullptr && static_cast<size_t>(e.ref) < in.members->size()) {
        return (*in.members)[e.ref] != 0;
      }
      return Segment(e.ref, {in.state, in.user_id, in.now, in.lists, nullptr});
    case Expr::Kind::kInList: return in.lists != nullptr && in.lists->Contains(e.ref, in.user_id);
    case Expr::Kind::kDropped: return Dropped(e, in);
  }
  return false;
}

bool Evaluator::Segment(int seg, const EvalInput& in) {
  return Evaluate(*rules_->segments()[seg].rule, in);
}

void Evaluator::SeriesCandidates(const BucketSeries& series, int sum_index, const Window& w,
                                 const EvalInput& in, Candidates* out) {
  Span s;
  if (!Relative(w, &s) || series.empty()) return;
  int64_t cur = s.hours ? cal_.HourOf(in.now) : cal_.DayOf(in.now);
  for (size_t i = series.LowerBound(cur - s.back); i < series.size(); ++i) {
    if (sum_index >= 0 && series.sum(i, sum_index) == 0) continue;  // moves no sum
    int64_t enter = series.unit(i) + s.front, leave = series.unit(i) + s.back + 1;
    if (enter > cur) out->instants.push_back(UnitStart(s.hours, enter));
    if (leave > cur) out->instants.push_back(UnitStart(s.hours, leave));
  }
}

void Evaluator::ValueCandidates(const Value& v, const std::span<const double>* thresholds,
                                const EvalInput& in, Candidates* out) {
  switch (v.kind) {
    case Value::Kind::kLiteral: return;
    case Value::Kind::kAggregate: {
      const FeatureState& fs = in.state->features[v.ref];
      Span s;
      if (!Relative(v.window, &s)) return;
      int k = v.agg == AggKind::kSum ? rules_->features()[v.ref].SumIndex(v.prop) : -1;
      SeriesCandidates(s.hours ? fs.hours : fs.days, k, v.window, in, out);
      return;
    }
    case Value::Kind::kDaysSince: {
      int64_t last = in.state->features[v.ref].last_ts;
      if (last == kNever) return;
      int64_t last_day = cal_.DayOf(last), today = cal_.DayOf(in.now);
      int64_t v0 = std::max<int64_t>(0, today - last_day);
      if (thresholds == nullptr) {
        // Compared with something that is not a number literal: the value
        // grows by one every day, so every midnight is a candidate; a
        // month of them, and a wake-up after that to look further.
        for (int64_t d = std::max(today, last_day) + 1; d <= today + 32; ++d) {
          out->instants.push_back(cal_.DayStart(static_cast<int32_t>(d)));
        }
        out->open_ended = true;
        return;
      }
      // The value grows by one a day: only where it crosses a compared
      // number can the comparison flip.
      for (double c : *thresholds) {
        if (std::fabs(c) > 1e7) continue;
        for (double x : {std::floor(c), std::floor(c) + 1, std::ceil(c), std::ceil(c) + 1}) {
          int64_t days = static_cast<int64_t>(x);
          if (days > v0 && days >= 0) {
            out->instants.push_back(cal_.DayStart(static_cast<int32_t>(last_day + days)));
          }
        }
      }
      return;
    }
    case Value::Kind::kUserProp: {
      if (!v.at_yesterday) return;
      int32_t today = cal_.DayOf(in.now);
      for (const auto& [day, u] : in.state->props[v.ref].recent) {
        if (day + 1 > today) out->instants.push_back(cal_.DayStart(day + 1));
      }
      return;
    }
  }
}

void Evaluator::DroppedCandidates(const Expr& e, const EvalInput& in, Candidates* out) {
  const FunnelState& fs = in.state->funnels[e.ref];
  for (const auto* attempt : {&fs.attempt, &fs.prev_attempt}) {
    if (!*attempt) continue;
    int64_t deadline = SaturatingAdd((*attempt)->ts, e.within_ms);
    if (deadline > in.now) out->instants.push_back(deadline);
    Span s;
    if (!Relative(e.window, &s)) continue;
    int64_t cur = s.hours ? cal_.HourOf(in.now) : cal_.DayOf(in.now);
    int64_t u = s.hours ? cal_.HourOf((*attempt)->ts) : cal_.DayOf((*attempt)->ts);
    if (u + s.front > cur) out->instants.push_back(UnitStart(s.hours, u + s.front));
    if (u + s.back + 1 > cur) out->instants.push_back(UnitStart(s.hours, u + s.back + 1));
  }
}

// Instants after in.now at which `agg OP lit` (or `lit OP agg` when
// agg_on_right) flips, for an aggregate over a rolling window: the value is
// walked through every bucket entering or leaving the window, so only the
// instants where the comparison's truth changes are candidates — usually
// none or one, where every bucket boundary would be dozens. Buckets ascend,
// so the instants they enter and those they leave are two ascending
// sequences, merged here; a bucket always enters before it leaves.
void Evaluator::ComparisonFlips(AggKind agg, const Window& w, int ref, int k, CmpOp op,
                                const Val& lit, bool agg_on_right, const EvalInput& in,
                                Candidates* out) {
  Span s;
  if (!Relative(w, &s)) return;
  const FeatureState& fs = in.state->features[ref];
  const BucketSeries& series = s.hours ? fs.hours : fs.days;
  if (series.empty()) return;
  int64_t cur = s.hours ? cal_.HourOf(in.now) : cal_.DayOf(in.now);
  auto delta_of = [&](size_t i) -> int64_t {
    switch (agg) {
      case AggKind::kCount: return series.count(i);
      case AggKind::kActiveDays: return 1;
      case AggKind::kSum: return series.sum(i, k);
    }
    return 0;
  };
  auto truth = [&](int64_t v) {
    Val val = agg == AggKind::kSum ? Val::Exact(v) : Val::Number(static_cast<double>(v));
    return agg_on_right ? Compare(lit, op, val) : Compare(val, op, lit);
  };
  const size_t n = series.size();
  const size_t first = series.LowerBound(cur - s.back);
  size_t enter = first;  // the next bucket to enter the window
  int64_t value = 0;
  for (; enter < n && series.unit(enter) + s.front <= cur; ++enter) {
    value = SaturatingAdd(value, delta_of(enter));
  }
  bool now_truth = truth(value);
  for (size_t leave = first; leave < n;) {
    int64_t unit = series.unit(leave) + s.back + 1;
    if (enter < n) unit = std::min(unit, series.unit(enter) + s.front);
    int64_t before = value;
    for (; enter < n && series.unit(enter) + s.front == unit; ++enter) {
      value = SaturatingAdd(value, delta_of(enter));
    }
    for (; leave < n && series.unit(leave) + s.back + 1 == unit; ++leave) {
      value = SaturatingAdd(value, -delta_of(leave));
    }
    if (value != before && truth(value) != now_truth) {
      now_truth = !now_truth;
      out->instants.push_back(UnitStart(s.hours, unit));
    }
  }
}

void Evaluator::ComparisonFlips(const Value& agg, CmpOp op, const Value& literal,
                                bool agg_on_right, const EvalInput& in, Candidates* out) {
  int k = agg.agg == AggKind::kSum ? rules_->features()[agg.ref].SumIndex(agg.prop) : -1;
  ComparisonFlips(agg.agg, agg.window, agg.ref, k, op, Val::FromLiteral(literal.literal),
                  agg_on_right, in, out);
}

namespace {

// A number literal, as a threshold a days_since can cross (empty span when
// `v` is not one).
std::span<const double> NumberLiteral(const Value& v) {
  if (v.kind != Value::Kind::kLiteral) return {};
  const double* d = std::get_if<double>(&v.literal);
  return d == nullptr ? std::span<const double>() : std::span<const double>(d, 1);
}

}  // namespace

void Evaluator::CollectCandidates(const Expr& e, const EvalInput& in, Candidates* out) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
    case Expr::Kind::kNot:
      for (const auto& c : e.children) CollectCandidates(*c, in, out);
      return;
    case Expr::Kind::kCompare: {
      // Literals have no candidates: only the other side can move.
      if (e.lhs.kind == Value::Kind::kLiteral && e.rhs.kind == Value::Kind::kLiteral) return;
      if (e.lhs.kind == Value::Kind::kAggregate && e.rhs.kind == Value::Kind::kLiteral) {
        return ComparisonFlips(e.lhs, e.op, e.rhs, false, in, out);
      }
      if (e.rhs.kind == Value::Kind::kAggregate && e.lhs.kind == Value::Kind::kLiteral) {
        return ComparisonFlips(e.rhs, e.op, e.lhs, true, in, out);
      }
      std::span<const double> l = NumberLiteral(e.lhs), r = NumberLiteral(e.rhs);
      ValueCandidates(e.lhs, r.empty() ? nullptr : &r, in, out);
      ValueCandidates(e.rhs, l.empty() ? nullptr : &l, in, out);
      return;
    }
    case Expr::Kind::kIn: {
      // Only number literals can equal a number: the others never match.
      std::vector<double>& numbers = numbers_scratch_;
      numbers.clear();
      for (const Literal& lit : e.in_values) {
        if (const double* d = std::get_if<double>(&lit)) numbers.push_back(*d);
      }
      std::span<const double> thresholds(numbers);
      ValueCandidates(e.lhs, &thresholds, in, out);
      return;
    }
    case Expr::Kind::kDid:  // count(S, W) >= 1
      return ComparisonFlips(AggKind::kCount, e.window, e.ref, -1, CmpOp::kGe, Val::Number(1),
                             false, in, out);
    case Expr::Kind::kInSegment: CollectCandidates(*rules_->segments()[e.ref].rule, in, out); return;
    case Expr::Kind::kInList: return;
    case Expr::Kind::kDropped: DroppedCandidates(e, in, out); return;
  }
}

int64_t Evaluator::NextChange(int seg, const EvalInput& in) {
  const CompiledSegment& s = rules_->segments()[seg];
  if (!s.time_dependent) return kNever;
  Candidates& found = scratch_;
  found.instants.clear();
  found.open_ended = false;
  CollectCandidates(*s.rule, in, &found);
  std::vector<int64_t>& cands = found.instants;
  std::sort(cands.begin(), cands.end());
  cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
  cands.erase(cands.begin(), std::upper_bound(cands.begin(), cands.end(), in.now));
  if (cands.empty()) return kNever;
  EvalInput at{in.state, in.user_id, in.now, in.lists, nullptr};
  bool current = Segment(seg, at);
  size_t n = std::min(cands.size(), kMaxCandidates);
  for (size_t i = 0; i < n; ++i) {
    at.now = cands[i];
    if (Segment(seg, at) != current) return cands[i];
  }
  // Not every instant was looked at: wake at the last one and look again.
  return cands.size() > kMaxCandidates || found.open_ended ? cands[n - 1] : kNever;
}

}  // namespace segd::rules
