// A read_committed reader of several partitions (changelog partitions a
// standby copy follows), positioned by the caller; no consumer group.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

struct TailEvent {
  enum class Kind { kRecord, kEnd, kOutOfRange };
  Kind kind = Kind::kRecord;
  TopicPartition tp;
  int64_t offset = 0;  // the record's; kEnd: the end reached
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

class PartitionTail {
 public:
  static Result<std::unique_ptr<PartitionTail>> Create(const KafkaSettings& kafka);
  ~PartitionTail();

  // Reads exactly these partitions from these offsets from now on.
  Status Assign(const std::vector<PartitionOffset>& positions);
  // Up to `max` events, waiting at most `wait_ms` for the first. Transient
  // errors are logged, not returned.
  std::vector<TailEvent> Poll(size_t max, int wait_ms);

 private:
  PartitionTail() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace segd
