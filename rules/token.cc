#include "rules/token.h"

#include <fmt/format.h>

#include <utility>

namespace segd::rules {

namespace {

// The spelling of keyword and punctuation tokens, for messages.
const char* Spelling(TokenKind kind) {
  static constexpr std::pair<TokenKind, const char*> kSpellings[] = {
      {TokenKind::kAnd, "and"},
      {TokenKind::kOr, "or"},
      {TokenKind::kNot, "not"},
      {TokenKind::kIn, "in"},
      {TokenKind::kTrue, "true"},
      {TokenKind::kFalse, "false"},
      {TokenKind::kWithin, "within"},
      {TokenKind::kToday, "today"},
      {TokenKind::kYesterday, "yesterday"},
      {TokenKind::kUser, "user"},
      {TokenKind::kLParen, "("},
      {TokenKind::kRParen, ")"},
      {TokenKind::kLBracket, "["},
      {TokenKind::kRBracket, "]"},
      {TokenKind::kLBrace, "{"},
      {TokenKind::kRBrace, "}"},
      {TokenKind::kComma, ","},
      {TokenKind::kDot, "."},
      {TokenKind::kDotDot, ".."},
      {TokenKind::kArrow, "->"},
      {TokenKind::kAt, "@"},
      {TokenKind::kEq, "="},
      {TokenKind::kNe, "!="},
      {TokenKind::kLt, "<"},
      {TokenKind::kLe, "<="},
      {TokenKind::kGt, ">"},
      {TokenKind::kGe, ">="},
  };
  for (const auto& [k, text] : kSpellings) {
    if (k == kind) return text;
  }
  return "";
}

// Howard Hinnant's civil_from_days (DayNumber is days_from_civil).
void CivilFromDays(int32_t days, int* year, int* month, int* day) {
  const int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = yoe + era * 400 + (*month <= 2);
}

}  // namespace

TokenKind KeywordKind(std::string_view word) {
  static constexpr TokenKind kKeywords[] = {
      TokenKind::kAnd,       TokenKind::kOr,    TokenKind::kNot,    TokenKind::kIn,
      TokenKind::kTrue,      TokenKind::kFalse, TokenKind::kWithin, TokenKind::kToday,
      TokenKind::kYesterday, TokenKind::kUser};
  for (TokenKind k : kKeywords) {
    if (word == Spelling(k)) return k;
  }
  return TokenKind::kName;
}

bool IsBareName(std::string_view name) {
  if (name.empty() || !IsNameStartChar(name[0])) return false;
  for (size_t i = 1; i < name.size(); ++i) {
    if (!IsNameChar(name[i])) return false;
    if (name[i] == '-' && i + 1 < name.size() && name[i + 1] == '>') return false;
  }
  return KeywordKind(name) == TokenKind::kName;
}

std::string Describe(const Token& tok) {
  switch (tok.kind) {
    case TokenKind::kEnd:
      return "the end of the rule";
    case TokenKind::kError:
      return "an invalid token";
    case TokenKind::kName:
      return tok.backquoted ? "name `" + tok.text + "`" : "name '" + tok.text + "'";
    case TokenKind::kSegmentId:
      return "segment id '" + tok.text + "'";
    case TokenKind::kNumber:
      return "number " + tok.text;
    case TokenKind::kString:
      return "a string";
    case TokenKind::kDate:
      return "date " + tok.text;
    case TokenKind::kDuration:
      return "'" + tok.text + "'";
    case TokenKind::kAnd:
    case TokenKind::kOr:
    case TokenKind::kNot:
    case TokenKind::kIn:
    case TokenKind::kTrue:
    case TokenKind::kFalse:
    case TokenKind::kWithin:
    case TokenKind::kToday:
    case TokenKind::kYesterday:
    case TokenKind::kUser:
      return std::string("keyword '") + Spelling(tok.kind) + "'";
    default:
      return std::string("'") + Spelling(tok.kind) + "'";
  }
}

int32_t DayNumber(int year, int month, int day) {
  const int y = year - (month <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string FormatDate(int32_t day) {
  int y = 0, m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace segd::rules
