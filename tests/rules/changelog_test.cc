// The changelog capture of PartitionStore (issue 12): the writes each batch
// hands over, applied in order to an empty store, rebuild a state that
// behaves exactly as the original — the same records then give the same
// change records, time-caused ones included — and the captured entries
// leave out the store's identity and position.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "history.h"
#include "rules/engine.h"

namespace segd::rules::testing {
namespace {

using Store = testing::TempStore;

constexpr char kRules[] = R"(timezone: Asia/Shanghai
segments:
  - {id: lapsing, rule: 'active_days(visit, 30d) >= 3 and not did(visit, 2d)'}
  - {id: burst, rule: 'count(visit, 5h) >= 2'}
  - {id: spender, rule: 'sum(buy.amount, 3d) > 10'}
  - {id: stuck, rule: 'dropped(visit -> cart -> buy, within 90m, 2d)'}
  - {id: gold, rule: 'user.tier = "gold" and in_segment(burst)'}
)";

std::vector<Record> Stream(int n, int64_t t0, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* events[] = {"visit", "cart", "buy", "visit"};
  std::vector<Record> out;
  int64_t t = t0;
  for (int i = 0; i < n; ++i) {
    t += static_cast<int64_t>(rng() % (3 * 3600 * 1000));
    Record r;
    r.user_id = "u" + std::to_string(rng() % 40);
    r.ts_ms = t;
    if (rng() % 7 == 0) {
      r.set.push_back({"tier", std::string(rng() % 2 ? "gold" : "silver")});
    } else {
      r.has_event = true;
      r.event = events[rng() % 4];
      r.props.push_back({"amount", static_cast<double>(rng() % 9)});
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Runs `records` in batches of `batch`; each batch's captured writes are
// appended to `log` (when given). Returns the change records as text.
std::string RunBatches(const RuleSet& rules, PartitionStore* store, const std::vector<Record>& records,
                size_t batch, std::vector<PartitionStore::Write>* log) {
  auto engine = std::move(PartitionEngine::Open(&rules, store)).value();
  store->set_capture(log != nullptr);
  std::string out;
  for (size_t i = 0; i < records.size(); i += batch) {
    std::vector<ChangeRecord> changes;
    EXPECT_TRUE(engine->BeginBatch().ok());
    for (size_t j = i; j < std::min(records.size(), i + batch); ++j) {
      EXPECT_TRUE(engine->AdvanceTo(records[j].ts_ms, &changes).ok());
      EXPECT_TRUE(engine->Apply(records[j], &changes).ok());
    }
    EXPECT_TRUE(engine->CommitBatch([&] {
                  if (log != nullptr) {
                    for (auto& w : store->TakeWrites()) log->push_back(std::move(w));
                  }
                  // Identity and position are not state: never captured.
                  EXPECT_TRUE(store->PutMeta("store_id", "abc").ok());
                  EXPECT_TRUE(store->PutMeta("input_offset", "7").ok());
                  return Status::Ok();
                })
                    .ok());
    for (const ChangeRecord& c : changes) out += c.ToJson() + "\n";
  }
  return out;
}

TEST(ChangelogTest, ARestoredStoreBehavesAsTheOriginal) {
  RuleSet rules = Compile(kRules);
  int64_t t0 = At("2026-11-01T08:00:00+08:00");
  auto first = Stream(600, t0, 1);
  auto second = Stream(600, first.back().ts_ms, 2);

  Store original("original"), restored("restored");
  std::vector<PartitionStore::Write> log;
  std::string head = RunBatches(rules, original.get(), first, 50, &log);
  ASSERT_FALSE(head.empty());
  ASSERT_FALSE(log.empty());
  bool tombstones = false;
  for (const auto& w : log) {
    EXPECT_FALSE(w.db == 'm' && (w.key == "store_id" || w.key == "input_offset")) << w.key;
    tombstones = tombstones || !w.value;
  }
  EXPECT_TRUE(tombstones) << "timers are removed as they fire";

  PartitionStore* r = restored.get();
  ASSERT_TRUE(r->Begin().ok());
  for (const auto& w : log) {
    std::string key = std::string(1, w.db) + w.key;
    ASSERT_TRUE(r->ApplyWrite(key, w.value ? std::optional<std::string_view>(*w.value)
                                           : std::nullopt)
                    .ok());
  }
  ASSERT_TRUE(r->Recount().ok());
  ASSERT_TRUE(r->Commit().ok());
  EXPECT_EQ(r->user_count(), original.get()->user_count());
  auto id = [](PartitionStore* s) {
    EXPECT_TRUE(s->Begin().ok());
    auto v = s->GetMeta("store_id");
    s->Abort();
    return v.ok() && v->has_value() ? **v : std::string("none");
  };
  EXPECT_EQ(id(r), "none");

  // The same records on both: the same output, byte for byte.
  std::string a = RunBatches(rules, original.get(), second, 50, nullptr);
  std::string b = RunBatches(rules, r, second, 50, nullptr);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST(ChangelogTest, CaptureOffRecordsNothing) {
  RuleSet rules = Compile(kRules);
  Store s("off");
  std::vector<PartitionStore::Write> log;
  auto engine = std::move(PartitionEngine::Open(&rules, s.get())).value();
  std::vector<ChangeRecord> changes;
  ASSERT_TRUE(engine->BeginBatch().ok());
  for (const Record& rec : Stream(20, At("2026-11-01T08:00:00+08:00"), 3)) {
    ASSERT_TRUE(engine->AdvanceTo(rec.ts_ms, &changes).ok());
    ASSERT_TRUE(engine->Apply(rec, &changes).ok());
  }
  ASSERT_TRUE(engine->CommitBatch([&] {
                    EXPECT_TRUE(s.get()->TakeWrites().empty());
                    return Status::Ok();
                  })
                  .ok());
}

}  // namespace
}  // namespace segd::rules::testing
