// The output side: a transactional producer (KIP-98/447).
//
// Each method returns a Status whose code says what to do next, after
// librdkafka's examples/transactions.c:
//   kUnavailable  retriable: call the same method again (after a backoff);
//   kAborted      the transaction must be aborted (Abort) and redone;
//   kFatal        this producer is unusable (fenced, or fatal): destroy it and
//                 create a new one with the same transactional id;
//   other         a bug or a bad setting.
//
// Keys are partitioned like Kafka's Java clients (murmur2).
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

class Consumer;

struct OutMessage {
  std::string topic;
  std::string key;
  bool null_key = false;  // produce without a key (a dead letter that came without one)
  std::string value;
  bool null_value = false;  // a tombstone (a changelog entry deleted)
  int32_t partition = -1;   // -1: by the key (murmur2, as Kafka's clients)
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ProducerOptions {
  KafkaSettings kafka;
  std::string transactional_id;
};

class TransactionalProducer {
 public:
  static Result<std::unique_ptr<TransactionalProducer>> Create(const ProducerOptions& options);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // Fences earlier producers with the same transactional id and completes
  // or aborts their open transaction. Once per producer.
  Status InitTransactions(int timeout_ms);
  // Learns the topics' partitions now. librdkafka otherwise asks for a
  // topic it has not produced to yet on its next periodic refresh of
  // unknown topics (up to a second later), and a transaction's first
  // records wait for it. Best effort: a topic it cannot learn now is
  // learnt as before, when produced to.
  void LearnTopics(const std::vector<std::string>& topics, int timeout_ms);
  Status BeginTransaction();
  // Queues one message in the open transaction; waits for queue room.
  Status Produce(const OutMessage& message);
  // Adds the consumer's positions (next offsets to read, with metadata) to
  // the transaction, fenced by the consumer's group generation.
  Status SendOffsets(const std::vector<PartitionOffset>& offsets, Consumer& consumer,
                     int timeout_ms);
  // Flushes and commits. On kUnavailable, call CommitTransaction again.
  Status CommitTransaction(int timeout_ms);
  Status AbortTransaction(int timeout_ms);

 private:
  TransactionalProducer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace segd
