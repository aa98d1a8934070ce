// Explanations against the engine: over histories driven through a
// PartitionEngine on a real store, every explained verdict equals the
// stored membership, and the explained next-change instant is the instant
// at which the engine, with no further record, emits the time-caused change.
#include "rules/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "history.h"
#include "rules/engine.h"
#include "rules/partition_view.h"
#include "rules/user_report.h"

namespace segd::rules::testing {
namespace {

using ::testing::HasSubstr;

// Scenario-like rules: windows in days and hours, yesterday, days_since,
// sums, funnels, @yesterday, in_segment and in_list.
constexpr char kRules[] = R"(timezone: Asia/Shanghai
lists:
  vip: [u3, u7]
segments:
  - {id: lapsing, rule: 'active_days(visit, 30d) >= 4 and not did(visit, 2d)'}
  - {id: burst, rule: 'count(visit, 5h) >= 2 or did(buy, yesterday)'}
  - {id: cooling, rule: 'days_since(buy) >= 2 and days_since(buy) < 4'}
  - {id: spender, rule: 'sum(buy.amount, 3d) > 10 and not did(buy, today)'}
  - {id: stuck, rule: 'dropped(visit -> cart -> buy, within 90m, 2d)'}
  - {id: tiered, rule: 'user.tier@yesterday = "gold" or (in_segment(cooling) and count(cart, 24h) < 2)'}
  - {id: vip_lapsing, rule: 'in_list("vip") and in_segment(lapsing)'}
)";

class Engine {
 public:
  explicit Engine(const std::string& yaml) : rules_(Compile(yaml)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("segd-explain-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    LmdbOptions o;
    o.sync = false;
    store_ = std::move(PartitionStore::Open(dir_.string(), o)).value();
    engine_ = std::move(PartitionEngine::Open(&rules_, store_.get())).value();
  }
  ~Engine() {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Feed(const std::vector<Record>& records) {
    ASSERT_TRUE(engine_->BeginBatch().ok());
    for (const Record& r : records) {
      ASSERT_TRUE(engine_->AdvanceTo(r.ts_ms, &changes_).ok());
      ASSERT_TRUE(engine_->Apply(r, &changes_).ok());
    }
    ASSERT_TRUE(engine_->CommitBatch().ok());
  }
  // Moves the clock with no record; returns the changes it causes.
  std::vector<ChangeRecord> AdvanceTo(int64_t t) {
    std::vector<ChangeRecord> out;
    EXPECT_TRUE(engine_->BeginBatch().ok());
    EXPECT_TRUE(engine_->AdvanceTo(t, &out).ok());
    EXPECT_TRUE(engine_->CommitBatch().ok());
    return out;
  }

  const RuleSet& rules() const { return rules_; }
  PartitionStore& store() { return *store_; }
  int64_t now() const { return engine_->now(); }

 private:
  RuleSet rules_;
  std::filesystem::path dir_;
  std::unique_ptr<PartitionStore> store_;
  std::unique_ptr<PartitionEngine> engine_;
  std::vector<ChangeRecord> changes_;
};

Record Event(const std::string& user, const std::string& event, int64_t ts, double amount = 0) {
  Record r;
  r.user_id = user;
  r.ts_ms = ts;
  r.has_event = true;
  r.event = event;
  r.props.push_back({"amount", amount});
  return r;
}

Record SetTier(const std::string& user, const std::string& tier, int64_t ts) {
  Record r;
  r.user_id = user;
  r.ts_ms = ts;
  r.set.push_back({"tier", tier});
  return r;
}

struct Explained {
  bool verdict;
  bool member;
  int64_t next;
  bool flips;
  std::string text;
};

// Every (user, segment) explained through a Reader, as the admin API would.
std::map<std::pair<std::string, std::string>, Explained> ExplainAll(
    Engine& e, const std::vector<std::string>& users) {
  std::map<std::pair<std::string, std::string>, Explained> out;
  auto reader = e.store().Read();
  EXPECT_TRUE(reader.ok());
  auto view = PartitionView::Open(&e.rules(), reader->get());
  EXPECT_TRUE(view.ok()) << view.status().ToString();
  StaticLists lists(e.rules());
  Explainer explainer(&e.rules(), &lists);
  for (const auto& u : users) {
    auto user = view->LoadUser(u);
    EXPECT_TRUE(user.ok() && user->has_value()) << u;
    if (!user.ok() || !user->has_value()) continue;
    for (size_t s = 0; s < e.rules().segments().size(); ++s) {
      Explanation x = explainer.Explain(static_cast<int>(s), (*user)->record.state, u,
                                        view->now(), (*user)->members[s] != 0);
      out[{u, x.segment}] = {x.verdict, (*user)->members[s] != 0, x.next_change.ms, x.flips,
                             ToText(x)};
    }
  }
  return out;
}

TEST(ExplainTest, VerdictsAndNextChangesAgreeWithTheEngineOverRandomHistories) {
  const int64_t start = At("2026-11-01T00:00:00+08:00");
  const char* events[] = {"visit", "cart", "buy"};
  int checked = 0, time_changes = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    Engine e(kRules);
    std::vector<std::string> users;
    for (int u = 0; u < 10; ++u) users.push_back("u" + std::to_string(u));
    std::vector<Record> records;
    int64_t t = start;
    for (int i = 0; i < 120; ++i) {
      t += pick(0, 150) * 60'000LL;
      const std::string& u = users[pick(0, 9)];
      int64_t ts = pick(0, 12) == 0 ? t - pick(1, 30) * 3'600'000LL : t;  // some late
      int kind = pick(0, 4);
      if (kind == 3) {
        records.push_back(SetTier(u, pick(0, 1) ? "gold" : "silver", ts));
      } else {
        records.push_back(Event(u, events[kind % 3], ts, pick(0, 8)));
      }
    }
    // Everyone has a record before the stop, so everyone is stored.
    for (const auto& u : users) records.push_back(Event(u, "ping", t));
    e.Feed(records);
    auto explained = ExplainAll(e, users);
    // No record from here on: every change is time's.
    std::map<std::pair<std::string, std::string>, int64_t> first;
    for (const ChangeRecord& c : e.AdvanceTo(t + 20 * kMsPerDay)) {
      EXPECT_EQ(c.cause, ChangeCause::kTime);
      first.emplace(std::make_pair(c.user_id, c.segment), c.at_ms);
    }
    for (const auto& [key, x] : explained) {
      ++checked;
      EXPECT_EQ(x.verdict, x.member) << "seed " << seed << "\n" << x.text;
      auto it = first.find(key);
      if (it == first.end()) {
        EXPECT_FALSE(x.flips && x.next <= t + 20 * kMsPerDay) << "seed " << seed << "\n" << x.text;
        continue;
      }
      ++time_changes;
      EXPECT_TRUE(x.flips) << "seed " << seed << "\n" << x.text;
      EXPECT_EQ(x.next, it->second) << "seed " << seed << "\n" << x.text;
    }
  }
  EXPECT_EQ(checked, 12 * 10 * 7);
  EXPECT_GT(time_changes, 100);  // the histories must exercise time
}

TEST(ExplainTest, LapsingActiveNamesTheVisitThatLeavesTheWindow) {
  Engine e("timezone: Asia/Shanghai\nsegments:\n"
           "  - {id: lapsing, rule: 'active_days(visit, 30d) >= 15 and not did(visit, 7d)'}\n");
  std::vector<Record> visits;
  for (int d = 1; d <= 15; ++d) {
    char ts[64];
    std::snprintf(ts, sizeof ts, "2026-11-%02dT10:00:00+08:00", d);
    visits.push_back(Event("u1", "visit", At(ts)));
  }
  visits.push_back(Event("u2", "visit", At("2026-11-16T08:00:00+08:00")));
  e.Feed(visits);
  auto reader = e.store().Read();
  auto view = PartitionView::Open(&e.rules(), reader->get());
  ASSERT_TRUE(view.ok());
  auto user = view->LoadUser("u1");
  ASSERT_TRUE(user.ok() && user->has_value());
  Explainer explainer(&e.rules());
  Explanation x = explainer.Explain(0, (*user)->record.state, "u1", view->now(), false);
  EXPECT_FALSE(x.verdict);
  ASSERT_EQ(x.rule.children.size(), 2u);
  EXPECT_TRUE(x.rule.children[0].verdict);
  EXPECT_EQ(x.rule.children[0].values[0].text, "active_days(visit, 30d)");
  EXPECT_EQ(x.rule.children[0].values[0].value, "15");
  EXPECT_EQ(x.next_change.ms, At("2026-11-22T00:00:00+08:00"));
  EXPECT_EQ(x.next_change.local, "2026-11-22 00:00 Asia/Shanghai");
  EXPECT_TRUE(x.flips);
  ASSERT_EQ(x.reasons.size(), 1u);
  EXPECT_EQ(x.reasons[0],
            "the visit of 2026-11-15 leaves the 7d window at 2026-11-22 00:00 Asia/Shanghai: "
            "count(visit, 7d) goes from 6 to 0, so did(visit, 7d) becomes false");
  EXPECT_THAT(ToJson(x), HasSubstr("\"next_change\":{\"at\":1795276800000,"));
  reader->reset();
  auto changes = e.AdvanceTo(At("2026-11-30T00:00:00+08:00"));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].at_ms, x.next_change.ms);
}

TEST(ExplainTest, FunnelDeadlineAndMissingValues) {
  History h("timezone: Asia/Shanghai\nsegments:\n"
            "  - {id: stuck, rule: 'dropped(signup_start -> send_code -> signup_done, within 30m, 1d)'}\n"
            "  - {id: young, rule: 'user.age < 25'}\n");
  h.Event("signup_start", At("2026-11-05T10:00:00+08:00"))
      .Event("send_code", At("2026-11-05T10:05:00+08:00"));
  Explainer explainer(&h.rules());
  int64_t now = At("2026-11-05T10:10:00+08:00");
  Explanation x = explainer.Explain(0, h.state(), "u1", now);
  EXPECT_FALSE(x.verdict);
  EXPECT_THAT(x.rule.detail, HasSubstr("send_code at 2026-11-05 10:05 Asia/Shanghai"));
  EXPECT_THAT(x.rule.detail, HasSubstr("not passed yet, waiting for signup_done"));
  EXPECT_EQ(x.next_change.ms, At("2026-11-05T10:30:00+08:00"));
  ASSERT_EQ(x.reasons.size(), 1u);
  EXPECT_THAT(x.reasons[0],
              HasSubstr("the attempt that began with signup_start at 2026-11-05 10:00 "
                        "Asia/Shanghai reaches its deadline (within 30m) at 2026-11-05 10:30 "
                        "Asia/Shanghai without signup_done"));
  Explanation y = explainer.Explain(1, h.state(), "u1", now);
  EXPECT_FALSE(y.verdict);
  EXPECT_EQ(y.rule.values[0].kind, ExplainedValue::Kind::kMissing);
  EXPECT_EQ(y.rule.detail, "a missing value makes every comparison false");
  EXPECT_EQ(y.next_change.ms, kNever);
  EXPECT_THAT(ToText(y), HasSubstr("never (only a new record can change it)"));
}

TEST(ExplainTest, SumsAreExactAndReportsReadable) {
  Engine e("timezone: UTC\nsegments:\n"
           "  - {id: spender, rule: 'sum(buy.amount, 3d) > 10.5'}\n"
           "  - {id: gold, rule: 'user.tier@yesterday = \"gold\"'}\n");
  e.Feed({Event("u1", "buy", At("2026-01-01T10:00:00Z"), 10.25),
          Event("u1", "buy", At("2026-01-02T10:00:00Z"), 0.5),
          SetTier("u1", "gold", At("2026-01-02T11:00:00Z"))});
  auto reader = e.store().Read();
  auto view = PartitionView::Open(&e.rules(), reader->get());
  ASSERT_TRUE(view.ok());
  auto user = view->LoadUser("u1");
  ASSERT_TRUE(user.ok() && user->has_value());
  Explainer explainer(&e.rules());
  Explanation x = explainer.Explain(0, (*user)->record.state, "u1", view->now());
  EXPECT_TRUE(x.verdict);
  EXPECT_EQ(x.rule.values[0].value, "10.75");
  EXPECT_EQ(x.next_change.ms, At("2026-01-04T00:00:00Z"));
  UserReport r = DescribeUser(*view, **user);
  EXPECT_EQ(r.records, 3u);
  ASSERT_EQ(r.segments.size(), 2u);
  EXPECT_TRUE(r.segments[0].member);
  EXPECT_EQ(r.segments[0].changes, 1u);
  ASSERT_EQ(r.props.size(), 1u);
  EXPECT_EQ(r.props[0].current.Display(), "\"gold\"");
  ASSERT_TRUE(r.props[0].yesterday);
  EXPECT_EQ(r.props[0].yesterday->kind, ExplainedValue::Kind::kMissing);
  ASSERT_EQ(r.features.size(), 1u);
  EXPECT_EQ(r.features[0].selector, "buy");
  EXPECT_EQ(r.features[0].sums, std::vector<std::string>{"10.75"});
  std::string text = ToText(r);
  EXPECT_THAT(text, HasSubstr("segments: spender\n"));
  EXPECT_THAT(text, HasSubstr("buy: 2 all time, sum of amount 10.75"));
  EXPECT_THAT(text, HasSubstr("days: 2026-01-01: 1 (amount 10.25), 2026-01-02: 1 (amount 0.5)"));
  EXPECT_THAT(ToJson(r), HasSubstr("\"segments\":[{\"id\":\"spender\",\"member\":true,"));
  // Members in user id order, paged after a given id.
  std::vector<std::string> members;
  ASSERT_TRUE(view->ForEachMember(0, "", [&](std::string_view u) {
                     members.emplace_back(u);
                     return true;
                   }).ok());
  EXPECT_EQ(members, std::vector<std::string>{"u1"});
  members.clear();
  ASSERT_TRUE(view->ForEachMember(0, "u1", [&](std::string_view u) {
                     members.emplace_back(u);
                     return true;
                   }).ok());
  EXPECT_TRUE(members.empty());
}

}  // namespace
}  // namespace segd::rules::testing
