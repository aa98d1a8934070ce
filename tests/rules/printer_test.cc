// The canonical printer: ToString(ParseRule(x)) and the round trip
// ParseRule(ToString(e)) printing the same text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "rules/parser.h"

namespace segd::rules {
namespace {

std::string Canonical(std::string_view text) {
  std::vector<Diagnostic> errors;
  auto rule = ParseRule(text, &errors);
  EXPECT_TRUE(rule.ok()) << text << ": " << rule.status().ToString();
  return rule.ok() ? ToString(**rule) : "";
}

// The canonical text re-parses to a tree that prints the same.
void ExpectRoundTrip(std::string_view text) {
  std::string once = Canonical(text);
  EXPECT_EQ(Canonical(once), once) << "from " << text;
}

TEST(PrinterTest, CanonicalForm) {
  EXPECT_EQ(Canonical("active_days( visit ,30d )>=15 and not did(visit,7d)"),
            "active_days(visit, 30d) >= 15 and not did(visit, 7d)");
  EXPECT_EQ(Canonical("(did(coupon_claim{coupon=\"A\"}, 30d) or did(coupon_claim{coupon=\"B\"}, "
                      "30d)) and not did(coupon_use, 30d)"),
            "(did(coupon_claim{coupon = \"A\"}, 30d) or did(coupon_claim{coupon = \"B\"}, 30d)) "
            "and not did(coupon_use, 30d)");
  EXPECT_EQ(Canonical("dropped(a->b->c,within 30m,1d)"), "dropped(a -> b -> c, within 30m, 1d)");
  EXPECT_EQ(Canonical("did(register, 2017-01-01..2017-01-31)"),
            "did(register, 2017-01-01..2017-01-31)");
  EXPECT_EQ(Canonical("did(x, 0000-02-29..9999-12-31)"), "did(x, 0000-02-29..9999-12-31)");
  EXPECT_EQ(Canonical("sum(p{c in [\"a\",1,true]}.amount)>=3000.50"),
            "sum(p{c in [\"a\", 1, true]}.amount) >= 3000.5");
  EXPECT_EQ(Canonical("user.x@yesterday<3 or in_segment(2024) or in_list(\"l\")"),
            "user.x@yesterday < 3 or in_segment(2024) or in_list(\"l\")");
  EXPECT_EQ(Canonical("days_since(x) in [1, 2]"), "days_since(x) in [1, 2]");
  EXPECT_EQ(Canonical("count(x, today) > 0 and count(x, yesterday) > 0 and count(x, 24h) > 0"),
            "count(x, today) > 0 and count(x, yesterday) > 0 and count(x, 24h) > 0");
}

TEST(PrinterTest, MinimalParentheses) {
  EXPECT_EQ(Canonical("((did(a)) or (did(b) and (did(c))))"), "did(a) or did(b) and did(c)");
  EXPECT_EQ(Canonical("(did(a) or did(b)) and did(c)"), "(did(a) or did(b)) and did(c)");
  EXPECT_EQ(Canonical("not (did(a) and did(b))"), "not (did(a) and did(b))");
  EXPECT_EQ(Canonical("not (count(a) > 1)"), "not count(a) > 1");
  EXPECT_EQ(Canonical("not (not did(a))"), "not not did(a)");
  EXPECT_EQ(Canonical("(did(a) or did(b)) or did(c)"), "did(a) or did(b) or did(c)");
}

TEST(PrinterTest, NamesAreBackquotedWhenTheyMustBe) {
  EXPECT_EQ(Canonical("did(`Order Completed`) and did(`visit`) and did(`in`) and did(`a->b`)"),
            "did(`Order Completed`) and did(visit) and did(`in`) and did(`a->b`)");
  EXPECT_EQ(Canonical("user.`$city` = \"x\" and user.`user` = 1 and count(`浏览`) > 0"),
            "user.`$city` = \"x\" and user.`user` = 1 and count(`浏览`) > 0");
  // A name ending in '-' stays bare: operators are printed with spaces.
  EXPECT_EQ(Canonical("dropped(a- -> b, within 1m) and user.p- > 1 and did(e{q- > 1})"),
            "dropped(a- -> b, within 1m) and user.p- > 1 and did(e{q- > 1})");
  EXPECT_EQ(Canonical("did(count) and did(in_segment)"), "did(count) and did(in_segment)");
}

TEST(PrinterTest, NumbersReadBackAsTheSameDouble) {
  EXPECT_EQ(Canonical("user.a = 100000000000000000000"), "user.a = 100000000000000000000");
  EXPECT_EQ(Canonical("user.a = 0.00000015"), "user.a = 0.00000015");
  EXPECT_EQ(Canonical("user.a = 0.30000000000000004"), "user.a = 0.30000000000000004");
  EXPECT_EQ(Canonical("user.a = -0"), "user.a = -0");
  EXPECT_EQ(Canonical("user.a = 007.50"), "user.a = 7.5");
  EXPECT_EQ(Canonical("user.a = 123456789012345678"), "user.a = 123456789012345680");
  Value v;
  for (double d : {std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::min(), 1e-7, 1.5e300, -2.5e-10}) {
    v.literal = d;
    std::string text = "user.a = " + ToString(v);
    std::vector<Diagnostic> errors;
    auto rule = ParseRule(text, &errors);
    ASSERT_TRUE(rule.ok()) << text;
    EXPECT_EQ(std::get<double>((*rule)->rhs.literal), d) << text;
  }
}

TEST(PrinterTest, StringsAreJsonEscaped) {
  EXPECT_EQ(Canonical(R"(user.a = "q\"b\\s\/\b\f\n\r\t\u0001\u00e9\ud83d\ude00")"),
            "user.a = \"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001é😀\"");
  EXPECT_EQ(Canonical(R"(in_list("a\"b"))"), R"(in_list("a\"b"))");
}

TEST(PrinterTest, WithinUsesTheLargestExactUnit) {
  EXPECT_EQ(Canonical("dropped(a -> b, within 60m)"), "dropped(a -> b, within 1h)");
  EXPECT_EQ(Canonical("dropped(a -> b, within 48h)"), "dropped(a -> b, within 2d)");
  EXPECT_EQ(Canonical("dropped(a -> b, within 90s)"), "dropped(a -> b, within 90s)");
  EXPECT_EQ(Canonical("dropped(a -> b, within 120s)"), "dropped(a -> b, within 2m)");
}

TEST(PrinterTest, RoundTrips) {
  for (const char* rule : {
           "did(a) or did(b) and not (did(c) or did(d))",
           "not (not did(a) and (did(b) or not did(c)))",
           "user.`a b`@yesterday in [\"x\", -1.25, false] and 1 = 1",
           "count(`e`{`p q` != \"\\u0000\", r in [1, 2]}, 2017-02-28..2017-03-01) >= -0.5",
           "dropped(a{x = 1} -> `b c` -> d, within 1000000000d, 24h)",
           "sum(s.`sum`, 1000000000h) > 0.1 and days_since(`days_since`) >= 0",
           "in_segment(-) and in_segment(0123) and in_list(\"浏览\")",
       }) {
    ExpectRoundTrip(rule);
  }
}

}  // namespace
}  // namespace segd::rules
