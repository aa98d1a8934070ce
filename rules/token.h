// The tokens of the rule language (SEMANTICS.md §3, "Lexical rules") and the
// lexical facts the parser and printer share with the lexer.
//
// Positions are 1-based (line, column) in the rule text; columns count
// bytes, as yaml-cpp does for the rule file around it, so a multi-byte UTF-8
// character advances the column by its length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/ast.h"

namespace segd::rules {

enum class TokenKind {
  kEnd,        // end of the rule text
  kError,      // a lexical error (see Lexer::Next)
  kName,       // event or property name; `text` is the name, `backquoted` how it was written
  kSegmentId,  // the argument of in_segment(...): [A-Za-z0-9_-]{1,64}
  kNumber,     // `number`
  kString,     // `text` is the decoded UTF-8 value
  kDate,       // YYYY-MM-DD; `day` is civil days since 1970-01-01
  kDuration,   // N followed by s, m, h or d; `n` >= 1, `unit` the letter
  // Keywords: kAnd .. kUser (the parser tests this range).
  kAnd,
  kOr,
  kNot,
  kIn,
  kTrue,
  kFalse,
  kWithin,
  kToday,
  kYesterday,
  kUser,
  // Punctuation.
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kDot,
  kDotDot,
  kArrow,
  kAt,
  // Comparison operators: kEq .. kGe (the parser tests this range).
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  Pos pos;
  size_t offset = 0;  // byte offsets of the token in the rule text: [offset, end)
  size_t end = 0;
  std::string text;         // kName, kSegmentId, kString
  bool backquoted = false;  // kName
  double number = 0;        // kNumber
  int64_t n = 0;            // kDuration
  char unit = 0;            // kDuration: 's', 'm', 'h' or 'd'
  int32_t day = 0;          // kDate
};

// The largest N of a window or duration; larger is refused by the lexer, so
// that N * (one day in ms) fits in 64 bits with room to spare.
inline constexpr int64_t kMaxDurationN = 1'000'000'000;

inline bool IsNameStartChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool IsNameChar(char c) {
  return IsNameStartChar(c) || (c >= '0' && c <= '9') || c == ':' || c == '-';
}

// The keyword token for `word`, or kName when it is not a keyword.
TokenKind KeywordKind(std::string_view word);

// True when `name` can be written without backquotes: it matches
// [A-Za-z_][A-Za-z0-9_:-]*, has no "->" and is not a keyword.
bool IsBareName(std::string_view name);

// How a token reads in an error message: "name 'visit'", "')'", "the end
// of the rule", ...
std::string Describe(const Token& tok);

// Civil days since 1970-01-01 (proleptic Gregorian) of a valid date, and
// back as YYYY-MM-DD. REQUIRES for FormatDate: a year from 0 to 9999, as the
// lexer makes them.
int32_t DayNumber(int year, int month, int day);
std::string FormatDate(int32_t day);

// The length of the valid UTF-8 sequence starting at s[i], or 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF, cut).
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace segd::rules
