// The grammar of SEMANTICS.md §3: one test per construct (tree shape and
// fields), per syntax error class (position and reason), and the canonical
// printer.
#include "rules/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace segd::rules {
namespace {

using ::testing::HasSubstr;
using EK = Expr::Kind;
using VK = Value::Kind;
using WK = Window::Kind;

ExprPtr Parse(std::string_view text) {
  std::vector<Diagnostic> errors;
  auto rule = ParseRule(text, &errors);
  EXPECT_TRUE(rule.ok()) << text << ": " << rule.status().ToString();
  EXPECT_TRUE(errors.empty());
  if (!rule.ok()) return std::make_unique<Expr>();
  return std::move(rule).value();
}

Diagnostic ParseError(std::string_view text) {
  std::vector<Diagnostic> errors;
  auto rule = ParseRule(text, &errors);
  EXPECT_FALSE(rule.ok()) << text << " parsed as " << (rule.ok() ? ToString(**rule) : "");
  EXPECT_EQ(errors.size(), 1u) << text;
  if (errors.empty()) return {};
  EXPECT_EQ(rule.status().message(), std::to_string(errors[0].pos.line) + ":" +
                                         std::to_string(errors[0].pos.column) + ": " +
                                         errors[0].reason);
  return errors[0];
}

#define EXPECT_POS(p, l, c)   \
  do {                        \
    EXPECT_EQ((p).line, l);   \
    EXPECT_EQ((p).column, c); \
  } while (0)

TEST(ParserTest, Comparison) {
  auto e = Parse("count(visit, 7d) >= 3");
  EXPECT_EQ(e->kind, EK::kCompare);
  EXPECT_EQ(e->op, CmpOp::kGe);
  EXPECT_EQ(e->lhs.kind, VK::kAggregate);
  EXPECT_EQ(e->lhs.agg, AggKind::kCount);
  EXPECT_EQ(e->lhs.selector.event, "visit");
  EXPECT_EQ(e->lhs.window.kind, WK::kDays);
  EXPECT_EQ(e->lhs.window.n, 7);
  EXPECT_POS(e->lhs.window.pos, 1, 14);
  EXPECT_EQ(e->rhs.kind, VK::kLiteral);
  EXPECT_EQ(std::get<double>(e->rhs.literal), 3);
  EXPECT_POS(e->rhs.pos, 1, 21);
  const std::pair<const char*, CmpOp> ops[] = {{"=", CmpOp::kEq}, {"!=", CmpOp::kNe},
                                               {"<", CmpOp::kLt}, {"<=", CmpOp::kLe},
                                               {">", CmpOp::kGt}, {">=", CmpOp::kGe}};
  for (const auto& [text, op] : ops) {
    EXPECT_EQ(Parse(std::string("user.a ") + text + " 1")->op, op) << text;
  }
  // Any value on either side, literals included.
  auto f = Parse("3 < count(x)");
  EXPECT_EQ(f->lhs.kind, VK::kLiteral);
  EXPECT_EQ(f->rhs.kind, VK::kAggregate);
}

TEST(ParserTest, InList) {
  auto e = Parse("user.city in [\"a\", 2, true]");
  EXPECT_EQ(e->kind, EK::kIn);
  EXPECT_EQ(e->lhs.kind, VK::kUserProp);
  ASSERT_EQ(e->in_values.size(), 3u);
  EXPECT_EQ(std::get<std::string>(e->in_values[0]), "a");
  EXPECT_EQ(std::get<double>(e->in_values[1]), 2);
  EXPECT_EQ(std::get<bool>(e->in_values[2]), true);
  ASSERT_EQ(e->in_positions.size(), 3u);
  EXPECT_POS(e->in_positions[1], 1, 20);
}

TEST(ParserTest, Aggregates) {
  auto a = Parse("active_days(visit, 30d) >= 15");
  EXPECT_EQ(a->lhs.agg, AggKind::kActiveDays);
  EXPECT_EQ(a->lhs.window.n, 30);
  auto s = Parse("sum(purchase{channel=\"app\"}.amount, 365d) >= 3000");
  EXPECT_EQ(s->lhs.agg, AggKind::kSum);
  EXPECT_EQ(s->lhs.selector.event, "purchase");
  ASSERT_EQ(s->lhs.selector.filters.size(), 1u);
  EXPECT_EQ(s->lhs.prop, "amount");
  EXPECT_EQ(s->lhs.window.n, 365);
  auto all = Parse("count(x) > 0");
  EXPECT_EQ(all->lhs.window.kind, WK::kAllTime);
  auto d = Parse("days_since(purchase) <= 30");
  EXPECT_EQ(d->lhs.kind, VK::kDaysSince);
  EXPECT_EQ(d->lhs.selector.event, "purchase");
}

TEST(ParserTest, UserProperties) {
  auto e = Parse("user.contact_count@yesterday < 3");
  EXPECT_EQ(e->lhs.kind, VK::kUserProp);
  EXPECT_EQ(e->lhs.prop, "contact_count");
  EXPECT_TRUE(e->lhs.at_yesterday);
  auto q = Parse("user.`$city` = \"Paris\" and user . `in` @ yesterday = 1");
  EXPECT_EQ(q->children[0]->lhs.prop, "$city");
  EXPECT_FALSE(q->children[0]->lhs.at_yesterday);
  EXPECT_EQ(q->children[1]->lhs.prop, "in");
  EXPECT_TRUE(q->children[1]->lhs.at_yesterday);
}

TEST(ParserTest, DidWithEveryWindow) {
  struct Case {
    const char* rule;
    WK kind;
    int n;
  } cases[] = {{"did(x)", WK::kAllTime, 0},
               {"did(x, 7d)", WK::kDays, 7},
               {"did(x, 24h)", WK::kHours, 24},
               {"did(x, today)", WK::kToday, 0},
               {"did(x, yesterday)", WK::kYesterday, 0}};
  for (const Case& c : cases) {
    auto e = Parse(c.rule);
    EXPECT_EQ(e->kind, EK::kDid) << c.rule;
    EXPECT_EQ(e->selector.event, "x");
    EXPECT_EQ(e->window.kind, c.kind) << c.rule;
    EXPECT_EQ(e->window.n, c.n) << c.rule;
  }
  auto r = Parse("did(register, 2017-01-01..2017-01-31)");
  EXPECT_EQ(r->window.kind, WK::kDateRange);
  EXPECT_EQ(r->window.first_day, 17167);
  EXPECT_EQ(r->window.last_day, 17197);
  EXPECT_POS(r->window.pos, 1, 15);
  EXPECT_EQ(Parse("did(x, 2017-01-01 .. 2017-01-01)")->window.last_day, 17167);
}

TEST(ParserTest, SelectorFilters) {
  auto e = Parse("did(coupon_claim{coupon=\"A\", amount >= 10, channel in [\"app\", \"web\"]})");
  const Selector& s = e->selector;
  EXPECT_EQ(s.event, "coupon_claim");
  EXPECT_POS(s.pos, 1, 5);
  ASSERT_EQ(s.filters.size(), 3u);
  EXPECT_EQ(s.filters[0].prop, "coupon");
  EXPECT_FALSE(s.filters[0].is_in);
  EXPECT_EQ(s.filters[0].op, CmpOp::kEq);
  EXPECT_EQ(std::get<std::string>(s.filters[0].values.at(0)), "A");
  EXPECT_EQ(s.filters[1].op, CmpOp::kGe);
  EXPECT_POS(s.filters[1].pos, 1, 30);
  EXPECT_TRUE(s.filters[2].is_in);
  EXPECT_EQ(s.filters[2].values.size(), 2u);
  auto b = Parse("did(`Order Completed`{`$os` = \"iOS\"}, 7d)");
  EXPECT_EQ(b->selector.event, "Order Completed");
  EXPECT_EQ(b->selector.filters[0].prop, "$os");
}

TEST(ParserTest, InSegmentAndInList) {
  auto s = Parse("in_segment(2024) and in_segment(lapsing_active-2)");
  EXPECT_EQ(s->children[0]->kind, EK::kInSegment);
  EXPECT_EQ(s->children[0]->name, "2024");
  EXPECT_EQ(s->children[1]->name, "lapsing_active-2");
  auto l = Parse("in_list(\"offline_x\")");
  EXPECT_EQ(l->kind, EK::kInList);
  EXPECT_EQ(l->name, "offline_x");
}

TEST(ParserTest, Dropped) {
  auto e = Parse("dropped(signup_start -> send_code{via=\"sms\"} -> signup_done, within 30m, 1d)");
  EXPECT_EQ(e->kind, EK::kDropped);
  ASSERT_EQ(e->steps.size(), 3u);
  EXPECT_EQ(e->steps[0].event, "signup_start");
  EXPECT_EQ(e->steps[1].filters.size(), 1u);
  EXPECT_EQ(e->steps[2].event, "signup_done");
  EXPECT_EQ(e->within_ms, 30 * 60'000);
  EXPECT_EQ(e->window.kind, WK::kDays);
  EXPECT_EQ(e->window.n, 1);
  auto f = Parse("dropped(a->b, within 2d)");
  EXPECT_EQ(f->steps.size(), 2u);
  EXPECT_EQ(f->within_ms, 2 * 86'400'000LL);
  EXPECT_EQ(f->window.kind, WK::kAllTime);
  EXPECT_EQ(Parse("dropped(a -> b, within 10s)")->within_ms, 10'000);
  EXPECT_EQ(Parse("dropped(a -> b, within 3h)")->within_ms, 3 * 3'600'000);
}

TEST(ParserTest, PrecedenceNotAndOr) {
  auto e = Parse("did(a) or did(b) and not did(c)");
  ASSERT_EQ(e->kind, EK::kOr);
  ASSERT_EQ(e->children.size(), 2u);
  EXPECT_EQ(e->children[0]->kind, EK::kDid);
  const Expr& conj = *e->children[1];
  ASSERT_EQ(conj.kind, EK::kAnd);
  EXPECT_EQ(conj.children[1]->kind, EK::kNot);
  EXPECT_EQ(conj.children[1]->children[0]->selector.event, "c");
  EXPECT_POS(conj.pos, 1, 11);
  // not binds tighter than and; a comparison is one operand of not.
  auto n = Parse("not did(a) and not count(b) > 1");
  ASSERT_EQ(n->kind, EK::kAnd);
  EXPECT_EQ(n->children[0]->kind, EK::kNot);
  EXPECT_EQ(n->children[1]->children[0]->kind, EK::kCompare);
  auto p = Parse("(did(a) or did(b)) and did(c)");
  ASSERT_EQ(p->kind, EK::kAnd);
  EXPECT_EQ(p->children[0]->kind, EK::kOr);
}

TEST(ParserTest, AndOrAreFlattened) {
  EXPECT_EQ(Parse("did(a) and did(b) and did(c)")->children.size(), 3u);
  EXPECT_EQ(Parse("(did(a) and did(b)) and (did(c) and did(d))")->children.size(), 4u);
  EXPECT_EQ(Parse("did(a) or (did(b) or did(c))")->children.size(), 3u);
  auto nested = Parse("did(a) or (did(b) and did(c))");
  EXPECT_EQ(nested->children.size(), 2u);
  EXPECT_EQ(Parse("((did(a)))")->kind, EK::kDid);
  EXPECT_EQ(Parse("not not did(a)")->children[0]->kind, EK::kNot);
}

TEST(ParserTest, FunctionNamesAreEventNamesOutsideCalls) {
  EXPECT_EQ(Parse("did(count)")->selector.event, "count");
  EXPECT_EQ(Parse("count(did) > 1")->lhs.selector.event, "did");
  EXPECT_EQ(Parse("did(in_segment)")->selector.event, "in_segment");
  EXPECT_EQ(Parse("sum(sum.sum) > 1")->lhs.prop, "sum");
  EXPECT_EQ(Parse("dropped(dropped -> did, within 1m)")->steps[1].event, "did");
}

TEST(ParserTest, WhitespaceAndNewlinesAnywhere) {
  auto e = Parse("  count ( visit ,\n 7d ) >=\n\t3\n");
  EXPECT_EQ(e->lhs.window.n, 7);
  EXPECT_POS(e->lhs.window.pos, 2, 2);
  EXPECT_POS(e->rhs.pos, 3, 2);
  EXPECT_POS(e->pos, 1, 3);
  auto f = Parse("did(a)\nand\nnot did(b)");
  EXPECT_POS(f->children[1]->pos, 3, 1);
  EXPECT_POS(f->children[1]->children[0]->pos, 3, 5);
}

TEST(ParserErrorTest, UnknownFunction) {
  Diagnostic e = ParseError("did(a) and cont(visit) > 1");
  EXPECT_POS(e.pos, 1, 12);
  EXPECT_THAT(e.reason, HasSubstr("unknown function 'cont' (expected count, active_days, sum, "
                                  "did, days_since, in_segment, in_list, dropped)"));
  EXPECT_THAT(ParseError("count(x) > coutn(y)").reason, HasSubstr("unknown function 'coutn'"));
}

TEST(ParserErrorTest, UnclosedCall) {
  Diagnostic e = ParseError("did(visit, 7d");
  EXPECT_POS(e.pos, 1, 14);
  EXPECT_THAT(e.reason, HasSubstr("expected ')' to close did( at 1:1"));
  EXPECT_THAT(ParseError("did(x) and\n  count(a, 7d, 3) > 1").reason,
              HasSubstr("expected ')' to close count( at 2:3, found ','"));
  Diagnostic p = ParseError("(did(a) or did(b)");
  EXPECT_THAT(p.reason, HasSubstr("expected ')' to close '(' at 1:1"));
}

TEST(ParserErrorTest, BareValueNeedsAComparison) {
  Diagnostic e = ParseError("did(a) and count(x)");
  EXPECT_POS(e.pos, 1, 12);
  EXPECT_THAT(e.reason, HasSubstr("compare it, e.g. count(x) >= 1"));
  EXPECT_THAT(ParseError("sum(p.amount, 7d)").reason, HasSubstr("sum(p.amount, 7d) >= 1"));
  EXPECT_THAT(ParseError("user.vip").reason, HasSubstr("expected a comparison"));
  EXPECT_THAT(ParseError("true").reason, HasSubstr("expected a comparison"));
}

TEST(ParserErrorTest, ChainedComparison) {
  Diagnostic e = ParseError("1 < count(x) < 5");
  EXPECT_POS(e.pos, 1, 14);
  EXPECT_THAT(e.reason, HasSubstr("cannot be chained"));
  EXPECT_THAT(ParseError("count(x) > 1 in [1]").reason, HasSubstr("cannot be chained"));
}

TEST(ParserErrorTest, TrailingTokens) {
  Diagnostic e = ParseError("did(a) did(b)");
  EXPECT_POS(e.pos, 1, 8);
  EXPECT_THAT(e.reason, HasSubstr("expected 'and' or 'or' before name 'did'"));
  EXPECT_THAT(ParseError("did(a))").reason, HasSubstr("unmatched ')'"));
  EXPECT_THAT(ParseError("did(a) , did(b)").reason, HasSubstr("unexpected ','"));
  EXPECT_THAT(ParseError("did(a) and").reason, HasSubstr("found the end of the rule"));
  EXPECT_THAT(ParseError("").reason, HasSubstr("empty"));
  EXPECT_THAT(ParseError(" \n ").reason, HasSubstr("empty"));
}

TEST(ParserErrorTest, DateRangeEndingBeforeItStarts) {
  Diagnostic e = ParseError("did(x, 2017-01-31..2017-01-01)");
  EXPECT_POS(e.pos, 1, 8);
  EXPECT_THAT(e.reason, HasSubstr("ends (2017-01-01) before it starts (2017-01-31)"));
  EXPECT_THAT(ParseError("did(x, 2017-01-31)").reason, HasSubstr("expected '..'"));
  EXPECT_THAT(ParseError("did(x, 2017-01-31..today)").reason, HasSubstr("ends the range"));
}

TEST(ParserErrorTest, WindowsAndDurations) {
  Diagnostic zero = ParseError("did(x, 0d)");
  EXPECT_POS(zero.pos, 1, 8);
  EXPECT_THAT(zero.reason, HasSubstr("at least 1"));
  EXPECT_THAT(ParseError("count(x, 0h) > 1").reason, HasSubstr("at least 1"));
  EXPECT_THAT(ParseError("dropped(a -> b, within 0s)").reason, HasSubstr("at least 1"));
  EXPECT_THAT(ParseError("did(x, 30m)").reason, HasSubstr("'30m' is not a window"));
  EXPECT_THAT(ParseError("count(x, 7) > 1").reason, HasSubstr("needs a unit: 7d"));
  EXPECT_THAT(ParseError("did(x, week)").reason, HasSubstr("expected a window"));
  EXPECT_THAT(ParseError("dropped(a -> b, within 30)").reason, HasSubstr("expected a duration"));
  EXPECT_THAT(ParseError("days_since(x, 7d) < 3").reason, HasSubstr("takes no window"));
}

TEST(ParserErrorTest, Dropped) {
  Diagnostic one = ParseError("dropped(a, within 30m)");
  EXPECT_POS(one.pos, 1, 10);
  EXPECT_THAT(one.reason, HasSubstr("at least two steps"));
  EXPECT_THAT(ParseError("dropped(a -> b, 30m)").reason, HasSubstr("', within DURATION'"));
  EXPECT_THAT(ParseError("dropped(a -> b)").reason, HasSubstr("', within DURATION'"));
  EXPECT_THAT(ParseError("dropped(a -> , within 1m)").reason, HasSubstr("expected an event name"));
}

TEST(ParserErrorTest, NamesAndLiterals) {
  Diagnostic kw = ParseError("did(in)");
  EXPECT_POS(kw.pos, 1, 5);
  EXPECT_THAT(kw.reason,
              HasSubstr("keyword 'in'; a name that is a keyword is written in backquotes"));
  EXPECT_THAT(ParseError("did(\"visit\")").reason, HasSubstr("names are written without quotes"));
  EXPECT_THAT(ParseError("visit").reason, HasSubstr("did(visit)"));
  EXPECT_THAT(ParseError("user.gender = male").reason, HasSubstr("double quotes: \"male\""));
  EXPECT_THAT(ParseError("did(x{a = b})").reason, HasSubstr("double quotes: \"b\""));
  EXPECT_THAT(ParseError("did(x{a})").reason, HasSubstr("after property 'a'"));
  EXPECT_THAT(ParseError("did(x{})").reason, HasSubstr("expected a property name"));
  EXPECT_THAT(ParseError("user.age in []").reason, HasSubstr("at least one value"));
  EXPECT_THAT(ParseError("user.age in [1,]").reason, HasSubstr("expected a literal"));
  EXPECT_THAT(ParseError("user.age in 1").reason, HasSubstr("expected '['"));
  EXPECT_THAT(ParseError("user.age@today = 1").reason, HasSubstr("expected yesterday"));
  EXPECT_THAT(ParseError("user = 1").reason, HasSubstr("'.' after user"));
  EXPECT_THAT(ParseError("sum(purchase, 7d) > 1").reason, HasSubstr("sum(purchase.amount)"));
}

TEST(ParserErrorTest, PredicatesAreNotValues) {
  Diagnostic e = ParseError("did(x) = true");
  EXPECT_POS(e.pos, 1, 8);
  EXPECT_THAT(e.reason, HasSubstr("did(...) is a condition"));
  EXPECT_THAT(ParseError("count(x) > did(y)").reason, HasSubstr("not a value"));
  EXPECT_THAT(ParseError("(did(x)) = true").reason, HasSubstr("cannot be compared"));
  EXPECT_THAT(ParseError("in_segment(\"a\")").reason, HasSubstr("without quotes"));
  EXPECT_THAT(ParseError("in_list(offline)").reason, HasSubstr("in_list(\"offline_x\")"));
  EXPECT_THAT(ParseError("in_list(\"\")").reason, HasSubstr("empty"));
}

TEST(ParserErrorTest, LexicalErrorsKeepTheirPosition) {
  Diagnostic e = ParseError("did(x) and\n  user.name = \"a\\qb\"");
  EXPECT_POS(e.pos, 2, 17);
  EXPECT_THAT(e.reason, HasSubstr("invalid escape"));
  // The first error in the text wins, even when a later token was read ahead.
  Diagnostic early = ParseError("visit $");
  EXPECT_POS(early.pos, 1, 1);
}

TEST(ParserErrorTest, NestingIsBounded) {
  std::string deep = std::string(150, '(') + "did(x)" + std::string(150, ')');
  EXPECT_THAT(ParseError(deep).reason, HasSubstr("nests too deeply"));
  std::string nots;
  for (int i = 0; i < 150; ++i) nots += "not ";
  EXPECT_THAT(ParseError(nots + "did(x)").reason, HasSubstr("nests too deeply"));
  std::string ok = std::string(90, '(') + "did(x)" + std::string(90, ')');
  EXPECT_EQ(Parse(ok)->kind, EK::kDid);
}

}  // namespace
}  // namespace segd::rules
