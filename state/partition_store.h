// The LMDB store of one input partition's state (DESIGN.md, per-user state;
// docs/state-format.md has the byte layout). One environment per partition,
// one writer: the partition's worker. Values are bytes here; their encoding
// belongs to the callers (user_state_codec.h, rules/membership.h).
//
// Databases:
//   meta      string key → bytes: schema version, clock, input offset, rules
//   user_ids  user id → u32 dense id (big-endian)
//   user_keys u32 dense id (BE) → user id
//   users     u32 dense id (BE) → encoded user record
//   timers    (due ms as biased BE u64, u32 user BE) → empty
//   members   segment id, 0x00, chunk (u16 BE) → Roaring bitmap (portable)
//   outbox    u64 sequence (BE) → encoded output message
//
// Usage: Begin() a write transaction per batch, read and write through the
// store, then Commit(). A failed Commit (ResourceExhausted on a full map)
// leaves nothing written; Grow() and redo the batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "state/lmdb_env.h"

namespace segd {

class PartitionStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;

  static Result<std::unique_ptr<PartitionStore>> Open(const std::string& path,
                                                     const LmdbOptions& options);

  // Write transaction of the current batch. REQUIRES: none open for Begin;
  // one open for everything else except the Read* accessors.
  Status Begin();
  Status Commit();
  void Abort();
  bool in_batch() const { return txn_ != nullptr; }
  // Doubles the map after a full-map failure. REQUIRES: !in_batch().
  Status Grow() { return env_->Grow(); }
  LmdbEnv& env() { return *env_; }

  // Meta values.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status PutMeta(std::string_view key, std::string_view value);

  // Dense ids: the id of `user`, or nullopt if never seen.
  Result<std::optional<uint32_t>> FindUser(std::string_view user);
  // Assigns the next dense id to a new user.
  Result<uint32_t> AddUser(std::string_view user);
  Result<std::string> UserKey(uint32_t id);
  uint32_t user_count() const { return next_user_; }

  Result<std::optional<std::string_view>> GetUser(uint32_t id);
  Status PutUser(uint32_t id, std::string_view value);

  Status AddTimer(int64_t due, uint32_t user);
  Status RemoveTimer(int64_t due, uint32_t user);
  // The earliest timer, if any.
  Result<std::optional<std::pair<int64_t, uint32_t>>> FirstTimer();
  Result<uint64_t> TimerCount();
  // The earliest timer's due instant outside a batch (a read transaction),
  // or kNoTimer. REQUIRES: !in_batch().
  static constexpr int64_t kNoTimer = INT64_MAX;
  Result<int64_t> PeekFirstTimerDue();

  Status PutMemberChunk(std::string_view segment, uint16_t chunk, std::string_view bitmap);
  Status DeleteMemberChunk(std::string_view segment, uint16_t chunk);
  // Calls fn(chunk, bytes) for every stored chunk of `segment`.
  Status ForEachMemberChunk(std::string_view segment,
                            const std::function<void(uint16_t, std::string_view)>& fn);

  Status PutOutbox(uint64_t seq, std::string_view message);
  Status DeleteOutbox(uint64_t seq);
  Status ForEachOutbox(const std::function<void(uint64_t, std::string_view)>& fn);

 private:
  PartitionStore() = default;
  Status Load();
  LmdbTxn& txn() { return *txn_; }

  std::unique_ptr<LmdbEnv> env_;
  std::unique_ptr<LmdbTxn> txn_;
  unsigned meta_ = 0, user_ids_ = 0, user_keys_ = 0, users_ = 0, timers_ = 0, members_ = 0,
           outbox_ = 0;
  uint32_t next_user_ = 0;
  uint32_t batch_start_users_ = 0;
};

}  // namespace segd
