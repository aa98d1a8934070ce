#include "daemon/pipeline.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "daemon/fault_point.h"
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

void Backoff(int* ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
  *ms = std::min(*ms * 2, kMaxBackoffMs);
}

}  // namespace

Pipeline::Pipeline(const Config& config, const rules::RuleSet* rules, Metrics* metrics)
    : config_(config), rules_(rules), metrics_(metrics), decoder_(config.decoder) {}

Pipeline::~Pipeline() = default;

void Pipeline::SetReady(bool ready) {
  ready_ = ready;
  metrics_->Ready().Set(ready ? 1 : 0);
}

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
    Backoff(&backoff);
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

// Opens each partition's store and resumes where its last committed batch
// ended (DESIGN.md, "On assignment").
void Pipeline::OnAssigned(const std::vector<TopicPartition>& parts,
                          std::vector<PartitionOffset>* start) {
  auto committed = consumer_->Committed(parts, kKafkaTimeoutMs);
  for (size_t i = 0; i < parts.size(); ++i) {
    const TopicPartition& tp = parts[i];
    auto p = Partition::Open(config_, rules_, tp, TopicPartitions(tp.topic) > 1, metrics_);
    Result<int64_t> from = p.ok() ? Result<int64_t>(-1) : Result<int64_t>(p.status());
    if (p.ok() && committed.ok()) from = (*p)->Reconcile((*committed)[i]);
    if (p.ok() && !committed.ok()) from = committed.status();
    if (!from.ok()) {
      LogError("Cannot take partition", {{"topic", tp.topic},
                                         {"partition", tp.partition},
                                         {"error", from.status().ToString()}});
      assign_error_ = from.status();
      continue;
    }
    (*start)[i].offset = *from;
    partitions_[tp] = std::move(p).value();
  }
}

// Batches are delivered before Poll hands control to librdkafka, so a
// revoked partition has no uncommitted work: its store is closed.
void Pipeline::OnRevoked(const std::vector<TopicPartition>& parts) {
  for (const auto& tp : parts) partitions_.erase(tp);
}

void Pipeline::OnLost(const std::vector<TopicPartition>& parts) {
  for (const auto& tp : parts) partitions_.erase(tp);
}

Status Pipeline::Process(const MessageBatch& batch) {
  std::map<TopicPartition, std::vector<const InputMessage*>> by_partition;
  for (const InputMessage& m : batch.messages()) {
    by_partition[{std::string(m.topic), m.partition}].push_back(&m);
  }
  int64_t wall = WallMs();
  for (auto& [tp, p] : partitions_) {
    auto it = by_partition.find(tp);
    bool has_records = it != by_partition.end();
    bool tick = p->HasDueTimer(wall);
    if (!has_records && !tick) continue;
    static const std::vector<const InputMessage*> kNone;
    int backoff = 100;
    while (true) {
      Status s = p->Process(has_records ? it->second : kNone, &decoder_, wall);
      if (s.ok()) {
        FaultPoint("after_lmdb_commit");
        break;
      }
      if (s.code() != Status::Code::kResourceExhausted || stop_) return s;
      // The map is at its limit or the disk is full: nothing was written;
      // retry the same batch until space returns.
      SetReady(false);
      LogError("Cannot commit state, retrying", {{"partition", tp.partition},
                                                 {"error", s.ToString()}});
      Backoff(&backoff);
    }
  }
  metrics_->RecordsIn().Increment(static_cast<double>(batch.size()));
  if (!batch.empty()) metrics_->BatchRecords().Observe(static_cast<double>(batch.size()));
  return Status::Ok();
}

Status Pipeline::TryTransaction(const std::vector<Partition*>& parts) {
  SEGD_RETURN_IF_ERROR(producer_->BeginTransaction());
  std::vector<PartitionOffset> offsets;
  for (Partition* p : parts) {
    size_t n = 0;
    for (const auto& pending : p->undelivered()) {
      SEGD_RETURN_IF_ERROR(producer_->Produce(pending.message));
      if (++n == p->undelivered().size() / 2) FaultPoint("mid_produce");
    }
    if (p->next_offset() >= 0) offsets.push_back({p->tp(), p->next_offset(), p->Marker().Encode()});
  }
  Status s;
  if (!offsets.empty()) {
    do {
      s = producer_->SendOffsets(offsets, *consumer_, kKafkaTimeoutMs);
    } while (s.code() == Status::Code::kUnavailable && !stop_);
    SEGD_RETURN_IF_ERROR(s);
  }
  FaultPoint("before_kafka_commit");
  // A retriable commit error leaves the transaction open: commit it again.
  int backoff = 100;
  while (true) {
    s = producer_->CommitTransaction(kKafkaTimeoutMs);
    if (s.code() != Status::Code::kUnavailable || stop_) return s;
    LogWarn("Commit retrying", {{"error", s.message()}, {"backoff_ms", backoff}});
    Backoff(&backoff);
  }
}

Status Pipeline::Deliver() {
  std::vector<Partition*> parts;
  size_t messages = 0;
  for (auto& [tp, p] : partitions_) {
    if (p->undelivered().empty()) continue;
    parts.push_back(p.get());
    messages += p->undelivered().size();
  }
  if (parts.empty()) return Status::Ok();
  int backoff = 100;
  while (true) {
    Status s = TryTransaction(parts);
    if (s.ok()) {
      metrics_->Transactions("committed").Increment();
      for (Partition* p : parts) p->MarkDelivered();
      SetReady(true);
      return s;
    }
    SetReady(false);
    LogWarn("Transaction failed", {{"error", s.ToString()}, {"messages", messages}});
    if (s.code() == Status::Code::kAborted) {
      metrics_->Transactions("aborted").Increment();
      Status a = producer_->AbortTransaction(kKafkaTimeoutMs);
      if (a.code() == Status::Code::kFatal) SEGD_RETURN_IF_ERROR(CreateProducer());
    } else if (s.code() == Status::Code::kFatal) {
      metrics_->Transactions("fatal").Increment();
      SEGD_RETURN_IF_ERROR(CreateProducer());
    } else if (s.code() != Status::Code::kUnavailable) {
      return s;
    }
    if (stop_) return Status::Unavailable("stopped with output undelivered (kept in the outbox)");
    Backoff(&backoff);
  }
}

Status Pipeline::Run() {
  SetReady(true);
  while (!stop_) {
    auto batch = consumer_->Poll(config_.batch_max_records, config_.batch_max_ms);
    if (!batch.ok()) return batch.status();
    if (!assign_error_.ok()) return assign_error_;
    auto started = std::chrono::steady_clock::now();
    SEGD_RETURN_IF_ERROR(Process(*batch));
    Status s = Deliver();
    if (!s.ok()) {
      // The outbox keeps the output; a restart resends it.
      LogError("Giving up on delivery", {{"error", s.ToString()}});
      return s;
    }
    if (!batch->empty()) {
      metrics_->BatchSeconds().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }
  SetReady(false);
  consumer_->Close();
  partitions_.clear();
  return Status::Ok();
}

}  // namespace segd
