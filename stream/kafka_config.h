// Settings shared by segd's Kafka clients, and the public types that cross
// the stream/ boundary. No librdkafka type appears in stream/'s public headers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace segd {

struct KafkaSettings {
  std::string brokers = "127.0.0.1:9092";
  // Passed to librdkafka as they are (config keys kafka.consumer.* and
  // kafka.producer.*); they win over segd's own defaults.
  std::map<std::string, std::string> consumer;
  std::map<std::string, std::string> producer;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};

// A position to resume from or to commit: the offset of the next record to
// read, with an optional metadata string stored beside it in the group.
struct PartitionOffset {
  TopicPartition tp;
  int64_t offset = -1;  // -1: no position (use the group's committed offset)
  std::string metadata;
};

}  // namespace segd
