#include "common/worker_pool.h"

#include <sched.h>

namespace segd {

WorkerPool::WorkerPool(int workers) {
  for (int w = 1; w < workers; ++w) threads_.emplace_back([this, w] { Work(w); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Run(size_t jobs, const std::function<void(size_t, int)>& fn) {
  Start(jobs, fn);
  Finish();
}

void WorkerPool::Start(size_t jobs, const std::function<void(size_t, int)>& fn) {
  std::lock_guard lock(mu_);
  fn_ = &fn;
  jobs_ = jobs;
  next_ = 0;
  finished_ = 0;
  // No one is woken for a single job: the caller runs it in Finish (unless
  // a worker still awake from an earlier round takes it first).
  if (threads_.empty() || jobs <= 1) return;
  ++round_;
  wake_.notify_all();
}

void WorkerPool::Finish() {
  std::unique_lock lock(mu_);
  if (fn_ == nullptr) return;
  const auto* fn = fn_;
  while (next_ < jobs_) {
    size_t j = next_++;
    lock.unlock();
    (*fn)(j, 0);
    lock.lock();
    ++finished_;
  }
  done_.wait(lock, [&] { return finished_ == jobs_; });
  fn_ = nullptr;
}

void WorkerPool::Work(int worker) {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || (round_ != seen && fn_ != nullptr && next_ < jobs_); });
    if (stop_) return;
    seen = round_;
    while (fn_ != nullptr && next_ < jobs_) {
      size_t j = next_++;
      const auto* fn = fn_;
      lock.unlock();
      (*fn)(j, worker);
      lock.lock();
      if (++finished_ == jobs_) done_.notify_all();
    }
  }
}

int CoreCount() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace segd
