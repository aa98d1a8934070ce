#include "state/lmdb_env.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace segd {
namespace {

class LmdbEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("segd-lmdb-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LmdbEnvTest, WritesSurviveReopen) {
  {
    auto env = LmdbEnv::Open(dir_, {});
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    auto db = (*env)->OpenDb("users");
    ASSERT_TRUE(db.ok());
    auto txn = (*env)->Begin(true);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Put(*db, "u1", "state-1").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto env = LmdbEnv::Open(dir_, {});
  ASSERT_TRUE(env.ok());
  auto db = (*env)->OpenDb("users");
  auto txn = (*env)->Begin(false);
  auto v = (*txn)->Get(*db, "u1");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "state-1");
  auto missing = (*txn)->Get(*db, "u2");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(LmdbEnvTest, UncommittedWritesAreDropped) {
  auto env = LmdbEnv::Open(dir_, {});
  auto db = (*env)->OpenDb("users");
  {
    auto txn = (*env)->Begin(true);
    ASSERT_TRUE((*txn)->Put(*db, "u1", "x").ok());
  }  // aborted by the destructor
  auto txn = (*env)->Begin(false);
  EXPECT_FALSE((*txn)->Get(*db, "u1")->has_value());
}

// A full map is reported as ResourceExhausted, never a crash; growing it lets
// the same write succeed, and growth stops at the configured limit.
TEST_F(LmdbEnvTest, MapFullIsReportedAndGrowthRecovers) {
  LmdbOptions opts;
  opts.initial_map_bytes = 256 << 10;
  opts.max_map_bytes = 4 << 20;
  opts.sync = false;  // 1500 fsyncs would only slow the test
  auto env = LmdbEnv::Open(dir_, opts);
  ASSERT_TRUE(env.ok());
  auto db = (*env)->OpenDb("big");
  std::string value(4000, 'v');
  int written = 0;
  bool saw_full = false;
  while (written < 1500) {
    auto txn = (*env)->Begin(true);
    ASSERT_TRUE(txn.ok());
    Status s = (*txn)->Put(*db, "k" + std::to_string(written), value);
    if (s.ok()) s = (*txn)->Commit();
    if (s.code() == Status::Code::kResourceExhausted) {
      saw_full = true;
      txn->reset();
      Status g = (*env)->Grow();
      if (!g.ok()) {
        EXPECT_EQ(g.code(), Status::Code::kResourceExhausted);
        break;
      }
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    ++written;
  }
  EXPECT_TRUE(saw_full);
  EXPECT_LE((*env)->map_bytes(), opts.max_map_bytes);
  EXPECT_GT(written, 200);
  EXPECT_LT(written, 1500);  // 1500 × 4 KB cannot fit in 4 MiB
}

// A durable store's data file gets real blocks up to the map's size when it
// opens and whenever it grows, with or without the write map, so a full
// disk fails the growth instead of a later commit; a store without sync is
// not preallocated.
TEST_F(LmdbEnvTest, DurableStoresArePreallocatedWithOrWithoutTheWriteMap) {
  for (bool writemap : {false, true}) {
    SCOPED_TRACE(writemap ? "write map" : "no write map");
    std::filesystem::remove_all(dir_);
    LmdbOptions opts;
    opts.initial_map_bytes = 1 << 20;
    opts.writemap = writemap;
    auto env = LmdbEnv::Open(dir_, opts);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    auto allocated = [&] {
      struct stat st;
      EXPECT_EQ(::stat((dir_ / "data.mdb").c_str(), &st), 0);
      return static_cast<uint64_t>(st.st_blocks) * 512;
    };
    EXPECT_GE(allocated(), uint64_t{1} << 20);
    ASSERT_TRUE((*env)->Grow().ok());
    EXPECT_GE(allocated(), uint64_t{2} << 20);
    auto db = (*env)->OpenDb("users");
    auto txn = (*env)->Begin(true);
    ASSERT_TRUE((*txn)->Put(*db, "u1", "x").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  std::filesystem::remove_all(dir_);
  LmdbOptions opts;
  opts.initial_map_bytes = 1 << 20;
  opts.sync = false;
  auto env = LmdbEnv::Open(dir_, opts);
  ASSERT_TRUE(env.ok());
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "data.mdb").c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);
}

}  // namespace
}  // namespace segd
