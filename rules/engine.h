// The incremental engine of one input partition (SEMANTICS.md §2, §4):
// per record, move the clock, fire the timers it passes, apply the record,
// re-evaluate only the segments it can affect, and produce change records.
// One LMDB write transaction per batch.
//
// A batch: BeginBatch(), then for each record AdvanceTo(its clock) and
// Apply(record), then CommitBatch(). If CommitBatch fails, the batch left
// nothing behind (memory included): redo it from its first record.
//
// Thread-safety: one thread per engine (the partition's single writer).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/change_record.h"
#include "common/record.h"
#include "common/status.h"
#include "rules/evaluator.h"
#include "rules/membership.h"
#include "rules/plan.h"
#include "rules/pointer_index.h"
#include "state/partition_store.h"
#include "state/user_record.h"

namespace segd::rules {

struct ListHint;      // rules/definitions.h
struct ParsedLayout;  // rules/definitions.h

struct EngineOptions {
  // Timers fired per batch at most; the rest wait for the next batch (a
  // user's own due timers always fire before that user's next record).
  size_t max_timers_per_batch = SIZE_MAX;
  // Decoded users kept in memory within a batch; past this they are
  // written back to the transaction (bounds memory when a midnight loads
  // many users into one batch).
  size_t max_cached_users = 16384;
  // Threads (the partition's own included) that decode and decide users
  // in the read-only scan of a rule-set change over every user.
  int scan_workers = 1;
};

// The static lists of the rule set (SEMANTICS.md §3, in_list): those of
// the rule file and those uploaded, as the rule set holds them.
class StaticLists : public ListMembership {
 public:
  explicit StaticLists(const RuleSet& rules) : rules_(&rules) {}
  bool Contains(int list, std::string_view user_id) const override {
    return rules_->InList(list, user_id);
  }

 private:
  const RuleSet* rules_;
};

class PartitionEngine {
 public:
  // REQUIRES: rules and store outlive the engine; the store is not in a batch.
  static Result<std::unique_ptr<PartitionEngine>> Open(const RuleSet* rules,
                                                      PartitionStore* store,
                                                      EngineOptions options = {});

  int64_t now() const { return now_; }
  // The earliest pending timer as of the last commit (PartitionStore::kNoTimer
  // when none): a wall-clock tick at or after it has work to do.
  int64_t next_due() const { return next_due_; }
  const Memberships& memberships() const { return members_; }
  // Whether this batch fired as many timers as it may: more may be due.
  bool timer_budget_spent() const { return timers_fired_ >= options_.max_timers_per_batch; }
  // Timers fired in this batch.
  size_t timers_fired() const { return timers_fired_; }

  Status BeginBatch();
  // Moves the clock to max(now, t) and fires due timers (cause time, at the
  // boundary), up to the batch's timer budget.
  Status AdvanceTo(int64_t t, std::vector<ChangeRecord>* out);
  // Applies an accepted record at the current clock (cause event, at now).
  Status Apply(const Record& record, std::vector<ChangeRecord>* out);
  // `before_commit`, when given, runs after the batch's state is written
  // and before the LMDB commit, in the same transaction (the changelog's
  // outbox entries go there); its failure aborts the batch.
  Status CommitBatch(const std::function<Status()>& before_commit = nullptr);
  // Drops the batch's work, in memory and in LMDB.
  void AbortBatch();

  // The store was written under another rule set or other lists
  // (rules/definitions.cc): Migrate() must run, in a batch, before any
  // record.
  bool NeedsMigration() const { return migrate_ || relist_; }
  // Carries every user's state over to this rule set and evaluates the new
  // and changed segments (and their dependents) for every user; the flips
  // a change to a segment with emit_initial causes (in it and in the
  // segments that read it) go out with cause `definition`, the others only
  // set the membership (SEMANTICS.md §5). Then, when lists read by
  // in_list changed, evaluates the segments that read them (dependents
  // included) for the seen users the change may concern; every flip goes
  // out with cause `list` at now. REQUIRES: in a batch.
  Status Migrate(std::vector<ChangeRecord>* out);
  // Which users a list change concerns, when the caller knows: `users`
  // holds every user whose in_list of some list differs between the lists
  // the store was written under, whose ListsText is `from`, and this rule
  // set's. Migrate then evaluates only them (the seen ones) instead of
  // every user. Ignored when the store's lists are not `from`.
  void HintListChange(std::shared_ptr<const ListHint> hint);

 private:
  struct Loaded {
    UserRecord rec;
    std::string user_id;
    uint32_t id = 0;     // dense id (set when cached)
    bool dirty = false;  // differs from the stored record: written back
  };

  PartitionEngine(const RuleSet* rules, PartitionStore* store, EngineOptions options);
  Status Reload();
  // The cached user `id`, or else the stored one; a user not stored yet
  // starts empty.
  Result<Loaded*> LoadUser(uint32_t id, std::string_view user_id);
  // Caches user `id` from the stored record (or its absence) the caller
  // has just read. REQUIRES: `id` is not cached.
  Result<Loaded*> LoadStored(uint32_t id, std::string_view user_id,
                               const std::optional<PartitionStore::StoredUser>& stored);
  // A pool object for a user about to be cached, owned by in_use_ but not
  // indexed yet. It still holds an earlier user, for the caller to
  // overwrite in place.
  Loaded* CacheSlot();
  // Indexes the user of the object CacheSlot gave, under `id` and its
  // user_id. REQUIRES: neither is cached.
  void Cache(Loaded* u, uint32_t id);
  Status FirePending(uint32_t id, Loaded* u, std::vector<ChangeRecord>* out);
  Status Fire(uint32_t id, Loaded* u, int64_t at, std::vector<ChangeRecord>* out);
  // Evaluates `segs` at `at`; each flip updates the membership and, unless
  // `definition` is set and the segment's emit_initial is off, becomes a
  // change record.
  void Evaluate(uint32_t id, Loaded* u, const std::vector<int>& segs, int64_t at,
                ChangeCause cause, std::vector<ChangeRecord>* out, bool definition = false);
  // Writes the cached users back to the store and empties the cache.
  Status WriteBackCache();
  // WriteBackCache when the cache is over its bound. Only between users:
  // it invalidates every Loaded*.
  Status BoundCache() {
    return in_use_.size() > options_.max_cached_users ? WriteBackCache() : Status::Ok();
  }
  Status LoadDefinitions();
  Status StoreDefinitions();
  std::string LayoutText() const;
  std::string SegmentsText() const;
  Status MigrateSegments(std::vector<ChangeRecord>* out);
  bool LayoutExtends(const ParsedLayout& old) const;
  Status MigrateAppended(const std::vector<int>& segs, std::vector<ChangeRecord>* out);
  // Rule changes over every stored user (definitions.cc).
  using TakeFn = std::function<Result<bool>(int, uint32_t, std::string_view, Loaded*)>;
  using WorkFn = std::function<Status(uint32_t, Loaded*)>;
  using Taken = std::vector<std::pair<uint32_t, Loaded>>;  // users a scan kept
  class UserScan;
  Status ForEachUserChunked(const TakeFn& take, const WorkFn& work);
  Status ScanInTransaction(int workers, const TakeFn& take, const WorkFn& work);
  // nullopt when no reader could be had (nothing was done).
  std::optional<Status> ScanAhead(int workers, const TakeFn& take, const WorkFn& work);
  // Caches the users of `group`, their ids appended to `chunk`.
  void CacheTaken(Taken* group, std::vector<uint32_t>* chunk);
  // `work` on each user of `chunk`, in order; then the write-back.
  Status WorkChunk(std::vector<uint32_t>* chunk, const WorkFn& work);
  Status Relist(std::vector<ChangeRecord>* out);
  Status Reschedule(uint32_t id, Loaded* u, const std::vector<int>* segs, int64_t from);
  void AffectedSegments(const Record& record, std::vector<int>* segs) const;

  const RuleSet* rules_;
  PartitionStore* store_;
  EngineOptions options_;
  Evaluator evaluator_;
  StaticLists lists_;
  Memberships members_;
  std::vector<int> all_segments_, time_segments_;
  std::vector<uint32_t> generations_;  // per segment, SEMANTICS.md §4 ids
  std::vector<std::pair<std::string, uint32_t>> deleted_;  // deleted ids, last generation
  bool migrate_ = false;
  // Per segment, in a migration: whether its flips go out (MigrateSegments).
  std::vector<bool> definition_emit_;
  bool relist_ = false;
  std::vector<int> relist_segs_;  // segments reading a changed list
  std::string stored_lists_;      // ListsText the store was written under
  std::shared_ptr<const ListHint> list_hint_;
  bool definitions_stored_ = false;
  std::string old_layout_, old_segments_;
  int64_t now_ = INT64_MIN;
  int64_t next_due_ = PartitionStore::kNoTimer;
  size_t timers_fired_ = 0;
  // No timer in this transaction is due before first_due_ (INT64_MIN:
  // unknown, as at the start of a batch): AdvanceTo reads the timers only
  // once the clock reaches it. Adding a timer lowers it; removing one
  // leaves it a lower bound.
  int64_t first_due_ = INT64_MIN;
  // This batch's users, found by dense id (cache_) and by user id (ids_;
  // a user a timer loaded too); in_use_ owns their Loaded objects. They
  // come from, and at the write-back go back to, the free users of the
  // thread (FreeUsers), with their vectors, which the next users loaded
  // reuse (decoding in place): loading a user seldom allocates, and what is
  // kept is bounded per thread, not per partition.
  struct IdOf {
    uint32_t operator()(const Loaded& u) const { return u.id; }
  };
  struct HashId {  // Fibonacci hashing: dense ids are consecutive
    size_t operator()(uint32_t id) const { return (id * 0x9E3779B97F4A7C15ULL) >> 29; }
  };
  struct NameOf {
    std::string_view operator()(const Loaded& u) const { return u.user_id; }
  };
  PointerIndex<Loaded, uint32_t, IdOf, HashId> cache_;
  PointerIndex<Loaded, std::string_view, NameOf, std::hash<std::string_view>> ids_;
  std::vector<std::unique_ptr<Loaded>> in_use_;
  static std::vector<std::unique_ptr<Loaded>>& FreeUsers();
  // Empties the cache, its objects back to the thread's free users.
  void ReleaseCache();
  // Scratch for Evaluate: a segment's membership bit is valid when its
  // stamp equals stamp_.
  std::vector<uint8_t> member_bits_;
  std::vector<uint32_t> member_stamps_;
  uint32_t stamp_ = 0;
  std::vector<int> due_;  // scratch for Fire
  std::vector<int> segs_;  // scratch for Apply
  std::vector<Loaded*> dirty_;  // scratch for WriteBackCache
  std::string buf_;
};

}  // namespace segd::rules
