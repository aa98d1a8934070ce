// Every scenario of SCENARIOS.md on a hand-built history, evaluated at
// chosen instants — including those where time alone flips it — and the
// planner's next-change instant at each step.
#include <gtest/gtest.h>

#include "history.h"

namespace segd::rules::testing {
namespace {

constexpr char kShanghai[] = "timezone: Asia/Shanghai\nsegments:\n";

std::string Rules(const std::string& body, const char* header = kShanghai) {
  return header + body;
}

int64_t Day(int d, const char* time = "10:00:00") {  // November 2026, Shanghai
  char buf[64];
  std::snprintf(buf, sizeof(buf), "2026-11-%02dT%s+08:00", d, time);
  return At(buf);
}
int64_t Dec(int d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "2026-12-%02dT00:00:00+08:00", d);
  return At(buf);
}
int64_t Midnight(int d) { return Day(d, "00:00:00"); }

TEST(ScenarioTest, S1MonthlyActivesLeaveWhenTheOldestDaySlidesOut) {
  History h(Rules("  - {id: monthly, rule: 'active_days(visit, 30d) >= 20'}\n"));
  for (int d = 1; d <= 19; ++d) h.Event("visit", Day(d));
  EXPECT_FALSE(h.In("monthly", Day(19, "23:00:00")));
  h.Event("visit", Day(20)).Event("visit", Day(20, "11:00:00"));  // one day counts once
  EXPECT_TRUE(h.In("monthly", Day(20)));
  EXPECT_EQ(h.Next("monthly", Day(20)), Dec(1));
  EXPECT_TRUE(h.In("monthly", Dec(1) - 1));
  EXPECT_FALSE(h.In("monthly", Dec(1)));
}

TEST(ScenarioTest, S2LapsingActivesEnterAWeekAfterTheLastVisit) {
  History h(Rules(
      "  - {id: lapsing, rule: 'active_days(visit, 30d) >= 15 and not did(visit, 7d)'}\n"));
  for (int d = 1; d <= 15; ++d) h.Event("visit", Day(d));
  EXPECT_FALSE(h.In("lapsing", Day(15)));
  EXPECT_EQ(h.Next("lapsing", Day(15)), Midnight(22));
  EXPECT_FALSE(h.In("lapsing", Midnight(22) - 1));
  EXPECT_TRUE(h.In("lapsing", Midnight(22)));
  // Then the first visit leaves the 30-day window.
  EXPECT_EQ(h.Next("lapsing", Midnight(22)), Dec(1));
  EXPECT_FALSE(h.In("lapsing", Dec(1)));
  // A visit brings them back from the brink at once.
  h.Event("visit", Day(25));
  EXPECT_FALSE(h.In("lapsing", Day(25)));
}

TEST(ScenarioTest, S3CouponClaimedButNotUsed) {
  History h(Rules(
      "  - id: unused_coupon\n"
      "    rule: (did(coupon_claim{coupon=\"A\"}, 30d) or did(coupon_claim{coupon=\"B\"}, 30d))"
      " and not did(coupon_use, 30d)\n"));
  h.Event("coupon_claim", Day(1), {P("coupon", std::string("C"))});
  EXPECT_FALSE(h.In("unused_coupon", Day(1)));
  h.Event("coupon_claim", Day(2), {P("coupon", std::string("B"))});
  EXPECT_TRUE(h.In("unused_coupon", Day(2)));
  EXPECT_EQ(h.Next("unused_coupon", Day(2)), Dec(2));  // the claim expires from the window
  EXPECT_FALSE(h.In("unused_coupon", Dec(2)));
  h.Event("coupon_use", Day(10), {P("coupon", std::string("B"))});
  EXPECT_FALSE(h.In("unused_coupon", Day(10)));
  EXPECT_EQ(h.Next("unused_coupon", Day(10)), kNever);  // nothing can bring them back
}

TEST(ScenarioTest, S4SignupFunnelDropsAtItsDeadline) {
  const std::string rules = Rules(
      "  - {id: stuck, rule: 'dropped(signup_start -> send_code -> signup_done, within 30m, 1d)'}\n"
      "  - {id: unpaid, rule: 'dropped(order_submit -> pay, within 1h, 7d)'}\n");
  {
    History h(rules);
    h.Event("signup_start", Day(5, "10:00:00")).Event("send_code", Day(5, "10:05:00"));
    EXPECT_FALSE(h.In("stuck", Day(5, "10:29:59")));
    EXPECT_EQ(h.Next("stuck", Day(5, "10:05:00")), Day(5, "10:30:00"));
    EXPECT_TRUE(h.In("stuck", Day(5, "10:30:00")));
    // The attempt leaves the one-day window at midnight.
    EXPECT_EQ(h.Next("stuck", Day(5, "10:30:00")), Midnight(6));
    EXPECT_FALSE(h.In("stuck", Midnight(6)));
    // A late signup_done inside the deadline completes the attempt.
    h.Event("signup_done", Day(5, "10:20:00"));
    EXPECT_FALSE(h.In("stuck", Day(5, "10:31:00")));
  }
  {
    History h(rules);
    h.Event("signup_start", Day(5, "10:00:00"));
    EXPECT_FALSE(h.In("stuck", Day(5, "11:00:00")));  // never reached send_code
    h.Event("send_code", Day(5, "10:01:00")).Event("signup_done", Day(5, "10:31:00"));
    EXPECT_TRUE(h.In("stuck", Day(5, "10:31:00")));  // done after the deadline does not count
    h.Event("signup_start", Day(5, "11:00:00"));     // a new attempt
    EXPECT_FALSE(h.In("stuck", Day(5, "11:00:00")));
  }
  {
    History h(rules);
    h.Event("order_submit", Day(5, "09:00:00"));
    EXPECT_EQ(h.Next("unpaid", Day(5, "09:00:00")), Day(5, "10:00:00"));
    EXPECT_TRUE(h.In("unpaid", Day(5, "10:00:00")));
    h.Event("pay", Day(5, "09:59:59"));
    EXPECT_FALSE(h.In("unpaid", Day(5, "10:00:00")));
  }
}

TEST(ScenarioTest, S5ActivityOnlineByEventOfflineByList) {
  History h(Rules("  - {id: online_x, rule: 'did(activity_signup{activity=\"X\"})'}\n"
                  "  - {id: offline_x, rule: 'in_list(\"offline_x\")'}\n"
                  "  - {id: both, rule: 'in_segment(online_x) and in_segment(offline_x)'}\n"));
  h.Event("activity_signup", Day(3), {P("activity", std::string("Y"))});
  EXPECT_FALSE(h.In("online_x", Day(3)));
  h.Event("activity_signup", Day(4), {P("activity", std::string("X"))});
  EXPECT_TRUE(h.In("online_x", Day(4)));
  EXPECT_FALSE(h.In("offline_x", Day(4)));
  h.lists().Add("offline_x", "u1");
  EXPECT_TRUE(h.In("offline_x", Day(4)));
  EXPECT_TRUE(h.In("both", Day(4)));
  EXPECT_EQ(h.Next("both", Day(4)), kNever);
}

TEST(ScenarioTest, S6SocialTiersReadContactCountAsOfYesterday) {
  History h(Rules(
      "  - {id: infant, rule: 'user.contact_count@yesterday < 3'}\n"
      "  - {id: growing, rule: 'user.contact_count@yesterday >= 3 and "
      "user.contact_count@yesterday <= 6'}\n"
      "  - {id: mature, rule: 'user.contact_count@yesterday >= 7'}\n"));
  h.Set("contact_count", 2.0, Day(5));
  EXPECT_FALSE(h.In("infant", Day(5, "12:00:00")));  // nothing as of yesterday yet
  EXPECT_EQ(h.Next("infant", Day(5, "12:00:00")), Midnight(6));
  EXPECT_TRUE(h.In("infant", Midnight(6)));
  h.Set("contact_count", 5.0, Day(6, "15:00:00"));
  EXPECT_TRUE(h.In("infant", Day(6, "16:00:00")));  // today's change shows tomorrow
  EXPECT_EQ(h.Next("growing", Day(6, "16:00:00")), Midnight(7));
  // A late update from before the latest one does not win.
  h.Set("contact_count", 8.0, Day(5, "08:00:00"));
  h.Compact(Day(6, "16:00:00"));
  EXPECT_FALSE(h.In("infant", Midnight(7)));
  EXPECT_TRUE(h.In("growing", Midnight(7)));
  EXPECT_FALSE(h.In("mature", Midnight(7)));
}

TEST(ScenarioTest, S7CartCalculationsInSevenDays) {
  History h(Rules("  - {id: carts, rule: 'count(cart_calc, 7d) >= 3'}\n"));
  h.Event("cart_calc", Day(1)).Event("cart_calc", Day(3));
  EXPECT_FALSE(h.In("carts", Day(3)));
  h.Event("cart_calc", Day(5));
  EXPECT_TRUE(h.In("carts", Day(5)));
  EXPECT_EQ(h.Next("carts", Day(5)), Midnight(8));
  EXPECT_FALSE(h.In("carts", Midnight(8)));
}

TEST(ScenarioTest, S8MenUnder25ByAttributes) {
  History h(Rules("  - {id: young_men, rule: 'user.gender = \"male\" and user.age < 25'}\n"));
  h.Set("gender", std::string("male"), Day(1)).Set("age", 23.0, Day(1));
  EXPECT_TRUE(h.In("young_men", Day(1)));
  EXPECT_EQ(h.Next("young_men", Day(1)), kNever);
  h.Set("age", std::string("23"), Day(2));  // a string is not a number: false
  EXPECT_FALSE(h.In("young_men", Day(2)));
  h.Set("age", 24.0, Day(3)).Unset("age", Day(4));
  EXPECT_FALSE(h.In("young_men", Day(4)));
}

TEST(ScenarioTest, S9LiveStreamingWhales) {
  History h(Rules(
      "  - id: whales\n    rule: user.level > 10 and did(comment, 30d) and did(like, 30d) and "
      "count(gift_send, 30d) > 10\n"));
  h.Set("level", 11.0, Day(1)).Event("comment", Day(2)).Event("like", Day(3));
  for (int i = 0; i < 10; ++i) h.Event("gift_send", Day(4));
  EXPECT_FALSE(h.In("whales", Day(4)));
  h.Event("gift_send", Day(6));
  EXPECT_TRUE(h.In("whales", Day(6)));
  EXPECT_EQ(h.Next("whales", Day(6)), Dec(2));  // the comment of Nov 2 leaves
}

TEST(ScenarioTest, S10WakeSleepersRegisteredInJanuary2017) {
  History h(Rules(
      "  - id: sleepers\n    rule: did(register, 2017-01-01..2017-01-31) and did(view_credit) "
      "and not did(invest)\n"));
  h.Event("register", At("2017-01-31T23:30:00+08:00"));
  h.Event("view_credit", At("2017-03-01T10:00:00+08:00"));
  EXPECT_TRUE(h.In("sleepers", At("2017-03-01T10:00:00+08:00")));
  // A date range is a fixed set of days: its end changes nothing later.
  EXPECT_EQ(h.Next("sleepers", At("2017-01-31T23:30:00+08:00")), kNever);
  h.Compact(Day(1));  // years later the range's days are still kept
  EXPECT_TRUE(h.In("sleepers", Day(1)));
  h.Event("invest", Day(2));
  EXPECT_FALSE(h.In("sleepers", Day(2)));
  History feb(Rules("  - {id: s, rule: 'did(register, 2017-01-01..2017-01-31)'}\n"));
  feb.Event("register", At("2017-02-01T00:00:00+08:00"));
  EXPECT_FALSE(feb.In("s", At("2017-02-01T00:00:00+08:00")));
}

TEST(ScenarioTest, S11RfmRecentFrequentBigSpenders) {
  History h(Rules(
      "  - id: rfm\n    rule: days_since(purchase) <= 30 and count(purchase, 365d) >= 5 and "
      "sum(purchase.amount, 365d) >= 3000\n"));
  for (int d = 1; d <= 4; ++d) h.Event("purchase", Day(d), {P("amount", 600.5)});
  EXPECT_FALSE(h.In("rfm", Day(4)));
  h.Event("purchase", Day(10), {P("amount", 598.0)});  // 4 × 600.5 + 598 = 3000 exactly
  EXPECT_TRUE(h.In("rfm", Day(10)));
  EXPECT_EQ(h.Next("rfm", Day(10)), Dec(11));  // 31 days after the last purchase
  EXPECT_TRUE(h.In("rfm", Dec(11) - 1));
  EXPECT_FALSE(h.In("rfm", Dec(11)));
}

TEST(ScenarioTest, S12ChurnWarningFormerActivesGoingQuiet) {
  History h(Rules(
      "  - id: churn\n    rule: active_days(visit, 30d) >= 15 and days_since(visit) >= 14\n"));
  for (int d = 1; d <= 15; ++d) h.Event("visit", Day(d));
  EXPECT_EQ(h.Next("churn", Day(15)), Midnight(29));
  EXPECT_TRUE(h.In("churn", Midnight(29)));
  EXPECT_EQ(h.Next("churn", Midnight(29)), Dec(1));
  EXPECT_FALSE(h.In("churn", Dec(1)));
}

TEST(ScenarioTest, SumsAreExactInMillionths) {
  History h(Rules("  - {id: s, rule: 'sum(pay.v) = 0.3'}\n"
                  "  - {id: t, rule: 'sum(pay.v, today) > 0.3'}\n"));
  h.Event("pay", Day(1), {P("v", 0.1)}).Event("pay", Day(1), {P("v", 0.2)});
  h.Event("pay", Day(1), {P("v", std::string("5"))});  // not a number: adds nothing
  EXPECT_TRUE(h.In("s", Day(1)));
  EXPECT_FALSE(h.In("t", Day(1)));
}

// Sums past the int64 range of millionths stay at its end, in a window's
// bucket as in the all-time sum, rather than wrapping to a negative.
TEST(ScenarioTest, HugeSumsSaturateInsteadOfWrapping) {
  History h(Rules("  - {id: w, rule: 'sum(pay.v, 7d) > 1000'}\n"
                  "  - {id: a, rule: 'sum(pay.v) > 1000'}\n"
                  "  - {id: n, rule: 'sum(pay.v, 7d) < -1000'}\n"));
  h.Event("pay", Day(1), {P("v", 5e12)}).Event("pay", Day(1), {P("v", 5e12)});
  EXPECT_TRUE(h.In("w", Day(1)));
  EXPECT_TRUE(h.In("a", Day(1)));
  h.Event("pay", Day(2), {P("v", -5e12)}).Event("pay", Day(2), {P("v", -5e12)});
  EXPECT_FALSE(h.In("n", Day(3)));  // the week: the two days saturated each way, about 0
}

TEST(ScenarioTest, MissingValuesMakeEveryComparisonFalse) {
  History h(Rules("  - {id: ne, rule: 'user.city != \"x\"'}\n"
                  "  - {id: not_eq, rule: 'not user.city = \"x\"'}\n"
                  "  - {id: in, rule: 'user.tier in [\"gold\", 1, true]'}\n"));
  h.Set("other", 1.0, Day(1));
  EXPECT_FALSE(h.In("ne", Day(1)));
  EXPECT_TRUE(h.In("not_eq", Day(1)));
  h.Set("tier", true, Day(2));
  EXPECT_TRUE(h.In("in", Day(2)));
  h.Set("tier", std::string("silver"), Day(3));
  EXPECT_FALSE(h.In("in", Day(3)));
}

// America/New_York: DST starts 2026-03-08 02:00 (skipped hour), ends
// 2026-11-01 02:00 (01:00-02:00 repeated).
constexpr char kNewYork[] = "timezone: America/New_York\nsegments:\n";

TEST(ScenarioTest, DstShortDayEndsAtItsOwnMidnight) {
  History h(Rules("  - {id: today, rule: 'did(visit, today)'}\n", kNewYork));
  h.Event("visit", At("2026-03-08T00:30:00-05:00"));
  EXPECT_EQ(h.Next("today", At("2026-03-08T00:30:00-05:00")), At("2026-03-09T00:00:00-04:00"));
  EXPECT_TRUE(h.In("today", At("2026-03-08T23:59:59-04:00")));
  EXPECT_FALSE(h.In("today", At("2026-03-09T00:00:00-04:00")));
}

TEST(ScenarioTest, DstSkippedHourIsEmpty) {
  History h(Rules("  - {id: recent, rule: 'count(visit, 2h) >= 1'}\n", kNewYork));
  h.Event("visit", At("2026-03-08T01:30:00-05:00"));
  // Hours 01 and 02 would be the window at 02:xx, but 02 does not exist:
  // 03:00 EDT starts the hour after, and the 01 hour leaves then.
  EXPECT_EQ(h.Next("recent", At("2026-03-08T01:30:00-05:00")), At("2026-03-08T03:00:00-04:00"));
}

TEST(ScenarioTest, DstRepeatedHourIsOneUnit) {
  History h(Rules("  - {id: hour, rule: 'count(visit, 1h) >= 1'}\n", kNewYork));
  h.Event("visit", At("2026-11-01T01:30:00-04:00"));
  EXPECT_TRUE(h.In("hour", At("2026-11-01T01:45:00-05:00")));  // second 01:45, same hour
  EXPECT_EQ(h.Next("hour", At("2026-11-01T01:30:00-04:00")), At("2026-11-01T02:00:00-05:00"));
}

TEST(ScenarioTest, DayStartsAtTheFirstInstantWhenMidnightIsSkipped) {
  // America/Santiago skips 2026-09-06 00:00: the day starts at 01:00 -03.
  History h(Rules("  - {id: today, rule: 'did(visit, today)'}\n",
                  "timezone: America/Santiago\nsegments:\n"));
  h.Event("visit", At("2026-09-05T20:00:00-04:00"));
  EXPECT_EQ(h.Next("today", At("2026-09-05T20:00:00-04:00")), At("2026-09-06T01:00:00-03:00"));
}

// `event` at 09:01 … 09:40 of day `d`.
void EveryMinute(History* h, const char* event, int d) {
  for (int m = 1; m <= 40; ++m) {
    char t[16];
    std::snprintf(t, sizeof(t), "09:%02d:00", m);
    h->Event(event, Day(d, t));
  }
}

// A step's events are bounded per user, but never the ones the attempt
// uses: 32 and more events of a later step before the step that precedes
// it must not push out the event that completes the attempt.
TEST(ScenarioTest, ManyEarlyStepEventsDoNotHideTheOneThatCompletes) {
  History h(Rules("  - {id: s, rule: 'dropped(view -> cart -> buy, within 1h)'}\n"));
  h.Event("view", Day(5, "09:00:00"));
  EveryMinute(&h, "buy", 5);  // before any cart: no step of this attempt
  h.Event("cart", Day(5, "09:41:00")).Event("buy", Day(5, "09:45:00"));
  EXPECT_FALSE(h.In("s", Day(5, "10:00:00")));  // completed within the hour
  EXPECT_FALSE(h.In("s", Day(6)));
  // And without the last buy it drops at the deadline.
  History d(Rules("  - {id: s, rule: 'dropped(view -> cart -> buy, within 1h)'}\n"));
  d.Event("view", Day(5, "09:00:00"));
  EveryMinute(&d, "buy", 5);
  d.Event("cart", Day(5, "09:41:00"));
  EXPECT_TRUE(d.In("s", Day(5, "10:00:00")));
}

// The same with a `yesterday` window: a busy day before the attempt's
// fills the step's events, and today's attempt must still see its step.
TEST(ScenarioTest, ABusyDayBeforeDoesNotHideTodaysStep) {
  History h(Rules("  - {id: s, rule: 'dropped(search -> click, within 10m, yesterday)'}\n"));
  h.Event("search", Day(5, "09:00:00"));
  EveryMinute(&h, "click", 5);
  h.Event("search", Day(6, "10:00:00")).Event("click", Day(6, "10:01:00"));
  // Yesterday's (the 6th's) attempt completed: the 7th holds no drop.
  EXPECT_FALSE(h.In("s", Day(7, "12:00:00")));
  EXPECT_FALSE(h.In("s", Day(6, "23:00:00")));  // nor the 5th's, which completed too
  EXPECT_LE(h.state().funnels[0].steps[0].size(), FunnelState::kMaxStepEvents);
}

}  // namespace
}  // namespace segd::rules::testing
