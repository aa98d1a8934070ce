// A fixed set of worker threads that run the independent jobs of one step
// (one job per input partition: each has its own store and single writer)
// and wait until all are done. The calling thread is worker 0.
//
// Thread-safety: Run is called by one thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace segd {

class WorkerPool {
 public:
  // `workers` threads in all (at least 1), the caller's included.
  explicit WorkerPool(int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  // Runs fn(job, worker) for every job in [0, jobs), each once, spread over
  // the workers (worker in [0, size())); returns when every job is done.
  // Jobs are taken in index order.
  void Run(size_t jobs, const std::function<void(size_t job, int worker)>& fn);

  // Run in two steps, so that the caller can do something else while the
  // other workers start: Start hands the jobs to them and returns; Finish
  // runs, on the caller (worker 0), the jobs no worker has taken yet and
  // returns when every job is done. `fn` must live until Finish returns;
  // every Start is followed by a Finish before the next Start or Run.
  void Start(size_t jobs, const std::function<void(size_t job, int worker)>& fn);
  void Finish();

 private:
  void Work(int worker);

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t, int)>* fn_ = nullptr;
  size_t jobs_ = 0, next_ = 0, finished_ = 0;
  uint64_t round_ = 0;
  bool stop_ = false;
};

// The number of cores this process may run on (at least 1).
int CoreCount();

}  // namespace segd
