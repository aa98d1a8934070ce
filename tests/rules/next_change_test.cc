// Property test of the planner's next-change instant: over random
// histories, it equals the first instant at which the segment's value
// actually changes, found by evaluating at every boundary (every hour start,
// which includes every day start, and every funnel deadline). A wake-up
// that changes nothing would show as an instant earlier than the first
// change; a missed change as a later one.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "history.h"

namespace segd::rules::testing {
namespace {

constexpr char kRules[] = R"(timezone: America/New_York
segments:
  - {id: a, rule: 'active_days(visit, 7d) >= 3 and not did(visit, 2d)'}
  - {id: b, rule: 'count(visit, 5h) >= 2 or did(buy, yesterday)'}
  - {id: c, rule: 'days_since(buy) >= 3 and days_since(buy) < 6'}
  - {id: d, rule: 'sum(buy.amount, 3d) > 10 and not did(buy, today)'}
  - {id: e, rule: 'dropped(visit -> cart -> buy, within 90m, 2d)'}
  - {id: f, rule: 'user.tier@yesterday = "gold" or (in_segment(c) and count(cart, 24h) < 2)'}
  - {id: g, rule: 'not in_segment(a) and days_since(visit) > 1.5'}
  - {id: h, rule: 'count(visit, 3d) = count(cart, 3d) and did(visit, 2026-03-05..2026-03-09)'}
  - {id: i, rule: 'days_since(buy) in [0, 1, 4]'}
  - {id: j, rule: 'days_since(visit) < count(cart, 10d) or days_since(cart) != 2'}
)";

struct Gen {
  std::mt19937_64 rng;
  explicit Gen(uint64_t seed) : rng(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
};

TEST(NextChangeTest, EqualsTheFirstActualChangeOverRandomHistories) {
  // 2026-03-01 00:00 EST; the histories cross the DST start of 2026-03-08.
  const int64_t start = At("2026-03-01T00:00:00-05:00");
  const char* events[] = {"visit", "cart", "buy"};
  int checked = 0, changes_found = 0;
  std::set<std::string> flipped;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    Gen g(seed);
    History h(kRules);
    std::vector<int64_t> deadlines;
    int64_t t = start;
    int n = g.Int(1, 25);
    for (int i = 0; i < n; ++i) {
      t += g.Int(0, 14 * 60) * 60'000LL;  // up to 14 hours later
      int64_t ts = g.Int(0, 9) == 0 ? t - g.Int(1, 48) * 3'600'000LL : t;  // some late
      int kind = g.Int(0, 3);
      if (kind == 3) {
        h.Set("tier", std::string(g.Int(0, 1) ? "gold" : "silver"), ts);
        continue;
      }
      h.Event(events[kind], ts, {P("amount", static_cast<double>(g.Int(0, 8)))});
      if (kind == 0) deadlines.push_back(ts + 90 * 60'000LL);
    }
    const int64_t now = t;
    h.Compact(now);
    const Calendar& cal = h.rules().calendar();
    // Every boundary after now for 12 days, in order.
    std::set<int64_t> boundaries(deadlines.begin(), deadlines.end());
    for (int64_t hour = cal.HourOf(now) + 1; hour <= cal.HourOf(now) + 12 * 24; ++hour) {
      boundaries.insert(cal.HourStart(hour));
    }
    const int64_t horizon = *boundaries.rbegin();
    for (const auto& seg : h.rules().segments()) {
      bool v0 = h.In(seg.id, now);
      int64_t first = kNever;
      for (int64_t b : boundaries) {
        if (b <= now) continue;
        if (h.In(seg.id, b) != v0) {
          first = b;
          break;
        }
      }
      int64_t next = h.Next(seg.id, now);
      ++checked;
      if (first != kNever) {
        ++changes_found;
        flipped.insert(seg.id);
        EXPECT_EQ(next, first) << "seed " << seed << " segment " << seg.id << " now "
                               << cal.FormatLocal(now);
      } else {
        EXPECT_TRUE(next == kNever || next > horizon)
            << "seed " << seed << " segment " << seg.id << ": wakes at " << cal.FormatLocal(next)
            << " but nothing changes within 12 days";
      }
    }
  }
  EXPECT_EQ(checked, 120 * 10);
  // The histories must actually exercise time-driven changes of every rule.
  EXPECT_GT(changes_found, 100);
  for (const char* id : {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}) {
    EXPECT_TRUE(flipped.count(id)) << "no history flipped segment " << id << " by time";
  }
}

}  // namespace
}  // namespace segd::rules::testing
