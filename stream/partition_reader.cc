#include "stream/partition_reader.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "stream/kafka_handles.h"

namespace segd {

Result<int64_t> ReadPartition(
    const KafkaSettings& kafka, const std::string& topic, int32_t partition, int64_t from,
    int idle_timeout_ms,
    const std::function<Status(int64_t, std::string_view, std::optional<std::string_view>)>& fn) {
  // No group: the partition is assigned, nothing is committed.
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka.brokers},
                               {"group.id", "segd-restore"},
                               {"enable.auto.commit", "false"},
                               {"enable.auto.offset.store", "false"},
                               {"isolation.level", "read_committed"},
                               {"enable.partition.eof", "true"},
                               {"fetch.wait.max.ms", "20"},
                               {"client.id", "segd-restore"}},
                              kafka.consumer);
  if (!conf.ok()) return conf.status();
  kafka::InstallLogCallbacks(conf->get());
  char errstr[512];
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof(errstr)));
  if (!rk) return Status::InvalidArgument(std::string("Kafka restore consumer: ") + errstr);
  conf->release();
  rd_kafka_poll_set_consumer(rk.get());
  if (from > 0) {
    int64_t low = -1, high = -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(idle_timeout_ms);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), partition, &low,
                                                   &high, 5000)) != RD_KAFKA_RESP_ERR_NO_ERROR &&
           std::chrono::steady_clock::now() < deadline) {
      // Some errors come back at once (unknown partition while the topic's
      // metadata is fresh): ask again at a measured pace, not in a spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable("offsets of " + topic + "-" + std::to_string(partition) + ": " +
                                 rd_kafka_err2str(err));
    }
    if (from < low || from > high) {
      return Status::NotFound(topic + "-" + std::to_string(partition) + " holds offsets " +
                              std::to_string(low) + " to " + std::to_string(high) + ", not " +
                              std::to_string(from));
    }
  }
  kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), partition)->offset =
      from > 0 ? from : RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), parts.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("assign " + topic + ": " + rd_kafka_err2str(err));
  }
  int64_t next = std::max<int64_t>(from, 0);
  auto last_progress = std::chrono::steady_clock::now();
  Status result = Status::Ok();
  bool done = false;
  while (!done) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 200));
    auto now = std::chrono::steady_clock::now();
    if (!m) {
      if (now - last_progress > std::chrono::milliseconds(idle_timeout_ms)) {
        result = Status::Unavailable("reading " + topic + "-" + std::to_string(partition) +
                                     ": no progress for " + std::to_string(idle_timeout_ms) +
                                     " ms");
        break;
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next = m->offset;
      done = true;
      break;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT || m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        continue;  // transient: librdkafka retries; the idle timeout bounds it
      }
      result = Status::Unavailable("reading " + topic + "-" + std::to_string(partition) + ": " +
                                   rd_kafka_message_errstr(m.get()));
      break;
    }
    last_progress = now;
    std::string_view key(static_cast<const char*>(m->key), m->key_len);
    std::optional<std::string_view> value;
    if (m->payload != nullptr) value.emplace(static_cast<const char*>(m->payload), m->len);
    result = fn(m->offset, key, value);
    if (!result.ok()) break;
    next = m->offset + 1;
  }
  rd_kafka_consumer_close(rk.get());
  if (!result.ok()) return result;
  return next;
}

}  // namespace segd
