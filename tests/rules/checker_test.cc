// The checker: one test per error class (position and reason), the
// warning, and every rule of SCENARIOS.md parsing and checking clean.
#include "rules/checker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/parser.h"

namespace segd::rules {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};

CheckContext DefaultContext() {
  CheckContext ctx;
  ctx.earlier_segments = {"a", "2024"};
  ctx.self_id = "self";
  ctx.known_lists = {"offline_x"};
  return ctx;
}

Outcome Check(std::string_view text, const CheckContext& ctx = DefaultContext()) {
  Outcome out;
  auto rule = ParseRule(text, &out.errors);
  EXPECT_TRUE(rule.ok()) << text << ": " << rule.status().ToString();
  if (rule.ok()) CheckRule(**rule, ctx, &out.errors, &out.warnings);
  return out;
}

// The single error of `text`.
Diagnostic CheckError(std::string_view text, const CheckContext& ctx = DefaultContext()) {
  Outcome out = Check(text, ctx);
  EXPECT_EQ(out.errors.size(), 1u) << text;
  return out.errors.empty() ? Diagnostic{} : out.errors[0];
}

void ExpectClean(std::string_view text, const CheckContext& ctx = DefaultContext()) {
  Outcome out = Check(text, ctx);
  EXPECT_TRUE(out.errors.empty()) << text << ": " << out.errors[0].reason;
  EXPECT_TRUE(out.warnings.empty()) << text << ": " << out.warnings[0].reason;
}

#define EXPECT_POS(p, l, c)   \
  do {                        \
    EXPECT_EQ((p).line, l);   \
    EXPECT_EQ((p).column, c); \
  } while (0)

TEST(CheckerTest, ActiveDaysOverHoursIsAnError) {
  Diagnostic e = CheckError("did(x) and active_days(visit, 24h) >= 1");
  EXPECT_POS(e.pos, 1, 31);
  EXPECT_THAT(e.reason, HasSubstr("active_days counts calendar days"));
  EXPECT_THAT(e.reason, HasSubstr("(24h)"));
  ExpectClean(
      "active_days(visit, 7d) >= 1 and active_days(visit, today) >= 1 and "
      "active_days(visit) >= 1 and count(visit, 24h) >= 1");
}

TEST(CheckerTest, ComparingDifferentStaticTypesIsAnError) {
  Diagnostic e = CheckError("count(x) >= \"3\"");
  EXPECT_POS(e.pos, 1, 13);
  EXPECT_THAT(e.reason, HasSubstr("cannot compare count(x) (a number) with \"3\" (a string)"));
  // The literal is blamed, on whichever side it is.
  Diagnostic lhs = CheckError("true = days_since(x)");
  EXPECT_POS(lhs.pos, 1, 1);
  EXPECT_THAT(lhs.reason, HasSubstr("(a boolean)"));
  EXPECT_THAT(CheckError("sum(p.v) = false").reason, HasSubstr("a boolean"));
  EXPECT_THAT(CheckError("\"a\" < 1").reason, HasSubstr("a string"));
  EXPECT_THAT(CheckError("active_days(x) != true").reason, HasSubstr("a number"));
  ExpectClean("count(x) > days_since(y) and \"a\" < \"b\" and false < true and 1 = 1");
}

TEST(CheckerTest, UserPropertiesAreDynamicallyTyped) {
  ExpectClean(
      "user.age = \"3\" and user.age < 3 and user.vip = true and user.a = count(x) and "
      "user.a in [1, \"b\", false] and user.a = user.b");
}

TEST(CheckerTest, EachLiteralOfInIsTypeChecked) {
  Outcome out = Check("count(x) in [1, \"a\", 2, true]");
  ASSERT_EQ(out.errors.size(), 2u);
  EXPECT_POS(out.errors[0].pos, 1, 17);
  EXPECT_THAT(out.errors[0].reason, HasSubstr("\"a\" is a string but count(x) is a number"));
  EXPECT_POS(out.errors[1].pos, 1, 25);
  EXPECT_THAT(out.errors[1].reason, HasSubstr("true is a boolean"));
}

TEST(CheckerTest, InSegmentMustNameAnEarlierSegment) {
  ExpectClean("in_segment(a) and in_segment(2024)");
  Diagnostic self = CheckError("did(x) or in_segment(self)");
  EXPECT_POS(self.pos, 1, 11);
  EXPECT_THAT(self.reason, HasSubstr("refers to the segment itself"));
  Diagnostic later = CheckError("in_segment(later)");
  EXPECT_POS(later.pos, 1, 1);
  EXPECT_THAT(later.reason, HasSubstr("must be defined earlier in the rule set"));
}

TEST(CheckerTest, RelativeWindowsAreBoundedByMaxWindowDays) {
  ExpectClean("did(x, 400d) and count(x, 9600h) > 1");
  Diagnostic days = CheckError("did(x, 401d)");
  EXPECT_POS(days.pos, 1, 8);
  EXPECT_THAT(days.reason, HasSubstr("window 401d is longer than max_window_days (400 days)"));
  EXPECT_THAT(CheckError("count(x, 9601h) > 1").reason, HasSubstr("9600h"));
  CheckContext small = DefaultContext();
  small.max_window_days = 30;
  EXPECT_THAT(CheckError("sum(x.p, 31d) > 1", small).reason, HasSubstr("(30 days)"));
  EXPECT_THAT(CheckError("dropped(a -> b, within 1d, 31d)", small).reason, HasSubstr("window 31d"));
  EXPECT_THAT(CheckError("count(x, 721h) > 1", small).reason, HasSubstr("720h"));
  // Date ranges keep their own counters, whatever their length.
  ExpectClean("did(x, 2000-01-01..2017-12-31)", small);
  // `within` is a duration, not a window: it keeps nothing per unit.
  ExpectClean("dropped(a -> b, within 1000d)", small);
}

TEST(CheckerTest, UnknownListIsAWarning) {
  Outcome out = Check("did(x) and in_list(\"nope\")");
  EXPECT_TRUE(out.errors.empty());
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_POS(out.warnings[0].pos, 1, 12);
  EXPECT_EQ(out.warnings[0].reason, "list nope does not exist yet; it is empty until uploaded");
  ExpectClean("in_list(\"offline_x\")");
}

TEST(CheckerTest, ErrorsAreFoundEverywhereInTheTree) {
  Outcome out = Check(
      "not (did(x, 500d) or (count(y) = \"1\" and in_segment(zz)))\n"
      "  and active_days(v, 2h) > 0");
  ASSERT_EQ(out.errors.size(), 4u);
  EXPECT_POS(out.errors[0].pos, 1, 13);
  EXPECT_POS(out.errors[1].pos, 1, 34);
  EXPECT_POS(out.errors[2].pos, 1, 42);
  EXPECT_POS(out.errors[3].pos, 2, 22);
}

// Every rule of SCENARIOS.md (and the examples of SEMANTICS.md §3).
const char* const kScenarioRules[] = {
    "active_days(visit, 30d) >= 20",
    "active_days(visit, 30d) >= 15 and not did(visit, 7d)",
    "(did(coupon_claim{coupon=\"A\"}, 30d) or did(coupon_claim{coupon=\"B\"}, 30d)) and not "
    "did(coupon_use, 30d)",
    "dropped(signup_start -> send_code -> signup_done, within 30m, 1d)",
    "dropped(order_submit -> pay, within 1h, 7d)",
    "did(activity_signup{activity=\"X\"})",
    "in_list(\"offline_x\")",
    "user.contact_count@yesterday < 3",
    "user.contact_count@yesterday >= 3 and user.contact_count@yesterday <= 6",
    "user.contact_count@yesterday >= 7",
    "count(cart_calc, 7d) >= 3",
    "user.gender = \"male\" and user.age < 25",
    "user.level > 10 and did(comment, 30d) and did(like, 30d) and count(gift_send, 30d) > 10",
    "did(register, 2017-01-01..2017-01-31) and did(view_credit) and not did(invest)",
    "days_since(purchase) <= 30 and count(purchase, 365d) >= 5 and sum(purchase.amount, 365d) >= "
    "3000",
    "active_days(visit, 30d) >= 15 and not did(visit, 7d) and days_since(visit) >= 14",
    "dropped(A -> B -> C, within 30m, 7d)",
    "did(`Order Completed`, 7d) and user.`$city` = \"x\" and count(`浏览`) >= 1",
};

TEST(CheckerTest, EveryScenarioRuleParsesChecksCleanAndRoundTrips) {
  for (const char* rule : kScenarioRules) {
    ExpectClean(rule);
    std::vector<Diagnostic> errors;
    auto once = ParseRule(rule, &errors);
    ASSERT_TRUE(once.ok()) << rule;
    std::string text = ToString(**once);
    auto twice = ParseRule(text, &errors);
    ASSERT_TRUE(twice.ok()) << text;
    EXPECT_EQ(ToString(**twice), text);
  }
}

}  // namespace
}  // namespace segd::rules
