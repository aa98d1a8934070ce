#include "state/lmdb_env.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace segd
