// The parser's internals, shared by parser.cc (tokens, and/or/not,
// comparisons, values) and parser_terms.cc (selectors, literals, windows,
// predicates). Not part of the module's interface: use rules/parser.h.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "rules/ast.h"
#include "rules/lexer.h"

namespace segd::rules::parser_internal {

inline constexpr const char* kFunctionList =
    "count, active_days, sum, did, days_since, in_segment, in_list, dropped";

inline std::string PosText(Pos p) {
  return std::to_string(p.line) + ":" + std::to_string(p.column);
}

inline bool IsCmpOp(TokenKind k) { return k >= TokenKind::kEq && k <= TokenKind::kGe; }

// The operator tokens are in CmpOp's order.
static_assert(static_cast<int>(TokenKind::kGe) - static_cast<int>(TokenKind::kEq) ==
              static_cast<int>(CmpOp::kGe) - static_cast<int>(CmpOp::kEq));
static_assert(static_cast<int>(TokenKind::kLe) - static_cast<int>(TokenKind::kEq) ==
              static_cast<int>(CmpOp::kLe) - static_cast<int>(CmpOp::kEq));
inline CmpOp ToCmpOp(TokenKind k) {
  return static_cast<CmpOp>(static_cast<int>(k) - static_cast<int>(TokenKind::kEq));
}

inline bool IsPredicateName(std::string_view s) {
  return s == "did" || s == "in_segment" || s == "in_list" || s == "dropped";
}

inline bool IsValueFunctionName(std::string_view s) {
  return s == "count" || s == "active_days" || s == "sum" || s == "days_since";
}

// A recursive-descent parser over the lexer's tokens, with two tokens of
// lookahead (a function call is a name followed by '('). It stops at the
// first error: every Parse* returns false / nullptr once error_ is set.
class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  ExprPtr ParseWhole();
  const Diagnostic& error() const { return error_; }

 private:
  const Token& Peek(size_t k = 0);
  Token Take();
  bool At(TokenKind k) { return Peek().kind == k; }
  // Records the first error, at `tok` (a lexical error there wins: it says
  // more than "expected ..."). Always returns false.
  bool Fail(const Token& tok, std::string reason);
  bool FailAt(Pos pos, std::string reason);
  bool Expect(TokenKind kind, const std::string& expected);
  bool CloseCall(const Token& fn);

  ExprPtr ParseOr(int depth);
  ExprPtr ParseAnd(int depth);
  ExprPtr ParseUnary(int depth);
  ExprPtr ParsePredicate();
  bool ParseDropped(const Token& fn, Expr* e);
  ExprPtr ParseComparison();
  bool ParseValue(Value* v, bool lhs);
  bool ParseValueCall(Value* v);
  bool ParseUserProp(Value* v);
  bool ParseSelector(Selector* s);
  bool ParseFilter(Filter* f);
  bool ParseLiteral(Literal* lit, Pos* pos);
  bool ParseLiteralList(std::vector<Literal>* values, std::vector<Pos>* positions);
  bool ParseOptionalWindow(const Token& fn, Window* w);
  bool ParseWindow(Window* w);
  bool ParseName(const std::string& what, std::string* out, Pos* pos);

  Lexer lexer_;
  std::deque<Token> ahead_;
  Diagnostic lex_error_;  // set by the lexer when it returns kError
  Diagnostic error_;
  bool failed_ = false;
};

}  // namespace segd::rules::parser_internal
