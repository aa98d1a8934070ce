// The daemon's pipeline (DESIGN.md, "Batches, durability, exactly once"):
// Kafka input → per partition, one LMDB transaction holding the state, the
// input position and the batch's outbox → one Kafka transaction producing
// the outbox and committing the input offsets with a delivery marker →
// the delivered outbox entries are dropped with the next batch.
//
// Each input partition has its own store, engine and clock (SEMANTICS.md
// §2); a poll may mix partitions, but each record touches only its own.
//
// Threading: Run() and every RebalanceListener callback run on the caller's
// thread (callbacks fire inside Consumer::Poll, between batches). Stop()
// and ready() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/worker_pool.h"
#include "daemon/config.h"
#include "daemon/partition.h"
#include "metrics/metrics.h"
#include "rules/plan.h"
#include "stream/consumer.h"
#include "stream/producer.h"
#include "stream/record_decoder.h"

namespace segd {

class Pipeline : public RebalanceListener {
 public:
  // `metrics` must outlive the pipeline.
  Pipeline(const Config& config, std::shared_ptr<const rules::RuleSet> rules, Metrics* metrics);
  ~Pipeline() override;

  // Creates missing output topics, the consumer and the producer, and
  // fences any earlier incarnation of this instance's transactional id.
  Status Start();
  // Consumes until Stop(); finishes and commits the batch in hand, then
  // leaves the group. Returns an error only when it cannot go on.
  Status Run();
  void Stop() { stop_ = true; }

  bool ready() const { return ready_; }

  // Makes `rules` the rule set of every partition (a run-time segment
  // change, SEMANTICS.md §5): each partition carries its state over and
  // evaluates the new and changed segments in a batch of its own, then the
  // output is delivered; MemberCounts() then has the new counts.
  // Thread-safe; waits up to `timeout_ms` for the pipeline thread
  // (Unavailable when it does not get there).
  Status ApplyRules(std::shared_ptr<const rules::RuleSet> rules, int timeout_ms);

  // Calls fn(tp, store) for each assigned partition's store, in (topic,
  // partition) order, while no partition can be closed. For the admin
  // thread: open only short-lived Readers. Thread-safe.
  void ForEachStore(const std::function<void(const TopicPartition&, PartitionStore*)>& fn) const;
  // Members per segment id over this instance's partitions, as of the last
  // batch. Thread-safe.
  std::map<std::string, uint64_t> MemberCounts() const;

  void OnAssigned(const std::vector<TopicPartition>& parts,
                  std::vector<PartitionOffset>* start) override;
  void OnRevoked(const std::vector<TopicPartition>& parts) override;
  void OnLost(const std::vector<TopicPartition>& parts) override;

 private:
  // Runs one poll's records (and due timers) through their partitions. A
  // partition whose store cannot commit (map at its limit, disk full) is
  // paused, rewound to its stored position and retried with backoff.
  Status Process(const MessageBatch& batch);
  // Delivers the partitions' outboxes and input positions in one Kafka
  // transaction, with their markers. On an abortable error it aborts (and on
  // a fatal one recreates the producer), keeps the outbox and tries again
  // after a backoff, so the consumer keeps polling meanwhile. `parts` empty:
  // every partition with work to deliver.
  Status Deliver(std::vector<Partition*> parts = {});
  Status TryTransaction(const std::vector<Partition*>& parts);
  // Pauses the partitions over a backpressure bound or waiting for space,
  // resumes the others; updates the gauges.
  void ApplyBackpressure();
  // Whether some partition has due timers (the next poll should not wait).
  bool TimersDue(int64_t wall_ms) const;
  // Runs a pending ApplyRules on the pipeline thread.
  Status ApplyPendingRules();
  void UpdateMemberCounts();
  Status CreateProducer();
  int TopicPartitions(const std::string& topic);
  void SetReady(bool ready);

  struct RulesCommand {
    std::shared_ptr<const rules::RuleSet> rules;
    bool done = false;
    Status result = Status::Unavailable("not applied");
  };

  const Config& config_;
  std::shared_ptr<const rules::RuleSet> rules_;
  Metrics* metrics_;
  // Partitions are processed on the pool's workers (`workers`), each with
  // its own decoder; one partition is on one worker at a time.
  WorkerPool pool_;
  std::vector<std::unique_ptr<RecordDecoder>> decoders_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<TransactionalProducer> producer_;
  std::map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  // Exclusive while partitions_ gains or loses a partition; shared while
  // the admin thread reads a store.
  mutable std::shared_mutex partitions_mu_;
  std::mutex command_mu_;
  std::condition_variable command_cv_;
  std::shared_ptr<RulesCommand> command_;  // pending ApplyRules
  mutable std::mutex counts_mu_;
  std::map<std::string, uint64_t> member_counts_;
  std::map<std::string, int> topic_partitions_;
  Status assign_error_;  // a partition that could not be opened: fatal
  int64_t deliver_at_ms_ = 0;  // after a failed transaction: next attempt
  int deliver_backoff_ms_ = 100;
  int64_t probe_at_ms_ = 0;  // brokers down: next metadata probe
  bool delivery_failing_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
};

}  // namespace segd
