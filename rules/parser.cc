#include "rules/parser.h"

#include <utility>

#include "rules/parser_internal.h"

namespace segd::rules {

namespace parser_internal {

namespace {

// Appends `child` to the and/or node `node`, splicing in the operands of a
// child of the same kind: `(a and b) and c` is one node of three.
void AppendFlat(Expr* node, ExprPtr child) {
  if (child->kind == node->kind) {
    for (auto& grandchild : child->children) node->children.push_back(std::move(grandchild));
  } else {
    node->children.push_back(std::move(child));
  }
}

}  // namespace

const Token& Parser::Peek(size_t k) {
  while (ahead_.size() <= k) ahead_.push_back(lexer_.Next(&lex_error_));
  return ahead_[k];
}

Token Parser::Take() {
  Peek();
  Token t = std::move(ahead_.front());
  ahead_.pop_front();
  return t;
}

bool Parser::Fail(const Token& tok, std::string reason) {
  if (tok.kind == TokenKind::kError) {
    if (!failed_) error_ = lex_error_;
    failed_ = true;
    return false;
  }
  return FailAt(tok.pos, std::move(reason));
}

bool Parser::FailAt(Pos pos, std::string reason) {
  if (!failed_) error_ = {pos, std::move(reason)};
  failed_ = true;
  return false;
}

bool Parser::Expect(TokenKind kind, const std::string& expected) {
  if (At(kind)) {
    Take();
    return true;
  }
  return Fail(Peek(), "expected " + expected + ", found " + Describe(Peek()));
}

bool Parser::CloseCall(const Token& fn) {
  return Expect(TokenKind::kRParen, "')' to close " + fn.text + "( at " + PosText(fn.pos));
}

ExprPtr Parser::ParseWhole() {
  if (At(TokenKind::kEnd)) {
    Fail(Peek(), "the rule is empty");
    return nullptr;
  }
  ExprPtr e = ParseOr(0);
  if (!e) return nullptr;
  const Token& t = Peek();
  switch (t.kind) {
    case TokenKind::kEnd:
      return e;
    case TokenKind::kRParen:
      Fail(t, "unmatched ')'");
      break;
    case TokenKind::kName:
    case TokenKind::kNot:
    case TokenKind::kLParen:
    case TokenKind::kUser:
      Fail(t, "expected 'and' or 'or' before " + Describe(t) +
                  " (conditions are joined with and / or)");
      break;
    default:
      Fail(t, "unexpected " + Describe(t) + " after a complete condition");
      break;
  }
  return nullptr;
}

ExprPtr Parser::ParseOr(int depth) {
  ExprPtr first = ParseAnd(depth);
  if (!first || !At(TokenKind::kOr)) return first;
  auto node = std::make_unique<Expr>();
  node->kind = Expr::Kind::kOr;
  node->pos = first->pos;
  AppendFlat(node.get(), std::move(first));
  while (At(TokenKind::kOr)) {
    Take();
    ExprPtr next = ParseAnd(depth);
    if (!next) return nullptr;
    AppendFlat(node.get(), std::move(next));
  }
  return node;
}

ExprPtr Parser::ParseAnd(int depth) {
  ExprPtr first = ParseUnary(depth);
  if (!first || !At(TokenKind::kAnd)) return first;
  auto node = std::make_unique<Expr>();
  node->kind = Expr::Kind::kAnd;
  node->pos = first->pos;
  AppendFlat(node.get(), std::move(first));
  while (At(TokenKind::kAnd)) {
    Take();
    ExprPtr next = ParseUnary(depth);
    if (!next) return nullptr;
    AppendFlat(node.get(), std::move(next));
  }
  return node;
}

ExprPtr Parser::ParseUnary(int depth) {
  if (depth >= kMaxRuleDepth) {
    Fail(Peek(), "the rule nests too deeply (more than " + std::to_string(kMaxRuleDepth) +
                     " levels of parentheses and not)");
    return nullptr;
  }
  const Token& t = Peek();
  if (t.kind == TokenKind::kNot) {
    Token not_tok = Take();
    ExprPtr child = ParseUnary(depth + 1);
    if (!child) return nullptr;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kNot;
    node->pos = not_tok.pos;
    node->children.push_back(std::move(child));
    return node;
  }
  if (t.kind == TokenKind::kLParen) {
    Token open = Take();
    ExprPtr inner = ParseOr(depth + 1);
    if (!inner) return nullptr;
    if (!Expect(TokenKind::kRParen, "')' to close '(' at " + PosText(open.pos))) return nullptr;
    if (IsCmpOp(Peek().kind) || At(TokenKind::kIn)) {
      Fail(Peek(),
           "a condition in parentheses is true or false and cannot be compared; "
           "write the comparison inside the parentheses");
      return nullptr;
    }
    return inner;
  }
  if (t.kind == TokenKind::kName && !t.backquoted && Peek(1).kind == TokenKind::kLParen) {
    if (IsPredicateName(t.text)) {
      std::string fn = t.text;
      ExprPtr e = ParsePredicate();
      if (e && (IsCmpOp(Peek().kind) || At(TokenKind::kIn))) {
        Fail(Peek(), fn + "(...) is a condition (true or false) and cannot be compared" +
                         (fn == "did" ? "; to compare how often, use count(...), e.g. "
                                        "count(visit) >= 3"
                                      : ""));
        return nullptr;
      }
      return e;
    }
    if (!IsValueFunctionName(t.text)) {
      Fail(t, "unknown function '" + t.text + "' (expected " + kFunctionList + ")");
      return nullptr;
    }
  }
  return ParseComparison();
}

ExprPtr Parser::ParseComparison() {
  auto e = std::make_unique<Expr>();
  e->pos = Peek().pos;
  if (!ParseValue(&e->lhs, /*lhs=*/true)) return nullptr;
  if (IsCmpOp(Peek().kind)) {
    e->kind = Expr::Kind::kCompare;
    e->op = ToCmpOp(Take().kind);
    if (!ParseValue(&e->rhs, /*lhs=*/false)) return nullptr;
  } else if (At(TokenKind::kIn)) {
    Take();
    e->kind = Expr::Kind::kIn;
    if (!ParseLiteralList(&e->in_values, &e->in_positions)) return nullptr;
  } else {
    const Token& t = Peek();
    const std::string shown = ToString(e->lhs);
    if (t.kind != TokenKind::kError &&
        (e->lhs.kind == Value::Kind::kAggregate || e->lhs.kind == Value::Kind::kDaysSince)) {
      FailAt(e->lhs.pos,
             shown + " is a number, not a condition: compare it, e.g. " + shown + " >= 1");
    } else {
      Fail(t, "expected a comparison (=, !=, <, <=, >, >= or in) after " + shown + ", found " +
                  Describe(t));
    }
    return nullptr;
  }
  if (IsCmpOp(Peek().kind) || At(TokenKind::kIn)) {
    Fail(Peek(), "comparisons cannot be chained: write a < b and b < c");
    return nullptr;
  }
  return e;
}

bool Parser::ParseValue(Value* v, bool lhs) {
  const Token& t = Peek();
  v->pos = t.pos;
  switch (t.kind) {
    case TokenKind::kNumber:
    case TokenKind::kString:
    case TokenKind::kTrue:
    case TokenKind::kFalse:
      v->kind = Value::Kind::kLiteral;
      return ParseLiteral(&v->literal, nullptr);
    case TokenKind::kUser:
      return ParseUserProp(v);
    case TokenKind::kName:
      if (!t.backquoted && Peek(1).kind == TokenKind::kLParen) {
        if (IsValueFunctionName(t.text)) return ParseValueCall(v);
        if (IsPredicateName(t.text)) {
          return Fail(t, t.text +
                             "(...) is a condition (true or false), not a value, and "
                             "cannot be compared");
        }
        return Fail(t, "unknown function '" + t.text + "' (expected " + kFunctionList + ")");
      }
      if (lhs) {
        return Fail(t, "expected a condition, found " + Describe(t) +
                           " (an event is named inside a call, e.g. did(" + t.text + ") or count(" +
                           t.text + ") >= 3)");
      }
      return Fail(t, "expected a value after the operator, found " + Describe(t) +
                         " (strings are written in double quotes: \"" + t.text + "\")");
    default:
      break;
  }
  if (lhs) {
    return Fail(
        t, "expected a condition (e.g. did(visit) or count(visit) >= 3), found " + Describe(t));
  }
  return Fail(t,
              "expected a value (a number, a string, true, false, count(...), "
              "active_days(...), sum(...), days_since(...) or user.NAME), found " +
                  Describe(t));
}

bool Parser::ParseValueCall(Value* v) {
  const Token fn = Take();
  Take();  // '('
  if (fn.text == "days_since") {
    v->kind = Value::Kind::kDaysSince;
    if (!ParseSelector(&v->selector)) return false;
    if (At(TokenKind::kComma)) {
      return Fail(Peek(),
                  "days_since takes no window: it looks at all time, e.g. "
                  "days_since(purchase) <= 30");
    }
    return CloseCall(fn);
  }
  v->kind = Value::Kind::kAggregate;
  v->agg = fn.text == "count" ? AggKind::kCount
           : fn.text == "sum" ? AggKind::kSum
                              : AggKind::kActiveDays;
  if (!ParseSelector(&v->selector)) return false;
  if (v->agg == AggKind::kSum) {
    if (!At(TokenKind::kDot)) {
      return Fail(Peek(),
                  "expected '.' and the summed property, e.g. sum(purchase.amount), found " +
                      Describe(Peek()));
    }
    Take();
    if (!ParseName("the summed property", &v->prop, nullptr)) return false;
  }
  return ParseOptionalWindow(fn, &v->window) && CloseCall(fn);
}

bool Parser::ParseUserProp(Value* v) {
  Take();  // user
  v->kind = Value::Kind::kUserProp;
  if (!Expect(TokenKind::kDot, "'.' after user (a user property is user.NAME)")) return false;
  if (!ParseName("a user property name", &v->prop, nullptr)) return false;
  if (!At(TokenKind::kAt)) return true;
  Take();
  if (!At(TokenKind::kYesterday)) {
    return Fail(Peek(), "expected yesterday after '@' (user." + v->prop + "@yesterday), found " +
                            Describe(Peek()));
  }
  Take();
  v->at_yesterday = true;
  return true;
}

}  // namespace parser_internal

Result<ExprPtr> ParseRule(std::string_view text, std::vector<Diagnostic>* errors) {
  parser_internal::Parser parser(text);
  ExprPtr e = parser.ParseWhole();
  if (!e) {
    errors->push_back(parser.error());
    return Status::InvalidArgument(parser_internal::PosText(parser.error().pos) + ": " +
                                   parser.error().reason);
  }
  return e;
}

}  // namespace segd::rules
