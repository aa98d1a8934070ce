#include "daemon/standby.h"

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/partition.h"

namespace segd {

namespace {
constexpr int kPlaceEveryMs = 3000;
constexpr size_t kChunk = 5000;
// A copy at its changelog's end notes so (its base's wall time) this often.
constexpr int64_t kBaseRefreshMs = 10000;
}  // namespace

std::set<TopicPartition> StandbyPlacement(const GroupDescription& group, const std::string& self,
                                          int replicas, const std::vector<std::string>& topics) {
  std::vector<const GroupMember*> ring;
  for (const auto& m : group.members) ring.push_back(&m);
  auto name = [](const GroupMember* m) {
    return m->instance_id.empty() ? m->member_id : m->instance_id;
  };
  std::sort(ring.begin(), ring.end(),
            [&](const GroupMember* a, const GroupMember* b) { return name(a) < name(b); });
  std::set<TopicPartition> out;
  size_t n = ring.size();
  if (n < 2 || replicas <= 0) return out;
  size_t k = std::min<size_t>(static_cast<size_t>(replicas), n - 1);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& [topic, partition] : ring[i]->assignment) {
      if (std::find(topics.begin(), topics.end(), topic) == topics.end()) continue;
      for (size_t j = 0; j < k; ++j) {
        // The others in ring order after the owner, from a partition-dependent start.
        size_t other = 1 + (static_cast<size_t>(partition) + j) % (n - 1);
        if (name(ring[(i + other) % n]) == self) out.insert({topic, partition});
      }
    }
  }
  return out;
}

Standbys::Standbys(const Config& config, Metrics* metrics) : config_(config), metrics_(metrics) {
  for (const auto& t : config_.input_topics) changelog_inputs_[ChangelogTopic(config_, t)] = t;
}

Standbys::~Standbys() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  copies_.clear();
  metrics_->StandbyPartitions().Set(0);
}

void Standbys::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Standbys::Own(const std::vector<TopicPartition>& parts) {
  std::lock_guard lock(mu_);
  for (const auto& tp : parts) {
    owned_.insert(tp);
    auto it = copies_.find(tp);
    if (it == copies_.end()) continue;
    Flush(tp, &it->second, WallMs());
    copies_.erase(it);  // closes the store
    reassign_ = true;
  }
  place_now_ = true;  // the group has moved: place the copies again
  metrics_->StandbyPartitions().Set(static_cast<double>(copies_.size()));
}

void Standbys::Disown(const std::vector<TopicPartition>& parts) {
  std::lock_guard lock(mu_);
  for (const auto& tp : parts) owned_.erase(tp);
  place_now_ = true;
}

Status Standbys::ResetCopy(Copy* copy) {
  SEGD_RETURN_IF_ERROR(copy->store->Begin());
  Status s = copy->store->ClearAll();  // the identity too: it is no store's any more
  if (s.ok()) s = copy->store->Commit();
  if (!s.ok()) {
    copy->store->Abort();
    return s;
  }
  copy->base = ChangelogBase{0, 0, WallMs()};
  copy->pending.clear();
  SEGD_RETURN_IF_ERROR(ApplyChangelog(copy->store.get(), {}, copy->base));
  copy->base_written_ms = WallMs();
  return Status::Ok();
}

Status Standbys::OpenCopy(const TopicPartition& tp) {
  auto store = OpenPartitionStore(config_, tp);
  if (!store.ok()) return store.status();
  Copy copy;
  copy.store = std::move(store).value();
  auto base = ReadChangelogBase(copy.store.get());
  if (!base.ok()) return base.status();
  SEGD_RETURN_IF_ERROR(copy.store->Begin());
  auto seq = copy.store->GetMeta(meta_key::kLastSeq);
  copy.store->Abort();
  if (!seq.ok()) return seq.status();
  uint64_t last_seq = seq->has_value() ? std::stoull(**seq) : 0;
  if (*base && BaseUsable(**base, last_seq, WallMs())) {
    copy.base = **base;
  } else {
    // Not a copy of the changelog up to any known point: from nothing.
    SEGD_RETURN_IF_ERROR(ResetCopy(&copy));
  }
  LogInfo("Standby copy opened", {{"topic", tp.topic},
                                  {"partition", tp.partition},
                                  {"from", copy.base.offset}});
  copies_.emplace(tp, std::move(copy));
  reassign_ = true;
  return Status::Ok();
}

void Standbys::Flush(const TopicPartition& tp, Copy* copy, int64_t now_ms) {
  if (copy->pending.empty()) return;
  ChangelogBase after = copy->base;
  after.offset = copy->pending_end;
  Status s = ApplyChangelog(copy->store.get(), copy->pending, after);
  if (!s.ok()) {
    // The copy's base stays where it was: re-read from there.
    LogWarn("Standby copy could not apply its changelog",
            {{"topic", tp.topic}, {"partition", tp.partition}, {"error", s.ToString()}});
    copy->pending.clear();
    reassign_ = true;
    return;
  }
  metrics_->StandbyRecords().Increment(static_cast<double>(copy->pending.size()));
  copy->base = after;
  copy->base_written_ms = now_ms;
  copy->pending.clear();
}

void Standbys::Assign() {
  std::vector<PartitionOffset> positions;
  for (auto& [tp, copy] : copies_) {
    copy.pending.clear();
    positions.push_back({{ChangelogTopic(config_, tp.topic), tp.partition},
                         copy.base.offset > 0 ? copy.base.offset : -2 /* beginning */,
                         {}});
  }
  Status s = tail_->Assign(positions);
  if (!s.ok()) {
    LogWarn("Standby changelog reader cannot assign", {{"error", s.ToString()}});
    return;
  }
  reassign_ = false;
}

void Standbys::Place() {
  auto group = admin_->Describe(config_.group_id, 5000);
  if (!group.ok()) {
    LogWarn("Cannot describe the group for standby copies", {{"error", group.status().ToString()}});
    return;
  }
  if (!group->stable) {
    place_now_ = true;  // ask again once the rebalance is over
    return;
  }
  std::set<TopicPartition> wanted = StandbyPlacement(*group, config_.instance_id,
                                                     config_.standby_replicas,
                                                     config_.input_topics);
  std::lock_guard lock(mu_);
  for (auto it = copies_.begin(); it != copies_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    Flush(it->first, &it->second, WallMs());
    LogInfo("Standby copy closed", {{"topic", it->first.topic}, {"partition", it->first.partition}});
    it = copies_.erase(it);
    reassign_ = true;
  }
  for (const auto& tp : wanted) {
    if (copies_.count(tp) || owned_.count(tp)) continue;
    Status s = OpenCopy(tp);
    if (!s.ok()) {
      LogWarn("Cannot open a standby copy",
              {{"topic", tp.topic}, {"partition", tp.partition}, {"error", s.ToString()}});
    }
  }
  metrics_->StandbyPartitions().Set(static_cast<double>(copies_.size()));
}

void Standbys::Run() {
  int backoff = 1000;
  while (!stop_ && (!admin_ || !tail_)) {
    auto admin = GroupAdmin::Create(config_.kafka);
    auto tail = PartitionTail::Create(config_.kafka);
    if (admin.ok() && tail.ok()) {
      admin_ = std::move(admin).value();
      tail_ = std::move(tail).value();
      break;
    }
    LogWarn("Standby copies cannot start yet",
            {{"error", (admin.ok() ? tail.status() : admin.status()).ToString()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, 30000);
  }
  int64_t place_at = 0;
  while (!stop_) {
    int64_t now = WallMs();
    if (place_now_.exchange(false) || now >= place_at) {
      Place();
      place_at = now + kPlaceEveryMs;
    }
    {
      std::lock_guard lock(mu_);
      if (reassign_) Assign();
    }
    std::vector<TailEvent> events = tail_->Poll(kChunk, 200);
    std::lock_guard lock(mu_);
    if (reassign_) continue;  // what was read belongs to the old positions
    now = WallMs();
    std::set<TopicPartition> touched;
    for (auto& e : events) {
      auto in = changelog_inputs_.find(e.tp.topic);
      if (in == changelog_inputs_.end()) continue;
      TopicPartition tp{in->second, e.tp.partition};
      auto it = copies_.find(tp);
      if (it == copies_.end()) continue;  // closed meanwhile
      Copy& copy = it->second;
      switch (e.kind) {
        case TailEvent::Kind::kRecord:
          // A record before where the copy stands is already in it.
          if (e.offset < (copy.pending.empty() ? copy.base.offset : copy.pending_end)) break;
          copy.pending.push_back({std::move(e.key), std::move(e.value)});
          copy.pending_end = e.offset + 1;
          touched.insert(tp);
          if (copy.pending.size() >= kChunk) Flush(tp, &copy, now);
          break;
        case TailEvent::Kind::kEnd:
          Flush(tp, &copy, now);
          if (copy.base.offset <= e.offset &&
              (copy.base.offset < e.offset || now - copy.base_written_ms >= kBaseRefreshMs)) {
            // Everything up to the end is in: nothing past it was written
            // before now.
            ChangelogBase at{std::max(copy.base.offset, e.offset), copy.base.seq, now};
            if (ApplyChangelog(copy.store.get(), {}, at).ok()) {
              copy.base = at;
              copy.base_written_ms = now;
            }
          }
          break;
        case TailEvent::Kind::kOutOfRange:
          LogWarn("Standby copy's position is not in its changelog any more; starting it afresh",
                  {{"topic", tp.topic}, {"partition", tp.partition}});
          if (!ResetCopy(&copy).ok()) copies_.erase(it);
          reassign_ = true;
          break;
      }
    }
    for (const auto& tp : touched) {
      auto it = copies_.find(tp);
      if (it != copies_.end()) Flush(tp, &it->second, now);
    }
  }
}

}  // namespace segd
