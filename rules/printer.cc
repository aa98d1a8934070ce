// ToString: the canonical text of a rule (declared in rules/parser.h).
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "rules/lexer.h"
#include "rules/parser.h"

namespace segd::rules {

namespace {

// fmt's "{}" gives the shortest digits that read back as the same double,
// but in exponent form for very large and small magnitudes; the rule
// language has no exponents, so those are written out in full.
std::string FormatNumber(double d) {
  std::string s = fmt::format("{}", d);
  size_t e = s.find('e');
  if (e == std::string::npos) return s;
  const bool negative = s[0] == '-';
  std::string mantissa = s.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  const int exponent = std::stoi(s.substr(e + 1));
  size_t dot = mantissa.find('.');
  int int_digits = static_cast<int>(dot == std::string::npos ? mantissa.size() : dot);
  std::string digits = mantissa;
  if (dot != std::string::npos) digits.erase(dot, 1);
  const int point = int_digits + exponent;  // digits before the decimal point
  std::string out = negative ? "-" : "";
  if (point <= 0) {
    out += "0." + std::string(-point, '0') + digits;
  } else if (point >= static_cast<int>(digits.size())) {
    out += digits + std::string(point - digits.size(), '0');
  } else {
    out += digits.substr(0, point) + "." + digits.substr(point);
  }
  return out;
}

std::string QuoteString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Name(const std::string& name) { return IsBareName(name) ? name : "`" + name + "`"; }

const char* OpText(CmpOp op) {
  switch (op) {
    case CmpOp::kEq:
      return "=";
    case CmpOp::kNe:
      return "!=";
    case CmpOp::kLt:
      return "<";
    case CmpOp::kLe:
      return "<=";
    case CmpOp::kGt:
      return ">";
    case CmpOp::kGe:
      return ">=";
  }
  return "=";
}

std::string LiteralList(const std::vector<Literal>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += ToString(values[i]);
  }
  return out + "]";
}

std::string OptionalWindow(const Window& w) {
  return w.kind == Window::Kind::kAllTime ? "" : ", " + ToString(w);
}

std::string Duration(int64_t ms) {
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  return std::to_string(ms / 1000) + "s";
}

// Binding strength: an operand binding less tightly than (or, for and/or,
// as tightly as) its parent is parenthesized.
int Precedence(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kOr:
      return 1;
    case Expr::Kind::kAnd:
      return 2;
    default:
      return 3;
  }
}

void Print(const Expr& e, std::string* out) {
  auto operand = [out](const Expr& child, bool parens) {
    if (parens) *out += "(";
    Print(child, out);
    if (parens) *out += ")";
  };
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) *out += e.kind == Expr::Kind::kAnd ? " and " : " or ";
        operand(*e.children[i], Precedence(*e.children[i]) <= Precedence(e));
      }
      return;
    case Expr::Kind::kNot:
      *out += "not ";
      operand(*e.children[0], Precedence(*e.children[0]) < 3);
      return;
    case Expr::Kind::kCompare:
      *out += ToString(e.lhs) + " " + OpText(e.op) + " " + ToString(e.rhs);
      return;
    case Expr::Kind::kIn:
      *out += ToString(e.lhs) + " in " + LiteralList(e.in_values);
      return;
    case Expr::Kind::kDid:
      *out += "did(" + ToString(e.selector) + OptionalWindow(e.window) + ")";
      return;
    case Expr::Kind::kInSegment:
      *out += "in_segment(" + e.name + ")";
      return;
    case Expr::Kind::kInList:
      *out += "in_list(" + QuoteString(e.name) + ")";
      return;
    case Expr::Kind::kDropped:
      *out += "dropped(";
      for (size_t i = 0; i < e.steps.size(); ++i) {
        if (i > 0) *out += " -> ";
        *out += ToString(e.steps[i]);
      }
      *out += ", within " + Duration(e.within_ms) + OptionalWindow(e.window) + ")";
      return;
  }
}

}  // namespace

std::string ToString(const Literal& literal) {
  if (const double* d = std::get_if<double>(&literal)) return FormatNumber(*d);
  if (const std::string* s = std::get_if<std::string>(&literal)) return QuoteString(*s);
  return std::get<bool>(literal) ? "true" : "false";
}

std::string ToString(const Window& w) {
  switch (w.kind) {
    case Window::Kind::kAllTime:
      return "";
    case Window::Kind::kDays:
      return std::to_string(w.n) + "d";
    case Window::Kind::kHours:
      return std::to_string(w.n) + "h";
    case Window::Kind::kToday:
      return "today";
    case Window::Kind::kYesterday:
      return "yesterday";
    case Window::Kind::kDateRange:
      return FormatDate(w.first_day) + ".." + FormatDate(w.last_day);
  }
  return "";
}

std::string ToString(const Selector& s) {
  std::string out = Name(s.event);
  if (s.filters.empty()) return out;
  out += "{";
  for (size_t i = 0; i < s.filters.size(); ++i) {
    const Filter& f = s.filters[i];
    if (i > 0) out += ", ";
    out += Name(f.prop);
    if (f.is_in) {
      out += " in " + LiteralList(f.values);
    } else {
      out +=
          std::string(" ") + OpText(f.op) + " " + (f.values.empty() ? "" : ToString(f.values[0]));
    }
  }
  return out + "}";
}

std::string ToString(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kLiteral:
      return ToString(v.literal);
    case Value::Kind::kUserProp:
      return "user." + Name(v.prop) + (v.at_yesterday ? "@yesterday" : "");
    case Value::Kind::kDaysSince:
      return "days_since(" + ToString(v.selector) + ")";
    case Value::Kind::kAggregate:
      break;
  }
  switch (v.agg) {
    case AggKind::kCount:
      return "count(" + ToString(v.selector) + OptionalWindow(v.window) + ")";
    case AggKind::kActiveDays:
      return "active_days(" + ToString(v.selector) + OptionalWindow(v.window) + ")";
    case AggKind::kSum:
      return "sum(" + ToString(v.selector) + "." + Name(v.prop) + OptionalWindow(v.window) + ")";
  }
  return "";
}

std::string ToString(const Expr& expr) {
  std::string out;
  Print(expr, &out);
  return out;
}

}  // namespace segd::rules
