#include "stream/consumer.h"

#include <chrono>

#include "common/log.h"
#include "stream/kafka_handles.h"

namespace segd {

using kafka::HandlePtr;
using kafka::MessagePtr;
using kafka::PartitionListPtr;

struct MessageBatch::Owned {
  std::vector<MessagePtr> messages;
};

MessageBatch::MessageBatch() : owned_(std::make_unique<Owned>()) {}
MessageBatch::~MessageBatch() = default;
MessageBatch::MessageBatch(MessageBatch&&) noexcept = default;
MessageBatch& MessageBatch::operator=(MessageBatch&&) noexcept = default;

struct Consumer::Impl {
  HandlePtr rk;
  RebalanceListener* listener = nullptr;
  bool closed = false;
  bool brokers_down = false;
};

namespace {

std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

PartitionListPtr ToList(const std::vector<PartitionOffset>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& po : offsets) {
    auto* e = rd_kafka_topic_partition_list_add(list.get(), po.tp.topic.c_str(), po.tp.partition);
    e->offset = po.offset < 0 ? RD_KAFKA_OFFSET_INVALID : po.offset;
  }
  return list;
}

PartitionListPtr ToList(const std::vector<TopicPartition>& parts) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& tp : parts) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

// Runs on the Poll() thread (librdkafka serves the callback from poll).
void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* listener = static_cast<RebalanceListener*>(opaque);
  std::vector<TopicPartition> tps = ToVector(parts);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<PartitionOffset> start;
    for (const auto& tp : tps) start.push_back({tp, -1, {}});
    listener->OnAssigned(tps, &start);
    PartitionListPtr list = ToList(start);
    kafka::ErrorPtr e(rd_kafka_incremental_assign(rk, list.get()));
    if (e) {
      LogError("Incremental assign failed", {{"error", rd_kafka_error_string(e.get())}});
    }
    for (const auto& po : start) {
      LogInfo("Partition assigned", {{"topic", po.tp.topic},
                                     {"partition", po.tp.partition},
                                     {"start_offset", po.offset}});
    }
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    if (rd_kafka_assignment_lost(rk)) {
      listener->OnLost(tps);
    } else {
      listener->OnRevoked(tps);
    }
    kafka::ErrorPtr e(rd_kafka_incremental_unassign(rk, parts));
    if (e) {
      LogError("Incremental unassign failed", {{"error", rd_kafka_error_string(e.get())}});
    }
    for (const auto& tp : tps) {
      LogInfo("Partition revoked", {{"topic", tp.topic}, {"partition", tp.partition}});
    }
  } else {
    LogError("Rebalance error", {{"error", rd_kafka_err2str(err)}});
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace

Result<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options,
                                                   RebalanceListener* listener) {
  std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", options.kafka.brokers},
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.partition.eof", "false"},
      {"client.id", "segd-consumer"},
  };
  if (!options.group_instance_id.empty()) {
    defaults["group.instance.id"] = options.group_instance_id;
  }
  auto conf = kafka::MakeConf(defaults, options.kafka.consumer);
  if (!conf.ok()) return conf.status();
  kafka::InstallLogCallbacks(conf->get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), RebalanceCallback);
  rd_kafka_conf_set_opaque(conf->get(), listener);

  char errstr[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof(errstr)));
  if (!rk) return Status::InvalidArgument(std::string("Kafka consumer: ") + errstr);
  conf->release();  // owned by rk now
  rd_kafka_poll_set_consumer(rk.get());

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
  for (const auto& t : options.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk.get(), topics.get());
  if (err) return kafka::StatusFromCode(err, "subscribe");

  std::unique_ptr<Consumer> c(new Consumer());
  c->impl_ = std::make_unique<Impl>();
  c->impl_->rk = std::move(rk);
  c->impl_->listener = listener;
  return c;
}

Consumer::~Consumer() { Close(); }

Result<MessageBatch> Consumer::Poll(size_t max_records, int max_wait_ms) {
  MessageBatch batch;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
  while (batch.messages_.size() < max_records) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    // Once something is in hand, take only what is already buffered.
    int timeout = batch.empty() ? static_cast<int>(std::max<int64_t>(left, 0)) : 0;
    MessagePtr m(rd_kafka_consumer_poll(impl_->rk.get(), timeout));
    if (!m) {
      if (!batch.empty() || left <= 0) break;
      continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) impl_->brokers_down = true;
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_fatal_error(impl_->rk.get(), buf, sizeof(buf));
        return Status::Fatal(std::string("Kafka consumer: ") + buf);
      }
      LogWarn("Consumer error", {{"error", rd_kafka_message_errstr(m.get())}});
      continue;
    }
    impl_->brokers_down = false;
    InputMessage in;
    in.topic = rd_kafka_topic_name(m->rkt);
    in.partition = m->partition;
    in.offset = m->offset;
    if (m->key != nullptr) in.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) {
      in.value = std::string_view(static_cast<const char*>(m->payload), m->len);
    }
    rd_kafka_timestamp_type_t ts_type;
    int64_t ts = rd_kafka_message_timestamp(m.get(), &ts_type);
    if (ts_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) in.timestamp_ms = ts;
    batch.messages_.push_back(in);
    batch.owned_->messages.push_back(std::move(m));
  }
  return batch;
}

Status Consumer::Seek(const std::vector<PartitionOffset>& positions) {
  PartitionListPtr list = ToList(positions);
  kafka::ErrorPtr e(rd_kafka_seek_partitions(impl_->rk.get(), list.get(), 10000));
  if (e) return kafka::StatusFromError(e.get(), "seek");
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) return kafka::StatusFromCode(list->elems[i].err, "seek");
  }
  return Status::Ok();
}

Status Consumer::Pause(const std::vector<TopicPartition>& parts) {
  PartitionListPtr list = ToList(parts);
  return kafka::StatusFromCode(rd_kafka_pause_partitions(impl_->rk.get(), list.get()), "pause");
}

Status Consumer::Resume(const std::vector<TopicPartition>& parts) {
  PartitionListPtr list = ToList(parts);
  return kafka::StatusFromCode(rd_kafka_resume_partitions(impl_->rk.get(), list.get()),
                               "resume");
}

bool Consumer::brokers_down() const { return impl_->brokers_down; }

bool Consumer::BrokersReachable(const std::string& topic, int timeout_ms) {
  if (!PartitionCount(topic, timeout_ms).ok()) return false;
  impl_->brokers_down = false;
  return true;
}

int64_t Consumer::CachedHighWatermark(const TopicPartition& tp) const {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err =
      rd_kafka_get_watermark_offsets(impl_->rk.get(), tp.topic.c_str(), tp.partition, &low, &high);
  return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : -1;
}

Result<int64_t> Consumer::QueryHighWatermark(const TopicPartition& tp, int timeout_ms) {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      impl_->rk.get(), tp.topic.c_str(), tp.partition, &low, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka::StatusFromCode(err, "query watermark offsets");
  }
  return high;
}

Result<int> Consumer::PartitionCount(const std::string& topic, int timeout_ms) {
  return kafka::PartitionCount(impl_->rk.get(), topic, timeout_ms);
}

Result<std::vector<PartitionOffset>> Consumer::Committed(
    const std::vector<TopicPartition>& parts, int timeout_ms) {
  PartitionListPtr list = ToList(parts);
  rd_kafka_resp_err_t err = rd_kafka_committed(impl_->rk.get(), list.get(), timeout_ms);
  if (err) return kafka::StatusFromCode(err, "committed");
  std::vector<PartitionOffset> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    PartitionOffset po{{e.topic, e.partition}, e.offset < 0 ? -1 : e.offset, {}};
    if (e.metadata != nullptr) {
      po.metadata.assign(static_cast<const char*>(e.metadata), e.metadata_size);
    }
    out.push_back(std::move(po));
  }
  return out;
}

void Consumer::Close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(impl_->rk.get());
  if (err) LogWarn("Consumer close", {{"error", rd_kafka_err2str(err)}});
}

void* Consumer::native_handle() const { return impl_->rk.get(); }

}  // namespace segd
