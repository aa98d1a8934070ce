// Reads one partition of a topic from an offset to its end, as a
// read_committed consumer sees it (the end is the last stable offset: open
// transactions, a fenced instance's included, are waited for or skipped
// once aborted). For restoring a partition's state from its changelog.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd {

// Calls fn(offset, key, value) for every committed message of topic/partition from
// offset `from` (0: the beginning) in offset order (value nullopt: a
// tombstone); returns the offset after the last one read. NotFound when
// `from` lies outside the partition's offsets (the topic was recreated or
// its head deleted); Unavailable when no progress is made for
// `idle_timeout_ms`.
Result<int64_t> ReadPartition(
    const KafkaSettings& kafka, const std::string& topic, int32_t partition, int64_t from,
    int idle_timeout_ms,
    const std::function<Status(int64_t offset, std::string_view key,
                               std::optional<std::string_view> value)>& fn);

}  // namespace segd
