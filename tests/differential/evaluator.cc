#include "evaluator.h"

#include <cmath>
#include <limits>

namespace segd_ref {
namespace {

__extension__ typedef __int128 Int128;

// llround is only defined where the result fits in 64 bits.
constexpr double kMicrosLimit = 9.2e18;

// A value in a comparison. kMicros is a `sum`, exact in millionths.
struct Value {
  enum class Type { kMissing, kNumber, kString, kBool, kMicros };
  Type type = Type::kMissing;
  double number = 0;  // kNumber (may be +infinity: days_since of a never-done event)
  std::string str;
  bool boolean = false;
  Int128 micros = 0;
};

Value FromScalar(const Scalar& s) {
  Value v;
  switch (s.type) {
    case Scalar::Type::kNumber:
      v.type = Value::Type::kNumber;
      v.number = s.number;
      break;
    case Scalar::Type::kString:
      v.type = Value::Type::kString;
      v.str = s.str;
      break;
    case Scalar::Type::kBool:
      v.type = Value::Type::kBool;
      v.boolean = s.boolean;
      break;
  }
  return v;
}

template <typename T>
bool Apply(CmpOp op, const T& a, const T& b) {
  switch (op) {
    case CmpOp::kEq:
      return a == b;
    case CmpOp::kNe:
      return a != b;
    case CmpOp::kLt:
      return a < b;
    case CmpOp::kLe:
      return a <= b;
    case CmpOp::kGt:
      return a > b;
    case CmpOp::kGe:
      return a >= b;
  }
  return false;
}

// A number in millionths for comparing with a sum: (infinite sign, exact value).
std::pair<int, Int128> ToMicros(const Value& v) {
  if (v.type == Value::Type::kMicros) return {0, v.micros};
  double x = v.number * 1e6;
  if (std::isinf(v.number) || std::fabs(x) >= kMicrosLimit) return {x > 0 ? 1 : -1, 0};
  return {0, static_cast<Int128>(std::llround(x))};
}

bool Compare(const Value& a, CmpOp op, const Value& b, EvalCounters* counters) {
  using T = Value::Type;
  if (a.type == T::kMissing || b.type == T::kMissing) {
    if (counters != nullptr) ++counters->missing_compare;
    return false;
  }
  bool a_num = a.type == T::kNumber || a.type == T::kMicros;
  bool b_num = b.type == T::kNumber || b.type == T::kMicros;
  if (a_num && b_num && (a.type == T::kMicros || b.type == T::kMicros)) {
    auto [ai, av] = ToMicros(a);
    auto [bi, bv] = ToMicros(b);
    if (ai != 0 || bi != 0) return Apply(op, ai, bi);  // at most one side is infinite
    return Apply(op, av, bv);
  }
  if (a_num && b_num) return Apply(op, a.number, b.number);
  if (a.type != b.type) return false;
  if (a.type == T::kString) return Apply(op, a.str, b.str);  // bytewise = code point order
  return Apply(op, a.boolean, b.boolean);
}

Value Prop(const std::vector<std::pair<std::string, Scalar>>& props, const std::string& key) {
  for (const auto& [name, value] : props) {
    if (name == key) return FromScalar(value);
  }
  return Value();
}

bool FilterMatches(const Filter& f, const Event& e) {
  Value v = Prop(e.props, f.prop);
  if (!f.is_in) return Compare(v, f.op, FromScalar(f.literals[0]), nullptr);
  for (const Scalar& lit : f.literals) {
    if (Compare(v, CmpOp::kEq, FromScalar(lit), nullptr)) return true;
  }
  return false;
}

Value UserProp(const ValueExpr& expr, const EvalInput& in) {
  const PropOp* latest = nullptr;
  for (const PropOp& op : in.user->prop_ops) {
    if (op.key != expr.prop) continue;
    if (expr.at_yesterday && op.ts >= in.at.today_start) continue;
    if (latest == nullptr || op.ts > latest->ts || (op.ts == latest->ts && op.seq > latest->seq)) {
      latest = &op;
    }
  }
  if (latest == nullptr || !latest->value) return Value();
  return FromScalar(*latest->value);
}

Value EvalValue(const ValueExpr& expr, const EvalInput& in) {
  Value v;
  v.type = Value::Type::kNumber;
  switch (expr.kind) {
    case ValueExpr::Kind::kLiteral:
      return FromScalar(expr.literal);
    case ValueExpr::Kind::kUserProp:
      return UserProp(expr, in);
    case ValueExpr::Kind::kCount:
      for (const Event& e : in.user->events) {
        if (EventMatches(expr.selector, e) && InWindow(expr.window, e, in.at)) v.number += 1;
      }
      return v;
    case ValueExpr::Kind::kActiveDays: {
      std::set<int64_t> days;
      for (const Event& e : in.user->events) {
        if (EventMatches(expr.selector, e) && InWindow(expr.window, e, in.at)) days.insert(e.day);
      }
      v.number = static_cast<double>(days.size());
      return v;
    }
    case ValueExpr::Kind::kSum:
      v.type = Value::Type::kMicros;
      for (const Event& e : in.user->events) {
        if (!EventMatches(expr.selector, e) || !InWindow(expr.window, e, in.at)) continue;
        Value p = Prop(e.props, expr.prop);
        if (p.type == Value::Type::kNumber && std::fabs(p.number * 1e6) < kMicrosLimit) {
          v.micros += std::llround(p.number * 1e6);
        } else if (p.type != Value::Type::kMissing && in.counters != nullptr) {
          ++in.counters->sum_non_numeric;
        }
      }
      return v;
    case ValueExpr::Kind::kDaysSince: {
      bool found = false;
      int64_t last_day = 0;
      for (const Event& e : in.user->events) {
        if (!EventMatches(expr.selector, e)) continue;
        last_day = found ? std::max(last_day, e.day) : e.day;
        found = true;
      }
      if (!found) {
        if (in.counters != nullptr) ++in.counters->infinite_days_since;
        v.number = std::numeric_limits<double>::infinity();
      } else {
        v.number = static_cast<double>(std::max<int64_t>(0, in.at.today - last_day));
      }
      return v;
    }
  }
  return Value();
}

// SEMANTICS §3 "dropped": the latest attempt (last A in (ts, arrival) order
// with ts in W) reached every step but the last, each the first match
// strictly after the previous step with ts < A.ts + within, and now is at or
// past that deadline without the last step. An event matching A is never
// taken as the last step ("a last step that also matches A can never
// complete an attempt"); for windows that reach now this is implied anyway.
bool Dropped(const Node& node, const EvalInput& in) {
  const std::vector<Event>& ev = in.user->events;
  int64_t attempt = -1;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (EventMatches(node.steps[0], ev[i]) && InWindow(node.window, ev[i], in.at)) {
      attempt = static_cast<int64_t>(i);
    }
  }
  if (attempt < 0) return false;
  int64_t deadline = ev[attempt].ts + node.within_ms;
  if (in.at.now < deadline) return false;
  size_t prev = static_cast<size_t>(attempt);
  for (size_t k = 1; k < node.steps.size(); ++k) {
    bool last = k + 1 == node.steps.size();
    std::optional<size_t> found;
    for (size_t j = prev + 1; j < ev.size() && ev[j].ts < deadline; ++j) {
      if (EventMatches(node.steps[k], ev[j]) && !(last && EventMatches(node.steps[0], ev[j]))) {
        found = j;
        break;
      }
    }
    if (!found) return last;  // a middle step missing: the user never got that far
    prev = *found;
  }
  return false;  // completed
}

bool EvalNode(const Node& node, const EvalInput& in) {
  switch (node.kind) {
    case Node::Kind::kAnd: {
      bool all = true;
      for (const auto& c : node.children) all = Evaluate(*c, in) && all;  // no short cut
      return all;
    }
    case Node::Kind::kOr: {
      bool any = false;
      for (const auto& c : node.children) any = Evaluate(*c, in) || any;
      return any;
    }
    case Node::Kind::kNot:
      return !Evaluate(*node.children[0], in);
    case Node::Kind::kCompare:
      return Compare(EvalValue(node.lhs, in), node.op, EvalValue(node.rhs, in), in.counters);
    case Node::Kind::kIn: {
      Value v = EvalValue(node.lhs, in);
      for (const Scalar& lit : node.literals) {
        if (Compare(v, CmpOp::kEq, FromScalar(lit), in.counters)) return true;
      }
      return false;
    }
    case Node::Kind::kDid:
      for (const Event& e : in.user->events) {
        if (EventMatches(node.steps[0], e) && InWindow(node.window, e, in.at)) return true;
      }
      return false;
    case Node::Kind::kInSegment:
      return (*in.membership)[in.segment_index->at(node.name)];
    case Node::Kind::kInList: {
      auto it = in.lists->find(node.name);
      return it != in.lists->end() && it->second.count(*in.user_id) > 0;
    }
    case Node::Kind::kDropped:
      return Dropped(node, in);
  }
  return false;
}

}  // namespace

bool EventMatches(const Selector& selector, const Event& event) {
  if (event.name != selector.event) return false;
  for (const Filter& f : selector.filters) {
    if (!FilterMatches(f, event)) return false;
  }
  return true;
}

bool InWindow(const Window& w, const Event& e, const Instant& at) {
  switch (w.kind) {
    case Window::Kind::kAllTime:
      return true;
    case Window::Kind::kDays:
      return e.day > at.today - w.n && e.day <= at.today;
    case Window::Kind::kHours:
      return e.hour > at.hour - w.n && e.hour <= at.hour;
    case Window::Kind::kToday:
      return e.day == at.today;
    case Window::Kind::kYesterday:
      return e.day == at.today - 1;
    case Window::Kind::kRange:
      return e.day >= w.from_day && e.day <= w.to_day;
  }
  return false;
}

bool Evaluate(const Node& node, const EvalInput& in) {
  bool result = EvalNode(node, in);
  if (in.stats != nullptr) {
    NodeStats& s = (*in.stats)[node.id];
    ++(result ? s.true_count : s.false_count);
  }
  return result;
}

}  // namespace segd_ref
