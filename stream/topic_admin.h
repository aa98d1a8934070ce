// Creating and describing topics through librdkafka's Admin API (the broker
// jars have no kafka-topics tool, and segd creates its own topics).
#pragma once

#include <map>
#include <memory>
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

// A consumer group's members and what each is assigned, as the group
// coordinator describes it.
struct GroupMember {
  std::string instance_id;  // group.instance.id; empty without static membership
  std::string member_id;
  std::vector<std::pair<std::string, int32_t>> assignment;  // (topic, partition)
};
struct GroupDescription {
  bool stable = false;  // not in a rebalance
  std::vector<GroupMember> members;
};

// Describes consumer groups through one admin client kept open.
class GroupAdmin {
 public:
  static Result<std::unique_ptr<GroupAdmin>> Create(const KafkaSettings& kafka);
  ~GroupAdmin();
  Result<GroupDescription> Describe(const std::string& group, int timeout_ms);

 private:
  GroupAdmin() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace segd
