// Creating and describing topics through librdkafka's Admin API (the broker
// jars have no kafka-topics tool, and segd creates its own topics).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;  // -1: the broker's default
  std::map<std::string, std::string> configs;  // e.g. cleanup.policy=compact
};

// Creates each topic that does not exist yet; an existing topic is not an
// error (its partition count is left as it is).
Status CreateTopics(const KafkaSettings& kafka, const std::vector<TopicSpec>& topics,
                    int timeout_ms);

// The partition count of `topic`, or NotFound.
Result<int> TopicPartitionCount(const KafkaSettings& kafka, const std::string& topic,
                                int timeout_ms);

}  // namespace segd
