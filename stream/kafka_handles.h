// RAII owners of librdkafka handles. Internal to stream/: only stream/'s .cc
// files include this (and so <librdkafka/rdkafka.h>).
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "stream/kafka_config.h"

namespace segd::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
};
struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* p) const {
    rd_kafka_consumer_group_metadata_destroy(p);
  }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
};

using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using GroupMetadataPtr =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// A configuration with `defaults` applied first, then `overrides` (the
// user's kafka.* keys). A key librdkafka rejects is an InvalidArgument
// naming it.
Result<ConfPtr> MakeConf(const std::map<std::string, std::string>& defaults,
                         const std::map<std::string, std::string>& overrides);

// Maps a librdkafka error object to a Status: retriable → Unavailable,
// txn_requires_abort → Aborted, fatal → Fatal, others → Internal.
Status StatusFromError(const rd_kafka_error_t* error, const char* what);

// The same for a plain error code.
Status StatusFromCode(rd_kafka_resp_err_t err, const char* what);

// The partition count of `topic` from `rk`'s metadata, or NotFound.
Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

// Logs librdkafka's own log lines and errors through segd's logger.
void InstallLogCallbacks(rd_kafka_conf_t* conf);

}  // namespace segd::kafka
