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
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/worker_pool.h"
#include "daemon/catalog.h"
#include "daemon/config.h"
#include "daemon/partition.h"
#include "daemon/standby.h"
#include "metrics/metrics.h"
#include "rules/plan.h"
#include "stream/consumer.h"
#include "stream/definitions_log.h"
#include "stream/producer.h"
#include "stream/record_decoder.h"

namespace segd {

class Pipeline : public RebalanceListener {
 public:
  // `catalog` and `metrics` must outlive the pipeline.
  Pipeline(const Config& config, Catalog* catalog, Metrics* metrics);
  ~Pipeline() override;

  // Creates missing output topics, the consumer and the producer, and
  // fences any earlier incarnation of this instance's transactional id.
  // With definitions.enabled, reads the definitions topic to its end first
  // (the catalog then holds what it says), publishing a catalog.json from
  // before the topic existed when the topic is empty.
  Status Start();
  // Consumes until Stop(); finishes and commits the batch in hand, then
  // leaves the group. Returns an error only when it cannot go on.
  Status Run();
  void Stop() { stop_ = true; }

  bool ready() const { return ready_; }

  // Makes a prepared catalog change (an API segment or list change,
  // SEMANTICS.md §5) the rule set of every partition: each partition
  // carries its state over and evaluates the new and changed segments in a
  // batch of its own, then the output is delivered; MemberCounts() then has
  // the new counts. With definitions.enabled the change goes to the
  // definitions topic and this waits until this instance has read and
  // applied it, in the topic's order (every other instance does the same);
  // otherwise it is saved in catalog.json and handed to the pipeline thread.
  // Thread-safe, for one caller at a time; waits up to `timeout_ms`
  // (Unavailable when the change is not applied by then; it may still be).
  // FailedPrecondition: the change no longer applies (another instance's
  // change came first); ResourceExhausted: larger than the topic takes.
  Status ChangeDefinitions(Catalog::Change change, int timeout_ms);

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
  // One Kafka transaction: each partition's shipment (outbox entries,
  // input position, marker), taken between batches.
  struct Flight {
    std::vector<std::pair<TopicPartition, Partition::Shipment>> parts;
    Status result = Status::Internal("transaction not run");
    int64_t ended_ms = 0;  // wall clock when the transaction ended
  };
  // Delivers the partitions' outboxes and input positions in one Kafka
  // transaction, with their markers, and waits for it (after landing the
  // one in flight). On an abortable error it aborts (and on a fatal one
  // recreates the producer), keeps the outbox and tries again after a
  // backoff, so the consumer keeps polling meanwhile. `parts` empty: every
  // partition with work to deliver.
  Status Deliver(std::vector<Partition*> parts = {});
  // The same on a thread of its own, so that a batch is processed (into
  // the outbox) while the transaction runs; returns at once. Run lands it
  // before the next poll. REQUIRES: none in flight.
  Status DeliverInBackground();
  // Waits for the transaction in flight, if any, and finishes it.
  Status Land();
  // Fills `flight` from `parts` (empty: all) with work; false: nothing to
  // deliver now.
  bool Board(const std::vector<Partition*>& parts, Flight* flight);
  bool AnyWorkToDeliver() const;
  Status Finish(Flight& flight);
  Status TryTransaction(const Flight& flight);
  // Pauses the partitions over a backpressure bound or waiting for space,
  // resumes the others; updates the gauges.
  void ApplyBackpressure();
  // Whether some partition has due timers (the next poll should not wait).
  bool TimersDue(int64_t wall_ms) const;
  // Hands `rules` to the pipeline thread and waits for it to apply them
  // (definitions.enabled off).
  Status ApplyRules(std::shared_ptr<const rules::RuleSet> rules, int timeout_ms);
  // Runs a pending rule change (definitions.enabled off) on the pipeline
  // thread.
  Status ApplyPendingRules();
  // Makes `rules` every partition's rule set and migrates them.
  Status ApplyRuleSet(std::shared_ptr<const rules::RuleSet> rules);
  // Reads the definitions topic from the beginning (Start).
  Status LoadDefinitions();
  // Applies the definitions entries that have arrived, or all up to the
  // topic's end when `to_end`. A topic that cannot be read is logged and
  // tried again next time.
  void TailDefinitions(bool to_end);
  // Applies one entry to the catalog and the partitions; its outcome goes
  // to a ChangeDefinitions waiting for it.
  void ApplyDefinition(const DefinitionEntry& entry);
  void UpdateMemberCounts();
  Status CreateProducer();
  // TopicPartitionCount, asked again while the topic is not known yet.
  Result<int> PartitionCount(const std::string& topic);
  int TopicPartitions(const std::string& topic);
  void SetReady(bool ready);

  struct RulesCommand {
    std::shared_ptr<const rules::RuleSet> rules;
    bool done = false;
    Status result = Status::Unavailable("not applied");
  };

  const Config& config_;
  Catalog* catalog_;
  std::shared_ptr<const rules::RuleSet> rules_;
  Metrics* metrics_;
  // Partitions are processed on the pool's workers (`workers`), each with
  // its own decoder; one partition is on one worker at a time.
  WorkerPool pool_;
  std::vector<std::unique_ptr<RecordDecoder>> decoders_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<Standbys> standbys_;  // standby_replicas > 0
  std::unique_ptr<TransactionalProducer> producer_;
  std::map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  // Exclusive while partitions_ gains or loses a partition; shared while
  // the admin thread reads a store.
  mutable std::shared_mutex partitions_mu_;
  std::mutex command_mu_;
  std::condition_variable command_cv_;
  std::shared_ptr<RulesCommand> command_;  // pending rule change (no definitions topic)
  // definitions.enabled: the topic, and the outcome of each entry applied
  // (recent ones) for the ChangeDefinitions waiting on it.
  std::unique_ptr<DefinitionsLog> definitions_;
  std::mutex definitions_mu_;
  std::condition_variable definitions_cv_;
  int64_t definitions_applied_ = 0;  // offset after the last entry applied
  std::map<int64_t, Status> definition_outcomes_;
  mutable std::mutex counts_mu_;
  std::map<std::string, uint64_t> member_counts_;
  std::map<std::string, int> topic_partitions_;
  Status assign_error_;  // a partition that could not be opened: fatal
  int64_t deliver_at_ms_ = 0;  // after a failed transaction: next attempt
  int deliver_backoff_ms_ = 100;
  int64_t probe_at_ms_ = 0;  // brokers down: next metadata probe
  bool delivery_failing_ = false;
  std::unique_ptr<Flight> flight_;  // the transaction in flight, if any
  std::thread flight_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
};

}  // namespace segd
