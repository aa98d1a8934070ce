// The LMDB store of one input partition's state (DESIGN.md, per-user state;
// docs/state-format.md has the byte layout). One environment per partition,
// one writer: the partition's worker. Values are bytes here; their encoding
// belongs to the callers (user_state_codec.h, rules/membership.h).
//
// Databases:
//   meta      string key → bytes: schema version, clock, input offset, the
//             rule set the state is laid out for (docs/state-format.md)
//   users     user id → varint dense id, then the encoded user record
//   timers    (due ms as biased BE u64, u32 dense id BE) → user id
//   members   segment id, 0x00, chunk (u16 BE) → Roaring bitmap (portable)
//   outbox    u64 sequence (BE) → encoded output message
// Dense ids (for the bitmaps) are given out in order of first sight; the
// user id travels with each timer so that firing it finds the user.
//
// Usage: Begin() a write transaction per batch, read and write through the
// store, then Commit(). A failed Commit (ResourceExhausted on a full map)
// leaves nothing written; Grow() and redo the batch.
//
// Readers: Read() gives a Reader, a read transaction of its own that other
// threads (the admin server's) may hold while the writer works; a store
// opened with LmdbOptions::read_only (another process, `segd inspect`) has
// only Readers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "state/lmdb_env.h"

namespace segd {

// Meta keys that are not state but the store's identity and position:
// never captured in the changelog (a restored store takes them from the
// committed marker and offset), written by the partition (daemon/).
namespace meta_key {
inline constexpr char kSchemaVersion[] = "schema_version";
inline constexpr char kStoreId[] = "store_id";
inline constexpr char kInputOffset[] = "input_offset";  // next input offset to read
inline constexpr char kLastSeq[] = "last_seq";          // last outbox sequence given out
inline constexpr char kChangelogBase[] = "changelog_base";
inline constexpr char kChangelogSeed[] = "changelog_seed";
}  // namespace meta_key

class PartitionStore {
 public:
  static constexpr uint32_t kSchemaVersion = 2;

  static Result<std::unique_ptr<PartitionStore>> Open(const std::string& path,
                                                     const LmdbOptions& options);

  // Write transaction of the current batch. REQUIRES: none open for Begin;
  // one open for everything else except the Read* accessors.
  Status Begin();
  Status Commit();
  void Abort();
  bool in_batch() const { return txn_ != nullptr; }
  // Doubles the map after a full-map failure; waits until no Reader of this
  // store is open (remapping under a reader would pull its pages away).
  // REQUIRES: !in_batch(), and this thread holds no Reader.
  Status Grow();
  // Makes room for a transaction that may rewrite every user (a rule
  // change carried over): doubles the map while more than half of it is in
  // use, rather than letting the rewrite fill it, be undone and run again
  // after a Grow. Returns whether the map grew; a growth that fails stops
  // it (the rewrite may fit all the same). REQUIRES: as Grow().
  bool MakeRoomForRewrite();
  LmdbEnv& env() { return *env_; }

  // Meta values.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status PutMeta(std::string_view key, std::string_view value);
  Status DeleteMeta(std::string_view key);

  // A user's stored value: dense id and record, or nullopt if never seen.
  struct StoredUser {
    uint32_t id;
    std::string_view record;  // valid until the transaction writes
  };
  Result<std::optional<StoredUser>> GetUser(std::string_view user);
  Status PutUser(std::string_view user, uint32_t id, std::string_view record);
  // Whether this transaction has written a user (what a Reader, which sees
  // the last commit, would not see).
  bool users_written() const { return users_written_; }
  // The dense id for a user seen for the first time (its PutUser follows).
  uint32_t NewUserId() { return next_user_++; }
  uint32_t user_count() const { return next_user_; }
  // Calls fn(user, id, record) for every user, in user id order, until fn
  // returns false.
  using UserFn = std::function<bool(std::string_view, uint32_t, std::string_view)>;
  Status ForEachUser(const UserFn& fn) { return ForEachUser({}, fn); }
  // The same from the first user >= `start`.
  Status ForEachUser(std::string_view start, const UserFn& fn);

  struct Timer {
    int64_t due;
    uint32_t id;
    std::string user;
  };
  Status AddTimer(int64_t due, uint32_t id, std::string_view user);
  Status RemoveTimer(int64_t due, uint32_t id);
  // The earliest timer, if any.
  Result<std::optional<Timer>> FirstTimer();
  // The earliest timer's due instant outside a batch (a read transaction),
  // or kNoTimer. REQUIRES: !in_batch().
  static constexpr int64_t kNoTimer = INT64_MAX;
  Result<int64_t> PeekFirstTimerDue();
  // Timers scheduled (one per user at most). REQUIRES: in a transaction.
  Result<uint64_t> TimerCount();
  // Timers due at or before `now`, counted up to `cap`. REQUIRES: in a
  // transaction.
  Result<uint64_t> CountTimersDue(int64_t now, uint64_t cap);

  Status PutMemberChunk(std::string_view segment, uint16_t chunk, std::string_view bitmap);
  Status DeleteMemberChunk(std::string_view segment, uint16_t chunk);
  // Calls fn(chunk, bytes) for every stored chunk of `segment`.
  Status ForEachMemberChunk(std::string_view segment,
                            const std::function<void(uint16_t, std::string_view)>& fn);

  // The changelog (issue 12, docs/scaling.md): with capture on, the
  // transaction's writes to meta (but the keys of kUncapturedMeta), users,
  // timers and members are recorded, one per key, the last write winning;
  // TakeWrites hands them over (a batch puts them in its outbox before it
  // commits). Applying them in order to an empty store rebuilds the state.
  struct Write {
    char db;  // 'm' meta, 'u' users, 't' timers, 'b' members
    std::string key;
    std::optional<std::string> value;  // nullopt: deleted
  };
  void set_capture(bool on) { capture_ = on; }
  std::vector<Write> TakeWrites();
  // Records keys of meta, users, timers and members as written (the first
  // changelog of a store that existed before it had one), a part at a
  // time: up to `max_keys` keys from
  // position `from` ("" to begin; else what the previous call returned)
  // and returns where to go on from, or nullopt once every key is
  // recorded. Parts taken in successive transactions, each with that
  // transaction's own writes, add up to the state of the last one: a key
  // written after its part was taken is recorded again by that write.
  Result<std::optional<std::string>> CaptureFrom(std::string_view from, size_t max_keys);
  // Applies a changelog entry (key: the db letter then the key).
  Status ApplyWrite(std::string_view key, std::optional<std::string_view> value);
  // Empties every database (a restore starts from nothing).
  Status ClearAll();
  // After ApplyWrite: the user count (next dense id) from the users kept.
  Status Recount();

  Status PutOutbox(uint64_t seq, std::string_view message);
  Status DeleteOutbox(uint64_t seq);
  // Deletes every outbox entry.
  Status ClearOutbox();
  Status ForEachOutbox(const std::function<void(uint64_t, std::string_view)>& fn);

  // A consistent view of the last commit before it began. It may live on
  // another thread than the writer's (one thread at a time), never blocks
  // the writer's transactions, and keeps the pages it sees from reuse, so
  // hold it for one request, not longer. Grow() waits while it exists.
  // Views it returns are valid until it is destroyed.
  class Reader {
   public:
    Result<std::optional<std::string>> GetMeta(std::string_view key);
    Result<std::optional<StoredUser>> GetUser(std::string_view user);
    // Users with id >= `start` (all: empty), in user id order.
    Status ForEachUser(std::string_view start, const UserFn& fn);
    // One membership chunk of `segment` (nullopt: no member in it).
    Result<std::optional<std::string_view>> GetMemberChunk(std::string_view segment,
                                                           uint16_t chunk);
    Status ForEachMemberChunk(std::string_view segment,
                              const std::function<void(uint16_t, std::string_view)>& fn);
    Result<std::optional<Timer>> FirstTimer();

   private:
    friend class PartitionStore;
    Reader(const PartitionStore* store, std::unique_ptr<LmdbTxn> txn,
           std::shared_lock<std::shared_mutex> lock)
        : store_(store), lock_(std::move(lock)), txn_(std::move(txn)) {}
    const PartitionStore* store_;
    // Destruction order: the transaction ends before the lock lets Grow in.
    std::shared_lock<std::shared_mutex> lock_;
    std::unique_ptr<LmdbTxn> txn_;
  };
  // Thread-safe: may be called on any thread, also during a batch.
  Result<std::unique_ptr<Reader>> Read();
  bool read_only() const { return env_->read_only(); }

 private:
  PartitionStore() = default;
  Status Load();
  LmdbTxn& txn() { return *txn_; }

  std::unique_ptr<LmdbEnv> env_;
  std::unique_ptr<LmdbTxn> txn_;
  unsigned meta_ = 0, users_ = 0, timers_ = 0, members_ = 0, outbox_ = 0;
  uint32_t next_user_ = 0;
  uint32_t batch_start_users_ = 0;
  bool users_written_ = false;
  void Capture(char db, std::string_view key, std::optional<std::string_view> value);
  bool capture_ = false;
  std::vector<Write> writes_;
  std::unordered_map<std::string, size_t> write_index_;  // db+key → writes_
  std::shared_mutex map_mu_;  // shared: a Reader is open; exclusive: Grow()
};

}  // namespace segd
