#include "daemon/partition.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/changelog_copy.h"
#include "rules/definitions.h"
#include "stream/partition_reader.h"
#include "fmt/format.h"

namespace segd {

namespace {

std::string NewStoreId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return fmt::format("{:016x}", rng());
}

}  // namespace

Result<std::unique_ptr<PartitionStore>> OpenPartitionStore(const Config& config,
                                                           const TopicPartition& tp) {
  std::string dir = config.data_dir + "/" + tp.topic + "-" + std::to_string(tp.partition);
  std::filesystem::create_directories(config.data_dir);
  LmdbOptions lo;
  lo.initial_map_bytes = std::min(config.lmdb_initial_map_bytes, config.lmdb_max_map_bytes);
  lo.max_map_bytes = config.lmdb_max_map_bytes;
  lo.sync = config.lmdb_sync;
  lo.writemap = config.lmdb_write_map;
  auto store = PartitionStore::Open(dir, lo);
  if (!store.ok()) return store.status();
  (*store)->set_capture(config.changelog);
  return store;
}

Result<std::unique_ptr<Partition>> Partition::Open(const Config& config,
                                                   const rules::RuleSet* rules,
                                                   const TopicPartition& tp, bool key_required,
                                                   Metrics* metrics) {
  std::unique_ptr<Partition> p(new Partition());
  p->config_ = &config;
  p->rules_ = rules;
  p->metrics_ = metrics;
  p->tp_ = tp;
  p->key_required_ = key_required;
  auto store = OpenPartitionStore(config, tp);
  if (!store.ok()) return store.status();
  p->store_ = std::move(store).value();
  p->changelog_topic_ = ChangelogTopic(config, tp.topic);
  SEGD_RETURN_IF_ERROR(p->SetRules(rules));
  SEGD_RETURN_IF_ERROR(p->Load());
  p->gauges_ = metrics->AddPartition(tp.topic, tp.partition);
  p->UpdateGauges(-1);
  return p;
}

Status Partition::SetRules(const rules::RuleSet* rules,
                           std::shared_ptr<const rules::ListHint> hint) {
  engine_.reset();
  rules::EngineOptions eo;
  // A midnight that flips many users is worked off over several batches
  // while records keep flowing.
  eo.max_timers_per_batch = config_->batch_max_timers;
  // A rule-set change scans every user: on every worker (several
  // partitions changing at once share the cores).
  eo.scan_workers = config_->workers;
  auto engine = rules::PartitionEngine::Open(rules, store_.get(), eo);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();
  if (hint) engine_->HintListChange(std::move(hint));
  rules_ = rules;
  for (prometheus::Gauge* g : member_gauges_) metrics_->RemoveMembers(g);
  member_gauges_.clear();
  for (const auto& seg : rules->segments()) {
    member_gauges_.push_back(&metrics_->Members(seg.id, tp_.topic, tp_.partition));
  }
  return Status::Ok();
}

Partition::~Partition() {
  for (prometheus::Gauge* g : member_gauges_) metrics_->RemoveMembers(g);
  if (gauges_.lag != nullptr) metrics_->RemovePartition(gauges_);
}

void Partition::UpdateGauges(int64_t high_watermark) {
  int64_t position = std::max<int64_t>(next_offset_, 0);
  gauges_.lag->Set(high_watermark >= 0
                       ? static_cast<double>(std::max<int64_t>(high_watermark - position, 0))
                       : 0);
  gauges_.outbox->Set(static_cast<double>(undelivered_.size()));
  gauges_.timers->Set(static_cast<double>(timers_));
  gauges_.timers_due->Set(static_cast<double>(timer_backlog_));
  gauges_.users->Set(static_cast<double>(store_->user_count()));
  gauges_.map_used->Set(static_cast<double>(store_->env().used_bytes()));
  gauges_.map_size->Set(static_cast<double>(store_->env().map_bytes()));
  const auto& members = engine_->memberships();
  for (size_t i = 0; i < member_gauges_.size() && i < members.size(); ++i) {
    member_gauges_[i]->Set(static_cast<double>(members.Count(static_cast<int>(i))));
  }
}

void Partition::MaybeSync() {
  if (config_->lmdb_sync || config_->lmdb_sync_interval_ms <= 0) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (now - last_sync_ms_ < config_->lmdb_sync_interval_ms) return;
  last_sync_ms_ = now;
  Status s = store_->env().Sync();
  if (!s.ok()) LogWarn("LMDB sync failed", {{"partition", tp_.partition}, {"error", s.ToString()}});
}

// Reads the store's identity, input position and undelivered outbox.
Status Partition::Load() {
  SEGD_RETURN_IF_ERROR(store_->Begin());
  auto id = store_->GetMeta(meta_key::kStoreId);
  if (!id.ok()) return id.status();
  if (id->has_value()) {
    store_id_ = **id;
  } else {
    store_id_ = NewStoreId();
    SEGD_RETURN_IF_ERROR(store_->PutMeta(meta_key::kStoreId, store_id_));
  }
  if (config_->changelog) {
    auto seeded = ChangelogComplete(store_.get());
    if (!seeded.ok()) return seeded.status();
    changelog_seeded_ = *seeded;
  } else {
    // Nothing written from now on reaches the changelog: turned on again,
    // it must be sent the whole store again, from the start.
    SEGD_RETURN_IF_ERROR(ForgetChangelog(store_.get()));
    changelog_seeded_ = false;
  }
  auto offset = store_->GetMeta(meta_key::kInputOffset);
  if (!offset.ok()) return offset.status();
  next_offset_ = offset->has_value() ? std::stoll(**offset) : -1;
  Status bad = Status::Ok();
  SEGD_RETURN_IF_ERROR(store_->ForEachOutbox([&](uint64_t seq, std::string_view bytes) {
    OutboxKind kind;
    OutMessage m;
    Status s = DecodeOutboxEntry(bytes, &kind, &m);
    if (!s.ok()) {
      bad = s;
      return;
    }
    if (kind == OutboxKind::kChangelog) {
      m.topic = changelog_topic_;
      m.partition = tp_.partition;
    } else {
      m.topic = kind == OutboxKind::kChange ? config_->output_topic : config_->dead_letter_topic;
    }
    undelivered_.push_back({seq, std::move(m)});
    last_seq_ = seq;
  }));
  SEGD_RETURN_IF_ERROR(bad);
  auto last = store_->GetMeta(meta_key::kLastSeq);
  if (!last.ok()) return last.status();
  if (last->has_value()) last_seq_ = std::stoull(**last);
  delivered_seq_ = deleted_seq_ = undelivered_.empty() ? last_seq_ : undelivered_.front().seq - 1;
  return store_->Commit();
}

Result<int64_t> Partition::Reconcile(const PartitionOffset& committed) {
  DeliveryMarker marker;
  bool has_marker = DeliveryMarker::Decode(committed.metadata, &marker);
  committed_offset_ = committed.offset;
  bool local_is_committed =
      has_marker && marker.store_id == store_id_ && marker.seq <= last_seq_;
  if (has_marker && !local_is_committed && config_->changelog) {
    // Another instance (or a lost disk) since: the committed state is in
    // the changelog, up to the transaction that committed this offset.
    SEGD_RETURN_IF_ERROR(Restore(marker, committed.offset));
    return committed.offset;
  }
  if (has_marker && marker.store_id == store_id_) {
    if (marker.seq > last_seq_) {
      // Kafka committed output this store no longer has: it lost its last
      // commits (a machine crash with lmdb.sync off). Resuming from it
      // would send that output twice.
      return Status::FailedPrecondition(fmt::format(
          "partition {}-{}: the local state is behind what Kafka committed (outbox sequence {} "
          "committed, {} stored): the store lost its last commits, as a machine crash with "
          "lmdb.sync false can do. Move {}-{} out of {} to start it afresh from the committed "
          "offset",
          tp_.topic, tp_.partition, marker.seq, last_seq_, tp_.topic, tp_.partition,
          config_->data_dir));
    }
    // Kafka holds our output up to marker.seq: the rest is resent.
    delivered_seq_ = marker.seq;
    std::erase_if(undelivered_, [&](const Pending& p) { return p.seq <= marker.seq; });
    return next_offset_;
  }
  if (has_marker && next_offset_ >= 0) {
    return Status::FailedPrecondition(fmt::format(
        "partition {}-{}: the local state (store {}) is not the one whose output Kafka committed "
        "(store {}); another instance owned it since. Move {} away to start it afresh from the "
        "committed offset",
        tp_.topic, tp_.partition, store_id_, marker.store_id, config_->data_dir));
  }
  if (has_marker) {
    LogWarn("Partition starts with empty state at the committed offset",
            {{"topic", tp_.topic}, {"partition", tp_.partition}, {"offset", committed.offset}});
    return committed.offset;
  }
  // No segd marker in the group: what the store has is ours to resume.
  return next_offset_ >= 0 ? next_offset_ : committed.offset;
}

Status Partition::Restore(const DeliveryMarker& marker, int64_t offset) {
  auto started = std::chrono::steady_clock::now();
  engine_.reset();  // it holds the old state in memory
  // A copy this store kept (the partition left this instance cleanly, or a
  // standby followed it) needs only the changelog's tail; anything else
  // starts from nothing.
  auto kept = ReadChangelogBase(store_.get());
  if (!kept.ok()) return kept.status();
  std::optional<ChangelogBase> base;
  if (*kept && BaseUsable(**kept, last_seq_, WallMs())) base = **kept;
  const char* kind = base ? "tail" : "full";
  uint64_t entries = 0;
  Result<int64_t> end = Status::Internal("not read");
  // At most two reads: a tail, and when the changelog no longer holds the
  // tail's start, the whole changelog after emptying the store.
  for (bool last_try = !base;; last_try = true) {
    if (!base) {
      SEGD_RETURN_IF_ERROR(store_->Begin());
      Status s = store_->ClearAll();
      if (s.ok()) s = store_->Commit();
      if (!s.ok()) {
        store_->Abort();
        return s;
      }
      // Empty: the changelog's first zero records; a restore cut short
      // goes on from where it stopped.
      base = ChangelogBase{0, 0, WallMs()};
      SEGD_RETURN_IF_ERROR(ApplyChangelog(store_.get(), {}, *base));
    }
    LogInfo("Restoring partition from its changelog",
            {{"topic", tp_.topic},
             {"partition", tp_.partition},
             {"changelog", changelog_topic_},
             {"kind", kind},
             {"from", base->offset}});
    // Applied a chunk at a time, each with the base it moves the store to.
    constexpr size_t kChunk = 20000;
    std::vector<ChangelogRecord> chunk;
    ChangelogBase at = *base;
    end = ReadPartition(config_->kafka, changelog_topic_, tp_.partition, base->offset, 120000,
                        [&](int64_t off, std::string_view key,
                            std::optional<std::string_view> value) -> Status {
                          chunk.push_back({std::string(key), value ? std::optional<std::string>(
                                                                         std::string(*value))
                                                                   : std::nullopt});
                          at.offset = off + 1;
                          if (chunk.size() < kChunk) return Status::Ok();
                          SEGD_RETURN_IF_ERROR(ApplyChangelog(store_.get(), chunk, at));
                          entries += chunk.size();
                          chunk.clear();
                          return Status::Ok();
                        });
    if (end.ok()) {
      at.offset = *end;
      at.as_of_ms = WallMs();
      SEGD_RETURN_IF_ERROR(ApplyChangelog(store_.get(), chunk, at));
      entries += chunk.size();
      break;
    }
    if (end.status().code() != Status::Code::kNotFound || last_try) return end.status();
    // The copy's end is no longer in the changelog (recreated, or its head
    // deleted): from the beginning.
    LogWarn("Changelog no longer holds the local copy's end; restoring in full",
            {{"topic", tp_.topic}, {"partition", tp_.partition}, {"error", end.status().message()}});
    base.reset();
    kind = "full";
  }
  // A changelog that never received its store's whole content (changelog
  // turned on after the partition last moved) cannot stand for it.
  SEGD_RETURN_IF_ERROR(store_->Begin());
  auto seeded = store_->GetMeta(kChangelogMarkKey);
  store_->Abort();
  if (!seeded.ok()) return seeded.status();
  if (!seeded->has_value()) {
    return Status::FailedPrecondition(fmt::format(
        "partition {}-{}: the changelog {} does not hold the committed state (it was enabled "
        "after the partition's state last moved); start the partition on the instance whose "
        "data folder holds store {}, or move the group's offsets to start afresh",
        tp_.topic, tp_.partition, changelog_topic_, marker.store_id));
  }
  // The position is the committed one. The identity is new: the store that
  // wrote the changelog may still exist elsewhere with writes Kafka never
  // committed, and must not pass for this one. The outbox (a local copy's
  // own, all delivered) is emptied.
  SEGD_RETURN_IF_ERROR(store_->Begin());
  Status s = store_->ClearOutbox();
  if (s.ok()) s = store_->PutMeta(meta_key::kStoreId, NewStoreId());
  if (s.ok()) s = store_->PutMeta(meta_key::kInputOffset, std::to_string(offset));
  if (s.ok()) s = store_->PutMeta(meta_key::kLastSeq, std::to_string(marker.seq));
  if (s.ok()) s = WriteChangelogBase(store_.get(), ChangelogBase{*end, marker.seq, WallMs()});
  if (s.ok()) s = store_->Recount();
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) {
    store_->Abort();
    return s;
  }
  undelivered_.clear();
  pending_kafka_ts_.clear();
  pending_arrivals_.clear();
  SEGD_RETURN_IF_ERROR(Load());
  const rules::RuleSet* rules = rules_;
  rules_ = nullptr;  // no list hint: the engine reads the restored store afresh
  SEGD_RETURN_IF_ERROR(SetRules(rules));
  committed_offset_ = offset;
  metrics_->Restores(kind).Increment();
  metrics_->RestoredRecords().Increment(static_cast<double>(entries));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started)
                .count();
  LogInfo("Partition restored from its changelog",
          {{"topic", tp_.topic},
           {"partition", tp_.partition},
           {"kind", kind},
           {"entries", entries},
           {"changelog_end", *end},
           {"users", store_->user_count()},
           {"ms", ms}});
  return Status::Ok();
}

Status Partition::RecordChangelogBase(int64_t changelog_end, int64_t as_of_ms) {
  if (!config_->changelog || HasWorkToDeliver()) return Status::Ok();
  SEGD_RETURN_IF_ERROR(store_->Begin());
  Status s = WriteChangelogBase(store_.get(), ChangelogBase{changelog_end, last_seq_, as_of_ms});
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) store_->Abort();
  return s;
}

OutMessage Partition::DeadLetter(const InputMessage& m, const Rejection& why) const {
  OutMessage out;
  out.topic = config_->dead_letter_topic;
  if (m.key) {
    out.key = std::string(*m.key);
  } else {
    out.null_key = true;
  }
  out.value = std::string(m.value);
  out.headers = {{"segd.source.topic", std::string(m.topic)},
                 {"segd.source.partition", std::to_string(m.partition)},
                 {"segd.source.offset", std::to_string(m.offset)},
                 {"segd.reason", ReasonName(why.reason)},
                 {"segd.detail", why.detail}};
  return out;
}

bool Partition::HasWorkWithoutRecords(int64_t wall_ms) const {
  if (config_->changelog && !changelog_seeded_) return true;
  int64_t now = config_->clock == ClockMode::kWall ? wall_ms : engine_->now();
  return engine_->next_due() <= now;
}

Partition::Shipment Partition::Ship() const {
  Shipment out;
  out.messages.reserve(undelivered_.size());
  for (const Pending& p : undelivered_) out.messages.push_back(&p.message);
  out.up_to_seq = last_seq_;
  out.next_offset = next_offset_;
  out.marker = Marker();
  out.kafka_ts = pending_kafka_ts_.size();
  out.arrivals = pending_arrivals_.size();
  return out;
}

void Partition::MarkDelivered(const Shipment& shipment, int64_t wall_ms) {
  delivered_seq_ = shipment.up_to_seq;
  while (!undelivered_.empty() && undelivered_.front().seq <= shipment.up_to_seq) {
    undelivered_.pop_front();
  }
  committed_offset_ = shipment.next_offset;
  // Tallied here and added once: no histogram lock per record.
  HistogramTally end_to_end(Metrics::LatencyBuckets()), processing(Metrics::LatencyBuckets());
  size_t nts = std::min(shipment.kafka_ts, pending_kafka_ts_.size());
  size_t narr = std::min(shipment.arrivals, pending_arrivals_.size());
  for (size_t i = 0; i < nts; ++i) {
    end_to_end.Observe(
        static_cast<double>(std::max<int64_t>(wall_ms - pending_kafka_ts_[i], 0)) / 1000.0);
  }
  for (size_t i = 0; i < narr; ++i) {
    auto [arrival, n] = pending_arrivals_[i];
    processing.Observe(static_cast<double>(std::max<int64_t>(wall_ms - arrival, 0)) / 1000.0, n);
  }
  end_to_end.FlushTo(metrics_->EndToEndSeconds());
  processing.FlushTo(metrics_->ProcessingSeconds());
  pending_kafka_ts_.erase(pending_kafka_ts_.begin(),
                          pending_kafka_ts_.begin() + static_cast<std::ptrdiff_t>(nts));
  pending_arrivals_.erase(pending_arrivals_.begin(),
                          pending_arrivals_.begin() + static_cast<std::ptrdiff_t>(narr));
}

Status Partition::RunBatch(const std::vector<const InputMessage*>& messages, RecordDecoder* decoder,
                           int64_t wall_ms, std::vector<Pending>* produced) {
  produced->clear();
  SEGD_RETURN_IF_ERROR(engine_->BeginBatch());
  Status s = Status::Ok();
  for (uint64_t seq = deleted_seq_ + 1; s.ok() && seq <= delivered_seq_; ++seq) {
    s = store_->DeleteOutbox(seq);
  }
  std::vector<ChangeRecord> changes;
  // A store kept under another rule set is carried over first, in this
  // batch, at the partition's now (the wall's, with the wall clock).
  if (s.ok() && engine_->NeedsMigration()) {
    if (config_->clock == ClockMode::kWall) s = engine_->AdvanceTo(wall_ms, &changes);
    if (s.ok()) s = engine_->Migrate(&changes);
  }
  Record record;
  uint64_t ignored = 0;
  std::array<uint32_t, kRejectReasonCount> rejected{};
  int64_t next = next_offset_;
  bool wall = config_->clock == ClockMode::kWall;
  for (size_t i = 0; s.ok() && i < messages.size(); ++i) {
    const InputMessage& m = *messages[i];
    if (m.offset < next_offset_) continue;  // already in the store
    next = m.offset + 1;
    MessageContext ctx{m.key, key_required_,
                       wall ? wall_ms + config_->max_future_skew_ms : INT64_MAX};
    if (auto why = decoder->Decode(m.value, ctx, &record)) {
      ++rejected[static_cast<int>(why->reason)];
      produced->push_back({0, DeadLetter(m, *why)});
      continue;
    }
    ignored += record.ignored_values;
    s = engine_->AdvanceTo(wall ? wall_ms : record.ts_ms, &changes);
    if (s.ok()) s = engine_->Apply(record, &changes);
  }
  // The clock moves with the wall (wall clock); either way, timers a
  // previous batch left due (its bound) are worked off.
  if (s.ok()) s = engine_->AdvanceTo(wall ? wall_ms : engine_->now(), &changes);
  for (const ChangeRecord& c : changes) {
    OutMessage m;
    m.topic = config_->output_topic;
    m.key = c.user_id;
    m.value = c.ToJson();
    produced->push_back({0, std::move(m)});
  }
  uint64_t seq = last_seq_;
  std::string buf;
  for (size_t i = 0; s.ok() && i < produced->size(); ++i) {
    Pending& p = (*produced)[i];
    p.seq = ++seq;
    EncodeOutboxEntry(
        p.message.topic == config_->output_topic ? OutboxKind::kChange : OutboxKind::kDeadLetter,
        p.message, &buf);
    s = store_->PutOutbox(p.seq, buf);
  }
  if (s.ok() && next >= 0) s = store_->PutMeta(meta_key::kInputOffset, std::to_string(next));
  uint64_t backlog = 0;
  if (s.ok() && engine_->timer_budget_spent()) {
    auto due =
        store_->CountTimersDue(wall ? wall_ms : engine_->now(), config_->max_timer_backlog + 1);
    if (due.ok()) backlog = *due;
    s = due.status();
  }
  Result<uint64_t> timers = s.ok() ? store_->TimerCount() : Result<uint64_t>(s);
  if (s.ok()) s = timers.status();
  if (!s.ok()) {
    engine_->AbortBatch();
    return s;
  }
  size_t fired = engine_->timers_fired();
  // Once the batch's state is written: its changelog entries (every key it
  // wrote, last value or tombstone) join the outbox, in the same LMDB
  // transaction, so they reach Kafka in the transaction of its output.
  bool seeded = changelog_seeded_;
  auto before_commit = [&]() -> Status {
    if (config_->changelog && !changelog_seeded_) {
      // The store's first changelog: everything it holds, a part per batch
      // (batches go on without records meanwhile), each part with the
      // batch's own writes; a key written after its part went is in the
      // changelog again with that write. `changelog` comes last, in the
      // batch that sends the last part: a changelog holding it holds the
      // whole store.
      auto done = SendChangelogPart(store_.get(), config_->changelog_seed_keys);
      if (!done.ok()) return done.status();
      seeded = *done;
    }
    if (config_->changelog) {
      for (PartitionStore::Write& w : store_->TakeWrites()) {
        Pending p{++seq, {}};
        p.message.topic = changelog_topic_;
        p.message.partition = tp_.partition;
        p.message.key.reserve(w.key.size() + 1);
        p.message.key.push_back(w.db);
        p.message.key.append(w.key);
        if (w.value) {
          p.message.value = std::move(*w.value);
        } else {
          p.message.null_value = true;
        }
        EncodeOutboxEntry(OutboxKind::kChangelog, p.message, &buf);
        SEGD_RETURN_IF_ERROR(store_->PutOutbox(p.seq, buf));
        produced->push_back(std::move(p));
      }
    }
    return store_->PutMeta(meta_key::kLastSeq, std::to_string(seq));
  };
  SEGD_RETURN_IF_ERROR(engine_->CommitBatch(before_commit));  // aborts by itself on failure
  if (config_->changelog && seeded && !changelog_seeded_) {
    changelog_seeded_ = true;
    LogInfo("Changelog holds the whole partition", {{"topic", tp_.topic},
                                                     {"partition", tp_.partition},
                                                     {"changelog", changelog_topic_}});
  }
  deleted_seq_ = delivered_seq_;
  next_offset_ = next;
  last_seq_ = seq;
  timer_backlog_ = backlog;
  timers_ = *timers;
  // Counted once per batch, after its commit (a retried batch counts once).
  if (fired > 0) metrics_->TimersFired().Increment(static_cast<double>(fired));
  if (ignored > 0) metrics_->IgnoredValues().Increment(static_cast<double>(ignored));
  for (int r = 0; r < kRejectReasonCount; ++r) {
    if (rejected[r] == 0) continue;
    metrics_->RecordsRejected(ReasonName(static_cast<RejectReason>(r))).Increment(rejected[r]);
  }
  std::map<std::pair<std::string_view, ChangeKind>, double> flips;
  for (const ChangeRecord& c : changes) flips[{c.segment, c.change}] += 1;
  for (const auto& [key, n] : flips) {
    metrics_->Changes(std::string(key.first), ChangeKindName(key.second)).Increment(n);
  }
  return Status::Ok();
}

Status Partition::Process(const std::vector<const InputMessage*>& messages, RecordDecoder* decoder,
                          int64_t wall_ms) {
  std::vector<Pending> produced;
  int64_t first_new = next_offset_;
  // A rule change may rewrite every user in one transaction.
  if (engine_->NeedsMigration() && store_->MakeRoomForRewrite()) {
    LogInfo("LMDB map grown before a rule change",
            {{"partition", tp_.partition}, {"map_bytes", store_->env().map_bytes()}});
  }
  while (true) {
    Status s = RunBatch(messages, decoder, wall_ms, &produced);
    if (LmdbEnv::IsMapFull(s)) {
      Status g = store_->Grow();
      if (g.ok()) {
        LogInfo("LMDB map grown",
                {{"partition", tp_.partition}, {"map_bytes", store_->env().map_bytes()}});
        continue;
      }
      return g;
    }
    SEGD_RETURN_IF_ERROR(s);
    break;
  }
  MaybeSync();
  for (Pending& p : produced) undelivered_.push_back(std::move(p));
  uint32_t fresh = 0;
  for (const InputMessage* m : messages) {
    if (m->offset < first_new) continue;
    ++fresh;
    if (m->timestamp_ms > 0) pending_kafka_ts_.push_back(m->timestamp_ms);
  }
  if (fresh > 0) pending_arrivals_.emplace_back(wall_ms, fresh);
  return Status::Ok();
}

}  // namespace segd
