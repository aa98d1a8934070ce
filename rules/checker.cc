#include "rules/checker.h"

#include <algorithm>
#include <cstdint>

#include "rules/parser.h"

namespace segd::rules {

namespace {

// The static type of a value; kAny for user properties, whose type is known
// only when a record sets them.
enum class Type { kNumber, kString, kBool, kAny };

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kBool:
      return "a boolean";
    case Type::kAny:
      return "any type";
  }
  return "";
}

Type TypeOf(const Literal& lit) {
  if (std::holds_alternative<double>(lit)) return Type::kNumber;
  if (std::holds_alternative<std::string>(lit)) return Type::kString;
  return Type::kBool;
}

Type TypeOf(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kLiteral:
      return TypeOf(v.literal);
    case Value::Kind::kUserProp:
      return Type::kAny;
    case Value::Kind::kAggregate:
    case Value::Kind::kDaysSince:
      return Type::kNumber;
  }
  return Type::kAny;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class Checker {
 public:
  Checker(const CheckContext& ctx, std::vector<Diagnostic>* errors,
          std::vector<Diagnostic>* warnings)
      : ctx_(ctx), errors_(errors), warnings_(warnings) {}

  void Check(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot:
        for (const auto& child : e.children) Check(*child);
        return;
      case Expr::Kind::kCompare:
        return CheckCompare(e);
      case Expr::Kind::kIn:
        return CheckIn(e);
      case Expr::Kind::kDid:
        return CheckWindow(e.window);
      case Expr::Kind::kDropped:
        return CheckWindow(e.window);
      case Expr::Kind::kInSegment:
        return CheckInSegment(e);
      case Expr::Kind::kInList:
        if (!Contains(ctx_.known_lists, e.name)) {
          warnings_->push_back(
              {e.pos, "list " + e.name + " does not exist yet; it is empty until uploaded"});
        }
        return;
    }
  }

 private:
  void Error(Pos pos, std::string reason) { errors_->push_back({pos, std::move(reason)}); }

  void CheckValue(const Value& v) {
    if (v.kind != Value::Kind::kAggregate) return;
    if (v.agg == AggKind::kActiveDays && v.window.kind == Window::Kind::kHours) {
      Error(v.window.pos, "active_days counts calendar days, so its window cannot be in hours (" +
                              ToString(v.window) + "); use days (e.g. 1d), today or a date range");
    }
    CheckWindow(v.window);
  }

  void CheckWindow(const Window& w) {
    const int64_t max_days = ctx_.max_window_days;
    if (w.kind == Window::Kind::kDays && w.n > max_days) {
      Error(w.pos, "window " + ToString(w) + " is longer than max_window_days (" +
                       std::to_string(max_days) +
                       " days); use a shorter window or a date range, or raise max_window_days");
    } else if (w.kind == Window::Kind::kHours && w.n > 24 * max_days) {
      Error(w.pos, "window " + ToString(w) + " is longer than max_window_days (" +
                       std::to_string(max_days) + " days = " + std::to_string(24 * max_days) +
                       "h); use a shorter window or a date range, or raise max_window_days");
    }
  }

  // The mismatch is reported at a literal when there is one (that is what
  // the author most likely mistyped), else at the right-hand side.
  void CheckCompare(const Expr& e) {
    CheckValue(e.lhs);
    CheckValue(e.rhs);
    Type l = TypeOf(e.lhs), r = TypeOf(e.rhs);
    if (l == Type::kAny || r == Type::kAny || l == r) return;
    Pos at = e.rhs.kind != Value::Kind::kLiteral && e.lhs.kind == Value::Kind::kLiteral ? e.lhs.pos
                                                                                        : e.rhs.pos;
    Error(at, "cannot compare " + ToString(e.lhs) + " (" + TypeName(l) + ") with " +
                  ToString(e.rhs) + " (" + TypeName(r) +
                  "): values of different types never compare true");
  }

  void CheckIn(const Expr& e) {
    CheckValue(e.lhs);
    Type l = TypeOf(e.lhs);
    if (l == Type::kAny) return;
    for (size_t i = 0; i < e.in_values.size(); ++i) {
      Type r = TypeOf(e.in_values[i]);
      if (r == l) continue;
      Pos at = i < e.in_positions.size() ? e.in_positions[i] : e.pos;
      Error(at, ToString(e.in_values[i]) + " is " + TypeName(r) + " but " + ToString(e.lhs) +
                    " is " + TypeName(l) + ", so it can never be equal");
    }
  }

  void CheckInSegment(const Expr& e) {
    if (e.name == ctx_.self_id) {
      Error(e.pos, "in_segment(" + e.name +
                       ") refers to the segment itself; a rule may only use segments defined "
                       "before it");
    } else if (!Contains(ctx_.earlier_segments, e.name)) {
      Error(e.pos, "in_segment(" + e.name + "): segment " + e.name +
                       " must be defined earlier in the rule set (it is unknown or comes "
                       "later; referring only to earlier segments rules out cycles)");
    }
  }

  const CheckContext& ctx_;
  std::vector<Diagnostic>* errors_;
  std::vector<Diagnostic>* warnings_;
};

}  // namespace

void CheckRule(const Expr& rule, const CheckContext& ctx, std::vector<Diagnostic>* errors,
               std::vector<Diagnostic>* warnings) {
  Checker(ctx, errors, warnings).Check(rule);
}

}  // namespace segd::rules
