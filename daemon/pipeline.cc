#include "daemon/pipeline.h"

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/fault_point.h"
#include "fmt/format.h"
#include "rules/definitions.h"
#include "stream/topic_admin.h"

namespace segd {

namespace {

constexpr int kKafkaTimeoutMs = 30000;
constexpr int kMaxBackoffMs = 10000;

void Backoff(int* ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
  *ms = std::min(*ms * 2, kMaxBackoffMs);
}

}  // namespace

Pipeline::Pipeline(const Config& config, Catalog* catalog, Metrics* metrics)
    : config_(config),
      catalog_(catalog),
      rules_(catalog->rules()),
      metrics_(metrics),
      pool_(config.workers) {
  for (int w = 0; w < pool_.size(); ++w) {
    decoders_.push_back(std::make_unique<RecordDecoder>(config.decoder));
  }
  metrics_->LmdbMapLimit().Set(static_cast<double>(config.lmdb_max_map_bytes));
}

Pipeline::~Pipeline() {
  // A transaction in flight ends first (Close's OnRevoked lands it).
  if (flight_thread_.joinable()) flight_thread_.join();
  // Leaving the group calls OnRevoked, which needs the other members: close
  // the consumer while they are all still there (Run closes it unless it
  // stopped on an error).
  if (consumer_) consumer_->Close();
  standbys_.reset();
}

void Pipeline::SetReady(bool ready) {
  ready_ = ready;
  metrics_->Ready().Set(ready ? 1 : 0);
}

// A topic created just now (by this instance, one starting beside it, or
// whoever set up the input) may be unknown to the metadata for a moment:
// ask again for up to kKafkaTimeoutMs.
Result<int> Pipeline::PartitionCount(const std::string& topic) {
  auto n = TopicPartitionCount(config_.kafka, topic, kKafkaTimeoutMs);
  for (int backoff = 100, waited = 0;
       !n.ok() && n.status().code() != Status::Code::kInvalidArgument && waited < kKafkaTimeoutMs;
       waited += backoff, backoff = std::min(backoff * 2, 2000)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    n = TopicPartitionCount(config_.kafka, topic, kKafkaTimeoutMs);
  }
  return n;
}

Status Pipeline::Start() {
  if (config_.create_topics) {
    int partitions = config_.output_partitions;
    if (partitions <= 0) {
      auto n = PartitionCount(config_.input_topics.front());
      if (!n.ok()) return n.status();
      partitions = *n;
    }
    SEGD_RETURN_IF_ERROR(CreateTopics(config_.kafka,
                                      {{config_.output_topic, partitions, -1, {}},
                                       {config_.dead_letter_topic, partitions, -1, {}}},
                                      kKafkaTimeoutMs));
  }
  if (config_.changelog) {
    // One changelog partition per input partition, compacted; created
    // whatever topics.create says (the state depends on it).
    for (const auto& input : config_.input_topics) {
      auto n = PartitionCount(input);
      if (!n.ok()) return n.status();
      std::string topic = ChangelogTopic(config_, input);
      SEGD_RETURN_IF_ERROR(CreateTopics(
          config_.kafka,
          {{topic, *n, -1, {{"cleanup.policy", "compact"}, {"delete.retention.ms", "86400000"}}}},
          kKafkaTimeoutMs));
      auto m = PartitionCount(topic);
      if (!m.ok()) return m.status();
      if (*m < *n) {
        return Status::FailedPrecondition(fmt::format(
            "changelog topic {} has {} partitions but input topic {} has {}: each input "
            "partition needs its own",
            topic, *m, input, *n));
      }
    }
  }
  // The producer first: its InitTransactions fences (and aborts the open
  // transaction of) an earlier incarnation as early as possible.
  SEGD_RETURN_IF_ERROR(CreateProducer());
  if (config_.definitions) SEGD_RETURN_IF_ERROR(LoadDefinitions());
  ConsumerOptions co;
  co.kafka = config_.kafka;
  co.group_id = config_.group_id;
  co.group_instance_id = config_.instance_id;
  co.topics = config_.input_topics;
  auto consumer = Consumer::Create(co, this);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  if (config_.standby_replicas > 0) {
    standbys_ = std::make_unique<Standbys>(config_, metrics_);
    standbys_->Start();
  }
  for (const auto& t : config_.input_topics) {
    auto n = PartitionCount(t);
    if (!n.ok()) return n.status();
    topic_partitions_[t] = *n;
  }
  return Status::Ok();
}

Status Pipeline::LoadDefinitions() {
  std::string topic = DefinitionsTopic(config_);
  std::vector<DefinitionEntry> entries;
  // Without the topic's content no partition can start: while the brokers
  // are away, wait for them (not ready meanwhile), as the producer does.
  int backoff = 100;
  while (true) {
    Status s = CreateTopics(config_.kafka, {{topic, 1, -1, DefinitionsLog::TopicConfig()}},
                            kKafkaTimeoutMs);
    if (s.ok()) {
      auto log = DefinitionsLog::Open(config_.kafka, topic);
      if (!log.ok()) return log.status();
      definitions_ = std::move(log).value();
      entries.clear();
      s = definitions_->ReadToEnd(kKafkaTimeoutMs, &entries);
      if (s.ok()) break;
    }
    if (s.code() != Status::Code::kUnavailable) return s;
    if (stop_) return Status::Unavailable("stopped before the definitions were read");
    LogWarn("Definitions topic not readable yet; retrying",
            {{"topic", topic}, {"error", s.message()}, {"backoff_ms", backoff}});
    Backoff(&backoff);
  }
  auto saved = catalog_->Entries();
  if (entries.empty() && !saved.empty() && !catalog_->mirror()) {
    // API segments and lists from before the topic (catalog.json): they
    // become its first entries. (A catalog.json that mirrors the topic is
    // never published back: an empty topic then means everything was
    // deleted and the tombstones are gone.)
    for (const auto& [key, value] : saved) {
      auto offset = definitions_->Publish(key, value);
      if (!offset.ok()) return offset.status();
    }
    LogInfo("Saved API segments and lists published to the definitions topic",
            {{"topic", topic}, {"entries", saved.size()}});
    SEGD_RETURN_IF_ERROR(definitions_->ReadToEnd(kKafkaTimeoutMs, &entries));
  }
  if (entries.empty() && !saved.empty() && catalog_->mirror()) {
    // catalog.json mirrors a topic that had them, and this one is empty:
    // everything was deleted (and the tombstones compacted away), or this
    // is another topic (a new group_id, the topic recreated). They are
    // dropped, as the topic says; a copy that would publish them again is
    // kept for the second case.
    std::string copy = catalog_->path() + ".dropped-" + std::to_string(WallMs());
    Status c = catalog_->SaveUnpublished(copy);
    LogWarn("The definitions topic is empty: the API segments and lists of catalog.json, a copy "
            "of an earlier topic, are dropped. If the topic is not the one they were made in "
            "(group_id changed, topic recreated), stop segd, move the copy to catalog.json and "
            "start it again to publish them",
            {{"topic", topic}, {"entries", saved.size()},
             {"copy", c.ok() ? copy : "not written: " + c.ToString()}});
  }
  // The topic is the truth (catalog.json may hold a segment deleted
  // meanwhile): each key's last entry, as compaction leaves it, whatever
  // compaction has done so far.
  std::map<std::string, std::optional<std::string>> last;
  for (DefinitionEntry& e : entries) last[e.key] = std::move(e.value);
  std::vector<std::string> skipped;
  catalog_->Rebuild(last, &skipped);
  catalog_->set_mirror();
  for (const auto& why : skipped) LogError("Definitions entry does not apply; skipped", {{"entry", why}});
  size_t refused = skipped.size();
  SEGD_RETURN_IF_ERROR(catalog_->Save());
  rules_ = catalog_->rules();
  definitions_applied_ = definitions_->position();
  LogInfo("Definitions read", {{"topic", topic},
                               {"entries", entries.size()},
                               {"refused", refused},
                               {"segments", rules_->segments().size()}});
  return Status::Ok();
}

void Pipeline::TailDefinitions(bool to_end) {
  if (definitions_ == nullptr) return;
  std::vector<DefinitionEntry> entries;
  Status s = to_end ? definitions_->ReadToEnd(kKafkaTimeoutMs, &entries)
                    : definitions_->Poll(0, &entries);
  for (const DefinitionEntry& e : entries) ApplyDefinition(e);
  if (!s.ok()) LogWarn("Cannot read the definitions topic", {{"error", s.ToString()}});
}

void Pipeline::ApplyDefinition(const DefinitionEntry& e) {
  std::vector<RuleError> errors;
  auto change = catalog_->PrepareEntry(e.key, e.value, &errors);
  Status outcome = change.status();
  if (!change.ok()) {
    // Another instance's change came first and this one no longer fits
    // (e.g. it reads a segment just deleted): every instance skips it.
    LogError("Definitions entry does not apply; skipped",
             {{"offset", e.offset}, {"key", e.key}, {"error", outcome.ToString()}});
  } else if (!change->unchanged) {
    // The partitions first: the API shows the catalog's segments, and their
    // member counts are the partitions'.
    outcome = ApplyRuleSet(change->rules);
    (void)catalog_->Commit(std::move(change).value(), false);  // no save: cannot fail
    Status saved = catalog_->Save();  // a copy for offline tools: the topic is the truth
    if (!saved.ok()) LogWarn("Cannot save catalog.json", {{"error", saved.ToString()}});
    LogInfo("Definition applied",
            {{"offset", e.offset}, {"key", e.key}, {"deleted", !e.value}, {"ok", outcome.ok()}});
  }
  std::lock_guard lock(definitions_mu_);
  definition_outcomes_[e.offset] = outcome;
  while (definition_outcomes_.size() > 1000) definition_outcomes_.erase(definition_outcomes_.begin());
  definitions_applied_ = e.offset + 1;
  definitions_cv_.notify_all();
}

Status Pipeline::ChangeDefinitions(Catalog::Change change, int timeout_ms) {
  if (definitions_ == nullptr) {
    auto rules = change.rules;
    SEGD_RETURN_IF_ERROR(catalog_->Commit(std::move(change)));
    return ApplyRules(std::move(rules), timeout_ms);
  }
  auto offset = definitions_->Publish(change.key, change.value);
  if (!offset.ok()) return offset.status();
  std::unique_lock lock(definitions_mu_);
  if (!definitions_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return definitions_applied_ > *offset; })) {
    return Status::Unavailable(
        "the change is in the definitions topic and will apply when the pipeline gets to it");
  }
  auto it = definition_outcomes_.find(*offset);
  // Only the last 1000 outcomes are kept: one this old was applied.
  if (it == definition_outcomes_.end()) return Status::Ok();
  Status outcome = it->second;
  lock.unlock();
  if (outcome.code() == Status::Code::kInvalidArgument ||
      outcome.code() == Status::Code::kFailedPrecondition) {
    // Another instance's change came first and this one was skipped
    // everywhere. The topic still holds it as its key's last entry: put
    // back what every instance runs, so that a reader of the compacted
    // topic builds the same catalog.
    auto undo = definitions_->Publish(change.key, catalog_->EntryValue(change.key));
    if (!undo.ok()) LogWarn("Cannot put back a skipped definition", {{"key", change.key}});
    return Status::FailedPrecondition(outcome.message());
  }
  return outcome;
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
    if (s.ok()) {
      std::vector<std::string> topics = {config_.output_topic, config_.dead_letter_topic};
      if (config_.changelog) {
        for (const auto& input : config_.input_topics) {
          topics.push_back(ChangelogTopic(config_, input));
        }
      }
      producer_->LearnTopics(topics, 2000);
      return s;
    }
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
  // Every definition the partitions' last owners applied was published
  // before they gave the partitions up: read up to the topic's end, so no
  // partition goes back to an older rule set.
  TailDefinitions(true);
  if (standbys_) standbys_->Own(parts);  // their copies close before the stores open
  auto committed = consumer_->Committed(parts, kKafkaTimeoutMs);
  // The group answers only once no transaction with offsets for these
  // partitions is open: a lost owner's open transaction holds them until the
  // broker aborts it (transaction.timeout.ms). Ask again meanwhile.
  for (int attempt = 1; !committed.ok() && attempt < 5 && !stop_; ++attempt) {
    LogWarn("Committed offsets not available yet; asking again",
            {{"error", committed.status().ToString()}, {"attempt", attempt}});
    committed = consumer_->Committed(parts, kKafkaTimeoutMs);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const TopicPartition& tp = parts[i];
    auto p = Partition::Open(config_, rules_.get(), tp, TopicPartitions(tp.topic) > 1, metrics_);
    Result<int64_t> from = p.ok() ? Result<int64_t>(-1) : Result<int64_t>(p.status());
    if (p.ok() && committed.ok()) from = (*p)->Reconcile((*committed)[i]);
    if (p.ok() && !committed.ok()) from = committed.status();
    if (!from.ok()) {
      LogError(
          "Cannot take partition",
          {{"topic", tp.topic}, {"partition", tp.partition}, {"error", from.status().ToString()}});
      assign_error_ = from.status();
      continue;
    }
    (*start)[i].offset = *from;
    std::unique_lock lock(partitions_mu_);
    partitions_[tp] = std::move(p).value();
  }
}

// Work in hand for the revoked partitions is delivered first (one more
// transaction); if that fails, their outbox stays in the store and the next
// owner starts from the committed offset.
void Pipeline::OnRevoked(const std::vector<TopicPartition>& parts) {
  Status landed = Land();
  if (!landed.ok()) LogWarn("Transaction in flight failed", {{"error", landed.ToString()}});
  std::vector<Partition*> pending;
  for (const auto& tp : parts) {
    auto it = partitions_.find(tp);
    if (it != partitions_.end() && it->second->HasWorkToDeliver())
      pending.push_back(it->second.get());
  }
  if (!pending.empty()) {
    deliver_at_ms_ = 0;
    Status s = Deliver(pending);
    if (!s.ok() || delivery_failing_) {
      LogWarn("Revoked partitions left undelivered output", {{"partitions", pending.size()}});
    }
  }
  if (config_.changelog) {
    // Each store stays a copy of its changelog up to where it ends now
    // (nobody else writes it until this revocation completes), so taking the
    // partition back later restores only the tail.
    for (const auto& tp : parts) {
      auto it = partitions_.find(tp);
      if (it == partitions_.end() || it->second->HasWorkToDeliver()) continue;
      int64_t as_of = WallMs();
      auto end = consumer_->QueryHighWatermark({it->second->changelog_topic(), tp.partition},
                                               5000);
      Status s = end.ok() ? it->second->RecordChangelogBase(*end, as_of) : end.status();
      if (!s.ok()) {
        LogWarn("Cannot note where the local copy of the changelog ends; a later restore here "
                "reads it all",
                {{"topic", tp.topic}, {"partition", tp.partition}, {"error", s.ToString()}});
      }
    }
  }
  std::unique_lock lock(partitions_mu_);
  for (const auto& tp : parts) partitions_.erase(tp);
  if (standbys_) standbys_->Disown(parts);
}

void Pipeline::OnLost(const std::vector<TopicPartition>& parts) {
  // The transaction in flight ends before its partitions go (it fails if
  // the group fenced this instance).
  Status landed = Land();
  if (!landed.ok()) LogWarn("Transaction in flight failed", {{"error", landed.ToString()}});
  std::unique_lock lock(partitions_mu_);
  for (const auto& tp : parts) partitions_.erase(tp);
  if (standbys_) standbys_->Disown(parts);
}

void Pipeline::ForEachStore(
    const std::function<void(const TopicPartition&, PartitionStore*)>& fn) const {
  std::shared_lock lock(partitions_mu_);
  for (const auto& [tp, p] : partitions_) fn(tp, p->store());
}

std::map<std::string, uint64_t> Pipeline::MemberCounts() const {
  std::lock_guard lock(counts_mu_);
  return member_counts_;
}

void Pipeline::UpdateMemberCounts() {
  std::map<std::string, uint64_t> counts;
  for (const auto& seg : rules_->segments()) counts[seg.id] = 0;
  for (const auto& [tp, p] : partitions_) {
    const auto& m = p->memberships();
    for (size_t i = 0; i < rules_->segments().size() && i < m.size(); ++i) {
      counts[rules_->segments()[i].id] += m.Count(static_cast<int>(i));
    }
  }
  std::lock_guard lock(counts_mu_);
  member_counts_ = std::move(counts);
}

Status Pipeline::ApplyRules(std::shared_ptr<const rules::RuleSet> rules, int timeout_ms) {
  auto cmd = std::make_shared<RulesCommand>();
  cmd->rules = std::move(rules);
  std::unique_lock lock(command_mu_);
  if (command_ != nullptr) return Status::Unavailable("another segment change is being applied");
  command_ = cmd;
  if (!command_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return cmd->done; })) {
    // The pipeline thread applies it when it gets there (the catalog has it).
    return Status::Unavailable("the change is saved and will apply when the pipeline gets to it");
  }
  return cmd->result;
}

Status Pipeline::ApplyPendingRules() {
  std::shared_ptr<RulesCommand> cmd;
  {
    std::lock_guard lock(command_mu_);
    cmd = command_;
  }
  if (cmd == nullptr) return Status::Ok();
  Status s = ApplyRuleSet(cmd->rules);
  std::lock_guard lock(command_mu_);
  cmd->result = s;
  cmd->done = true;
  command_ = nullptr;
  command_cv_.notify_all();
  return s;
}

Status Pipeline::ApplyRuleSet(std::shared_ptr<const rules::RuleSet> rules) {
  // Each partition is reopened under the new rule set; its next batch (run
  // here, without records) carries its state over (rules/definitions.cc).
  SEGD_RETURN_IF_ERROR(Land());  // the partitions are reopened
  auto old = rules_;  // partitions still read it until each has switched
  rules_ = std::move(rules);
  // A list change concerns only the users in one version of a list and not
  // the other: worked out once here, for every partition.
  std::shared_ptr<const rules::ListHint> hint = rules::ListChangeHint(*old, *rules_);
  Status s = Status::Ok();
  int64_t wall = WallMs();
  static const std::vector<const InputMessage*> kNone;
  std::vector<Partition*> parts;
  for (auto& [tp, p] : partitions_) parts.push_back(p.get());
  std::vector<Status> results(parts.size(), Status::Ok());
  pool_.Run(parts.size(), [&](size_t j, int worker) {
    Status r = parts[j]->SetRules(rules_.get(), hint);
    if (r.ok()) r = parts[j]->Process(kNone, decoders_[worker].get(), wall);
    // A store that cannot commit now migrates with its next batch.
    if (r.code() != Status::Code::kResourceExhausted) results[j] = r;
  });
  for (const Status& r : results) {
    if (s.ok() && !r.ok()) s = r;
  }
  if (s.ok()) s = Deliver();
  UpdateMemberCounts();
  return s;
}

Status Pipeline::Process(const MessageBatch& batch) {
  std::map<TopicPartition, std::vector<const InputMessage*>> by_partition;
  for (const InputMessage& m : batch.messages()) {
    by_partition[{std::string(m.topic), m.partition}].push_back(&m);
  }
  int64_t wall = WallMs();
  static const std::vector<const InputMessage*> kNone;
  struct Job {
    const TopicPartition* tp;
    Partition* p;
    const std::vector<const InputMessage*>* messages;  // nullptr: timers only
    Status status = Status::Ok();
  };
  auto rewind = [&](const Job& job) {
    // The records after the stored position come again once resumed.
    int64_t to =
        job.p->next_offset() >= 0 ? job.p->next_offset() : job.messages->front()->offset;
    Status s = consumer_->Seek({{*job.tp, to, {}}});
    if (!s.ok()) LogWarn("Seek failed", {{"partition", job.tp->partition}, {"error", s.ToString()}});
  };
  std::vector<Job> jobs;
  for (auto& [tp, p] : partitions_) {
    auto it = by_partition.find(tp);
    Job job{&tp, p.get(), it != by_partition.end() ? &it->second : nullptr};
    if (p->flow.storage_full && wall < p->flow.retry_at_ms) {
      if (job.messages != nullptr) rewind(job);  // fetched before the pause took hold
      continue;
    }
    if (job.messages == nullptr && !p->HasWorkWithoutRecords(wall)) continue;
    jobs.push_back(job);
  }
  // Each partition has its own store and engine: they run in parallel.
  pool_.Run(jobs.size(), [&](size_t j, int worker) {
    Job& job = jobs[j];
    job.status = job.p->Process(job.messages ? *job.messages : kNone, decoders_[worker].get(), wall);
  });
  for (const Job& job : jobs) {
    Partition* p = job.p;
    const TopicPartition& tp = *job.tp;
    const Status& s = job.status;
    if (s.ok()) {
      FaultPoint("after_lmdb_commit");
      if (p->flow.storage_full) {
        LogInfo("State commits again", {{"topic", tp.topic}, {"partition", tp.partition}});
        p->flow.storage_full = false;
        p->flow.backoff_ms = 100;
      }
      continue;
    }
    if (s.code() != Status::Code::kResourceExhausted) return s;
    // Nothing of the batch was written: stop taking records from this
    // partition, say so, and try again later from the stored position.
    metrics_->StorageErrors().Increment();
    LogError("Cannot commit state; partition paused until there is room",
             {{"topic", tp.topic},
              {"partition", tp.partition},
              {"error", s.ToString()},
              {"retry_ms", p->flow.backoff_ms}});
    p->flow.storage_full = true;
    p->flow.retry_at_ms = wall + p->flow.backoff_ms;
    p->flow.backoff_ms = std::min(p->flow.backoff_ms * 2, kMaxBackoffMs);
    if (job.messages != nullptr) rewind(job);
  }
  metrics_->RecordsIn().Increment(static_cast<double>(batch.size()));
  if (!batch.empty()) metrics_->BatchRecords().Observe(static_cast<double>(batch.size()));
  return Status::Ok();
}

bool Pipeline::AnyWorkToDeliver() const {
  for (const auto& [tp, p] : partitions_) {
    if (p->HasWorkToDeliver()) return true;
  }
  return false;
}

bool Pipeline::TimersDue(int64_t wall_ms) const {
  for (const auto& [tp, p] : partitions_) {
    if (p->HasWorkWithoutRecords(wall_ms) && !p->flow.storage_full) return true;
  }
  return false;
}

void Pipeline::ApplyBackpressure() {
  int64_t wall = WallMs();
  std::vector<TopicPartition> pause, resume;
  int paused = 0;
  bool full = false;
  for (auto& [tp, p] : partitions_) {
    full = full || p->flow.storage_full;
    bool want = (p->flow.storage_full && wall < p->flow.retry_at_ms) ||
                p->undelivered().size() > config_.max_outbox ||
                p->timer_backlog() > config_.max_timer_backlog;
    if (want && !p->flow.paused) pause.push_back(tp);
    if (!want && p->flow.paused) resume.push_back(tp);
    p->flow.paused = want;
    paused += want ? 1 : 0;
    p->UpdateGauges(consumer_->CachedHighWatermark(tp));
  }
  if (!pause.empty()) {
    Status s = consumer_->Pause(pause);
    if (!s.ok()) LogWarn("Pause failed", {{"error", s.ToString()}});
    LogInfo("Partitions paused", {{"count", pause.size()}});
  }
  if (!resume.empty()) {
    Status s = consumer_->Resume(resume);
    if (!s.ok()) LogWarn("Resume failed", {{"error", s.ToString()}});
    LogInfo("Partitions resumed", {{"count", resume.size()}});
  }
  metrics_->PartitionsPaused().Set(paused);
  metrics_->StorageFull().Set(full ? 1 : 0);
  if (consumer_->brokers_down() && wall >= probe_at_ms_) {
    // librdkafka says when every broker is down, not when one is back: ask.
    probe_at_ms_ = wall + 2000;
    if (consumer_->BrokersReachable(config_.input_topics.front(), 1000)) {
      LogInfo("Brokers reachable again", {});
    }
  }
  SetReady(!full && !delivery_failing_ && !consumer_->brokers_down());
}

Status Pipeline::TryTransaction(const Flight& flight) {
  // A producer that could not be recreated: nothing goes until it is.
  if (!producer_) return Status::Fatal("no transactional producer");
  SEGD_RETURN_IF_ERROR(producer_->BeginTransaction());
  std::vector<PartitionOffset> offsets;
  for (const auto& [tp, ship] : flight.parts) {
    size_t n = 0;
    for (const OutMessage* m : ship.messages) {
      SEGD_RETURN_IF_ERROR(producer_->Produce(*m));
      if (++n == ship.messages.size() / 2) FaultPoint("mid_produce");
    }
    if (ship.next_offset >= 0) offsets.push_back({tp, ship.next_offset, ship.marker.Encode()});
  }
  Status s;
  if (!offsets.empty()) {
    auto started = std::chrono::steady_clock::now();
    while (true) {
      s = producer_->SendOffsets(offsets, *consumer_, kKafkaTimeoutMs);
      if (s.code() != Status::Code::kUnavailable || stop_) break;
      // While this retries, the transaction stays open, and read_committed
      // readers of the output wait for it: say so.
      LogWarn("Input offsets not taken by the group yet; retrying",
              {{"error", s.message()},
               {"waited_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    SEGD_RETURN_IF_ERROR(s);
  }
  FaultPoint("before_kafka_commit");
  // A retriable commit error leaves the transaction open: commit it again.
  int backoff = 100;
  while (true) {
    s = producer_->CommitTransaction(kKafkaTimeoutMs);
    if (s.code() != Status::Code::kUnavailable || stop_) return s;
    SetReady(false);
    LogWarn("Commit retrying", {{"error", s.message()}, {"backoff_ms", backoff}});
    Backoff(&backoff);
  }
}

bool Pipeline::Board(const std::vector<Partition*>& parts, Flight* flight) {
  if (WallMs() < deliver_at_ms_) return false;
  auto board = [&](Partition* p) {
    if (p->HasWorkToDeliver()) flight->parts.emplace_back(p->tp(), p->Ship());
  };
  if (parts.empty()) {
    for (auto& [tp, p] : partitions_) board(p.get());
  } else {
    for (Partition* p : parts) board(p);
  }
  return !flight->parts.empty();
}

Status Pipeline::Deliver(std::vector<Partition*> parts) {
  SEGD_RETURN_IF_ERROR(Land());
  Flight flight;
  if (!Board(parts, &flight)) return Status::Ok();
  flight.result = TryTransaction(flight);
  flight.ended_ms = WallMs();
  return Finish(flight);
}

Status Pipeline::DeliverInBackground() {
  auto flight = std::make_unique<Flight>();
  if (!Board({}, flight.get())) return Status::Ok();
  Flight* f = flight.get();
  flight_thread_ = std::thread([this, f] {
    f->result = TryTransaction(*f);
    f->ended_ms = WallMs();
  });
  flight_ = std::move(flight);  // only once the thread exists
  return Status::Ok();
}

Status Pipeline::Land() {
  if (!flight_) return Status::Ok();
  if (flight_thread_.joinable()) flight_thread_.join();
  std::unique_ptr<Flight> flight = std::move(flight_);
  return Finish(*flight);
}

Status Pipeline::Finish(Flight& flight) {
  const Status& s = flight.result;
  size_t messages = 0;
  for (const auto& [tp, ship] : flight.parts) messages += ship.messages.size();
  if (s.ok()) {
    metrics_->Transactions("committed").Increment();
    int64_t wall = flight.ended_ms;  // the latencies end at the commit, not at landing
    for (const auto& [tp, ship] : flight.parts) {
      // Revocation lands a flight before its partitions go: they are here.
      auto it = partitions_.find(tp);
      if (it != partitions_.end()) it->second->MarkDelivered(ship, wall);
    }
    if (delivery_failing_) LogInfo("Delivering again", {});
    delivery_failing_ = false;
    deliver_backoff_ms_ = 100;
    deliver_at_ms_ = 0;
    return s;
  }
  delivery_failing_ = true;
  SetReady(false);
  LogWarn("Transaction failed; the outbox is kept and sent again",
          {{"error", s.ToString()}, {"messages", messages}, {"retry_ms", deliver_backoff_ms_}});
  if (s.code() == Status::Code::kAborted) {
    metrics_->Transactions("aborted").Increment();
    Status a = producer_->AbortTransaction(kKafkaTimeoutMs);
    if (a.code() == Status::Code::kFatal) SEGD_RETURN_IF_ERROR(CreateProducer());
  } else if (s.code() == Status::Code::kFatal) {
    metrics_->Transactions("fatal").Increment();
    SEGD_RETURN_IF_ERROR(CreateProducer());
  } else if (s.code() == Status::Code::kUnavailable) {
    // Stopping cut a retry short: the transaction is not committed.
    Status a = producer_->AbortTransaction(kKafkaTimeoutMs);
    if (a.code() == Status::Code::kFatal) SEGD_RETURN_IF_ERROR(CreateProducer());
  } else {
    return s;
  }
  deliver_at_ms_ = WallMs() + deliver_backoff_ms_;
  deliver_backoff_ms_ = std::min(deliver_backoff_ms_ * 2, kMaxBackoffMs);
  return Status::Ok();
}

Status Pipeline::Run() {
  SetReady(true);
  while (!stop_) {
    int wait = TimersDue(WallMs()) ? 0 : config_.batch_max_ms;
    // Output waiting for its transaction: take only what has come in.
    // (Not while delivery backs off after a failure: nothing would go.)
    if (wait > 0 && WallMs() >= deliver_at_ms_ && AnyWorkToDeliver()) wait = std::min(wait, 5);
    auto batch = consumer_->Poll(config_.batch_max_records, wait);
    if (!batch.ok()) return batch.status();
    if (!assign_error_.ok()) return assign_error_;
    auto started = std::chrono::steady_clock::now();
    SEGD_RETURN_IF_ERROR(ApplyPendingRules());
    TailDefinitions(false);
    // The output of the batches before this one goes out in a transaction
    // on its own thread while this batch is processed into the outbox. It
    // lands before the next poll: a rebalance (inside the poll) never
    // meets a transaction in flight, so the offsets it sends always carry
    // the group generation they were taken under.
    Status s = DeliverInBackground();
    if (s.ok()) s = Process(*batch);
    Status landed = Land();
    if (!s.ok()) {
      if (!landed.ok()) LogError("Giving up on delivery", {{"error", landed.ToString()}});
      return s;
    }
    if (!landed.ok()) {
      // The outbox keeps the output; a restart resends it.
      LogError("Giving up on delivery", {{"error", landed.ToString()}});
      return landed;
    }
    ApplyBackpressure();
    UpdateMemberCounts();
    if (!batch->empty()) {
      metrics_->BatchSeconds().Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }
  // Stopping: what was processed is delivered before the group is left
  // (one attempt per step; what is left stays in the outbox for the next
  // start).
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kKafkaTimeoutMs);
  while (std::chrono::steady_clock::now() < give_up) {
    deliver_at_ms_ = 0;
    Status s = Deliver();
    if (!s.ok() || !delivery_failing_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  SetReady(false);
  consumer_->Close();
  std::unique_lock lock(partitions_mu_);
  partitions_.clear();
  standbys_.reset();
  return Status::Ok();
}

}  // namespace segd
