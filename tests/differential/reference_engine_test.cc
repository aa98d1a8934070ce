// Hand-checked scenarios for the reference engine: every construct and every
// kind of boundary (midnight, hour, DST, funnel deadline, date range, late
// record, unset, list). Instants in expectations are UTC.
#include <gtest/gtest.h>

#include "test_scenario.h"

namespace segd_ref {
namespace {

TEST(EngineTest, FirstRecordEvaluatesEverySegment) {
  Scenario s("UTC", {{"sleeping", "not did(invest)"}, {"invested", "did(invest)"}});
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T10:00:00Z"),
            Lines{"u1 sleeping enter 2025-01-01T10:00:00.000Z event"});
  EXPECT_EQ(s.Event("u1", "invest", "2025-01-01T11:00:00Z"),
            (Lines{"u1 sleeping leave 2025-01-01T11:00:00.000Z event",
                   "u1 invested enter 2025-01-01T11:00:00.000Z event"}));
}

TEST(EngineTest, DayWindowLeavesAtLocalMidnight) {
  Scenario s("Asia/Shanghai", {{"recent", "did(visit, 2d)"}});
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T10:00:00+08:00"),
            Lines{"u1 recent enter 2025-01-01T02:00:00.000Z event"});
  EXPECT_EQ(s.Event("u2", "visit", "2025-01-03T23:00:00+08:00"),
            (Lines{"u1 recent leave 2025-01-02T16:00:00.000Z time",
                   "u2 recent enter 2025-01-03T15:00:00.000Z event"}));
}

TEST(EngineTest, HourWindowLeavesAtHourStart) {
  Scenario s("UTC", {{"busy", "count(visit, 2h) >= 2"}});
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T10:10:00Z"), Lines{});
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T10:50:00Z"),
            Lines{"u1 busy enter 2025-01-01T10:50:00.000Z event"});
  EXPECT_EQ(s.Event("u2", "visit", "2025-01-01T12:30:00Z"),
            Lines{"u1 busy leave 2025-01-01T12:00:00.000Z time"});
}

TEST(EngineTest, TodayAndYesterday) {
  Scenario s("UTC", {{"t", "did(visit, today)"}, {"y", "did(visit, yesterday)"}});
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T10:00:00Z"),
            Lines{"u1 t enter 2025-01-01T10:00:00.000Z event"});
  EXPECT_EQ(
      s.Event("u2", "visit", "2025-01-03T01:00:00Z"),
      (Lines{"u1 t leave 2025-01-02T00:00:00.000Z time", "u1 y enter 2025-01-02T00:00:00.000Z time",
             "u1 y leave 2025-01-03T00:00:00.000Z time",
             "u2 t enter 2025-01-03T01:00:00.000Z event"}));
}

TEST(EngineTest, BoundaryAtTheRecordsInstantComesFirst) {
  Scenario s("UTC", {{"t", "did(visit, today)"}});
  s.Event("u1", "visit", "2025-01-01T10:00:00Z");
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-02T00:00:00Z"),
            (Lines{"u1 t leave 2025-01-02T00:00:00.000Z time",
                   "u1 t enter 2025-01-02T00:00:00.000Z event"}));
  EXPECT_EQ(s.LastJson()[1], R"({"id":"t:1:3:u1","user_id":"u1","segment":"t","change":"enter",)"
                             R"("at":1735776000000,"cause":"event"})");
}

TEST(EngineTest, SpringForwardHoursAndDays) {
  Scenario s("America/New_York", {{"today", "did(visit, today)"}, {"hours", "did(visit, 3h)"}});
  // 00:30 EST on the 23-hour day 2025-03-09; the local hour label is 0.
  EXPECT_EQ(s.Event("u1", "visit", "2025-03-09T05:30:00Z"),
            (Lines{"u1 today enter 2025-03-09T05:30:00.000Z event",
                   "u1 hours enter 2025-03-09T05:30:00.000Z event"}));
  // At 03:00 EDT (07:00Z) the labels 1..3 no longer hold hour 0.
  EXPECT_EQ(s.Event("u2", "visit", "2025-03-09T08:30:00Z"),
            (Lines{"u1 hours leave 2025-03-09T07:00:00.000Z time",
                   "u2 today enter 2025-03-09T08:30:00.000Z event",
                   "u2 hours enter 2025-03-09T08:30:00.000Z event"}));
  // EDT midnight is 04:00Z; u2's 04:xx EDT hour leaves the window at 07:00 EDT.
  EXPECT_EQ(s.Event("u3", "visit", "2025-03-10T04:30:00Z"),
            (Lines{"u2 hours leave 2025-03-09T11:00:00.000Z time",
                   "u1 today leave 2025-03-10T04:00:00.000Z time",
                   "u2 today leave 2025-03-10T04:00:00.000Z time",
                   "u3 today enter 2025-03-10T04:30:00.000Z event",
                   "u3 hours enter 2025-03-10T04:30:00.000Z event"}));
}

TEST(EngineTest, FallBackRepeatedHourIsOneCalendarHour) {
  Scenario s("America/New_York", {{"hour", "did(visit, 1h)"}, {"today", "did(visit, today)"}});
  s.Event("u1", "visit", "2025-11-02T05:30:00Z");  // 01:30 EDT
  // 06:00Z is 01:00 EST: same label, nothing changes; 07:00Z is 02:00 EST.
  EXPECT_EQ(s.Event("u2", "noise", "2025-11-02T07:30:00Z"),
            Lines{"u1 hour leave 2025-11-02T07:00:00.000Z time"});
  // The 25-hour day ends at 05:00Z (EST midnight).
  EXPECT_EQ(s.Event("u2", "noise", "2025-11-03T05:00:00Z"),
            Lines{"u1 today leave 2025-11-03T05:00:00.000Z time"});
}

TEST(EngineTest, DayStartsAtFirstInstantWhereMidnightIsSkipped) {
  Scenario s("America/Havana", {{"today", "did(visit, today)"}});
  s.Event("u1", "visit", "2025-03-09T04:30:00Z");  // 23:30 CST on March 8
  EXPECT_EQ(s.Event("u2", "noise", "2025-03-09T06:00:00Z"),
            Lines{"u1 today leave 2025-03-09T05:00:00.000Z time"});  // 01:00 CDT
}

TEST(EngineTest, UserPropertiesLastValueWins) {
  Scenario s("UTC", {{"male", "user.gender = \"male\""},
                     {"not_berlin", "user.city != \"Berlin\""},
                     {"young", "user.age < 25"}});
  EXPECT_EQ(s.Set("u1", "2025-01-01T10:00:00Z", R"("gender":"male","age":23)"),
            (Lines{"u1 male enter 2025-01-01T10:00:00.000Z event",
                   "u1 young enter 2025-01-01T10:00:00.000Z event"}));
  EXPECT_EQ(s.Set("u1", "2025-01-01T09:00:00Z", R"("gender":"female")"), Lines{});  // older ts
  EXPECT_EQ(s.Set("u1", "2025-01-01T10:00:00Z", R"("gender":"female")"),  // tie: later arrival
            Lines{"u1 male leave 2025-01-01T10:00:00.000Z event"});
  // event, then set, then unset: the unset of city wins.
  EXPECT_EQ(s.Feed(R"({"user_id":"u1","event":"x","ts":)" + Ts("2025-01-01T11:00:00Z") +
                   R"(,"set":{"city":"Paris","age":30},"unset":["city"]})"),
            Lines{"u1 young leave 2025-01-01T11:00:00.000Z event"});
  EXPECT_EQ(s.Set("u1", "2025-01-01T12:00:00Z", R"("city":"Paris")"),
            Lines{"u1 not_berlin enter 2025-01-01T12:00:00.000Z event"});
  EXPECT_EQ(s.Set("u1", "2025-01-01T13:00:00Z", R"("city":null)"),
            Lines{"u1 not_berlin leave 2025-01-01T13:00:00.000Z event"});
  EXPECT_EQ(s.Set("u1", "2025-01-01T14:00:00Z", R"("city":1)"), Lines{});  // type mismatch
}

TEST(EngineTest, PropertyAtYesterdayChangesAtMidnight) {
  Scenario s("UTC", {{"infant", "user.contact_count@yesterday < 3"},
                     {"mature", "user.contact_count@yesterday >= 7"}});
  EXPECT_EQ(s.Set("u1", "2025-01-01T10:00:00Z", R"("contact_count":1)"), Lines{});
  EXPECT_EQ(s.Set("u1", "2025-01-01T12:00:00Z", R"("contact_count":8)"), Lines{});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-02T00:00:00Z"),
            Lines{"u1 mature enter 2025-01-02T00:00:00.000Z time"});
  EXPECT_EQ(s.Set("u1", "2025-01-02T10:00:00Z", R"("contact_count":2)"), Lines{});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-03T00:00:01Z"),
            (Lines{"u1 infant enter 2025-01-03T00:00:00.000Z time",
                   "u1 mature leave 2025-01-03T00:00:00.000Z time"}));
  // A late set from yesterday changes yesterday's value at once.
  EXPECT_EQ(s.Set("u1", "2025-01-02T23:00:00Z", R"("contact_count":5)"),
            Lines{"u1 infant leave 2025-01-03T00:00:01.000Z event"});
}

TEST(EngineTest, InSegmentSeesNewMembershipAndInList) {
  Scenario s("UTC",
             {{"a", "did(x)"},
              {"b", "in_segment(a) and in_list(\"vip\")"},
              {"c", "not in_segment(b)"},
              {"d", "in_list(\"nope\")"}},
             {{"vip", {"u1", "0123"}}});
  EXPECT_EQ(s.Event("u1", "x", "2025-01-01T10:00:00Z"),
            (Lines{"u1 a enter 2025-01-01T10:00:00.000Z event",
                   "u1 b enter 2025-01-01T10:00:00.000Z event"}));
  EXPECT_EQ(s.Event("u2", "y", "2025-01-01T10:00:00Z"),
            Lines{"u2 c enter 2025-01-01T10:00:00.000Z event"});
  EXPECT_EQ(s.Event("0123", "x", "2025-01-01T10:00:00Z"),
            (Lines{"0123 a enter 2025-01-01T10:00:00.000Z event",
                   "0123 b enter 2025-01-01T10:00:00.000Z event"}));
  EXPECT_EQ(s.Feed(R"({"user_id":123,"event":"x","ts":)" + Ts("2025-01-01T10:00:00Z") + "}"),
            (Lines{"123 a enter 2025-01-01T10:00:00.000Z event",
                   "123 c enter 2025-01-01T10:00:00.000Z event"}));
}

TEST(EngineTest, SumIsExactAndComparisonsWithMissingAreFalse) {
  Scenario s("UTC",
             {{"exact", "sum(tip.amount) = 0.3"},
              {"not_gold", "user.tier != \"gold\""},
              {"filtered", "count(buy{channel in [\"app\", \"web\"], amount >= 10}, 7d) >= 2"},
              {"not_app", "did(buy{channel != \"app\"})"}});
  s.Event("u1", "tip", "2025-01-01T10:00:00Z", R"("amount":0.1)");
  EXPECT_EQ(s.Event("u1", "tip", "2025-01-01T10:01:00Z", R"("amount":0.2)"),
            Lines{"u1 exact enter 2025-01-01T10:01:00.000Z event"});
  EXPECT_EQ(s.Event("u1", "tip", "2025-01-01T10:02:00Z", R"("amount":"1")"), Lines{});
  EXPECT_EQ(s.Event("u1", "tip", "2025-01-01T10:03:00Z", R"("amount":true)"), Lines{});
  EXPECT_EQ(s.Event("u1", "tip", "2025-01-01T10:04:00Z"), Lines{});
  EXPECT_EQ(s.Set("u1", "2025-01-01T10:05:00Z", R"("tier":"silver")"),
            Lines{"u1 not_gold enter 2025-01-01T10:05:00.000Z event"});
  EXPECT_EQ(s.Feed(R"({"user_id":"u1","unset":["tier"],"ts":)" + Ts("2025-01-01T10:06:00Z") + "}"),
            Lines{"u1 not_gold leave 2025-01-01T10:06:00.000Z event"});
  s.Event("u1", "buy", "2025-01-01T10:07:00Z", R"("channel":"app","amount":10)");
  EXPECT_EQ(s.Event("u1", "buy", "2025-01-01T10:08:00Z", R"("channel":"store","amount":50)"),
            Lines{"u1 not_app enter 2025-01-01T10:08:00.000Z event"});
  EXPECT_EQ(s.Event("u1", "buy", "2025-01-01T10:09:00Z", R"("amount":50)"), Lines{});
  EXPECT_EQ(s.Event("u1", "buy", "2025-01-01T10:10:00Z", R"("channel":"web","amount":9.5)"),
            Lines{});
  EXPECT_EQ(s.Event("u1", "buy", "2025-01-01T10:11:00Z", R"("channel":"web","amount":12)"),
            Lines{"u1 filtered enter 2025-01-01T10:11:00.000Z event"});
}

TEST(EngineTest, DaysSinceCountsCalendarDaysAndNeverIsInfinite) {
  Scenario s("UTC", {{"lapsed", "days_since(visit) >= 2"}, {"never", "days_since(buy) > 1000"}});
  EXPECT_EQ(s.Event("u1", "signup", "2025-01-01T10:00:00Z"),
            (Lines{"u1 lapsed enter 2025-01-01T10:00:00.000Z event",
                   "u1 never enter 2025-01-01T10:00:00.000Z event"}));
  EXPECT_EQ(s.Event("u1", "visit", "2025-01-01T23:59:00Z"),
            Lines{"u1 lapsed leave 2025-01-01T23:59:00.000Z event"});
  EXPECT_EQ(s.Event("u2", "buy", "2025-01-03T00:00:00Z"),
            (Lines{"u1 lapsed enter 2025-01-03T00:00:00.000Z time",
                   "u2 lapsed enter 2025-01-03T00:00:00.000Z event"}));
}

TEST(EngineTest, FunnelDeadlineRestartAndWindow) {
  Scenario s("UTC", {{"unpaid", "dropped(order_submit -> pay, within 1h, 7d)"}});
  EXPECT_EQ(s.Event("u1", "order_submit", "2025-01-01T10:00:00Z"), Lines{});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T10:59:59.999Z"), Lines{});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T11:30:00Z"),
            Lines{"u1 unpaid enter 2025-01-01T11:00:00.000Z time"});
  EXPECT_EQ(s.Event("u1", "pay", "2025-01-01T11:40:00Z"), Lines{});  // too late to count
  EXPECT_EQ(s.Event("u1", "order_submit", "2025-01-01T12:00:00Z"),   // a new attempt
            Lines{"u1 unpaid leave 2025-01-01T12:00:00.000Z event"});
  EXPECT_EQ(s.Event("u1", "pay", "2025-01-01T12:59:59.999Z"), Lines{});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T14:00:00Z"), Lines{});
  EXPECT_EQ(s.Event("u1", "order_submit", "2025-01-01T14:10:00Z"), Lines{});
  // A pay exactly at the deadline does not count; the deadline fires first.
  EXPECT_EQ(s.Event("u1", "pay", "2025-01-01T15:10:00Z"),
            Lines{"u1 unpaid enter 2025-01-01T15:10:00.000Z time"});
  // The attempt leaves the 7d window (days Jan 2..8) at midnight of Jan 8.
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-09T00:00:00Z"),
            Lines{"u1 unpaid leave 2025-01-08T00:00:00.000Z time"});
}

TEST(EngineTest, FunnelLateRecords) {
  Scenario s("UTC", {{"unpaid", "dropped(order_submit -> pay, within 1h)"}});
  s.Event("u2", "noise", "2025-01-01T10:00:00Z");
  EXPECT_EQ(s.Event("u1", "order_submit", "2025-01-01T08:00:00Z"),  // deadline already past
            Lines{"u1 unpaid enter 2025-01-01T10:00:00.000Z event"});
  EXPECT_EQ(s.Event("u1", "pay", "2025-01-01T08:30:00Z"),
            Lines{"u1 unpaid leave 2025-01-01T10:00:00.000Z event"});
}

TEST(EngineTest, ThreeStepFunnel) {
  Scenario s("UTC", {{"signup", "dropped(s -> c -> d, within 30m)"}});
  s.Event("u1", "s", "2025-01-01T10:00:00Z");
  s.Event("u1", "c", "2025-01-01T10:10:00Z");
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T10:40:00Z"),
            Lines{"u1 signup enter 2025-01-01T10:30:00.000Z time"});
  s.Event("u3", "s", "2025-01-01T11:00:00Z");  // never reaches c: not dropped
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T12:00:00Z"), Lines{});
  s.Event("u4", "s", "2025-01-01T13:00:00Z");
  s.Event("u4", "c", "2025-01-01T13:05:00Z");
  s.Event("u4", "d", "2025-01-01T13:20:00Z");
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T14:00:00Z"), Lines{});
  s.Event("u5", "s", "2025-01-01T15:00:00Z");
  s.Event("u5", "d", "2025-01-01T15:05:00Z");  // before c: not a step
  s.Event("u5", "c", "2025-01-01T15:10:00Z");
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T16:00:00Z"),
            Lines{"u5 signup enter 2025-01-01T15:30:00.000Z time"});
}

TEST(EngineTest, LastStepMatchingTheFirstNeverCompletes) {
  Scenario s("UTC", {{"loop", "dropped(search -> search{hit=true}, within 15m)"}});
  s.Event("u1", "search", "2025-01-01T10:00:00Z");
  s.Event("u1", "search", "2025-01-01T10:05:00Z", R"("hit":true)");
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-01T10:30:00Z"),
            Lines{"u1 loop enter 2025-01-01T10:20:00.000Z time"});
}

TEST(EngineTest, InvalidRecordsAreSkippedAndDoNotMoveTheClock) {
  Scenario s("UTC", {{"t", "did(visit, today)"}});
  s.Event("u1", "visit", "2025-01-01T10:00:00Z");
  EXPECT_EQ(s.Rejected(R"({"user_id":"u1","event":"visit","ts":1736035200000.0})"), "bad_ts");
  EXPECT_EQ(s.Rejected(R"({"user_id":"u9","set":{},"ts":"2025-01-05T00:00:00"})"), "bad_ts");
  EXPECT_EQ(s.Rejected(R"({"user_id":"u9","ts":1736035200000})"), "no_content");
  EXPECT_EQ(s.Event("u2", "visit", "2025-01-01T11:00:00Z"),
            Lines{"u2 t enter 2025-01-01T11:00:00.000Z event"});
  EXPECT_EQ(s.ref().user_count(), 2u);
  EXPECT_EQ(s.Feed(R"({"user_id":"u9","set":{},"ts":)" + Ts("2025-01-01T11:00:00Z") + "}"),
            Lines{});
  EXPECT_EQ(s.ref().user_count(), 3u);
}

TEST(EngineTest, DateRangeIgnoresNowAndTakesLateRecords) {
  Scenario s("UTC", {{"reg", "did(register, 2025-01-02..2025-01-03)"}});
  EXPECT_EQ(s.Event("u1", "register", "2025-01-01T23:00:00Z"), Lines{});
  EXPECT_EQ(s.Event("u1", "register", "2025-01-03T23:00:00Z"),
            Lines{"u1 reg enter 2025-01-03T23:00:00.000Z event"});
  EXPECT_EQ(s.Event("u2", "noise", "2025-01-05T00:00:00Z"), Lines{});
  EXPECT_EQ(s.Event("u3", "register", "2025-01-03T12:00:00Z"),
            Lines{"u3 reg enter 2025-01-05T00:00:00.000Z event"});
}

TEST(EngineTest, ChangeRecordEscapesJson) {
  Change c;
  c.user_id = "u\"1\\\xC3\xA9\n";
  c.segment = "s";
  c.enter = false;
  c.at = 5;
  c.time_cause = true;
  c.n = 2;
  EXPECT_EQ(c.ToJson(),
            "{\"id\":\"s:1:2:u\\\"1\\\\\xC3\xA9\\n\",\"user_id\":\"u\\\"1\\\\\xC3\xA9\\n\","
            "\"segment\":\"s\",\"change\":\"leave\",\"at\":5,\"cause\":\"time\"}");
}

}  // namespace
}  // namespace segd_ref
