// A list uploaded over kept state (SEMANTICS.md §5): the seen users whose
// membership of a segment flips get change records with cause `list` at
// the partition's now; unseen listed users are left for their first
// record; the hinted path (only the users in one version of the list and
// not the other) gives exactly what the scan of every user gives; a list
// change survives a restart between the catalog and the commit.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "history.h"
#include "rules/definitions.h"
#include "rules/engine.h"

namespace segd::rules {
namespace {

using testing::Compile;
using testing::Event;
using testing::Text;
using Store = testing::TempStore;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'763'856'000'000;  // 2025-11-23 00:00 UTC

std::string Rules(const std::string& vip) {
  return "timezone: UTC\nlists:\n  vip: " + vip + "\n  unread: [u1]\nsegments:\n"
         "  - {id: visitor, rule: 'did(visit)'}\n"
         "  - {id: vip, rule: 'in_list(\"vip\")'}\n"
         "  - {id: vip_buyer, rule: 'in_list(\"vip\") and did(buy)'}\n"
         "  - {id: follows, rule: 'in_segment(vip_buyer) and did(visit)'}\n"
         "  - {id: quiet_vip, rule: 'in_list(\"vip\") and not did(visit, 1d)'}\n";
}

// Runs `records` under `rules`; returns the change records.
std::vector<ChangeRecord> Feed(const RuleSet& rules, PartitionStore* store,
                               const std::vector<Record>& records) {
  auto engine = std::move(PartitionEngine::Open(&rules, store)).value();
  std::vector<ChangeRecord> out;
  EXPECT_TRUE(engine->BeginBatch().ok());
  if (engine->NeedsMigration()) {
    EXPECT_TRUE(engine->Migrate(&out).ok());
  }
  for (const Record& r : records) {
    EXPECT_TRUE(engine->AdvanceTo(r.ts_ms, &out).ok());
    EXPECT_TRUE(engine->Apply(r, &out).ok());
  }
  EXPECT_TRUE(engine->CommitBatch().ok());
  return out;
}

// Opens `store` under `rules` (hinted or not) and runs the migration batch,
// its scan on `scan_workers` threads.
std::vector<ChangeRecord> Switch(const RuleSet& rules, PartitionStore* store,
                                 std::shared_ptr<const ListHint> hint, int scan_workers = 1) {
  EngineOptions options;
  options.scan_workers = scan_workers;
  auto engine = std::move(PartitionEngine::Open(&rules, store, options)).value();
  EXPECT_TRUE(engine->NeedsMigration());
  if (hint) engine->HintListChange(hint);
  std::vector<ChangeRecord> out;
  EXPECT_TRUE(engine->BeginBatch().ok());
  EXPECT_TRUE(engine->Migrate(&out).ok());
  EXPECT_TRUE(engine->CommitBatch().ok());
  return out;
}

const std::vector<Record> kHistory = {
    Event("u1", "buy", kT0 + 1000),     Event("u1", "visit", kT0 + 2000),
    Event("u2", "visit", kT0 + 3000),   Event("u3", "buy", kT0 + 4000),
    Event("u3", "visit", kT0 + 5000),   Event("u4", "visit", kT0 + 6000),
};

TEST(ListChangeTest, FlipsGoOutWithCauseListForSeenUsersOnly) {
  RuleSet v1 = Compile(Rules("[u1, u2]"));
  RuleSet v2 = Compile(Rules("[u2, u3, u5, u3]"));
  Store store("flips");
  Feed(v1, store.get(), kHistory);
  auto out = Switch(v2, store.get(), nullptr);
  int64_t now = kT0 + 6000;
  auto rec = [&](const char* id, const char* user, const char* change) {
    return std::string("{\"id\":\"") + id + "\",\"user_id\":\"" + user + "\",\"segment\":\"" +
           std::string(id).substr(0, std::string(id).find(':')) + "\",\"change\":\"" + change +
           "\",\"at\":" + std::to_string(now) + ",\"cause\":\"list\"}\n";
  };
  // u1 leaves every vip segment (and follows, which reads vip_buyer); u3
  // enters them; u2 is in both versions; u5 has not been seen.
  EXPECT_EQ(Text(out), rec("vip:1:2:u1", "u1", "leave") + rec("vip_buyer:1:2:u1", "u1", "leave") +
                           rec("follows:1:2:u1", "u1", "leave") +
                           rec("vip:1:1:u3", "u3", "enter") +
                           rec("vip_buyer:1:1:u3", "u3", "enter") +
                           rec("follows:1:1:u3", "u3", "enter"));

  // Applied once: reopening under the same lists has nothing to do.
  auto again = std::move(PartitionEngine::Open(&v2, store.get())).value();
  EXPECT_FALSE(again->NeedsMigration());
  again.reset();

  // u5's first record evaluates it under the new list.
  auto first = Feed(v2, store.get(), {Event("u5", "visit", kT0 + 7000)});
  EXPECT_NE(Text(first).find("\"id\":\"vip:1:1:u5\""), std::string::npos) << Text(first);

  // quiet_vip was rescheduled for u3 when it entered the list: the visit
  // leaves the 1d window at the next midnight, a time-caused enter.
  auto engine = std::move(PartitionEngine::Open(&v2, store.get())).value();
  std::vector<ChangeRecord> later;
  ASSERT_TRUE(engine->BeginBatch().ok());
  ASSERT_TRUE(engine->AdvanceTo(kT0 + kDay + 1, &later).ok());
  ASSERT_TRUE(engine->CommitBatch().ok());
  EXPECT_NE(Text(later).find("\"id\":\"quiet_vip:1:1:u3\",\"user_id\":\"u3\",\"segment\":"
                             "\"quiet_vip\",\"change\":\"enter\",\"at\":" +
                             std::to_string(kT0 + kDay) + ",\"cause\":\"time\""),
            std::string::npos)
      << Text(later);
}

TEST(ListChangeTest, HintedUsersGiveWhatTheScanOfEveryUserGives) {
  RuleSet v1 = Compile(Rules("[u1, u2, u4]"));
  RuleSet v2 = Compile(Rules("[u2, u3, u9]"));
  auto hint = ListChangeHint(v1, v2);
  ASSERT_NE(hint, nullptr);
  EXPECT_EQ(hint->from, ListsText(v1));
  EXPECT_EQ(hint->users, (std::vector<std::string>{"u1", "u3", "u4", "u9"}));
  EXPECT_EQ(ListChangeHint(v2, v2), nullptr);
  Store a("hinted"), b("scanned"), c("stale-hint");
  for (Store* s : {&a, &b, &c}) Feed(v1, s->get(), kHistory);
  std::string hinted = Text(Switch(v2, a.get(), hint));
  std::string scanned = Text(Switch(v2, b.get(), nullptr));
  // A hint computed from other lists than the store's is not used.
  std::string stale =
      Text(Switch(v2, c.get(), std::make_shared<const ListHint>(ListHint{ListsText(v2), {}})));
  EXPECT_FALSE(hinted.empty());
  EXPECT_EQ(hinted, scanned);
  EXPECT_EQ(stale, scanned);
}

// The scan of every user on several threads (3000 users: groups of 1024
// cut in slices) gives what it gives on one.
TEST(ListChangeTest, TheScanOnSeveralThreadsGivesWhatItGivesOnOne) {
  RuleSet v1 = Compile(Rules("[u1, u2, u4, u1500]"));
  RuleSet v2 = Compile(Rules("[u2, u3, u9, u2999, u1200]"));
  std::vector<Record> history = kHistory;
  for (int u = 100; u < 3100; ++u) {
    history.push_back(Event("u" + std::to_string(u), u % 3 ? "visit" : "buy", kT0 + 7000 + u));
  }
  Store one("one-thread"), three("three-threads");
  for (Store* s : {&one, &three}) Feed(v1, s->get(), history);
  std::string a = Text(Switch(v2, one.get(), nullptr, 1));
  std::string b = Text(Switch(v2, three.get(), nullptr, 3));
  EXPECT_NE(a.find("\"user_id\":\"u2999\""), std::string::npos) << a;
  EXPECT_NE(a.find("\"user_id\":\"u1500\""), std::string::npos) << a;
  EXPECT_EQ(b, a);
}

TEST(ListChangeTest, ListsNoSegmentReadsChangeNothing) {
  RuleSet v1 = Compile(Rules("[u1]"));
  RuleSet v2 = Compile(Rules("[u1]").replace(Rules("[u1]").find("unread: [u1]"), 12,
                                             "unread: [u1, u2, u3]"));
  EXPECT_EQ(ListsText(v1), ListsText(v2));
  Store store("unread");
  Feed(v1, store.get(), kHistory);
  auto engine = std::move(PartitionEngine::Open(&v2, store.get())).value();
  EXPECT_FALSE(engine->NeedsMigration());
}

TEST(ListChangeTest, ARestartBeforeTheCommitAppliesTheChangeThen) {
  // The catalog holds the new list, the store was never committed under
  // it (a crash in between): opening under it finds the change to make.
  RuleSet v1 = Compile(Rules("[u1]"));
  RuleSet v2 = Compile(Rules("[u3]"));
  Store store("restart");
  Feed(v1, store.get(), kHistory);
  {
    auto engine = std::move(PartitionEngine::Open(&v2, store.get())).value();
    std::vector<ChangeRecord> out;
    ASSERT_TRUE(engine->BeginBatch().ok());
    ASSERT_TRUE(engine->Migrate(&out).ok());
    engine->AbortBatch();  // the crash: nothing committed
  }
  store.Reopen();
  std::string out = Text(Switch(v2, store.get(), nullptr));
  EXPECT_NE(out.find("\"id\":\"vip:1:2:u1\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"id\":\"vip:1:1:u3\""), std::string::npos) << out;
}

TEST(ListChangeTest, ANewSegmentOnAnUploadedListIsADefinitionChange) {
  // The list changes and a new segment reads it, in one step: the new
  // segment is evaluated as a definition (emit_initial off: silent), and
  // the list's other readers flip with cause list.
  RuleSet v1 = Compile(Rules("[u1]"));
  RuleSet v2 = Compile(Rules("[u3]") + "  - {id: late, rule: 'in_list(\"vip\")'}\n");
  Store store("new-segment");
  Feed(v1, store.get(), kHistory);
  std::string out = Text(Switch(v2, store.get(), nullptr));
  EXPECT_EQ(out.find("\"segment\":\"late\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"id\":\"vip:1:1:u3\""), std::string::npos) << out;
  auto engine = std::move(PartitionEngine::Open(&v2, store.get())).value();
  int late = static_cast<int>(v2.segments().size()) - 1;
  EXPECT_EQ(engine->memberships().Count(late), 1u);
}

}  // namespace
}  // namespace segd::rules
