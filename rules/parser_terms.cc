// The terms of the grammar: names, selectors, literals, windows and the
// predicates did, in_segment, in_list and dropped.
#include <string>
#include <utility>

#include "rules/parser_internal.h"

namespace segd::rules::parser_internal {

bool Parser::ParseName(const std::string& what, std::string* out, Pos* pos) {
  const Token& t = Peek();
  if (t.kind == TokenKind::kName) {
    if (pos) *pos = t.pos;
    *out = Take().text;
    return true;
  }
  if (t.kind >= TokenKind::kAnd && t.kind <= TokenKind::kUser) {
    return Fail(t, "expected " + what + ", found " + Describe(t) +
                       "; a name that is a keyword is written in backquotes");
  }
  if (t.kind == TokenKind::kString) {
    return Fail(t, "expected " + what +
                       ", found a string: names are written without quotes, "
                       "or in backquotes when they hold other characters (`Order Completed`)");
  }
  return Fail(t, "expected " + what + ", found " + Describe(t));
}

bool Parser::ParseSelector(Selector* s) {
  if (!ParseName("an event name", &s->event, &s->pos)) return false;
  if (!At(TokenKind::kLBrace)) return true;
  Take();
  for (;;) {
    Filter f;
    if (!ParseFilter(&f)) return false;
    s->filters.push_back(std::move(f));
    if (At(TokenKind::kRBrace)) {
      Take();
      return true;
    }
    if (!Expect(TokenKind::kComma, "',' or '}' after a filter")) return false;
  }
}

bool Parser::ParseFilter(Filter* f) {
  if (!ParseName("a property name in the filter", &f->prop, &f->pos)) return false;
  if (IsCmpOp(Peek().kind)) {
    f->op = ToCmpOp(Take().kind);
    f->values.emplace_back();
    return ParseLiteral(&f->values.back(), nullptr);
  }
  if (At(TokenKind::kIn)) {
    Take();
    f->is_in = true;
    return ParseLiteralList(&f->values, nullptr);
  }
  return Fail(Peek(), "expected a comparison (=, !=, <, <=, >, >= or in) after property '" +
                          f->prop + "', found " + Describe(Peek()));
}

bool Parser::ParseLiteral(Literal* lit, Pos* pos) {
  const Token& t = Peek();
  if (pos) *pos = t.pos;
  switch (t.kind) {
    case TokenKind::kNumber:
      *lit = t.number;
      break;
    case TokenKind::kString:
      *lit = t.text;
      break;
    case TokenKind::kTrue:
      *lit = true;
      break;
    case TokenKind::kFalse:
      *lit = false;
      break;
    case TokenKind::kName:
      return Fail(t, "expected a literal, found " + Describe(t) +
                         " (strings are written in double quotes: \"" + t.text + "\")");
    default:
      return Fail(t,
                  "expected a literal (a number, a string in double quotes, true or false), "
                  "found " +
                      Describe(t));
  }
  Take();
  return true;
}

bool Parser::ParseLiteralList(std::vector<Literal>* values, std::vector<Pos>* positions) {
  if (!Expect(TokenKind::kLBracket, "'[' after in (a list of values: in [\"a\", \"b\"])")) {
    return false;
  }
  if (At(TokenKind::kRBracket)) return Fail(Peek(), "an in [...] list needs at least one value");
  for (;;) {
    Pos pos;
    values->emplace_back();
    if (!ParseLiteral(&values->back(), &pos)) return false;
    if (positions) positions->push_back(pos);
    if (At(TokenKind::kRBracket)) {
      Take();
      return true;
    }
    if (!Expect(TokenKind::kComma, "',' or ']' in the list")) return false;
  }
}

bool Parser::ParseOptionalWindow(const Token& fn, Window* w) {
  w->pos = fn.pos;  // an omitted window (all time) points at its call
  if (!At(TokenKind::kComma)) return true;
  Take();
  return ParseWindow(w);
}

bool Parser::ParseWindow(Window* w) {
  const Token& t = Peek();
  w->pos = t.pos;
  switch (t.kind) {
    case TokenKind::kDuration:
      if (t.unit != 'd' && t.unit != 'h') {
        return Fail(t, Describe(t) +
                           " is not a window: a window is whole days (7d) or hours "
                           "(24h), today, yesterday or a date range");
      }
      w->kind = t.unit == 'd' ? Window::Kind::kDays : Window::Kind::kHours;
      w->n = static_cast<int>(t.n);
      Take();
      return true;
    case TokenKind::kToday:
    case TokenKind::kYesterday:
      w->kind = t.kind == TokenKind::kToday ? Window::Kind::kToday : Window::Kind::kYesterday;
      Take();
      return true;
    case TokenKind::kDate: {
      const Token first = Take();
      if (!Expect(TokenKind::kDotDot, "'..' after " + Describe(first) +
                                          " (a date range is written 2017-01-01..2017-01-31)")) {
        return false;
      }
      if (!At(TokenKind::kDate)) {
        return Fail(Peek(), "expected the date that ends the range, found " + Describe(Peek()));
      }
      const Token last = Take();
      if (last.day < first.day) {
        return FailAt(first.pos, "the date range ends (" + last.text + ") before it starts (" +
                                     first.text + ")");
      }
      w->kind = Window::Kind::kDateRange;
      w->first_day = first.day;
      w->last_day = last.day;
      return true;
    }
    case TokenKind::kNumber:
      return Fail(t, "a window needs a unit: " + t.text + "d (days) or " + t.text + "h (hours)");
    default:
      return Fail(t,
                  "expected a window (7d, 24h, today, yesterday or 2017-01-01..2017-01-31), "
                  "found " +
                      Describe(t));
  }
}

ExprPtr Parser::ParsePredicate() {
  const Token fn = Take();
  Take();  // '('
  auto e = std::make_unique<Expr>();
  e->pos = fn.pos;
  bool ok = false;
  if (fn.text == "did") {
    e->kind = Expr::Kind::kDid;
    ok = ParseSelector(&e->selector) && ParseOptionalWindow(fn, &e->window) && CloseCall(fn);
  } else if (fn.text == "in_segment") {
    e->kind = Expr::Kind::kInSegment;
    if (At(TokenKind::kSegmentId)) {
      e->name = Take().text;
      ok = CloseCall(fn);
    } else {
      Fail(Peek(),
           "expected a segment id ([A-Za-z0-9_-]{1,64}, written without quotes) in "
           "in_segment(...), found " +
               Describe(Peek()));
    }
  } else if (fn.text == "in_list") {
    e->kind = Expr::Kind::kInList;
    if (!At(TokenKind::kString)) {
      Fail(Peek(), "expected a list name in double quotes, e.g. in_list(\"offline_x\"), found " +
                       Describe(Peek()));
    } else if (Peek().text.empty()) {
      Fail(Peek(), "the list name is empty");
    } else {
      e->name = Take().text;
      ok = CloseCall(fn);
    }
  } else {
    e->kind = Expr::Kind::kDropped;
    ok = ParseDropped(fn, e.get());
  }
  if (!ok) return nullptr;
  return e;
}

bool Parser::ParseDropped(const Token& fn, Expr* e) {
  const char* kExample = "e.g. dropped(order_submit -> pay, within 1h, 7d)";
  do {
    if (!e->steps.empty()) Take();  // '->'
    e->steps.emplace_back();
    if (!ParseSelector(&e->steps.back())) return false;
  } while (At(TokenKind::kArrow));
  if (e->steps.size() < 2) {
    return Fail(Peek(), std::string("dropped needs at least two steps joined by ->, ") + kExample);
  }
  if (!At(TokenKind::kComma) || Peek(1).kind != TokenKind::kWithin) {
    const Token& t = At(TokenKind::kComma) ? Peek(1) : Peek();
    return Fail(t, "expected ', within DURATION' after the steps of dropped, " +
                       std::string(kExample) + ", found " + Describe(t));
  }
  Take();
  Take();
  const Token& d = Peek();
  if (d.kind != TokenKind::kDuration) {
    return Fail(d, "expected a duration after within (30s, 30m, 1h or 1d), found " + Describe(d));
  }
  int64_t unit_ms = d.unit == 's'   ? 1000
                    : d.unit == 'm' ? 60'000
                    : d.unit == 'h' ? 3'600'000
                                    : 86'400'000;
  e->within_ms = d.n * unit_ms;
  Take();
  return ParseOptionalWindow(fn, &e->window) && CloseCall(fn);
}

}  // namespace segd::rules::parser_internal
