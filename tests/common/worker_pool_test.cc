#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace segd {
namespace {

TEST(WorkerPoolTest, RunsEveryJobOnceAndReturnsWhenAllAreDone) {
  for (int workers : {1, 2, 4}) {
    WorkerPool pool(workers);
    EXPECT_EQ(pool.size(), workers);
    for (size_t jobs : {0u, 1u, 3u, 100u}) {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> runs(jobs);
        std::vector<int> by(jobs, -1);
        pool.Run(jobs, [&](size_t j, int w) {
          runs[j].fetch_add(1);
          by[j] = w;
        });
        for (size_t j = 0; j < jobs; ++j) {
          EXPECT_EQ(runs[j].load(), 1) << workers << " workers, job " << j;
          EXPECT_GE(by[j], 0);
          EXPECT_LT(by[j], workers);
        }
      }
    }
  }
}

TEST(WorkerPoolTest, JobsRunInParallel) {
  // Two jobs that each wait for the other to start: only parallel workers
  // finish them (a single thread would wait forever; the test bounds it).
  WorkerPool pool(2);
  std::atomic<int> started{0};
  std::atomic<bool> both{true};
  pool.Run(2, [&](size_t, int) {
    started.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2) {
      if (std::chrono::steady_clock::now() > deadline) {
        both = false;
        return;
      }
      std::this_thread::yield();
    }
  });
  EXPECT_TRUE(both.load());
}

// Start returns at once; the other workers take jobs while the caller does
// something else, and Finish runs what is left on the caller.
TEST(WorkerPoolTest, StartLetsTheOthersWorkWhileTheCallerDoesSomethingElse) {
  for (int workers : {1, 2, 3}) {
    WorkerPool pool(workers);
    for (size_t jobs : {0u, 1u, 2u, 50u}) {
      std::vector<std::atomic<int>> runs(jobs);
      std::atomic<int> by_others{0};
      std::function<void(size_t, int)> fn = [&](size_t j, int w) {
        runs[j].fetch_add(1);
        if (w != 0) by_others.fetch_add(1);
      };
      pool.Start(jobs, fn);
      // With other workers and more than one job, one of them takes a job
      // before the caller gives up waiting (the caller takes none yet).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (workers > 1 && jobs > 1 && by_others.load() == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      if (workers > 1 && jobs > 1) {
        EXPECT_GT(by_others.load(), 0);
      }
      pool.Finish();
      for (size_t j = 0; j < jobs; ++j) EXPECT_EQ(runs[j].load(), 1) << workers << " workers";
      if (workers == 1) {
        EXPECT_EQ(by_others.load(), 0);
      }
    }
  }
}

TEST(WorkerPoolTest, CoreCountIsPositive) { EXPECT_GE(CoreCount(), 1); }

}  // namespace
}  // namespace segd
