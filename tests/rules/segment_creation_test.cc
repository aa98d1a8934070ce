// Creating segments over kept state (SEMANTICS.md §5): segments appended
// after the others over the same layout take the engine's short path (one
// read-only pass; only the users the new segments concern are evaluated
// and written). Whatever path runs, the records must be those of the full
// migration, which the same new segments placed before the old ones force:
// the same records, in the same user order (within one user and instant
// the records follow the segments' order, which differs between the two
// files), and the same records afterwards, time-caused ones included.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "history.h"
#include "rules/definitions.h"
#include "rules/engine.h"

namespace segd::rules {
namespace {

using testing::Event;
using Store = testing::TempStore;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = 1'763'856'000'000;  // 2025-11-23 00:00 UTC

const char kOld[] =
    "  - {id: visitor, rule: 'did(visit, 7d)'}\n"
    "  - {id: buyer, rule: 'count(buy, 30d) >= 2'}\n"
    "  - {id: quiet, rule: 'did(visit) and not did(visit, 3d)'}\n";
// Read an old segment, each other, a window that slides, one that is true
// for users never seen (so the pass must find leavers and enterers alike).
// A rule set of `segments` in UTC.
RuleSet Compile(const std::string& segments) {
  return testing::Compile("timezone: UTC\nsegments:\n" + segments);
}

const char kNew[] =
    "  - {id: ever_bought, rule: 'did(buy)', emit_initial: true}\n"
    "  - {id: lapsed, rule: 'days_since(buy) > 2 and did(buy, 20d)', emit_initial: true}\n"
    "  - {id: never_bought, rule: 'not did(buy)', emit_initial: true}\n"
    "  - {id: loyal, rule: 'in_segment(visitor) and in_segment(ever_bought)', "
    "emit_initial: true}\n";

// Enough users to cross the migration's chunks (4096 users).
std::vector<Record> History(uint64_t seed, int users, int64_t from, int64_t to, int n) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> ts(n);
  for (auto& t : ts) t = from + static_cast<int64_t>(rng() % static_cast<uint64_t>(to - from));
  std::sort(ts.begin(), ts.end());
  std::vector<Record> out;
  for (int64_t t : ts) {
    std::string user = "u" + std::to_string(rng() % static_cast<uint64_t>(users));
    uint64_t kind = rng() % 6;
    Record r = Event(user, kind < 2 ? "buy" : kind < 5 ? "visit" : "share", t);
    if (rng() % 8 == 0) r.set.push_back({"city", std::string(rng() % 2 ? "x" : "y")});
    out.push_back(std::move(r));
  }
  return out;
}

// Opens the engine under `rules`, migrates when it must, then feeds
// `records` in batches; a timer budget leaves timers due across batches,
// so some users are migrated with their own timers due.
// With `users_written` (and no records: one batch), counts the users the
// batch writes. `scan_workers`: the threads of the migration's scan.
std::vector<ChangeRecord> Feed(const RuleSet& rules, PartitionStore* store,
                              const std::vector<Record>& records, size_t timers_per_batch,
                              size_t* users_written = nullptr, int scan_workers = 1) {
  store->set_capture(users_written != nullptr);
  EngineOptions options;
  options.max_timers_per_batch = timers_per_batch;
  options.scan_workers = scan_workers;
  auto engine = std::move(PartitionEngine::Open(&rules, store, options)).value();
  std::vector<ChangeRecord> out;
  EXPECT_TRUE(engine->BeginBatch().ok());
  if (engine->NeedsMigration()) {
    EXPECT_TRUE(engine->Migrate(&out).ok());
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0 && i % 500 == 0) {
      EXPECT_TRUE(engine->CommitBatch().ok());
      store->set_capture(false);
      EXPECT_TRUE(engine->BeginBatch().ok());
    }
    EXPECT_TRUE(engine->AdvanceTo(records[i].ts_ms, &out).ok());
    EXPECT_TRUE(engine->Apply(records[i], &out).ok());
  }
  EXPECT_TRUE(engine->CommitBatch([&] {
                if (users_written != nullptr) {
                  auto writes = store->TakeWrites();
                  *users_written = static_cast<size_t>(std::count_if(
                      writes.begin(), writes.end(),
                      [](const PartitionStore::Write& w) { return w.db == 'u'; }));
                }
                return Status::Ok();
              })
                  .ok());
  store->set_capture(false);
  return out;
}

// The records with each run of one user at one instant sorted: the order
// the two rule files may differ in.
std::vector<std::string> Normalized(const std::vector<ChangeRecord>& changes) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t i = 0; i <= changes.size(); ++i) {
    if (i < changes.size() && changes[i].user_id == changes[begin].user_id &&
        changes[i].at_ms == changes[begin].at_ms) {
      out.push_back(changes[i].ToJson());
      continue;
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end());
    if (i < changes.size()) {
      out.push_back(changes[i].ToJson());
      begin = i;
    }
  }
  return out;
}

// Equal, or where they first differ.
void ExpectSame(const std::vector<ChangeRecord>& got, const std::vector<ChangeRecord>& want) {
  std::vector<std::string> a = Normalized(got), b = Normalized(want);
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) {
      ADD_FAILURE() << "record " << i << ":\n  " << a[i] << "\nwhere the full migration gives\n  "
                    << b[i];
      return;
    }
  }
}

// Creates `news` after kOld, and the same placed before kOld's (loyal,
// which reads an old segment, after them), over the same history;
// compares. The short path's scan runs on 3 threads, the full one's on 1
// and, a second time, on 2 (their slices of the scan's groups of 1024
// users differ; the 6000 users also cross a chunk of 4096). Returns the users the short and
// the one-thread full migration wrote in the creation batch.
std::pair<size_t, size_t> ExpectCreationAsFull(const std::string& news, size_t min_records) {
  RuleSet old_rules = Compile(kOld);
  RuleSet appended = Compile(std::string(kOld) + news);
  // The new segments first: every user is carried over and every new
  // segment evaluated.
  size_t loyal = std::min(news.find("  - {id: loyal"), news.size());
  RuleSet reordered = Compile(news.substr(0, loyal) + kOld + news.substr(loyal));
  std::vector<Record> before = History(7, 6000, kT0, kT0 + 40 * kDay, 30000);
  std::vector<Record> after = History(8, 9000, kT0 + 41 * kDay, kT0 + 60 * kDay, 8000);

  Store fast("fast"), full("full"), full2("full2");
  for (Store* s : {&fast, &full, &full2}) {
    Feed(old_rules, s->get(), before, SIZE_MAX);
    // A midnight the history's last records passed, with timers left due.
    Feed(old_rules, s->get(), {Event("u0", "visit", kT0 + 40 * kDay + 5 * kHour)}, 3);
  }
  size_t fast_written = 0, full_written = 0, full2_written = 0;
  auto fast_created = Feed(appended, fast.get(), {}, SIZE_MAX, &fast_written, 3);
  auto full_created = Feed(reordered, full.get(), {}, SIZE_MAX, &full_written, 1);
  auto full2_created = Feed(reordered, full2.get(), {}, SIZE_MAX, &full2_written, 2);
  EXPECT_GE(fast_created.size(), min_records);
  ExpectSame(fast_created, full_created);
  EXPECT_EQ(full2_written, full_written);
  ExpectSame(full2_created, full_created);
  auto fast_later = Feed(appended, fast.get(), after, SIZE_MAX);
  auto full_later = Feed(reordered, full.get(), after, SIZE_MAX);
  auto full2_later = Feed(reordered, full2.get(), after, SIZE_MAX);
  ExpectSame(fast_later, full_later);
  ExpectSame(full2_later, full_later);
  if (news.find("id: lapsed") != std::string::npos) {
    EXPECT_TRUE(std::any_of(fast_later.begin(), fast_later.end(), [](const ChangeRecord& c) {
      return c.segment == "lapsed" && c.cause == ChangeCause::kTime;
    }));
  }
  return {fast_written, full_written};
}

TEST(SegmentCreationTest, AppendedSegmentsGiveWhatTheFullMigrationGives) {
  auto [fast, full] = ExpectCreationAsFull(kNew, 1000);
  EXPECT_GT(full, 5000u);  // every user seen
}

// A segment few users are in: only they (and users with timers due) are
// written; the full migration writes every user.
TEST(SegmentCreationTest, ASegmentFewAreInWritesOnlyThem) {
  auto [fast, full] = ExpectCreationAsFull(
      "  - {id: big_buyer, rule: 'count(buy) >= 5', emit_initial: true}\n", 20);
  EXPECT_GT(full, 5000u);
  EXPECT_LT(fast, full / 4);  // the enterers and the users left with timers due
}

// New segments that read an event and a property the plan did not keep:
// the layout grows at its ends, and the new features start empty.
TEST(SegmentCreationTest, AppendedSegmentsWithNewFeaturesGiveWhatTheFullMigrationGives) {
  ExpectCreationAsFull(
      "  - {id: sharer, rule: 'did(share, 3d)', emit_initial: true}\n"
      "  - {id: no_city, rule: 'user.city != \"x\" and did(buy)', emit_initial: true}\n" +
      std::string(kNew),
      1000);
}

// A stored user that does not decode stops the creation with an error that
// names the user, whether the scan runs in the transaction (one thread) or
// ahead of it on others, and nothing of the creation is committed.
TEST(SegmentCreationTest, AUserThatDoesNotDecodeIsNamed) {
  RuleSet old_rules = Compile(kOld);
  RuleSet appended = Compile(std::string(kOld) + kNew);
  for (int workers : {1, 3}) {
    Store store("corrupt" + std::to_string(workers));
    Feed(old_rules, store.get(), History(7, 3000, kT0, kT0 + 10 * kDay, 6000), SIZE_MAX);
    ASSERT_TRUE(store.get()->Begin().ok());
    auto u = store.get()->GetUser("u1234");
    ASSERT_TRUE(u.ok() && u->has_value());
    uint32_t id = (*u)->id;
    ASSERT_TRUE(store.get()->PutUser("u1234", id, "\x07garbage").ok());
    ASSERT_TRUE(store.get()->Commit().ok());
    EngineOptions options;
    options.scan_workers = workers;
    auto engine = std::move(PartitionEngine::Open(&appended, store.get(), options)).value();
    ASSERT_TRUE(engine->NeedsMigration());
    std::vector<ChangeRecord> out;
    ASSERT_TRUE(engine->BeginBatch().ok());
    Status s = engine->Migrate(&out);
    EXPECT_FALSE(s.ok()) << workers << " workers";
    EXPECT_NE(s.message().find("user u1234"), std::string::npos) << s.ToString();
    engine->AbortBatch();
    engine.reset();
    // Still to be made: the definitions were not committed.
    auto again = std::move(PartitionEngine::Open(&appended, store.get(), options)).value();
    EXPECT_TRUE(again->NeedsMigration());
  }
}

// As a wall clock runs it: the batch fires due timers before the
// migration, so users are written in the transaction already and the scan
// cannot read ahead in the last commit; it runs in the transaction, on 3
// threads here, and must give what it gives on one, then and afterwards.
// A segment without emit_initial that most users enter changes only the
// memberships: no user record is written again (the write-back of every
// entering user was most of a creation's cost), and the segment holds its
// members all the same, as a record arriving afterwards shows.
TEST(SegmentCreationTest, EnterersWithoutRecordsOutAreNotWrittenAgain) {
  RuleSet old_rules = Compile(kOld);
  RuleSet appended = Compile(std::string(kOld) + "  - {id: visited_ever, rule: 'did(visit)'}\n");
  std::vector<Record> before = History(7, 6000, kT0, kT0 + 40 * kDay, 30000);
  Store store("quiet-creation");
  // Every timer due by the last record has fired: none is left due.
  Feed(old_rules, store.get(), before, SIZE_MAX);
  size_t written = 99;
  auto created = Feed(appended, store.get(), {}, SIZE_MAX, &written, 2);
  EXPECT_TRUE(created.empty());
  EXPECT_EQ(written, 0u);
  auto engine = std::move(PartitionEngine::Open(&appended, store.get())).value();
  ASSERT_FALSE(engine->NeedsMigration());
  EXPECT_GT(engine->memberships().Count(3), 4000u);  // visited_ever
  // A visitor's next visit changes nothing; a first visit enters.
  std::vector<ChangeRecord> out;
  ASSERT_TRUE(engine->BeginBatch().ok());
  std::string visitor;
  for (const Record& r : before) {
    if (r.event == "visit") visitor = r.user_id;
  }
  for (const Record& r :
       {Event(visitor, "visit", kT0 + 40 * kDay), Event("new", "visit", kT0 + 40 * kDay)}) {
    ASSERT_TRUE(engine->AdvanceTo(r.ts_ms, &out).ok());
    ASSERT_TRUE(engine->Apply(r, &out).ok());
  }
  ASSERT_TRUE(engine->CommitBatch().ok());
  auto entered = std::count_if(out.begin(), out.end(), [](const ChangeRecord& c) {
    return c.segment == "visited_ever";
  });
  EXPECT_EQ(entered, 1);
  EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](const ChangeRecord& c) {
    return c.segment == "visited_ever" && c.user_id == "new" && c.change == ChangeKind::kEnter;
  }));
}

TEST(SegmentCreationTest, TheScanInTheTransactionOnSeveralThreadsGivesWhatOneGives) {
  RuleSet old_rules = Compile(kOld);
  RuleSet appended = Compile(std::string(kOld) + kNew);
  std::vector<Record> before = History(7, 6000, kT0, kT0 + 40 * kDay, 30000);
  std::vector<Record> after = History(8, 9000, kT0 + 41 * kDay, kT0 + 60 * kDay, 8000);
  std::vector<std::vector<ChangeRecord>> created, later;
  for (int workers : {1, 3}) {
    Store store("in-txn" + std::to_string(workers));
    Feed(old_rules, store.get(), before, SIZE_MAX);
    EngineOptions options;
    options.scan_workers = workers;
    auto engine = std::move(PartitionEngine::Open(&appended, store.get(), options)).value();
    ASSERT_TRUE(engine->NeedsMigration());
    std::vector<ChangeRecord> out;
    ASSERT_TRUE(engine->BeginBatch().ok());
    ASSERT_TRUE(engine->AdvanceTo(kT0 + 40 * kDay + 5 * kHour, &out).ok());
    size_t fired = out.size();
    EXPECT_GT(fired, 100u);  // users written before the scan
    ASSERT_TRUE(engine->Migrate(&out).ok());
    EXPECT_GT(out.size(), fired + 1000);
    ASSERT_TRUE(engine->CommitBatch().ok());
    engine.reset();
    created.push_back(std::move(out));
    later.push_back(Feed(appended, store.get(), after, SIZE_MAX));
  }
  ExpectSame(created[1], created[0]);
  ExpectSame(later[1], later[0]);
}

}  // namespace
}  // namespace segd::rules
