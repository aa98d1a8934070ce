// A store as a copy of its changelog: the base a store keeps, and a tail
// applied onto a copy (even one cut short and applied again) giving the
// same content as the whole changelog applied to an empty store.
#include "daemon/changelog_copy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace segd {
namespace {

class ChangelogCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/segd-copy-XXXXXX";
    dir_ = mkdtemp(tmpl);
    // A changelog: users written, rewritten and deleted, meta and timers.
    for (int i = 0; i < 3000; ++i) {
      std::string user = "u" + std::to_string(i % 700);
      if (i % 11 == 5) {
        log_.push_back({user, std::nullopt});
      } else {
        log_.push_back({user, std::string(40 + i % 60, static_cast<char>('a' + i % 26))});
      }
      if (i % 97 == 0) log_.push_back({"t" + std::to_string(i), std::string("x")});
      if (i % 500 == 0) log_.push_back({"mchangelog", std::string("1")});
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<PartitionStore> Open(const std::string& name, uint64_t map_bytes = 64 << 10) {
    LmdbOptions o;
    o.initial_map_bytes = map_bytes;  // small by default: applying grows it
    auto s = PartitionStore::Open(dir_ + "/" + name, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    (*s)->set_capture(true);
    return std::move(s).value();
  }

  std::vector<ChangelogRecord> Slice(size_t from, size_t to) const {
    return {log_.begin() + static_cast<long>(from), log_.begin() + static_cast<long>(to)};
  }

  // Every captured key and value (the state a changelog stands for).
  static std::map<std::string, std::string> Content(PartitionStore* s) {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(s->Begin().ok());
    EXPECT_TRUE(s->CaptureFrom("", SIZE_MAX).ok());  // every key
    for (auto& w : s->TakeWrites()) out[std::string(1, w.db) + w.key] = w.value.value_or("");
    s->Abort();
    return out;
  }

  std::string dir_;
  std::vector<ChangelogRecord> log_;
};

TEST_F(ChangelogCopyTest, BaseEncodesAndRefusesMalformedText) {
  ChangelogBase b{12345, 77, 1700000000123};
  ChangelogBase d;
  ASSERT_TRUE(ChangelogBase::Decode(b.Encode(), &d));
  EXPECT_EQ(d.offset, 12345);
  EXPECT_EQ(d.seq, 77u);
  EXPECT_EQ(d.as_of_ms, 1700000000123);
  for (const char* bad : {"", "1 2", "1 2 3 4", "-1 2 3", "a 2 3", "1 2 3x"}) {
    EXPECT_FALSE(ChangelogBase::Decode(bad, &d)) << bad;
  }
}

TEST_F(ChangelogCopyTest, BaseIsUsableOnlyForTheSameSequenceAndWhileYoung) {
  ChangelogBase b{10, 5, 1000};
  EXPECT_TRUE(BaseUsable(b, 5, 1000 + kTailMaxAgeMs - 1));
  EXPECT_FALSE(BaseUsable(b, 6, 2000));  // a batch was written since
  EXPECT_FALSE(BaseUsable(b, 5, 1000 + kTailMaxAgeMs));  // tombstones may be gone
}

TEST_F(ChangelogCopyTest, TailOntoACopyEqualsTheWholeChangelog) {
  auto whole = Open("whole");
  ASSERT_TRUE(ApplyChangelog(whole.get(), log_, {static_cast<int64_t>(log_.size()), 0, 1}).ok());

  auto copy = Open("copy");
  auto none = ReadChangelogBase(copy.get());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  size_t k = 1800;
  ASSERT_TRUE(ApplyChangelog(copy.get(), Slice(0, k), {static_cast<int64_t>(k), 3, 2}).ok());
  auto base = ReadChangelogBase(copy.get());
  ASSERT_TRUE(base.ok() && base->has_value());
  EXPECT_EQ((*base)->offset, static_cast<int64_t>(k));
  EXPECT_EQ((*base)->seq, 3u);
  EXPECT_NE(Content(copy.get()), Content(whole.get()));

  // A tail restore cut short, then done again from the same base.
  ASSERT_TRUE(ApplyChangelog(copy.get(), Slice(k, k + 500), {static_cast<int64_t>(k) + 500, 3, 2})
                  .ok());
  ASSERT_TRUE(ApplyChangelog(copy.get(), Slice(k, log_.size()),
                             {static_cast<int64_t>(log_.size()), 3, 2})
                  .ok());
  EXPECT_EQ(Content(copy.get()), Content(whole.get()));
  EXPECT_GT(Content(whole.get()).size(), 500u);  // users, timers and meta
}

// The first changelog of a store that had none goes a part per batch, each
// batch with its own writes (users rewritten and added, timers set and
// removed, meta): the parts and the writes, applied in order to an empty
// store, give the store as it is after the last part.
TEST_F(ChangelogCopyTest, ASeedInPartsWithWritesBetweenAddsUpToTheStore) {
  auto src = Open("src", 16 << 20);  // written directly: room for it all
  std::vector<ChangelogRecord> log;
  auto take = [&] {
    for (auto& w : src->TakeWrites()) log.push_back({std::string(1, w.db) + w.key, w.value});
  };
  std::map<std::string, uint32_t> ids;
  std::map<std::pair<int64_t, uint32_t>, std::string> timers;
  auto put = [&](const std::string& user, int version) -> Status {
    auto [it, fresh] = ids.try_emplace(user, 0);
    if (fresh) it->second = src->NewUserId();
    return src->PutUser(user, it->second, user + ":" + std::to_string(version));
  };
  ASSERT_TRUE(src->Begin().ok());
  for (int i = 0; i < 1500; ++i) {
    std::string user = "u" + std::to_string(i);
    ASSERT_TRUE(put(user, 0).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(src->AddTimer(1000 * i, ids[user], user).ok());
      timers[{1000 * i, ids[user]}] = user;
    }
  }
  ASSERT_TRUE(src->PutMeta("clock", "0").ok());
  ASSERT_TRUE(src->Commit().ok());
  (void)src->TakeWrites();  // before the changelog

  std::optional<std::string> at = std::string();
  int parts = 0;
  for (int batch = 1; at.has_value(); ++batch) {
    ASSERT_TRUE(src->Begin().ok());
    // The batch's own writes, all over the key space.
    for (int j = 0; j < 20; ++j) {
      int i = (batch * 389 + j * 701) % 1800;  // up to u1799: some users are new
      std::string user = "u" + std::to_string(i);
      ASSERT_TRUE(put(user, batch).ok());
      if (!timers.empty() && j % 4 == 0) {
        auto victim = std::next(timers.begin(), (batch * 31 + j) % timers.size());
        ASSERT_TRUE(src->RemoveTimer(victim->first.first, victim->first.second).ok());
        timers.erase(victim);
      }
      if (j % 5 == 0) {
        int64_t due = 5'000'000 + batch * 100 + j;
        ASSERT_TRUE(src->AddTimer(due, ids[user], user).ok());
        timers[{due, ids[user]}] = user;
      }
    }
    ASSERT_TRUE(src->PutMeta("clock", std::to_string(batch)).ok());
    auto next = src->CaptureFrom(*at, 97);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    at = *next;
    ++parts;
    take();
    ASSERT_TRUE(src->Commit().ok());
  }
  EXPECT_GT(parts, 15);

  auto dst = Open("dst");
  ASSERT_TRUE(ApplyChangelog(dst.get(), log, {static_cast<int64_t>(log.size()), 0, 1}).ok());
  auto want = Content(src.get());
  EXPECT_EQ(Content(dst.get()), want);
  EXPECT_GT(want.size(), 2000u);
}

// The changelog turned on, off (writes go unrecorded) and on again: the
// store is sent again from the start, and the first part withdraws the
// mark the first time left in the topic, so that a restore between the
// parts refuses the changelog instead of taking it for the whole store.
TEST_F(ChangelogCopyTest, TurnedOffAndOnAgainTheStoreIsSentAgainAndTheOldMarkWithdrawn) {
  auto src = Open("onoff", 16 << 20);
  std::vector<ChangelogRecord> log;
  auto take = [&] {
    for (auto& w : src->TakeWrites()) log.push_back({std::string(1, w.db) + w.key, w.value});
  };
  auto write_users = [&](int version) {
    for (int i = 0; i < 300; ++i) {
      std::string user = "u" + std::to_string(i);
      auto stored = src->GetUser(user);
      ASSERT_TRUE(stored.ok());
      uint32_t id = stored->has_value() ? (*stored)->id : src->NewUserId();
      ASSERT_TRUE(src->PutUser(user, id, user + ":" + std::to_string(version)).ok());
    }
  };
  auto complete = [&](const std::vector<ChangelogRecord>& records) {
    auto dst = Open("onoff-dst" + std::to_string(records.size()), 16 << 20);
    EXPECT_TRUE(
        ApplyChangelog(dst.get(), records, {static_cast<int64_t>(records.size()), 0, 1}).ok());
    EXPECT_TRUE(dst->Begin().ok());
    auto done = ChangelogComplete(dst.get());
    dst->Abort();
    return done.ok() && *done;
  };
  // On: one batch sends everything, and the mark.
  ASSERT_TRUE(src->Begin().ok());
  write_users(1);
  auto done = SendChangelogPart(src.get(), 100000);
  ASSERT_TRUE(done.ok() && *done);
  take();
  ASSERT_TRUE(src->Commit().ok());
  EXPECT_TRUE(complete(log));

  // Off: the store forgets, and its writes reach no changelog.
  src->set_capture(false);
  ASSERT_TRUE(src->Begin().ok());
  ASSERT_TRUE(ForgetChangelog(src.get()).ok());
  write_users(2);
  ASSERT_TRUE(src->Commit().ok());
  ASSERT_TRUE(src->Begin().ok());
  auto forgot = ChangelogComplete(src.get());
  src->Abort();
  ASSERT_TRUE(forgot.ok());
  EXPECT_FALSE(*forgot);

  // On again: parts of 50 keys, each batch with writes of its own.
  src->set_capture(true);
  int parts = 0;
  for (bool all = false; !all;) {
    ASSERT_TRUE(src->Begin().ok());
    write_users(3 + parts);
    auto part = SendChangelogPart(src.get(), 50);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    all = *part;
    take();
    ASSERT_TRUE(src->Commit().ok());
    if (++parts == 1) {
      EXPECT_FALSE(complete(log));  // the old mark is withdrawn
    }
  }
  EXPECT_GT(parts, 3);
  EXPECT_TRUE(complete(log));
  auto dst = Open("onoff-final", 16 << 20);
  ASSERT_TRUE(ApplyChangelog(dst.get(), log, {static_cast<int64_t>(log.size()), 0, 1}).ok());
  EXPECT_EQ(Content(dst.get()), Content(src.get()));
}

}  // namespace
}  // namespace segd
