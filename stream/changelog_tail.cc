#include "stream/changelog_tail.h"

#include "common/log.h"
#include "stream/kafka_handles.h"

namespace segd {

struct PartitionTail::Impl {
  kafka::HandlePtr rk;
};

Result<std::unique_ptr<PartitionTail>> PartitionTail::Create(const KafkaSettings& kafka) {
  // Assigned, never subscribed: the group id only names the client.
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka.brokers},
                               {"group.id", "segd-standby"},
                               {"enable.auto.commit", "false"},
                               {"enable.auto.offset.store", "false"},
                               {"isolation.level", "read_committed"},
                               {"enable.partition.eof", "true"},
                               {"auto.offset.reset", "error"},
                               {"client.id", "segd-standby"}},
                              kafka.consumer);
  if (!conf.ok()) return conf.status();
  kafka::InstallLogCallbacks(conf->get());
  char errstr[512];
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof(errstr)));
  if (!rk) return Status::InvalidArgument(std::string("Kafka standby consumer: ") + errstr);
  conf->release();
  rd_kafka_poll_set_consumer(rk.get());
  std::unique_ptr<PartitionTail> t(new PartitionTail());
  t->impl_ = std::make_unique<Impl>();
  t->impl_->rk = std::move(rk);
  return t;
}

PartitionTail::~PartitionTail() {
  if (impl_ && impl_->rk) rd_kafka_consumer_close(impl_->rk.get());
}

Status PartitionTail::Assign(const std::vector<PartitionOffset>& positions) {
  kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(
      static_cast<int>(std::max<size_t>(positions.size(), 1))));
  for (const auto& p : positions) {
    rd_kafka_topic_partition_list_add(parts.get(), p.tp.topic.c_str(), p.tp.partition)->offset =
        p.offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(impl_->rk.get(), parts.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka::StatusFromCode(err, "assign changelogs");
  return Status::Ok();
}

std::vector<TailEvent> PartitionTail::Poll(size_t max, int wait_ms) {
  std::vector<TailEvent> out;
  while (out.size() < max) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(impl_->rk.get(), out.empty() ? wait_ms : 0));
    if (!m) break;
    TailEvent e;
    e.tp.topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    e.tp.partition = m->partition;
    e.offset = m->offset;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      e.kind = TailEvent::Kind::kEnd;
    } else if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
               m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      e.kind = TailEvent::Kind::kOutOfRange;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LogWarn("Standby changelog reader error", {{"error", rd_kafka_message_errstr(m.get())}});
      continue;
    } else {
      e.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) e.value.emplace(static_cast<const char*>(m->payload), m->len);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace segd
