#include "rules/engine.h"

#include <algorithm>

#include "rules/features.h"

namespace segd::rules {

namespace {

constexpr char kClockKey[] = "clock";

std::string EncodeI64(int64_t v) { return std::to_string(v); }

}  // namespace

PartitionEngine::PartitionEngine(const RuleSet* rules, PartitionStore* store,
                                 EngineOptions options)
    : rules_(rules), store_(store), options_(options), evaluator_(rules), lists_(*rules) {
  for (size_t i = 0; i < rules->segments().size(); ++i) {
    all_segments_.push_back(static_cast<int>(i));
    if (rules->segments()[i].time_dependent) time_segments_.push_back(static_cast<int>(i));
  }
}

Result<std::unique_ptr<PartitionEngine>> PartitionEngine::Open(const RuleSet* rules,
                                                              PartitionStore* store,
                                                              EngineOptions options) {
  std::unique_ptr<PartitionEngine> e(new PartitionEngine(rules, store, options));
  SEGD_RETURN_IF_ERROR(store->Begin());
  Status s = e->Reload();
  store->Abort();  // read only
  if (!s.ok()) return s;
  auto due = store->PeekFirstTimerDue();
  if (!due.ok()) return due.status();
  e->next_due_ = *due;
  return e;
}

// Reads the clock and the memberships from the store. REQUIRES: in a txn.
Status PartitionEngine::Reload() {
  ReleaseCache();
  auto clock = store_->GetMeta(kClockKey);
  if (!clock.ok()) return clock.status();
  now_ = clock->has_value() ? std::stoll(**clock) : INT64_MIN;
  std::vector<std::string> ids;
  for (const auto& s : rules_->segments()) ids.push_back(s.id);
  SEGD_RETURN_IF_ERROR(members_.Load(store_, ids));
  return LoadDefinitions();
}

Status PartitionEngine::BeginBatch() {
  timers_fired_ = 0;
  first_due_ = INT64_MIN;
  return store_->Begin();
}

void PartitionEngine::AbortBatch() {
  store_->Abort();
  // Memory mirrors the last commit again: nothing of the batch stays
  // cached, even if the store cannot be read again just now.
  ReleaseCache();
  first_due_ = INT64_MIN;
  if (store_->Begin().ok()) {
    Status s = Reload();
    (void)s;
    store_->Abort();
  }
}

Status PartitionEngine::WriteBackCache() {
  // In key order: neighbouring users share B-tree pages, so each page is
  // copied and walked to once rather than once per user on it.
  dirty_.clear();
  for (const auto& u : in_use_) {
    if (u->dirty) dirty_.push_back(u.get());
  }
  std::sort(dirty_.begin(), dirty_.end(),
            [](const Loaded* a, const Loaded* b) { return a->user_id < b->user_id; });
  for (Loaded* u : dirty_) {
    // Compaction must not lose what a pending timer still needs.
    int64_t keep_from = u->rec.timer != kNever && u->rec.timer <= now_ ? u->rec.timer : now_;
    CompactState(*rules_, evaluator_.calendar(), keep_from, &u->rec.state);
    EncodeUserRecord(u->rec, &buf_);
    SEGD_RETURN_IF_ERROR(store_->PutUser(u->user_id, u->id, buf_));
  }
  dirty_.clear();
  ReleaseCache();
  return Status::Ok();
}

Status PartitionEngine::CommitBatch(const std::function<Status()>& before_commit) {
  Status s = WriteBackCache();
  if (s.ok()) s = members_.Persist(store_);
  if (s.ok()) s = store_->PutMeta(kClockKey, EncodeI64(now_));
  if (s.ok() && !definitions_stored_) s = StoreDefinitions();
  if (s.ok() && before_commit) s = before_commit();
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) {
    AbortBatch();
    return s;
  }
  definitions_stored_ = true;
  list_hint_.reset();
  auto due = store_->PeekFirstTimerDue();
  if (due.ok()) next_due_ = *due;
  return Status::Ok();
}

std::vector<std::unique_ptr<PartitionEngine::Loaded>>& PartitionEngine::FreeUsers() {
  thread_local std::vector<std::unique_ptr<Loaded>> free;
  return free;
}

void PartitionEngine::ReleaseCache() {
  cache_.Clear(in_use_);
  ids_.Clear(in_use_);
  // At most a full cache's worth stays with the thread; the rest is freed.
  auto& free = FreeUsers();
  for (auto& u : in_use_) {
    if (free.size() > options_.max_cached_users) break;
    free.push_back(std::move(u));
  }
  in_use_.clear();
}

PartitionEngine::Loaded* PartitionEngine::CacheSlot() {
  auto& free = FreeUsers();
  if (free.empty()) {
    in_use_.push_back(std::make_unique<Loaded>());
  } else {
    in_use_.push_back(std::move(free.back()));
    free.pop_back();
  }
  return in_use_.back().get();
}

void PartitionEngine::Cache(Loaded* u, uint32_t id) {
  u->id = id;
  cache_.Insert(u);
  ids_.Insert(u);
}

Result<PartitionEngine::Loaded*> PartitionEngine::LoadUser(uint32_t id, std::string_view user_id) {
  if (Loaded* u = cache_.Find(id)) return u;
  auto stored = store_->GetUser(user_id);
  if (!stored.ok()) return stored.status();
  return LoadStored(id, user_id, *stored);
}

Result<PartitionEngine::Loaded*> PartitionEngine::LoadStored(
    uint32_t id, std::string_view user_id,
    const std::optional<PartitionStore::StoredUser>& stored) {
  if (stored.has_value() && stored->id != id) {
    return Status::Internal("user " + std::string(user_id) + " has dense id " +
                            std::to_string(stored->id) + ", not " + std::to_string(id));
  }
  Loaded* u = CacheSlot();
  u->user_id.assign(user_id);
  u->dirty = false;
  Status decoded = Status::Ok();
  if (stored.has_value()) {
    decoded = DecodeUserRecord(stored->record, &u->rec);
  } else {
    ClearUserRecord(&u->rec);
  }
  if (!decoded.ok()) {
    // Not cached: the slot goes back to the thread's free users.
    FreeUsers().push_back(std::move(in_use_.back()));
    in_use_.pop_back();
    return decoded;
  }
  ShapeState(*rules_, &u->rec.state);
  Cache(u, id);
  return u;
}

void PartitionEngine::Evaluate(uint32_t id, Loaded* u, const std::vector<int>& segs, int64_t at,
                               ChangeCause cause, std::vector<ChangeRecord>* out,
                               bool definition) {
  // Only the memberships the evaluation reads are looked up: those of
  // `segs` and of the segments they read through in_segment.
  size_t n = rules_->segments().size();
  member_bits_.resize(n);
  member_stamps_.resize(n);
  if (++stamp_ == 0) {
    std::fill(member_stamps_.begin(), member_stamps_.end(), 0);
    stamp_ = 1;
  }
  auto need = [&](int s) {
    if (member_stamps_[s] == stamp_) return;
    member_stamps_[s] = stamp_;
    member_bits_[s] = members_.Contains(s, id);
  };
  for (int s : segs) {
    for (int d : rules_->segments()[s].depends_on) need(d);
    need(s);
  }
  EvalInput in{&u->rec.state, u->user_id, at, &lists_, &member_bits_};
  for (int s : segs) {
    bool member = evaluator_.Segment(s, in);
    if (member == (member_bits_[s] != 0)) continue;
    member_bits_[s] = member;
    members_.Set(s, id, member);
    if (definition && !definition_emit_[s]) continue;
    ChangeRecord c;
    c.user_id = u->user_id;
    c.segment = rules_->segments()[s].id;
    c.generation = generations_[s];
    c.n = u->rec.BumpChanges(static_cast<uint32_t>(s));
    u->dirty = true;
    c.change = member ? ChangeKind::kEnter : ChangeKind::kLeave;
    c.cause = cause;
    c.at_ms = at;
    out->push_back(std::move(c));
  }
}

// Recomputes the scheduled next change after `from` of each time-dependent
// segment of `segs` (of all of them when null, or when the user's schedule
// is unknown) and sets the user's timer to the earliest in the schedule.
// The other segments keep theirs: neither the record nor the instant that
// led here can move them.
Status PartitionEngine::Reschedule(uint32_t id, Loaded* u, const std::vector<int>* segs,
                                   int64_t from) {
  UserRecord& rec = u->rec;
  if (!rec.scheduled) {
    segs = nullptr;
    rec.scheduled = true;
    u->dirty = true;
  }
  if (segs == nullptr && !rec.next.empty()) {
    rec.next.clear();
    u->dirty = true;
  }
  EvalInput in{&rec.state, u->user_id, from, &lists_, nullptr};
  for (int s : segs ? *segs : time_segments_) {
    if (!rules_->segments()[s].time_dependent) continue;
    int64_t t = evaluator_.NextChange(s, in);
    auto seg = static_cast<uint32_t>(s);
    auto it = std::lower_bound(rec.next.begin(), rec.next.end(), std::make_pair(seg, INT64_MIN));
    bool found = it != rec.next.end() && it->first == seg;
    if (t == kNever) {
      if (!found) continue;
      rec.next.erase(it);
    } else if (found) {
      if (it->second == t) continue;
      it->second = t;
    } else {
      rec.next.insert(it, {seg, t});
    }
    u->dirty = true;
  }
  int64_t next = kNever;
  for (const auto& [seg, t] : rec.next) {
    if (next == kNever || t < next) next = t;
  }
  if (next == rec.timer) return Status::Ok();
  if (rec.timer != kNever) SEGD_RETURN_IF_ERROR(store_->RemoveTimer(rec.timer, id));
  if (next != kNever) {
    SEGD_RETURN_IF_ERROR(store_->AddTimer(next, id, u->user_id));
    first_due_ = std::min(first_due_, next);
  }
  rec.timer = next;
  u->dirty = true;
  return Status::Ok();
}

// Only the segments due at `at` can change there; the others' scheduled
// instants are later. A user whose schedule is unknown has every
// time-dependent segment evaluated.
Status PartitionEngine::Fire(uint32_t id, Loaded* u, int64_t at, std::vector<ChangeRecord>* out) {
  ++timers_fired_;
  if (!u->rec.scheduled) {
    Evaluate(id, u, time_segments_, at, ChangeCause::kTime, out);
    return Reschedule(id, u, nullptr, at);
  }
  due_.clear();
  for (const auto& [seg, t] : u->rec.next) {
    if (t <= at) due_.push_back(static_cast<int>(seg));
  }
  Evaluate(id, u, due_, at, ChangeCause::kTime, out);
  return Reschedule(id, u, &due_, at);
}

Status PartitionEngine::FirePending(uint32_t id, Loaded* u, std::vector<ChangeRecord>* out) {
  while (u->rec.timer != kNever && u->rec.timer <= now_) {
    SEGD_RETURN_IF_ERROR(Fire(id, u, u->rec.timer, out));
  }
  return Status::Ok();
}

Status PartitionEngine::AdvanceTo(int64_t t, std::vector<ChangeRecord>* out) {
  now_ = std::max(now_, t);
  while (timers_fired_ < options_.max_timers_per_batch && first_due_ <= now_) {
    SEGD_RETURN_IF_ERROR(BoundCache());
    auto first = store_->FirstTimer();
    if (!first.ok()) return first.status();
    if (!first->has_value() || (*first)->due > now_) {
      first_due_ = first->has_value() ? (*first)->due : PartitionStore::kNoTimer;
      break;
    }
    auto [due, id, user] = **first;
    auto u = LoadUser(id, user);
    if (!u.ok()) return u.status();
    if ((*u)->rec.timer != due) {
      // An entry the user no longer points at: drop it.
      SEGD_RETURN_IF_ERROR(store_->RemoveTimer(due, id));
      continue;
    }
    SEGD_RETURN_IF_ERROR(Fire(id, *u, due, out));
  }
  return Status::Ok();
}

void PartitionEngine::AffectedSegments(const Record& record, std::vector<int>* segs) const {
  segs->clear();
  auto add = [segs](const std::vector<int>* v) {
    if (v != nullptr) segs->insert(segs->end(), v->begin(), v->end());
  };
  if (record.has_event) add(rules_->SegmentsForEvent(record.event));
  for (const Prop& p : record.set) add(rules_->SegmentsForProp(p.name));
  for (const std::string& p : record.unset) add(rules_->SegmentsForProp(p));
  std::sort(segs->begin(), segs->end());
  segs->erase(std::unique(segs->begin(), segs->end()), segs->end());
}

Status PartitionEngine::Apply(const Record& record, std::vector<ChangeRecord>* out) {
  SEGD_RETURN_IF_ERROR(BoundCache());
  // Users met earlier in the batch (by a record or by a timer) are
  // cached; the store knows the others.
  bool first = false;
  Loaded* user = ids_.Find(record.user_id);
  if (user == nullptr) {
    auto stored = store_->GetUser(record.user_id);
    if (!stored.ok()) return stored.status();
    first = !stored->has_value();
    auto u = LoadStored(first ? store_->NewUserId() : (*stored)->id, record.user_id, *stored);
    if (!u.ok()) return u.status();
    user = *u;
  }
  uint32_t id = user->id;
  SEGD_RETURN_IF_ERROR(FirePending(id, user, out));
  ApplyRecord(*rules_, evaluator_.calendar(), record, now_, &user->rec.state);
  user->dirty = true;
  if (first) {
    Evaluate(id, user, all_segments_, now_, ChangeCause::kEvent, out);
    return Reschedule(id, user, nullptr, now_);
  }
  AffectedSegments(record, &segs_);
  Evaluate(id, user, segs_, now_, ChangeCause::kEvent, out);
  return Reschedule(id, user, &segs_, now_);
}

}  // namespace segd::rules
