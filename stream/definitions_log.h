// The definitions topic (DESIGN.md, "Scaling"; SEMANTICS.md §5): one
// compacted partition holding the segments and lists changed through any
// instance's admin API, keyed by what they define. Every instance reads it
// from the beginning and then tails it, so all apply the same changes in
// the same order (the partition's).
//
// Thread-safety: Publish() is for one thread (the admin API's writer),
// ReadToEnd() and Poll() for another (the pipeline's); the two use separate
// Kafka clients.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

struct DefinitionEntry {
  int64_t offset = 0;
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone (a deletion)
};

// The largest entry the topic takes (its max.message.bytes): a list of a
// few million ids.
inline constexpr int kMaxDefinitionBytes = 90 * 1024 * 1024;

class DefinitionsLog {
 public:
  // Clients for `topic` (which must exist: CreateTopics with
  // DefinitionsTopicConfig()); reading starts at the topic's beginning.
  static Result<std::unique_ptr<DefinitionsLog>> Open(const KafkaSettings& kafka,
                                                      const std::string& topic);
  ~DefinitionsLog();
  DefinitionsLog(const DefinitionsLog&) = delete;
  DefinitionsLog& operator=(const DefinitionsLog&) = delete;

  // The topic settings segd creates it with: compacted, large entries.
  static std::map<std::string, std::string> TopicConfig();

  // Appends an entry (value nullopt: a tombstone) and waits until the
  // broker has it (acks=all) or gives up (kPublishTimeoutMs); returns its
  // offset. ResourceExhausted: larger than the topic takes.
  Result<int64_t> Publish(const std::string& key, const std::optional<std::string>& value);
  static constexpr int kPublishTimeoutMs = 30000;

  // Appends to `out` every entry from the reading position up to the
  // topic's end as of the call (Unavailable when the end is not reached
  // within `timeout_ms`; what was read is in `out` either way).
  Status ReadToEnd(int timeout_ms, std::vector<DefinitionEntry>* out);
  // Appends the entries that have arrived, waiting up to `timeout_ms` for a
  // first.
  Status Poll(int timeout_ms, std::vector<DefinitionEntry>* out);

  // The offset after the last entry read.
  int64_t position() const { return next_; }

 private:
  DefinitionsLog() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string topic_;
  int64_t next_ = 0;
};

}  // namespace segd
