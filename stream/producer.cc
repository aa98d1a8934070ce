#include "stream/producer.h"

#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "stream/consumer.h"
#include "stream/kafka_handles.h"

namespace segd {

struct TransactionalProducer::Impl {
  struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  };
  kafka::HandlePtr rk;
  // Declared after rk: released before the handle is destroyed.
  std::vector<std::unique_ptr<rd_kafka_topic_t, TopicDeleter>> topics;
};

Result<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const ProducerOptions& options) {
  std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", options.kafka.brokers},
      {"transactional.id", options.transactional_id},
      {"enable.idempotence", "true"},
      // Same partition for a key as Kafka's Java clients.
      {"partitioner", "murmur2_random"},
      // A transaction's messages are all produced at once and flushed by
      // its commit: waiting for more only delays the commit (p50 latency
      // about 10 ms lower than with 5 ms, BENCHMARKS.md).
      {"linger.ms", "0"},
      // Until the previous transaction's markers are written, the
      // coordinator answers CONCURRENT_TRANSACTIONS to the next one's
      // AddOffsetsToTxn, which librdkafka retries after retry.backoff.ms
      // (100 by default): a new transaction starts as soon as one commits,
      // so this hit about one in twelve, each waiting 100 ms (with 5:
      // batches 19-50% shorter, p50 latency 3-25 ms lower; BENCHMARKS.md).
      {"retry.backoff.ms", "5"},
      // A lost instance's open transaction holds its partitions' committed
      // offsets (and read_committed readers) until the broker aborts it:
      // keep that short, as Kafka Streams does. A batch's transaction lasts
      // milliseconds. Also librdkafka's default message.timeout.ms.
      {"transaction.timeout.ms", "10000"},
      {"client.id", "segd-producer"},
  };
  auto conf = kafka::MakeConf(defaults, options.kafka.producer);
  if (!conf.ok()) return conf.status();
  kafka::InstallLogCallbacks(conf->get());
  char errstr[512];
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof(errstr)));
  if (!rk) return Status::InvalidArgument(std::string("Kafka producer: ") + errstr);
  conf->release();
  std::unique_ptr<TransactionalProducer> p(new TransactionalProducer());
  p->impl_ = std::make_unique<Impl>();
  p->impl_->rk = std::move(rk);
  return p;
}

TransactionalProducer::~TransactionalProducer() {
  if (impl_ && impl_->rk) {
    // Undelivered messages belong to an uncommitted transaction, which the
    // next incarnation aborts: nothing is lost by not waiting for them.
    rd_kafka_flush(impl_->rk.get(), 0);
  }
}

Status TransactionalProducer::InitTransactions(int timeout_ms) {
  kafka::ErrorPtr e(rd_kafka_init_transactions(impl_->rk.get(), timeout_ms));
  return kafka::StatusFromError(e.get(), "init_transactions");
}

void TransactionalProducer::LearnTopics(const std::vector<std::string>& topics,
                                        int timeout_ms) {
  for (const std::string& topic : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(impl_->rk.get(), topic.c_str(), nullptr);
    if (rkt == nullptr) continue;
    impl_->topics.emplace_back(rkt);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->rk.get(), 0, rkt, &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LogWarn("Topic not known to the producer yet",
              {{"topic", topic}, {"error", rd_kafka_err2str(err)}});
      continue;
    }
    rd_kafka_metadata_destroy(md);
  }
}

Status TransactionalProducer::BeginTransaction() {
  kafka::ErrorPtr e(rd_kafka_begin_transaction(impl_->rk.get()));
  return kafka::StatusFromError(e.get(), "begin_transaction");
}

Status TransactionalProducer::Produce(const OutMessage& m) {
  while (true) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!m.headers.empty()) {
      hdrs = rd_kafka_headers_new(m.headers.size());
      for (const auto& [name, value] : m.headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                            static_cast<ssize_t>(value.size()));
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        impl_->rk.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()),
        RD_KAFKA_V_PARTITION(m.partition >= 0 ? m.partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_KEY(m.null_key ? nullptr : m.key.data(), m.null_key ? 0 : m.key.size()),
        RD_KAFKA_V_VALUE(m.null_value ? nullptr : const_cast<char*>(m.value.data()),
                         m.null_value ? 0 : m.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();  // rk owns hdrs
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(impl_->rk.get(), 100);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(impl_->rk.get(), buf, sizeof(buf));
      return Status::Fatal(std::string("produce: ") + buf);
    }
    if (err == RD_KAFKA_RESP_ERR__STATE) {
      return Status::Aborted(std::string("produce: ") + rd_kafka_err2str(err));
    }
    return Status::Internal("produce to " + m.topic + ": " + rd_kafka_err2str(err));
  }
}

Status TransactionalProducer::SendOffsets(const std::vector<PartitionOffset>& offsets,
                                          Consumer& consumer, int timeout_ms) {
  auto* crk = static_cast<rd_kafka_t*>(consumer.native_handle());
  kafka::GroupMetadataPtr cgmd(rd_kafka_consumer_group_metadata(crk));
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& po : offsets) {
    auto* e = rd_kafka_topic_partition_list_add(list.get(), po.tp.topic.c_str(), po.tp.partition);
    e->offset = po.offset;
    if (!po.metadata.empty()) {
      // librdkafka frees elems' metadata with the list: give it its own copy.
      e->metadata = malloc(po.metadata.size());
      memcpy(e->metadata, po.metadata.data(), po.metadata.size());
      e->metadata_size = po.metadata.size();
    }
  }
  kafka::ErrorPtr e(
      rd_kafka_send_offsets_to_transaction(impl_->rk.get(), list.get(), cgmd.get(), timeout_ms));
  return kafka::StatusFromError(e.get(), "send_offsets_to_transaction");
}

Status TransactionalProducer::CommitTransaction(int timeout_ms) {
  kafka::ErrorPtr e(rd_kafka_commit_transaction(impl_->rk.get(), timeout_ms));
  return kafka::StatusFromError(e.get(), "commit_transaction");
}

Status TransactionalProducer::AbortTransaction(int timeout_ms) {
  kafka::ErrorPtr e(rd_kafka_abort_transaction(impl_->rk.get(), timeout_ms));
  return kafka::StatusFromError(e.get(), "abort_transaction");
}

}  // namespace segd
