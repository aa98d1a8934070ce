// Hand-checked cases for the reference engine: each construct and each kind
// of boundary of SEMANTICS.md, with the expected changes worked out by hand.
#include "reference.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "calendar.h"
#include "record.h"
#include "rule_file.h"
#include "test_scenario.h"

namespace segd_ref {
namespace {

TEST(ParserTest, AcceptsEveryConstruct) {
  const char* rules[] = {
      "active_days(visit, 30d) >= 15 and not did(visit, 7d)",
      ("(did(coupon_claim{coupon=\"A\"}, 30d) or did(coupon_claim{coupon=\"B\"}, 30d)) and "
       "not did(coupon_use, 30d)"),
      "dropped(signup_start -> send_code -> signup_done, within 30m, 1d)",
      "dropped(a->b, within 1h)",
      "did(activity_signup{activity=\"X\"}) or in_list(\"offline_x\")",
      "user.contact_count@yesterday < 3",
      "user.gender = \"male\" and user.age < 25",
      "did(register, 2017-01-01..2017-01-31) and did(view_credit) and not did(invest)",
      "days_since(purchase) <= 30 and sum(purchase.amount, 365d) >= 3000",
      "count(x, 24h) > 2 and did(x, today) and did(y, yesterday)",
      "user.g in [\"a\", 1, true] and count(p{c in [\"app\", \"web\"], n >= -1.5}, 2h) != 0",
      "did(`Order Completed`, 7d) and user.`$city` = \"X\" and count(`浏览`) >= 1",
      "did(page:view) and did(app-open) and sum(p{a=1}.`my prop`) > 0",
      "in_segment(2024) or in_segment(a-b_c) or not not did(z)",
      "3 <= count(visit, 7d) and count(a) > count(b)",
  };
  for (const char* rule : rules) {
    std::string error;
    EXPECT_NE(ParseRule(rule, &error), nullptr) << rule << ": " << error;
  }
  std::string error;
  auto node = ParseRule("dropped(a->b-c->`d e`, within 90s, 2025-01-01..2025-01-02)", &error);
  ASSERT_NE(node, nullptr) << error;
  ASSERT_EQ(node->steps.size(), 3u);
  EXPECT_EQ(node->steps[1].event, "b-c");
  EXPECT_EQ(node->steps[2].event, "d e");
  EXPECT_EQ(node->within_ms, 90'000);
  EXPECT_EQ(node->window.to_day - node->window.from_day, 1);
  node = ParseRule("in_segment(2024)", &error);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->name, "2024");
  for (const char* bad :
       {"did(x, 0d)", "dropped(a->b, within 0s)", "did(x, 2025-01-02..2025-01-01)", "did(user)",
        "count(x) >", "did(x) and"}) {
    EXPECT_EQ(ParseRule(bad, &error), nullptr) << bad;
  }
}

TEST(RecordTest, ValidAndInvalidRecords) {
  InputRecord r;
  EXPECT_EQ(
      ParseRecord(R"({"user_id":42,"event":"e","ts":"2025-01-01T01:00:00.123999+01:00"})", &r), "");
  EXPECT_EQ(r.user_id, "42");
  EXPECT_EQ(r.ts, Ms("2025-01-01T00:00:00.123Z"));
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","set":{"a":null,"b":{"x":1},"c":2},"ts":5})", &r), "");
  ASSERT_EQ(r.set.size(), 2u);
  EXPECT_FALSE(r.set[0].second.has_value());
  EXPECT_TRUE(r.RemovesProperty());
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":5,"props":null})", &r), "");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":5,"props":{"a":[1],"b":"x"}})", &r), "");
  EXPECT_EQ(r.props.size(), 1u);
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","set":{},"ts":0})", &r), "");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","set":{},"props":{"a":1},"ts":0})", &r), "");
  EXPECT_TRUE(r.props.empty());
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","set":{},"props":"x","ts":0})", &r), "bad_props");
  EXPECT_EQ(ParseRecord("not json", &r), "not_json");
  EXPECT_EQ(ParseRecord("[1]", &r), "not_object");
  EXPECT_EQ(ParseRecord(R"({"event":"e","ts":5})", &r), "missing_user");
  EXPECT_EQ(ParseRecord(R"({"user_id":"","event":"e","ts":5})", &r), "bad_user");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e"})", &r), "missing_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":5.0})", &r), "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":-1})", &r), "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":253402300800000})", &r), "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":"2025-01-01T00:00:00"})", &r), "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":"2025-01-01T00:00:60Z"})", &r),
            "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":"2025-01-01 00:00:00Z"})", &r),
            "bad_ts");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","ts":5})", &r), "no_content");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"","ts":5})", &r), "bad_event");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":5,"ts":6})", &r), "not_json");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","event":"e","ts":5,"props":{"a":1,"a":2}})", &r),
            "not_json");
  EXPECT_EQ(ParseRecord(R"({"user_id":"u","unset":[1],"ts":5})", &r), "bad_unset");
}

TEST(RuleFileTest, ReadsTheDocumentedShape) {
  const char* text = R"(timezone: Asia/Shanghai
lists:
  offline_x: [u1, u7, "0123"]
  other:
    - u2
segments:
  - id: lapsing_active
    name: Lapsing actives
    rule: active_days(visit, 30d) >= 15 and
      not did(visit, 7d)   # a comment
    emit_initial: false
  - id: 2024
    rule: 'did(coupon_claim{coupon="A"}) or in_list("it''s")'
  - id: c
    rule: |
      did(a)
      and did(b)
)";
  RuleSet rules;
  std::string error;
  ASSERT_TRUE(ParseRuleFile(text, &rules, &error)) << error;
  EXPECT_EQ(rules.timezone, "Asia/Shanghai");
  ASSERT_EQ(rules.lists.size(), 2u);
  EXPECT_EQ(rules.lists[0].second, (std::vector<std::string>{"u1", "u7", "0123"}));
  EXPECT_EQ(rules.lists[1].second, (std::vector<std::string>{"u2"}));
  ASSERT_EQ(rules.segments.size(), 3u);
  EXPECT_EQ(rules.segments[0].rule, "active_days(visit, 30d) >= 15 and not did(visit, 7d)");
  EXPECT_EQ(rules.segments[1].id, "2024");
  EXPECT_EQ(rules.segments[1].rule, "did(coupon_claim{coupon=\"A\"}) or in_list(\"it's\")");
  EXPECT_EQ(rules.segments[2].rule, "did(a)\nand did(b)\n");
  RuleSet again;
  ASSERT_TRUE(ParseRuleFile(WriteRuleFile(rules), &again, &error)) << error;
  EXPECT_EQ(again.segments[1].rule, rules.segments[1].rule);
  EXPECT_FALSE(ParseRuleFile("timezone: UTC\nfoo: 1\n", &rules, &error));
  EXPECT_FALSE(
      ParseRuleFile("segments:\n  - id: a\n    rule: did(x)\n    bogus: 1\n", &rules, &error));
}

TEST(CalendarTest, DstDaysAndHours) {
  Calendar ny;
  std::string error;
  ASSERT_TRUE(ny.Load("America/New_York", &error)) << error;
  int64_t mar9 = Calendar::DaysFromCivil(2025, 3, 9);
  EXPECT_EQ(ny.StartOfDay(mar9), Ms("2025-03-09T05:00:00Z"));
  EXPECT_EQ(ny.DayLengthMs(mar9), 23 * kHourMs);
  EXPECT_EQ(ny.DayLengthMs(Calendar::DaysFromCivil(2025, 11, 2)), 25 * kHourMs);
  // Spring forward: 01:59:59.999 EST is followed by 03:00 EDT.
  EXPECT_EQ(ny.NextHourStart(Ms("2025-03-09T06:30:00Z")), Ms("2025-03-09T07:00:00Z"));
  EXPECT_EQ(ny.Hour(Ms("2025-03-09T07:00:00Z")) - ny.Hour(Ms("2025-03-09T06:59:59.999Z")), 2);
  // Fall back: the repeated 01:00 hour is one calendar hour, 05:00Z..07:00Z.
  EXPECT_EQ(ny.NextHourStart(Ms("2025-11-02T05:00:00Z")), Ms("2025-11-02T07:00:00Z"));
  EXPECT_EQ(ny.DayFloor(Ms("2025-11-02T12:00:00Z")), Ms("2025-11-02T04:00:00Z"));
  // Where DST skips local midnight the day starts at 01:00 (Havana, 2025-03-09).
  Calendar havana;
  ASSERT_TRUE(havana.Load("America/Havana", &error)) << error;
  EXPECT_EQ(havana.StartOfDay(mar9), Ms("2025-03-09T05:00:00Z"));
  EXPECT_EQ(havana.LocalMs(Ms("2025-03-09T05:00:00Z")) % kDayMs, kHourMs);
  EXPECT_EQ(havana.NextDayStart(Ms("2025-03-09T04:59:59.999Z")), Ms("2025-03-09T05:00:00Z"));
}

}  // namespace
}  // namespace segd_ref
