#include "stream/definitions_log.h"

#include <chrono>
#include <thread>

#include "stream/kafka_handles.h"

namespace segd {

namespace {

struct Delivery {
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t offset = -1;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* d = static_cast<Delivery*>(m->_private);
  if (d == nullptr) return;
  d->err = m->err;
  d->offset = m->offset;
  d->done = true;
}

bool Transient(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
}

}  // namespace

struct DefinitionsLog::Impl {
  kafka::HandlePtr consumer;
  kafka::HandlePtr producer;
};

std::map<std::string, std::string> DefinitionsLog::TopicConfig() {
  return {{"cleanup.policy", "compact"},
          {"max.message.bytes", std::to_string(kMaxDefinitionBytes)}};
}

Result<std::unique_ptr<DefinitionsLog>> DefinitionsLog::Open(const KafkaSettings& kafka,
                                                             const std::string& topic) {
  char errstr[512];
  // No group: the one partition is assigned; positions are not committed
  // (every start reads the topic from its beginning).
  auto cconf = kafka::MakeConf({{"bootstrap.servers", kafka.brokers},
                                {"group.id", "segd-definitions"},
                                {"enable.auto.commit", "false"},
                                {"enable.auto.offset.store", "false"},
                                {"isolation.level", "read_committed"},
                                {"enable.partition.eof", "true"},
                                {"fetch.wait.max.ms", "100"},
                                {"receive.message.max.bytes", "200000000"},
                                {"client.id", "segd-definitions"}},
                               kafka.consumer);
  if (!cconf.ok()) return cconf.status();
  kafka::InstallLogCallbacks(cconf->get());
  kafka::HandlePtr consumer(
      rd_kafka_new(RD_KAFKA_CONSUMER, cconf->get(), errstr, sizeof(errstr)));
  if (!consumer) return Status::InvalidArgument(std::string("Kafka definitions consumer: ") + errstr);
  cconf->release();
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer.get(), parts.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("assign " + topic + ": " + rd_kafka_err2str(err));
  }

  auto pconf = kafka::MakeConf({{"bootstrap.servers", kafka.brokers},
                                {"enable.idempotence", "true"},
                                {"acks", "all"},
                                {"compression.type", "lz4"},
                                {"linger.ms", "0"},
                                {"message.timeout.ms", std::to_string(kPublishTimeoutMs)},
                                {"message.max.bytes", std::to_string(2 * kMaxDefinitionBytes)},
                                {"client.id", "segd-definitions"}},
                               {});
  if (!pconf.ok()) return pconf.status();
  kafka::InstallLogCallbacks(pconf->get());
  rd_kafka_conf_set_dr_msg_cb(pconf->get(), OnDelivery);
  kafka::HandlePtr producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, pconf->get(), errstr, sizeof(errstr)));
  if (!producer) return Status::InvalidArgument(std::string("Kafka definitions producer: ") + errstr);
  pconf->release();

  std::unique_ptr<DefinitionsLog> log(new DefinitionsLog());
  log->impl_ = std::make_unique<Impl>();
  log->impl_->consumer = std::move(consumer);
  log->impl_->producer = std::move(producer);
  log->topic_ = topic;
  return log;
}

DefinitionsLog::~DefinitionsLog() {
  if (impl_ && impl_->consumer) rd_kafka_consumer_close(impl_->consumer.get());
}

Result<int64_t> DefinitionsLog::Publish(const std::string& key,
                                        const std::optional<std::string>& value) {
  rd_kafka_t* rk = impl_->producer.get();
  Delivery d;
  void* payload = value ? const_cast<char*>(value->data()) : nullptr;
  size_t len = value ? value->size() : 0;
  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(0),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(payload, len),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return Status::ResourceExhausted("the definition is larger than the definitions topic takes");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka::StatusFromCode(err, "produce definition");
  // The report comes within message.timeout.ms, delivered or not.
  while (!d.done) rd_kafka_poll(rk, 50);
  if (d.err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return Status::ResourceExhausted("the definition is larger than the definitions topic takes");
  }
  if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka::StatusFromCode(d.err, "deliver definition");
  return d.offset;
}

namespace {

DefinitionEntry Entry(const rd_kafka_message_t* m) {
  DefinitionEntry e;
  e.offset = m->offset;
  e.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) e.value.emplace(static_cast<const char*>(m->payload), m->len);
  return e;
}

}  // namespace

Status DefinitionsLog::Poll(int timeout_ms, std::vector<DefinitionEntry>* out) {
  rd_kafka_t* rk = impl_->consumer.get();
  int wait = timeout_ms;
  while (true) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk, wait));
    if (!m) return Status::Ok();
    wait = 0;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return Status::Ok();  // at the end
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (Transient(m->err)) continue;  // librdkafka retries
      return Status::Unavailable("reading " + topic_ + ": " + rd_kafka_message_errstr(m.get()));
    }
    out->push_back(Entry(m.get()));
    next_ = m->offset + 1;
  }
}

Status DefinitionsLog::ReadToEnd(int timeout_ms, std::vector<DefinitionEntry>* out) {
  rd_kafka_t* rk = impl_->consumer.get();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int64_t low = 0, high = 0;
  while (true) {
    // A topic just created (by this instance or one starting beside it)
    // has no leader for a moment: ask again until the deadline.
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic_.c_str(), 0, &low, &high, 5000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("end of " + topic_ + ": " + rd_kafka_err2str(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  while (next_ < high) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk, 100));
    if (m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset >= high) break;
    if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out->push_back(Entry(m.get()));
      next_ = m->offset + 1;
      continue;
    }
    if (m && !Transient(m->err)) {
      return Status::Unavailable("reading " + topic_ + ": " + rd_kafka_message_errstr(m.get()));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("reading " + topic_ + ": its end was not reached in time");
    }
  }
  return Status::Ok();
}

}  // namespace segd
