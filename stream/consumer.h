// The input side: a consumer-group member with manual offsets.
//
// Offsets are never auto-committed: segd commits them inside its Kafka
// transaction (TransactionalProducer::SendOffsets) once a batch's work is
// durable. Rebalancing is cooperative-sticky; the daemon learns of partitions
// coming and going through a RebalanceListener it implements.
//
// Thread-safety: one thread calls Poll() and every other method; listener
// callbacks run on that thread, inside Poll().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // `parts` are about to be consumed. Set (*start)[i].offset to resume at a
  // position of the listener's own, or leave -1 for the group's committed
  // offset. Runs inside Consumer::Poll.
  virtual void OnAssigned(const std::vector<TopicPartition>& parts,
                          std::vector<PartitionOffset>* start) = 0;
  // `parts` go to another member: the listener finishes and commits its
  // batch for them before returning.
  virtual void OnRevoked(const std::vector<TopicPartition>& parts) = 0;
  // `parts` were lost (session timeout, fenced): nothing may be committed
  // for them any more; the listener drops its work on them.
  virtual void OnLost(const std::vector<TopicPartition>& parts) = 0;
};

// One consumed message. The views stay valid while its MessageBatch lives.
struct InputMessage {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string_view> key;
  std::string_view value;
  int64_t timestamp_ms = -1;  // the record's Kafka timestamp; -1 when it has none
};

// Messages returned by one Poll, owning librdkafka's buffers.
class MessageBatch {
 public:
  MessageBatch();
  ~MessageBatch();
  MessageBatch(MessageBatch&&) noexcept;
  MessageBatch& operator=(MessageBatch&&) noexcept;

  const std::vector<InputMessage>& messages() const { return messages_; }
  bool empty() const { return messages_.empty(); }
  size_t size() const { return messages_.size(); }

 private:
  friend class Consumer;
  struct Owned;
  std::unique_ptr<Owned> owned_;
  std::vector<InputMessage> messages_;
};

struct ConsumerOptions {
  KafkaSettings kafka;
  std::string group_id = "segd";
  std::string group_instance_id;  // static membership; empty = dynamic
  std::vector<std::string> topics;
};

class Consumer {
 public:
  // Creates the consumer and subscribes. `listener` must outlive it.
  static Result<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options,
                                                  RebalanceListener* listener);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Reads up to `max_records`, waiting at most `max_wait_ms` in total; serves
  // rebalance callbacks. Consumer errors (other than end of partition) are
  // logged and counted, not returned, except fatal ones.
  Result<MessageBatch> Poll(size_t max_records, int max_wait_ms);

  // Moves the fetch position of assigned partitions (after an aborted batch).
  Status Seek(const std::vector<PartitionOffset>& positions);

  // Stops fetching from / resumes fetching from assigned partitions.
  Status Pause(const std::vector<TopicPartition>& parts);
  Status Resume(const std::vector<TopicPartition>& parts);

  // Number of partitions of `topic`, from the cluster's metadata.
  Result<int> PartitionCount(const std::string& topic, int timeout_ms);
  // The partition's high watermark as of the last fetch (no broker call);
  // -1 when not known yet.
  int64_t CachedHighWatermark(const TopicPartition& tp) const;
  // Asks the partition's leader for its high watermark (any topic, assigned
  // or not).
  Result<int64_t> QueryHighWatermark(const TopicPartition& tp, int timeout_ms);

  // Set when librdkafka reports every broker down; cleared by a message or
  // by a successful metadata request (BrokersReachable).
  bool brokers_down() const;
  // Asks the cluster for `topic`'s metadata: true (and brokers_down()
  // cleared) when it answers within timeout_ms.
  bool BrokersReachable(const std::string& topic, int timeout_ms);

  // Offsets committed for `parts` in the group (with their metadata).
  Result<std::vector<PartitionOffset>> Committed(const std::vector<TopicPartition>& parts,
                                                 int timeout_ms);

  // Leaves the group (revoking partitions through the listener). Idempotent.
  void Close();

  // The librdkafka handle, for the producer's send_offsets_to_transaction.
  // Internal to stream/.
  void* native_handle() const;

 private:
  Consumer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace segd
