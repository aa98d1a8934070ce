// One assigned input partition: its LMDB store and engine, its position in
// the input, and the outbox of messages not yet delivered to Kafka.
//
// A batch runs the partition's records through the engine and commits, in
// one LMDB transaction, the state, the input position and the batch's
// outbox entries (change records and dead letters). Delivery to Kafka is
// the pipeline's; the entries stay here until a Kafka transaction has
// committed them with the partition's offset and delivery marker.
//
// Thread-safety: one thread (the partition's worker).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "daemon/config.h"
#include "daemon/outbox.h"
#include "metrics/metrics.h"
#include "rules/engine.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "stream/consumer.h"
#include "stream/record_decoder.h"

namespace segd {

// Opens the LMDB store of input partition `tp` in config.data_dir (one
// writer at a time: the partition's owner, or its standby copy).
Result<std::unique_ptr<PartitionStore>> OpenPartitionStore(const Config& config,
                                                           const TopicPartition& tp);

class Partition {
 public:
  struct Pending {
    uint64_t seq;
    OutMessage message;
  };

  // The pipeline's flow control of this partition (backpressure, a store
  // that cannot commit).
  struct Flow {
    bool paused = false;
    bool storage_full = false;  // the last batch could not be committed
    int64_t retry_at_ms = 0;    // then: when to try again
    int backoff_ms = 100;
  };

  // Opens (or creates) the partition's store under config.data_dir.
  static Result<std::unique_ptr<Partition>> Open(const Config& config, const rules::RuleSet* rules,
                                                const TopicPartition& tp, bool key_required,
                                                Metrics* metrics);
  ~Partition();

  Flow flow;

  const TopicPartition& tp() const { return tp_; }
  // The next input offset to read; -1 when this store never consumed.
  int64_t next_offset() const { return next_offset_; }
  const std::string& store_id() const { return store_id_; }

  // Reconciles the local store with the group's committed position (the
  // rule of DESIGN.md, "On assignment"): returns the offset to resume at,
  // or -1 for the group's own committed offset.
  Result<int64_t> Reconcile(const PartitionOffset& committed);

  // Runs `messages` (this partition's, in offset order; may be empty for a
  // clock tick) through the engine at wall-clock `wall_ms`, and commits.
  Status Process(const std::vector<const InputMessage*>& messages, RecordDecoder* decoder,
                 int64_t wall_ms);

  // Whether a batch without records has work: a timer due at `wall_ms`
  // with the wall clock, at the partition's clock with the event clock (a
  // backlog the per-batch bound left), or, with changelog.enabled, the
  // store's whole content to send to its changelog once.
  bool HasWorkWithoutRecords(int64_t wall_ms) const;

  // Switches to another rule set (a run-time segment change): the next
  // batch carries the state over (rules/definitions.cc). `hint`: which
  // users a list change concerns (rules::ListChangeHint from the rule set
  // the partition ran), so only they are evaluated instead of every user.
  Status SetRules(const rules::RuleSet* rules,
                  std::shared_ptr<const rules::ListHint> hint = nullptr);
  PartitionStore* store() { return store_.get(); }
  const rules::Memberships& memberships() const { return engine_->memberships(); }

  // Timers due and not fired after the last batch (counted up to a bound
  // when the batch spent its timer budget; 0 otherwise).
  uint64_t timer_backlog() const { return timer_backlog_; }

  // A deque: a transaction in flight on another thread reads entries by
  // pointer while the next batch appends (references stay valid).
  const std::deque<Pending>& undelivered() const { return undelivered_; }
  // Whether a Kafka transaction has something to carry for this partition:
  // output, or an input position the group has not committed.
  bool HasWorkToDeliver() const {
    return !undelivered_.empty() || next_offset_ != committed_offset_;
  }
  // The marker to commit with the offset once undelivered() is delivered.
  DeliveryMarker Marker() const { return {store_id_, last_seq_}; }

  // What one transaction carries for this partition, taken between
  // batches: the output so far (pointers into undelivered(), valid until
  // MarkDelivered drops them), and the position and marker to commit.
  struct Shipment {
    std::vector<const OutMessage*> messages;
    uint64_t up_to_seq = 0;
    int64_t next_offset = -1;
    DeliveryMarker marker;
    size_t kafka_ts = 0, arrivals = 0;  // latency samples it settles
  };
  Shipment Ship() const;

  // The partition leaves this instance with everything delivered: its store
  // stays a copy of the changelog up to `changelog_end` (the changelog
  // partition's end after the last commit, asked for at `as_of_ms`), so a
  // later restore here needs only the tail. Does nothing while work is
  // undelivered or without a changelog.
  Status RecordChangelogBase(int64_t changelog_end, int64_t as_of_ms);
  const std::string& changelog_topic() const { return changelog_topic_; }
  // What `shipment` carried is delivered (at `wall_ms`, for the latency
  // histograms); its entries are deleted from the store with the next
  // batch. What later batches added stays undelivered.
  void MarkDelivered(const Shipment& shipment, int64_t wall_ms);

  // Sets the partition's gauges; `high_watermark` (-1: unknown) gives the lag.
  void UpdateGauges(int64_t high_watermark);

 private:
  Partition() = default;
  Status Load();
  // Rebuilds the store from the changelog, as of the transaction that
  // committed `offset` with `marker`.
  Status Restore(const DeliveryMarker& marker, int64_t offset);
  // After a commit: flushes to disk when lmdb.sync is off and the interval
  // has passed.
  void MaybeSync();
  Status RunBatch(const std::vector<const InputMessage*>& messages, RecordDecoder* decoder,
                  int64_t wall_ms, std::vector<Pending>* produced);
  OutMessage DeadLetter(const InputMessage& m, const Rejection& why) const;

  const Config* config_ = nullptr;
  const rules::RuleSet* rules_ = nullptr;
  Metrics* metrics_ = nullptr;
  TopicPartition tp_;
  bool key_required_ = false;
  std::unique_ptr<PartitionStore> store_;
  std::unique_ptr<rules::PartitionEngine> engine_;
  std::string store_id_;
  std::string changelog_topic_;
  bool changelog_seeded_ = false;  // meta `changelog`: the store's content is in it
  int64_t next_offset_ = -1;
  uint64_t last_seq_ = 0;       // last outbox sequence written
  uint64_t delivered_seq_ = 0;  // delivered to Kafka
  uint64_t deleted_seq_ = 0;    // deleted from the store
  int64_t committed_offset_ = -1;  // input position the group has committed
  std::deque<Pending> undelivered_;
  uint64_t timer_backlog_ = 0;
  uint64_t timers_ = 0;
  int64_t last_sync_ms_ = 0;
  // Records processed and not yet delivered: their Kafka timestamps, and
  // their arrival times (one entry per batch with its record count).
  std::vector<int64_t> pending_kafka_ts_;
  std::vector<std::pair<int64_t, uint32_t>> pending_arrivals_;
  Metrics::PartitionGauges gauges_{};
  std::vector<prometheus::Gauge*> member_gauges_;
};

}  // namespace segd
