// Readers of a partition store: on another thread during the writer's batch,
// and from another process that opens the environment read-only while the
// writer holds it open (as `segd inspect` does next to a running segd).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "state/partition_store.h"

namespace segd {
namespace {

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("segd-reader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Status PutUser(PartitionStore& store, const std::string& user, const std::string& rec) {
    SEGD_RETURN_IF_ERROR(store.Begin());
    SEGD_RETURN_IF_ERROR(store.PutUser(user, store.NewUserId(), rec));
    return store.Commit();
  }

  std::filesystem::path dir_;
};

TEST_F(ReaderTest, AnotherThreadReadsTheLastCommitDuringABatch) {
  auto store = PartitionStore::Open(dir_.string(), {});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(PutUser(**store, "u1", "one").ok());
  ASSERT_TRUE((*store)->Begin().ok());
  ASSERT_TRUE((*store)->PutUser("u2", (*store)->NewUserId(), "two").ok());
  std::thread admin([&] {
    auto reader = (*store)->Read();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto u1 = (*reader)->GetUser("u1");
    ASSERT_TRUE(u1.ok() && u1->has_value());
    EXPECT_EQ((*u1)->record, "one");
    auto u2 = (*reader)->GetUser("u2");  // not committed yet
    ASSERT_TRUE(u2.ok());
    EXPECT_FALSE(u2->has_value());
  });
  admin.join();
  ASSERT_TRUE((*store)->Commit().ok());
  auto reader = (*store)->Read();
  ASSERT_TRUE(reader.ok());
  int users = 0;
  ASSERT_TRUE((*reader)->ForEachUser("", [&](std::string_view, uint32_t, std::string_view) {
                         ++users;
                         return true;
                       }).ok());
  EXPECT_EQ(users, 2);
}

// What a reader of the last commit would miss: a user written in this
// transaction (directly or from the changelog), and nothing else.
TEST_F(ReaderTest, TheStoreSaysWhetherThisTransactionWroteAUser) {
  auto store = PartitionStore::Open(dir_.string(), {});
  ASSERT_TRUE(store.ok());
  PartitionStore& s = **store;
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_FALSE(s.users_written());
  ASSERT_TRUE(s.PutMeta("k", "v").ok());
  ASSERT_TRUE(s.AddTimer(5, 0, "u1").ok());
  EXPECT_FALSE(s.users_written());
  ASSERT_TRUE(s.PutUser("u1", s.NewUserId(), "one").ok());
  EXPECT_TRUE(s.users_written());
  ASSERT_TRUE(s.Commit().ok());
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_FALSE(s.users_written());
  ASSERT_TRUE(s.ApplyWrite("mk", std::string_view("w")).ok());
  EXPECT_FALSE(s.users_written());
  ASSERT_TRUE(s.ApplyWrite("uu2", std::nullopt).ok());
  EXPECT_TRUE(s.users_written());
  s.Abort();
  ASSERT_TRUE(s.Begin().ok());
  EXPECT_FALSE(s.users_written());
  s.Abort();
}

// The writer is another process that keeps the environment open (with a
// write transaction open at one point) and grows its map past the size the
// reader mapped.
TEST_F(ReaderTest, ReadOnlyOpenWhileAnotherProcessWrites) {
  int to_child[2], to_parent[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(to_parent), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The writer: signals after each step, waits for the reader to go on.
    char c;
    LmdbOptions o;
    o.initial_map_bytes = 1 << 20;
    auto store = PartitionStore::Open(dir_.string(), o);
    bool ok = store.ok() && PutUser(**store, "u1", "one").ok() &&
              (*store)->Begin().ok() && (*store)->PutUser("u2", 1, "two").ok();
    ok = ok && write(to_parent[1], "1", 1) == 1 && read(to_child[0], &c, 1) == 1;
    ok = ok && (*store)->Commit().ok() && (*store)->Grow().ok() && (*store)->Grow().ok() &&
         (*store)->Grow().ok() && PutUser(**store, "u3", std::string(3 << 20, 'x')).ok();
    ok = ok && write(to_parent[1], "2", 1) == 1 && read(to_child[0], &c, 1) == 1;
    _exit(ok ? 0 : 1);
  }
  char c;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  LmdbOptions ro;
  ro.read_only = true;
  auto store = PartitionStore::Open(dir_.string(), ro);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->read_only());
  {
    auto reader = (*store)->Read();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto u1 = (*reader)->GetUser("u1");
    ASSERT_TRUE(u1.ok() && u1->has_value());
    EXPECT_EQ((*u1)->record, "one");
    EXPECT_FALSE((*reader)->GetUser("u2")->has_value());  // its transaction is still open
  }
  EXPECT_FALSE((*store)->Begin().ok());  // no writing through a read-only store
  ASSERT_EQ(write(to_child[1], "g", 1), 1);
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  {
    auto reader = (*store)->Read();  // the map grew: adopted at Begin
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_TRUE((*reader)->GetUser("u2")->has_value());
    auto u3 = (*reader)->GetUser("u3");
    ASSERT_TRUE(u3.ok() && u3->has_value());
    EXPECT_EQ((*u3)->record.size(), 3u << 20);  // beyond the map first read
  }
  ASSERT_EQ(write(to_child[1], "e", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

using StoreMapTest = ReaderTest;

TEST_F(StoreMapTest, RoomForARewriteIsMadeUntilHalfTheMapIsFree) {
  LmdbOptions o;
  o.sync = false;
  o.initial_map_bytes = 1 << 20;
  auto store = PartitionStore::Open(dir_.string(), o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // Less than half in use: nothing to do.
  ASSERT_TRUE(PutUser(**store, "u0", std::string(100 << 10, 'x')).ok());
  EXPECT_FALSE((*store)->MakeRoomForRewrite());
  EXPECT_EQ((*store)->env().map_bytes(), 1u << 20);
  // About 700 KiB in use: the map doubles once, to 2 MiB.
  for (int i = 1; i <= 6; ++i) {
    ASSERT_TRUE(PutUser(**store, "u" + std::to_string(i), std::string(100 << 10, 'x')).ok());
  }
  ASSERT_GT((*store)->env().used_bytes(), 1u << 19);
  EXPECT_TRUE((*store)->MakeRoomForRewrite());
  EXPECT_EQ((*store)->env().map_bytes(), 2u << 20);
  EXPECT_LE((*store)->env().used_bytes(), 1u << 20);
  EXPECT_FALSE((*store)->MakeRoomForRewrite());
  // The room is there: a rewrite of every user fits in one transaction.
  ASSERT_TRUE((*store)->Begin().ok());
  for (int i = 0; i <= 6; ++i) {
    auto u = (*store)->GetUser("u" + std::to_string(i));
    ASSERT_TRUE(u.ok() && u->has_value());
    ASSERT_TRUE((*store)->PutUser("u" + std::to_string(i), (*u)->id, std::string(100 << 10, 'y')).ok());
  }
  EXPECT_TRUE((*store)->Commit().ok());
}

TEST_F(ReaderTest, ReadOnlyOpenOfAFolderWithoutAStoreIsNotFound) {
  LmdbOptions ro;
  ro.read_only = true;
  auto store = PartitionStore::Open(dir_.string(), ro);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_));  // nothing created
}

}  // namespace
}  // namespace segd
