#include "daemon/pipeline.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "stream/topic_admin.h"

namespace segd {

namespace {

constexpr int kKafkaTimeoutMs = 30000;
constexpr int kMaxBackoffMs = 10000;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Pipeline::Pipeline(const Config& config, const DidRuleSet* rules, Metrics* metrics)
    : config_(config), rules_(rules), metrics_(metrics), decoder_(config.decoder) {}

Pipeline::~Pipeline() = default;

Status Pipeline::Start() {
  if (config_.create_topics) {
    int partitions = config_.output_partitions;
    if (partitions <= 0) {
      auto n = TopicPartitionCount(config_.kafka, config_.input_topics.front(), kKafkaTimeoutMs);
      if (!n.ok()) return n.status();
      partitions = *n;
    }
    SEGD_RETURN_IF_ERROR(CreateTopics(config_.kafka,
                                      {{config_.output_topic, partitions, -1, {}},
                                       {config_.dead_letter_topic, partitions, -1, {}}},
                                      kKafkaTimeoutMs));
  }
  SEGD_RETURN_IF_ERROR(CreateProducer());
  ConsumerOptions co;
  co.kafka = config_.kafka;
  co.group_id = config_.group_id;
  co.group_instance_id = config_.instance_id;
  co.topics = config_.input_topics;
  auto consumer = Consumer::Create(co, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  for (const auto& t : config_.input_topics) {
    auto n = consumer_->PartitionCount(t, kKafkaTimeoutMs);
    if (!n.ok()) return n.status();
    topic_partitions_[t] = *n;
  }
  return Status::Ok();
}

Status Pipeline::CreateProducer() {
  producer_.reset();  // the old one first: one instance per transactional id
  ProducerOptions po;
  po.kafka = config_.kafka;
  po.transactional_id = config_.transactional_id;
  auto producer = TransactionalProducer::Create(po);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer).value();
  int backoff = 100;
  while (!stop_) {
    Status s = producer_->InitTransactions(kKafkaTimeoutMs);
    if (s.ok()) return s;
    if (s.code() != Status::Code::kUnavailable) return s;
    LogWarn("Producer init retrying", {{"error", s.message()}, {"backoff_ms", backoff}});
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, kMaxBackoffMs);
  }
  return Status::Unavailable("stopped before the producer was ready");
}

int Pipeline::TopicPartitions(const std::string& topic) {
  auto it = topic_partitions_.find(topic);
  if (it != topic_partitions_.end()) return it->second;
  auto n = consumer_->PartitionCount(topic, kKafkaTimeoutMs);
  int count = n.ok() ? *n : 2;  // unknown: require keys, the safe side
  topic_partitions_[topic] = count;
  return count;
}

void Pipeline::OnAssigned(const std::vector<TopicPartition>& parts,
                          std::vector<PartitionOffset>*) {
  for (const auto& tp : parts) {
    auto p = std::make_unique<Partition>(rules_);
    p->key_required = TopicPartitions(tp.topic) > 1;
    partitions_[tp] = std::move(p);
  }
}

// Batches are committed before Poll returns control to librdkafka, so a
// revoked partition has no uncommitted work: only its state is dropped.
void Pipeline::OnRevoked(const std::vector<TopicPartition>& parts) {
  for (const auto& tp : parts) partitions_.erase(tp);
}

void Pipeline::OnLost(const std::vector<TopicPartition>& parts) {
  for (const auto& tp : parts) partitions_.erase(tp);
}

OutMessage Pipeline::DeadLetter(const InputMessage& m, const Rejection& why) const {
  OutMessage out;
  out.topic = config_.dead_letter_topic;
  if (m.key) out.key = std::string(*m.key);
  out.value = std::string(m.value);
  out.headers = {{"segd.source.topic", std::string(m.topic)},
                 {"segd.source.partition", std::to_string(m.partition)},
                 {"segd.source.offset", std::to_string(m.offset)},
                 {"segd.reason", ReasonName(why.reason)},
                 {"segd.detail", why.detail}};
  return out;
}

void Pipeline::Process(const MessageBatch& batch, std::vector<OutMessage>* outbox,
                       std::vector<PartitionOffset>* offsets) {
  std::map<TopicPartition, int64_t> next;
  std::vector<ChangeRecord> changes;
  Record record;
  size_t rejected = 0, ignored = 0;
  for (const InputMessage& m : batch.messages()) {
    TopicPartition tp{std::string(m.topic), m.partition};
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) continue;  // not ours any more
    next[tp] = m.offset + 1;
    Partition& p = *it->second;
    int64_t wall = WallMs();
    MessageContext ctx;
    ctx.key = m.key;
    ctx.key_required = p.key_required;
    if (config_.clock == ClockMode::kWall) ctx.max_ts = wall + config_.max_future_skew_ms;
    std::optional<Rejection> why = decoder_.Decode(m.value, ctx, &record);
    if (why) {
      ++rejected;
      metrics_->RecordsRejected(ReasonName(why->reason)).Increment();
      outbox->push_back(DeadLetter(m, *why));
      continue;
    }
    ignored += record.ignored_values;
    p.now_ms = std::max(p.now_ms, config_.clock == ClockMode::kWall ? wall : record.ts_ms);
    changes.clear();
    p.state.Apply(record, p.now_ms, &changes);
    for (const ChangeRecord& c : changes) {
      metrics_->Changes(c.segment, ChangeKindName(c.change)).Increment();
      outbox->push_back({config_.output_topic, c.user_id, c.ToJson(), {}});
    }
  }
  metrics_->RecordsIn().Increment(static_cast<double>(batch.size()));
  metrics_->IgnoredValues().Increment(static_cast<double>(ignored));
  metrics_->BatchRecords().Observe(static_cast<double>(batch.size()));
  for (const auto& [tp, offset] : next) offsets->push_back({tp, offset, {}});
  if (rejected > 0) LogDebug("Records refused", {{"count", rejected}});
}

Status Pipeline::TryTransaction(const std::vector<OutMessage>& outbox,
                                const std::vector<PartitionOffset>& offsets) {
  SEGD_RETURN_IF_ERROR(producer_->BeginTransaction());
  for (const OutMessage& m : outbox) SEGD_RETURN_IF_ERROR(producer_->Produce(m));
  Status s;
  do {
    s = producer_->SendOffsets(offsets, *consumer_, kKafkaTimeoutMs);
  } while (s.code() == Status::Code::kUnavailable && !stop_);
  SEGD_RETURN_IF_ERROR(s);
  // A retriable commit error leaves the transaction open: commit it again.
  int backoff = 100;
  while (true) {
    s = producer_->CommitTransaction(kKafkaTimeoutMs);
    if (s.code() != Status::Code::kUnavailable) return s;
    LogWarn("Commit retrying", {{"error", s.message()}, {"backoff_ms", backoff}});
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, kMaxBackoffMs);
  }
}

Status Pipeline::Deliver(const std::vector<OutMessage>& outbox,
                         const std::vector<PartitionOffset>& offsets) {
  int backoff = 100;
  while (true) {
    Status s = TryTransaction(outbox, offsets);
    if (s.ok()) {
      metrics_->Transactions("committed").Increment();
      ready_ = true;
      metrics_->Ready().Set(1);
      return s;
    }
    ready_ = false;
    metrics_->Ready().Set(0);
    LogWarn("Transaction failed", {{"error", s.ToString()}, {"records", outbox.size()}});
    if (s.code() == Status::Code::kAborted) {
      metrics_->Transactions("aborted").Increment();
      Status a = producer_->AbortTransaction(kKafkaTimeoutMs);
      if (!a.ok() && a.code() != Status::Code::kFatal) {
        LogWarn("Abort failed", {{"error", a.ToString()}});
      }
      if (a.code() == Status::Code::kFatal) SEGD_RETURN_IF_ERROR(CreateProducer());
    } else if (s.code() == Status::Code::kFatal) {
      metrics_->Transactions("fatal").Increment();
      SEGD_RETURN_IF_ERROR(CreateProducer());
    } else if (s.code() != Status::Code::kUnavailable) {
      return s;
    }
    if (stop_) return Status::Unavailable("stopped with a batch undelivered");
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, kMaxBackoffMs);
  }
}

Status Pipeline::Run() {
  ready_ = true;
  metrics_->Ready().Set(1);
  std::vector<OutMessage> outbox;
  std::vector<PartitionOffset> offsets;
  while (!stop_) {
    auto batch = consumer_->Poll(config_.batch_max_records, config_.batch_max_ms);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) continue;
    auto started = std::chrono::steady_clock::now();
    outbox.clear();
    offsets.clear();
    Process(*batch, &outbox, &offsets);
    Status s = Deliver(outbox, offsets);
    if (!s.ok()) {
      // The batch is not committed; a restart resumes from the last commit.
      LogError("Giving up on a batch", {{"error", s.ToString()}});
      return s;
    }
    metrics_->BatchSeconds().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  ready_ = false;
  metrics_->Ready().Set(0);
  consumer_->Close();
  return Status::Ok();
}

}  // namespace segd
