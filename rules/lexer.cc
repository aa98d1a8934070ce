#include "rules/lexer.h"

#include <charconv>
#include <system_error>

namespace segd::rules {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdChar(char c) { return IsNameChar(c) && c != ':'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

}  // namespace

Pos Lexer::PosAt(size_t offset) const {
  return {line_, static_cast<int>(offset - line_start_) + 1};
}

bool Lexer::Fail(size_t at, std::string reason, Token* tok, Diagnostic* error) {
  tok->kind = TokenKind::kError;
  error->pos = PosAt(at);
  error->reason = std::move(reason);
  return false;
}

void Lexer::SkipSpace() {
  while (i_ < text_.size() && IsSpace(text_[i_])) {
    if (text_[i_] == '\n') {
      ++line_;
      line_start_ = i_ + 1;
    }
    ++i_;
  }
}

Token Lexer::Next(Diagnostic* error) {
  Token tok;
  if (done_) {
    tok.kind = done_kind_;
    tok.pos = PosAt(i_);
    tok.offset = tok.end = i_;
    return tok;
  }
  SkipSpace();
  tok.offset = i_;
  tok.pos = PosAt(i_);
  const bool want_id = expect_segment_id_;
  bool ok = true;
  if (i_ >= text_.size()) {
    tok.kind = TokenKind::kEnd;
  } else if (char c = text_[i_]; want_id && IsIdChar(c)) {
    ok = LexSegmentId(&tok, error);
  } else if (IsNameStartChar(c)) {
    ok = LexName(&tok, error);
  } else if (c == '`') {
    ok = LexBackquoted(&tok, error);
  } else if (c == '"') {
    ok = LexString(&tok, error);
  } else if (IsDigit(c) || (c == '-' && i_ + 1 < text_.size() && IsDigit(text_[i_ + 1]))) {
    ok = LexNumeric(&tok, error);
  } else {
    ok = LexPunct(&tok, error);
  }
  if (!ok) tok.kind = TokenKind::kError;
  tok.end = i_;
  if (tok.kind == TokenKind::kEnd || tok.kind == TokenKind::kError) {
    done_ = true;
    done_kind_ = tok.kind;
  }
  expect_segment_id_ = after_in_segment_ && tok.kind == TokenKind::kLParen;
  after_in_segment_ = tok.kind == TokenKind::kName && !tok.backquoted && tok.text == "in_segment";
  return tok;
}

bool Lexer::LexName(Token* tok, Diagnostic*) {
  size_t start = i_;
  // A '-' directly followed by '>' ends the name: `a->b` is two steps.
  while (i_ < text_.size() && IsNameChar(text_[i_]) &&
         !(text_[i_] == '-' && i_ + 1 < text_.size() && text_[i_ + 1] == '>')) {
    ++i_;
  }
  tok->text = std::string(text_.substr(start, i_ - start));
  tok->kind = KeywordKind(tok->text);
  if (tok->kind != TokenKind::kName) tok->text.clear();
  return true;
}

bool Lexer::LexBackquoted(Token* tok, Diagnostic* error) {
  size_t start = i_++;
  size_t from = i_;
  while (i_ < text_.size() && text_[i_] != '`' && text_[i_] != '\n') {
    size_t len = Utf8SequenceLength(text_, i_);
    if (len == 0) return Fail(i_, "invalid UTF-8 in a backquoted name", tok, error);
    i_ += len;
  }
  if (i_ >= text_.size() || text_[i_] != '`') {
    return Fail(start, "unclosed backquote: a backquoted name ends with ` on the same line", tok,
                error);
  }
  if (i_ == from) return Fail(start, "empty backquoted name ``", tok, error);
  tok->kind = TokenKind::kName;
  tok->backquoted = true;
  tok->text = std::string(text_.substr(from, i_ - from));
  ++i_;
  return true;
}

bool Lexer::LexString(Token* tok, Diagnostic* error) {
  size_t start = i_++;
  std::string out;
  for (;;) {
    if (i_ >= text_.size() || text_[i_] == '\n') {
      return Fail(start, "unterminated string: a string ends with \" on the same line", tok, error);
    }
    unsigned char c = static_cast<unsigned char>(text_[i_]);
    if (c == '"') {
      ++i_;
      break;
    }
    if (c < 0x20) {
      return Fail(i_, "control character in a string: write it as an escape, e.g. \\t or \\u0001",
                  tok, error);
    }
    if (c != '\\') {
      size_t len = Utf8SequenceLength(text_, i_);
      if (len == 0) return Fail(i_, "invalid UTF-8 in a string", tok, error);
      out.append(text_.substr(i_, len));
      i_ += len;
      continue;
    }
    size_t esc = i_;
    char e = i_ + 1 < text_.size() ? text_[i_ + 1] : '\0';
    i_ += 2;
    switch (e) {
      case '"':
        out += '"';
        continue;
      case '\\':
        out += '\\';
        continue;
      case '/':
        out += '/';
        continue;
      case 'b':
        out += '\b';
        continue;
      case 'f':
        out += '\f';
        continue;
      case 'n':
        out += '\n';
        continue;
      case 'r':
        out += '\r';
        continue;
      case 't':
        out += '\t';
        continue;
      case 'u':
        break;
      default:
        return Fail(esc,
                    "invalid escape in a string (JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r "
                    "\\t \\uXXXX)",
                    tok, error);
    }
    auto hex4 = [&](size_t at) -> int {
      if (at + 4 > text_.size()) return -1;
      int v = 0;
      for (size_t k = at; k < at + 4; ++k) {
        int h = HexValue(text_[k]);
        if (h < 0) return -1;
        v = v * 16 + h;
      }
      return v;
    };
    int cp = hex4(i_);
    if (cp < 0) return Fail(esc, "\\u must be followed by 4 hex digits", tok, error);
    i_ += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Fail(esc, "unpaired low surrogate in a string", tok, error);
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      int low =
          i_ + 1 < text_.size() && text_[i_] == '\\' && text_[i_ + 1] == 'u' ? hex4(i_ + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        return Fail(esc, "unpaired high surrogate in a string: write the pair, e.g. \\ud83d\\ude00",
                    tok, error);
      }
      i_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(static_cast<uint32_t>(cp), &out);
  }
  tok->kind = TokenKind::kString;
  tok->text = std::move(out);
  return true;
}

// Numbers, dates, windows and durations: everything that starts with a digit
// (or '-' and a digit).
bool Lexer::LexNumeric(Token* tok, Diagnostic* error) {
  const size_t start = i_;
  const bool negative = text_[i_] == '-';
  if (negative) ++i_;
  const size_t digits = i_;
  while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
  const size_t int_end = i_;
  if (!negative && i_ + 1 < text_.size() && text_[i_] == '-' && IsDigit(text_[i_ + 1])) {
    return LexDate(start, tok, error);
  }
  bool fraction = false;
  if (i_ + 1 < text_.size() && text_[i_] == '.' && IsDigit(text_[i_ + 1])) {
    fraction = true;
    ++i_;
    while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
  }
  if (i_ < text_.size() && IsNameStartChar(text_[i_])) {
    // A unit letter directly after a whole number: a window or duration.
    char unit = text_[i_];
    bool unit_letter = unit == 's' || unit == 'm' || unit == 'h' || unit == 'd';
    bool alone = i_ + 1 >= text_.size() || !(IsNameChar(text_[i_ + 1]) && text_[i_ + 1] != '-');
    size_t word_end = i_;
    while (word_end < text_.size() && IsNameChar(text_[word_end])) ++word_end;
    std::string word(text_.substr(start, (alone ? i_ + 1 : word_end) - start));
    if (!unit_letter || !alone || fraction) {
      return Fail(start,
                  "invalid number '" + word +
                      "': numbers are written like 12 or -3.5, windows and durations like 7d, "
                      "24h, 30m or 10s",
                  tok, error);
    }
    if (negative) {
      return Fail(start, "'" + word + "' is negative: N in a window or duration is at least 1", tok,
                  error);
    }
    int64_t n = 0;
    for (size_t k = digits; k < int_end; ++k) {
      n = n * 10 + (text_[k] - '0');
      if (n > kMaxDurationN) {
        return Fail(start, "'" + word + "' is too large: N is at most 1000000000", tok, error);
      }
    }
    if (n == 0) {
      return Fail(start, "'" + word + "' is empty: N in a window or duration is at least 1", tok,
                  error);
    }
    ++i_;
    tok->kind = TokenKind::kDuration;
    tok->n = n;
    tok->unit = unit;
    tok->text = std::move(word);
    return true;
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(text_.data() + start, text_.data() + i_, v);
  if (ec == std::errc::result_out_of_range) {
    // Underflow rounds to zero; overflow is refused.
    bool integer_zero =
        text_.substr(digits, int_end - digits).find_first_not_of('0') == std::string_view::npos;
    if (!integer_zero) {
      return Fail(start, "number is too large (larger than the largest double)", tok, error);
    }
    v = negative ? -0.0 : 0.0;
  } else if (ec != std::errc() || ptr != text_.data() + i_) {
    return Fail(start, "invalid number", tok, error);
  }
  tok->kind = TokenKind::kNumber;
  tok->number = v;
  tok->text = std::string(text_.substr(start, i_ - start));
  return true;
}

bool Lexer::LexDate(size_t start, Token* tok, Diagnostic* error) {
  // The whole run of digits and '-' is the date as written.
  i_ = start;
  while (i_ < text_.size() && (IsDigit(text_[i_]) || text_[i_] == '-') &&
         !(text_[i_] == '-' && i_ + 1 < text_.size() && text_[i_ + 1] == '>')) {
    ++i_;
  }
  std::string_view d = text_.substr(start, i_ - start);
  bool shape = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (size_t k = 0; shape && k < d.size(); ++k) {
    if (k != 4 && k != 7 && !IsDigit(d[k])) shape = false;
  }
  if (!shape || (i_ < text_.size() && IsNameChar(text_[i_]))) {
    while (i_ < text_.size() && IsNameChar(text_[i_])) ++i_;
    return Fail(start,
                "invalid date '" + std::string(text_.substr(start, i_ - start)) +
                    "': dates are written YYYY-MM-DD, e.g. 2017-01-31",
                tok, error);
  }
  int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  int month = (d[5] - '0') * 10 + (d[6] - '0');
  int day = (d[8] - '0') * 10 + (d[9] - '0');
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return Fail(start, std::string(d) + " is not a calendar date", tok, error);
  }
  tok->kind = TokenKind::kDate;
  tok->day = DayNumber(year, month, day);
  tok->text = std::string(d);
  return true;
}

bool Lexer::LexSegmentId(Token* tok, Diagnostic* error) {
  size_t start = i_;
  while (i_ < text_.size() && IsIdChar(text_[i_])) ++i_;
  if (i_ - start > 64) {
    return Fail(start, "segment id is longer than 64 characters", tok, error);
  }
  tok->kind = TokenKind::kSegmentId;
  tok->text = std::string(text_.substr(start, i_ - start));
  return true;
}

bool Lexer::LexPunct(Token* tok, Diagnostic* error) {
  const char c = text_[i_];
  const char next = i_ + 1 < text_.size() ? text_[i_ + 1] : '\0';
  auto one = [&](TokenKind k) {
    tok->kind = k;
    i_ += 1;
    return true;
  };
  auto two = [&](TokenKind k) {
    tok->kind = k;
    i_ += 2;
    return true;
  };
  switch (c) {
    case '(':
      return one(TokenKind::kLParen);
    case ')':
      return one(TokenKind::kRParen);
    case '[':
      return one(TokenKind::kLBracket);
    case ']':
      return one(TokenKind::kRBracket);
    case '{':
      return one(TokenKind::kLBrace);
    case '}':
      return one(TokenKind::kRBrace);
    case ',':
      return one(TokenKind::kComma);
    case '@':
      return one(TokenKind::kAt);
    case '.':
      return next == '.' ? two(TokenKind::kDotDot) : one(TokenKind::kDot);
    case '-':
      if (next == '>') return two(TokenKind::kArrow);
      return Fail(i_,
                  "unexpected '-': write a negative number without a space (-5) or a step "
                  "arrow as ->",
                  tok, error);
    case '=':
      if (next == '=') return Fail(i_, "use = to compare, not ==", tok, error);
      return one(TokenKind::kEq);
    case '!':
      if (next == '=') return two(TokenKind::kNe);
      return Fail(i_, "use not to negate, e.g. not did(visit)", tok, error);
    case '<':
      if (next == '>') return Fail(i_, "use != for 'not equal'", tok, error);
      return next == '=' ? two(TokenKind::kLe) : one(TokenKind::kLt);
    case '>':
      return next == '=' ? two(TokenKind::kGe) : one(TokenKind::kGt);
    case '&':
      return Fail(i_, "use and to combine conditions", tok, error);
    case '|':
      return Fail(i_, "use or to combine conditions", tok, error);
    case '\'':
      return Fail(i_, "strings are written in double quotes: \"A\"", tok, error);
    default:
      break;
  }
  unsigned char u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7F) {
    return Fail(i_, "unexpected control character", tok, error);
  }
  std::string shown(1, c);
  if (u >= 0x80) {
    size_t len = Utf8SequenceLength(text_, i_);
    if (len == 0) return Fail(i_, "invalid UTF-8", tok, error);
    shown = std::string(text_.substr(i_, len));
  }
  return Fail(i_,
              "unexpected character '" + shown +
                  "' (a name with other characters is written in backquotes, e.g. `$city`)",
              tok, error);
}

}  // namespace segd::rules
