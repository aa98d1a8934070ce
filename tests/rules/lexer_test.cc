// The lexical rules of SEMANTICS.md §3, one test per rule.
#include "rules/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace segd::rules {
namespace {

using ::testing::HasSubstr;
using K = TokenKind;

// Every token of `text` up to and including kEnd (or kError).
std::vector<Token> Lex(std::string_view text, Diagnostic* error = nullptr) {
  Lexer lexer(text);
  Diagnostic unused;
  std::vector<Token> out;
  for (;;) {
    out.push_back(lexer.Next(error ? error : &unused));
    if (out.back().kind == K::kEnd || out.back().kind == K::kError) return out;
  }
}

std::vector<K> Kinds(std::string_view text) {
  std::vector<K> kinds;
  for (const Token& t : Lex(text)) kinds.push_back(t.kind);
  return kinds;
}

// The error of a text that must not lex.
Diagnostic LexError(std::string_view text) {
  Diagnostic error;
  auto tokens = Lex(text, &error);
  EXPECT_EQ(tokens.back().kind, K::kError) << text;
  return error;
}

TEST(LexerTest, NamesTakeLettersDigitsUnderscoreColonAndDash) {
  auto t = Lex("a_b:c-d9 _x");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, K::kName);
  EXPECT_EQ(t[0].text, "a_b:c-d9");
  EXPECT_FALSE(t[0].backquoted);
  EXPECT_EQ(t[1].text, "_x");
}

TEST(LexerTest, DashBeforeGreaterEndsAName) {
  EXPECT_EQ(Kinds("a->b"), (std::vector<K>{K::kName, K::kArrow, K::kName, K::kEnd}));
  auto t = Lex("a-->b");
  EXPECT_EQ(t[0].text, "a-");
  EXPECT_EQ(t[1].kind, K::kArrow);
  EXPECT_EQ(t[2].text, "b");
}

TEST(LexerTest, BackquotedNamesHoldAnythingButBackquoteAndNewline) {
  auto t = Lex("`Order Completed` `浏览` `and` `$city.x`");
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].text, "Order Completed");
  EXPECT_TRUE(t[0].backquoted);
  EXPECT_EQ(t[1].text, "浏览");
  EXPECT_EQ(t[2].kind, K::kName);  // a backquoted keyword is a name
  EXPECT_EQ(t[2].text, "and");
  EXPECT_EQ(t[3].text, "$city.x");
  EXPECT_THAT(LexError("``").reason, HasSubstr("empty"));
  Diagnostic e = LexError("x `ab\ncd`");
  EXPECT_EQ(e.pos.column, 3);
  EXPECT_THAT(e.reason, HasSubstr("unclosed backquote"));
  EXPECT_THAT(LexError("`a\xff`").reason, HasSubstr("UTF-8"));
}

TEST(LexerTest, KeywordsAreNeverBareNames) {
  EXPECT_EQ(Kinds("and or not in true false within today yesterday user"),
            (std::vector<K>{K::kAnd, K::kOr, K::kNot, K::kIn, K::kTrue, K::kFalse, K::kWithin,
                            K::kToday, K::kYesterday, K::kUser, K::kEnd}));
  // Keywords are case-sensitive, and a longer name is not a keyword.
  EXPECT_EQ(Kinds("AND android users"), (std::vector<K>{K::kName, K::kName, K::kName, K::kEnd}));
  EXPECT_FALSE(IsBareName("in"));
  EXPECT_FALSE(IsBareName("a->b"));
  EXPECT_FALSE(IsBareName("9a"));
  EXPECT_TRUE(IsBareName("a-"));
  EXPECT_TRUE(IsBareName("count"));
}

TEST(LexerTest, Numbers) {
  auto t = Lex("12 -3.5 0.1 007 -0");
  EXPECT_EQ(t[0].number, 12);
  EXPECT_EQ(t[1].number, -3.5);
  EXPECT_EQ(t[2].number, 0.1);
  EXPECT_EQ(t[3].number, 7);
  EXPECT_TRUE(std::signbit(t[4].number));
  // "1." is the number 1 and a '.'; exponents are not numbers.
  EXPECT_EQ(Kinds("1."), (std::vector<K>{K::kNumber, K::kDot, K::kEnd}));
  EXPECT_THAT(LexError("1e5").reason, HasSubstr("invalid number '1e5'"));
  EXPECT_THAT(LexError(std::string("1") + std::string(400, '0')).reason, HasSubstr("too large"));
  auto tiny = Lex("0." + std::string(400, '0') + "1");
  EXPECT_EQ(tiny[0].kind, K::kNumber);
  EXPECT_EQ(tiny[0].number, 0);
}

TEST(LexerTest, StringsFollowJson) {
  auto t = Lex(R"("a\"b\\c\/d\b\f\n\r\t" "\u00e9\ud83d\ude00" "浏览" "")");
  EXPECT_EQ(t[0].kind, K::kString);
  EXPECT_EQ(t[0].text, "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(t[1].text, "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(t[2].text, "浏览");
  EXPECT_EQ(t[3].text, "");
  Diagnostic e = LexError(R"(x = "ab\x")");
  EXPECT_EQ(e.pos.column, 8);
  EXPECT_THAT(e.reason, HasSubstr("invalid escape"));
  EXPECT_THAT(LexError("\"a\tb\"").reason, HasSubstr("control character"));
  EXPECT_THAT(LexError("\"abc").reason, HasSubstr("unterminated string"));
  EXPECT_THAT(LexError("\"ab\ncd\"").reason, HasSubstr("unterminated string"));
  EXPECT_THAT(LexError(R"("\ud83d")").reason, HasSubstr("unpaired high surrogate"));
  EXPECT_THAT(LexError(R"("\ude00")").reason, HasSubstr("unpaired low surrogate"));
  EXPECT_THAT(LexError(R"("\u12g4")").reason, HasSubstr("4 hex digits"));
  EXPECT_THAT(LexError("\"\xc0\xaf\"").reason, HasSubstr("UTF-8"));
}

TEST(LexerTest, DatesAreValidatedCalendarDates) {
  auto t = Lex("2017-01-01..2017-01-31 2016-02-29 1970-01-01");
  EXPECT_EQ(t[0].kind, K::kDate);
  EXPECT_EQ(t[0].day, 17167);
  EXPECT_EQ(t[1].kind, K::kDotDot);
  EXPECT_EQ(t[2].day, 17197);
  EXPECT_EQ(t[3].kind, K::kDate);
  EXPECT_EQ(t[4].day, 0);
  EXPECT_EQ(FormatDate(17167), "2017-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_THAT(LexError("2017-02-29").reason, HasSubstr("not a calendar date"));
  EXPECT_THAT(LexError("2017-13-01").reason, HasSubstr("not a calendar date"));
  EXPECT_THAT(LexError("2017-1-1").reason, HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(LexError("2017-01-01x").reason, HasSubstr("YYYY-MM-DD"));
}

TEST(LexerTest, WindowsAndDurationsArePositiveWithAUnit) {
  auto t = Lex("7d 24h 30m 10s");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t[i].kind, K::kDuration);
  EXPECT_EQ(t[0].n, 7);
  EXPECT_EQ(t[0].unit, 'd');
  EXPECT_EQ(t[1].unit, 'h');
  EXPECT_EQ(t[2].unit, 'm');
  EXPECT_EQ(t[3].n, 10);
  EXPECT_EQ(t[3].unit, 's');
  for (const char* zero : {"0d", "0h", "0s", "00m"}) {
    EXPECT_THAT(LexError(zero).reason, HasSubstr("at least 1")) << zero;
  }
  EXPECT_THAT(LexError("-7d").reason, HasSubstr("negative"));
  EXPECT_THAT(LexError("7days").reason, HasSubstr("invalid number '7days'"));
  EXPECT_THAT(LexError("1.5d").reason, HasSubstr("invalid number"));
  EXPECT_THAT(LexError("7w").reason, HasSubstr("invalid number"));
  EXPECT_THAT(LexError("99999999999d").reason, HasSubstr("too large"));
}

TEST(LexerTest, PunctuationAndOperators) {
  EXPECT_EQ(Kinds("( ) [ ] { } , . .. -> @ = != < <= > >="),
            (std::vector<K>{K::kLParen, K::kRParen, K::kLBracket, K::kRBracket, K::kLBrace,
                            K::kRBrace, K::kComma, K::kDot, K::kDotDot, K::kArrow, K::kAt, K::kEq,
                            K::kNe, K::kLt, K::kLe, K::kGt, K::kGe, K::kEnd}));
  // No whitespace is needed between tokens that cannot merge.
  EXPECT_EQ(Kinds("a>=-1"), (std::vector<K>{K::kName, K::kGe, K::kNumber, K::kEnd}));
}

TEST(LexerTest, MistakesGetAHint) {
  EXPECT_THAT(LexError("a == 1").reason, HasSubstr("use = to compare"));
  EXPECT_THAT(LexError("!did(x)").reason, HasSubstr("use not"));
  EXPECT_THAT(LexError("a && b").reason, HasSubstr("use and"));
  EXPECT_THAT(LexError("a || b").reason, HasSubstr("use or"));
  EXPECT_THAT(LexError("a <> 1").reason, HasSubstr("!="));
  EXPECT_THAT(LexError("'A'").reason, HasSubstr("double quotes"));
  EXPECT_THAT(LexError("user.$city").reason, HasSubstr("backquotes"));
  EXPECT_THAT(LexError("- 5").reason, HasSubstr("negative number"));
  EXPECT_THAT(LexError("\x01").reason, HasSubstr("control character"));
}

TEST(LexerTest, WhitespaceAndNewlinesSeparateTokensAndPositionsCountBytes) {
  auto t = Lex("did(\n  `浏览`,\r\n\t7d )");
  EXPECT_EQ(t[0].pos.line, 1);
  EXPECT_EQ(t[0].pos.column, 1);
  EXPECT_EQ(t[2].pos.line, 2);
  EXPECT_EQ(t[2].pos.column, 3);
  EXPECT_EQ(t[3].pos.column, 11);  // 浏览 is 6 bytes
  EXPECT_EQ(t[4].pos.line, 3);
  EXPECT_EQ(t[4].pos.column, 2);
  EXPECT_EQ(t[5].pos.column, 5);
  EXPECT_EQ(t[4].offset, 19u);
  EXPECT_EQ(t[4].end, 21u);
}

TEST(LexerTest, InSegmentTakesASegmentId) {
  auto t = Lex("in_segment(2024) in_segment ( a-b_9 ) in_segment(-x)");
  EXPECT_EQ(t[2].kind, K::kSegmentId);
  EXPECT_EQ(t[2].text, "2024");
  EXPECT_EQ(t[6].kind, K::kSegmentId);
  EXPECT_EQ(t[6].text, "a-b_9");
  EXPECT_EQ(t[10].text, "-x");
  // Elsewhere, and after a backquoted in_segment, 2024 is a number.
  EXPECT_EQ(Kinds("did(2024)")[2], K::kNumber);
  EXPECT_EQ(Kinds("`in_segment`(2024)")[2], K::kNumber);
  // Something that cannot be an id is lexed as usual, for the parser to refuse.
  EXPECT_EQ(Kinds("in_segment(\"a\")")[2], K::kString);
  EXPECT_THAT(LexError("in_segment(" + std::string(65, 'a') + ")").reason,
              HasSubstr("longer than 64"));
}

TEST(LexerTest, AfterTheEndOrAnErrorTheKindRepeats) {
  Lexer lexer("x");
  Diagnostic e;
  EXPECT_EQ(lexer.Next(&e).kind, K::kName);
  EXPECT_EQ(lexer.Next(&e).kind, K::kEnd);
  EXPECT_EQ(lexer.Next(&e).kind, K::kEnd);
  Lexer bad("$ x");
  EXPECT_EQ(bad.Next(&e).kind, K::kError);
  EXPECT_EQ(bad.Next(&e).kind, K::kError);
}

}  // namespace
}  // namespace segd::rules
