// How the engine holds users within a batch: a user loaded by its timer
// and then met again in a record of the same batch is one user, not a
// second copy read from the store; decoded users are reused for the next
// users loaded (their vectors kept), and that gives exactly what loading
// each user afresh gives, however often the cache is written back.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "history.h"
#include "rules/engine.h"
#include "rules/evaluator.h"
#include "rules/features.h"
#include "state/user_record.h"
#include "stream/record_decoder.h"

namespace segd::rules {
namespace {

using testing::Compile;
using testing::Event;
using testing::Text;
using Store = testing::TempStore;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'763'856'000'000;  // 2025-11-23 00:00 UTC

// Runs one batch of `records` (each preceded by AdvanceTo its ts).
std::vector<ChangeRecord> Batch(PartitionEngine* engine, const std::vector<Record>& records,
                                int64_t advance_to = INT64_MIN) {
  std::vector<ChangeRecord> out;
  EXPECT_TRUE(engine->BeginBatch().ok());
  for (const Record& r : records) {
    EXPECT_TRUE(engine->AdvanceTo(r.ts_ms, &out).ok());
    EXPECT_TRUE(engine->Apply(r, &out).ok());
  }
  if (advance_to != INT64_MIN) {
    EXPECT_TRUE(engine->AdvanceTo(advance_to, &out).ok());
  }
  EXPECT_TRUE(engine->CommitBatch().ok());
  return out;
}

TEST(EngineBatchTest, AUserWhoseTimerFiredInTheBatchThenSendsARecordIsOneUser) {
  RuleSet rules = Compile(
      "timezone: UTC\nsegments:\n"
      "  - {id: quiet, rule: 'did(visit) and not did(visit, 1d)'}\n");
  Store store("timer-then-record");
  auto engine = std::move(PartitionEngine::Open(&rules, store.get())).value();
  Batch(engine.get(), {Event("u1", "visit", kT0 + 1000)});
  // u2's record moves the clock past midnight: u1's timer fires (u1 enters
  // quiet, its first change) before u1's own visit, in the same batch,
  // makes it leave (its second change).
  auto out = Batch(engine.get(), {Event("u2", "visit", kT0 + kDay + 5),
                                  Event("u1", "visit", kT0 + kDay + 10)});
  EXPECT_EQ(Text(out),
            "{\"id\":\"quiet:1:1:u1\",\"user_id\":\"u1\",\"segment\":\"quiet\","
            "\"change\":\"enter\",\"at\":" + std::to_string(kT0 + kDay) +
                ",\"cause\":\"time\"}\n"
                "{\"id\":\"quiet:1:2:u1\",\"user_id\":\"u1\",\"segment\":\"quiet\","
                "\"change\":\"leave\",\"at\":" + std::to_string(kT0 + kDay + 10) +
                ",\"cause\":\"event\"}\n");
  // Both changes were kept: the next one is u1's third.
  out = Batch(engine.get(), {}, kT0 + 2 * kDay);
  EXPECT_EQ(Text(out),
            "{\"id\":\"quiet:1:3:u1\",\"user_id\":\"u1\",\"segment\":\"quiet\","
            "\"change\":\"enter\",\"at\":" + std::to_string(kT0 + 2 * kDay) +
                ",\"cause\":\"time\"}\n"
                "{\"id\":\"quiet:1:1:u2\",\"user_id\":\"u2\",\"segment\":\"quiet\","
                "\"change\":\"enter\",\"at\":" + std::to_string(kT0 + 2 * kDay) +
                ",\"cause\":\"time\"}\n");
}

// A timer set by a record is due before a later record of the same batch:
// it fires in that batch, before that record, although the batch had
// looked at the timers (and found none due) before it was set.
TEST(EngineBatchTest, ATimerSetInTheBatchFiresBeforeALaterRecordOfIt) {
  RuleSet rules = Compile(
      "timezone: UTC\nsegments:\n"
      "  - {id: stuck, rule: 'dropped(start -> done, within 30m, 1d)'}\n"
      "  - {id: visitor, rule: 'did(visit)'}\n");
  Store store("timer-in-batch");
  auto engine = std::move(PartitionEngine::Open(&rules, store.get())).value();
  constexpr int64_t kMinute = 60'000;
  auto out = Batch(engine.get(), {Event("u1", "start", kT0 + 1000),
                                  Event("u2", "visit", kT0 + 60 * kMinute)});
  EXPECT_EQ(Text(out),
            "{\"id\":\"stuck:1:1:u1\",\"user_id\":\"u1\",\"segment\":\"stuck\","
            "\"change\":\"enter\",\"at\":" + std::to_string(kT0 + 1000 + 30 * kMinute) +
                ",\"cause\":\"time\"}\n"
                "{\"id\":\"visitor:1:1:u2\",\"user_id\":\"u2\",\"segment\":\"visitor\","
                "\"change\":\"enter\",\"at\":" + std::to_string(kT0 + 60 * kMinute) +
                ",\"cause\":\"event\"}\n");
}

// SEMANTICS.md §5: a changed segment with emit_initial re-evaluates the
// segments that read it, and every flip the change causes goes out, in
// them too; a change without emit_initial sends none, whatever the
// flags of the segments that read it.
TEST(EngineBatchTest, AChangeWithEmitInitialSendsTheFlipsOfItsDependentsToo) {
  auto rules = [](const char* a_rule, bool a_emit, bool b_emit) {
    return Compile(std::string("timezone: UTC\nsegments:\n  - {id: a, rule: '") + a_rule +
                   "', emit_initial: " + (a_emit ? "true" : "false") +
                   "}\n  - {id: b, rule: 'in_segment(a)', emit_initial: " +
                   (b_emit ? "true" : "false") + "}\n");
  };
  RuleSet v1 = rules("did(buy, 30d)", false, false);  // day buckets kept already
  for (bool a_emit : {true, false}) {
    Store store(std::string("emit-") + (a_emit ? "on" : "off"));
    {
      auto engine = std::move(PartitionEngine::Open(&v1, store.get())).value();
      Batch(engine.get(), {Event("u1", "buy", kT0), Event("u2", "buy", kT0 + 9 * kDay),
                           Event("u3", "visit", kT0 + 10 * kDay)});
    }
    // Only a's rule changes; b's flag is the opposite of a's.
    RuleSet v2 = rules("did(buy, 7d)", a_emit, !a_emit);
    auto engine = std::move(PartitionEngine::Open(&v2, store.get())).value();
    ASSERT_TRUE(engine->NeedsMigration());
    std::vector<ChangeRecord> out;
    ASSERT_TRUE(engine->BeginBatch().ok());
    ASSERT_TRUE(engine->Migrate(&out).ok());
    ASSERT_TRUE(engine->CommitBatch().ok());
    std::string at = std::to_string(kT0 + 10 * kDay);
    if (a_emit) {
      EXPECT_EQ(Text(out),
                "{\"id\":\"a:2:1:u1\",\"user_id\":\"u1\",\"segment\":\"a\",\"change\":"
                "\"leave\",\"at\":" + at + ",\"cause\":\"definition\"}\n"
                "{\"id\":\"b:1:2:u1\",\"user_id\":\"u1\",\"segment\":\"b\",\"change\":"
                "\"leave\",\"at\":" + at + ",\"cause\":\"definition\"}\n");
    } else {
      EXPECT_EQ(Text(out), "");
    }
  }
}

// Users of every shape (sums, hour buckets, all-time active days, funnel
// steps, properties kept by day) and users with nothing, interleaved, so
// that a reused user object goes from one shape to another.
constexpr char kMixedRules[] =
    "timezone: Asia/Shanghai\nsegments:\n"
    "  - {id: spender, rule: 'sum(purchase.amount, 7d) >= 100'}\n"
    "  - {id: chatty, rule: 'count(comment, 24h) >= 2'}\n"
    "  - {id: regular, rule: 'active_days(visit) >= 3 and not did(visit, 2d)'}\n"
    "  - {id: dropped, rule: 'dropped(start -> code -> done, within 2h, 1d)'}\n"
    "  - {id: few, rule: 'user.contacts@yesterday < 3'}\n"
    "  - {id: vip, rule: 'user.level >= 5 and did(purchase)'}\n"
    "  - {id: quiet_vip, rule: 'in_segment(vip) and not did(visit, 3d)'}\n";

std::vector<Record> MixedStream(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* events[] = {"visit", "purchase", "comment", "start", "code", "done", "other"};
  RecordDecoder decoder;
  MessageContext ctx;
  std::vector<Record> records;
  int64_t ts = kT0;
  for (int i = 0; i < n; ++i) {
    ts += static_cast<int64_t>(rng() % 3'600'000);
    std::string user = "u" + std::to_string(rng() % 40);
    std::string json = "{\"user_id\":\"" + user + "\",\"ts\":" + std::to_string(ts);
    int kind = static_cast<int>(rng() % 10);
    if (kind < 7) {
      json += ",\"event\":\"" + std::string(events[rng() % 7]) + "\"";
      json += ",\"props\":{\"amount\":" + std::to_string(rng() % 90) + "}";
    } else if (kind < 9) {
      json += ",\"set\":{\"contacts\":" + std::to_string(rng() % 6) +
              ",\"level\":" + std::to_string(rng() % 9) + "}";
    } else {
      json += ",\"unset\":[\"contacts\"]";
    }
    json += "}";
    Record r;
    auto rejected = decoder.Decode(json, ctx, &r);
    EXPECT_FALSE(rejected.has_value()) << json;
    records.push_back(std::move(r));
  }
  return records;
}

TEST(EngineBatchTest, ReusedUsersGiveWhatFreshOnesGive) {
  RuleSet rules = Compile(kMixedRules);
  auto stream = MixedStream(3000, 7);
  // The same batches with the cache written back after nearly every user
  // (its objects reused all the time) and with room for every user.
  Store tight("reuse-tight"), roomy("reuse-roomy");
  EngineOptions tight_options;
  tight_options.max_cached_users = 1;
  auto a = std::move(PartitionEngine::Open(&rules, tight.get(), tight_options)).value();
  auto b = std::move(PartitionEngine::Open(&rules, roomy.get())).value();
  std::string text_a, text_b;
  for (size_t from = 0; from < stream.size(); from += 250) {
    std::vector<Record> batch(stream.begin() + static_cast<ptrdiff_t>(from),
                              stream.begin() + static_cast<ptrdiff_t>(from + 250));
    text_a += Text(Batch(a.get(), batch));
    text_b += Text(Batch(b.get(), batch));
  }
  text_a += Text(Batch(a.get(), {}, stream.back().ts_ms + 10 * kDay));
  text_b += Text(Batch(b.get(), {}, stream.back().ts_ms + 10 * kDay));
  EXPECT_GT(std::count(text_a.begin(), text_a.end(), '\n'), 300);
  EXPECT_NE(text_a.find("\"cause\":\"time\""), std::string::npos);
  EXPECT_EQ(text_a, text_b);

  // And the users stored are the same once compacted at one instant (a
  // write-back compacts at the clock of its moment, which the cache's
  // bound moves).
  Evaluator eval(&rules);
  int64_t end = stream.back().ts_ms + 10 * kDay;
  ASSERT_TRUE(tight.get()->Begin().ok());
  ASSERT_TRUE(roomy.get()->Begin().ok());
  int stored = 0;
  for (int i = 0; i < 40; ++i) {
    std::string user = "u" + std::to_string(i);
    auto x = tight.get()->GetUser(user);
    auto y = roomy.get()->GetUser(user);
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_EQ(x->has_value(), y->has_value()) << user;
    if (!x->has_value()) continue;
    ++stored;
    UserRecord rx, ry;
    ASSERT_TRUE(DecodeUserRecord((*x)->record, &rx).ok());
    ASSERT_TRUE(DecodeUserRecord((*y)->record, &ry).ok());
    ShapeState(rules, &rx.state);
    ShapeState(rules, &ry.state);
    CompactState(rules, eval.calendar(), end, &rx.state);
    CompactState(rules, eval.calendar(), end, &ry.state);
    EXPECT_TRUE(rx == ry) << user;
  }
  EXPECT_EQ(stored, 40);
  tight.get()->Abort();
  roomy.get()->Abort();
}

// Decoded users go back to their thread when a batch ends, and engines of
// other partitions (other rule sets) on that thread take them up: users
// shaped under one rule set, reused under another, give what fresh ones
// give (the same stream and rules on a new thread).
TEST(EngineBatchTest, UsersLeftByAnotherRuleSetOnTheThreadGiveWhatFreshOnesGive) {
  RuleSet mixed = Compile(kMixedRules);
  RuleSet other = Compile(
      "timezone: UTC\nsegments:\n"
      "  - {id: twice, rule: 'count(visit, 3d) >= 2'}\n"
      "  - {id: started, rule: 'dropped(start -> code, within 1h)'}\n"
      "  - {id: rich, rule: 'sum(purchase.amount) > 300 and user.level > 2'}\n");
  auto stream = MixedStream(2000, 11);
  auto run = [&](const RuleSet& rules, const std::string& name) {
    Store store(name);
    auto engine = std::move(PartitionEngine::Open(&rules, store.get())).value();
    std::string text;
    for (size_t from = 0; from < stream.size(); from += 400) {
      std::vector<Record> batch(stream.begin() + static_cast<ptrdiff_t>(from),
                                stream.begin() + static_cast<ptrdiff_t>(from + 400));
      text += Text(Batch(engine.get(), batch));
    }
    return text;
  };
  run(mixed, "shape-first");  // leaves users shaped by kMixedRules here
  std::string reused = run(other, "shape-reused");
  std::string fresh;
  std::thread([&] { fresh = run(other, "shape-fresh"); }).join();
  EXPECT_GT(std::count(fresh.begin(), fresh.end(), '\n'), 100);
  EXPECT_EQ(reused, fresh);
}

}  // namespace
}  // namespace segd::rules
