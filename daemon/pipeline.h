// The daemon's pipeline: Kafka input → decode → evaluate → one Kafka
// transaction carrying the batch's change records, its dead letters and the
// input offsets.
//
// Per input partition it keeps a clock (SEMANTICS.md §2) and the
// partition's membership state, so partitions stay independent: a batch may
// mix partitions, but each record only touches its own partition's state.
//
// Threading: Run() and every RebalanceListener callback run on the caller's
// thread (callbacks fire inside Consumer::Poll). Stop() may be called from
// any thread (e.g. a signal watcher).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemon/config.h"
#include "metrics/metrics.h"
#include "rules/did_skeleton.h"
#include "stream/consumer.h"
#include "stream/producer.h"
#include "stream/record_decoder.h"

namespace segd {

class Pipeline : public RebalanceListener {
 public:
  // `rules` and `metrics` must outlive the pipeline.
  Pipeline(const Config& config, const DidRuleSet* rules, Metrics* metrics);
  ~Pipeline() override;

  // Creates missing output topics, the consumer and the producer, and
  // fences any earlier incarnation of this instance's transactional id.
  Status Start();
  // Consumes until Stop(); finishes and commits the batch in hand, then
  // leaves the group. Returns an error only when it cannot go on.
  Status Run();
  void Stop() { stop_ = true; }

  bool ready() const { return ready_; }

  void OnAssigned(const std::vector<TopicPartition>& parts,
                  std::vector<PartitionOffset>* start) override;
  void OnRevoked(const std::vector<TopicPartition>& parts) override;
  void OnLost(const std::vector<TopicPartition>& parts) override;

 private:
  struct Partition {
    explicit Partition(const DidRuleSet* rules) : state(rules) {}
    int64_t now_ms = 0;  // the partition's clock; never goes backwards
    bool key_required = false;
    DidState state;
  };

  // Decodes and applies one batch; fills the outbox and the next offsets.
  void Process(const MessageBatch& batch, std::vector<OutMessage>* outbox,
               std::vector<PartitionOffset>* offsets);
  OutMessage DeadLetter(const InputMessage& m, const Rejection& why) const;
  // Commits `outbox` and `offsets` in one Kafka transaction, retrying,
  // aborting and resending, or recreating the producer as the error asks.
  Status Deliver(const std::vector<OutMessage>& outbox,
                 const std::vector<PartitionOffset>& offsets);
  Status TryTransaction(const std::vector<OutMessage>& outbox,
                        const std::vector<PartitionOffset>& offsets);
  Status CreateProducer();
  int TopicPartitions(const std::string& topic);

  const Config& config_;
  const DidRuleSet* rules_;
  Metrics* metrics_;
  RecordDecoder decoder_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<TransactionalProducer> producer_;
  std::map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  std::map<std::string, int> topic_partitions_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
};

}  // namespace segd
