// The lexer of the rule language (SEMANTICS.md §3, "Lexical rules"); the
// tokens are in rules/token.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rules/ast.h"
#include "rules/token.h"

namespace segd::rules {

// Hands out the tokens of one rule text, in order, on demand.
//
// The argument of `in_segment(` is lexed as a segment id (so `2024` and
// `a-b` are ids there): the lexer recognizes an unquoted name `in_segment`
// followed by `(` itself, which is also how the parser recognizes the call.
class Lexer {
 public:
  // REQUIRES: `text` outlives the lexer.
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token. On a lexical error returns a kError token and sets
  // *error (position and reason); after kEnd or kError it keeps returning
  // the same kind.
  Token Next(Diagnostic* error);

 private:
  bool Fail(size_t at, std::string reason, Token* tok, Diagnostic* error);
  Pos PosAt(size_t offset) const;
  void SkipSpace();
  bool LexName(Token* tok, Diagnostic* error);
  bool LexBackquoted(Token* tok, Diagnostic* error);
  bool LexString(Token* tok, Diagnostic* error);
  bool LexNumeric(Token* tok, Diagnostic* error);
  bool LexDate(size_t start, Token* tok, Diagnostic* error);
  bool LexSegmentId(Token* tok, Diagnostic* error);
  bool LexPunct(Token* tok, Diagnostic* error);

  std::string_view text_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  bool done_ = false;  // kEnd or kError was returned
  TokenKind done_kind_ = TokenKind::kEnd;
  bool after_in_segment_ = false;   // the last token was the unquoted name in_segment
  bool expect_segment_id_ = false;  // the last two tokens were `in_segment (`
};

}  // namespace segd::rules
