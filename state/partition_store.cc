#include "state/partition_store.h"

#include <cstring>
#include <iterator>
#include <mutex>

#include "state/varint.h"

namespace segd {

namespace {

void PutBe32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetBe(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Timer keys sort by due instant: the signed ms is biased into unsigned.
std::string TimerKey(int64_t due, uint32_t user) {
  std::string k;
  PutBe64(&k, static_cast<uint64_t>(due) ^ (1ull << 63));
  PutBe32(&k, user);
  return k;
}

std::string MemberKey(std::string_view segment, uint16_t chunk) {
  std::string k(segment);
  k.push_back('\0');
  k.push_back(static_cast<char>(chunk >> 8));
  k.push_back(static_cast<char>(chunk & 0xff));
  return k;
}

Result<std::optional<PartitionStore::StoredUser>> GetUserIn(LmdbTxn& txn, unsigned db,
                                                           std::string_view user) {
  auto v = txn.Get(db, user);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<PartitionStore::StoredUser>();
  std::string_view bytes = **v;
  uint64_t id;
  if (!GetVarint(&bytes, &id) || id > UINT32_MAX) {
    return Status::Internal("corrupt user entry of " + std::string(user));
  }
  return std::optional<PartitionStore::StoredUser>(
      PartitionStore::StoredUser{static_cast<uint32_t>(id), bytes});
}

Status ForEachUserIn(LmdbTxn& txn, unsigned db, std::string_view start,
                     const PartitionStore::UserFn& fn) {
  Status bad = Status::Ok();
  SEGD_RETURN_IF_ERROR(txn.Scan(db, start, [&](std::string_view k, std::string_view v) {
    uint64_t id;
    if (!GetVarint(&v, &id) || id > UINT32_MAX) {
      bad = Status::Internal("corrupt user entry of " + std::string(k));
      return false;
    }
    return fn(k, static_cast<uint32_t>(id), v);
  }));
  return bad;
}

Result<std::optional<std::string>> GetMetaIn(LmdbTxn& txn, unsigned db, std::string_view key) {
  auto v = txn.Get(db, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(**v));
}

Status ForEachMemberChunkIn(LmdbTxn& txn, unsigned db, std::string_view segment,
                            const std::function<void(uint16_t, std::string_view)>& fn) {
  std::string prefix(segment);
  prefix.push_back('\0');
  return txn.Scan(db, prefix, [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 2 || k.substr(0, prefix.size()) != prefix) return false;
    fn(static_cast<uint16_t>(GetBe(k, prefix.size(), 2)), v);
    return true;
  });
}

Result<std::optional<PartitionStore::Timer>> FirstTimerIn(LmdbTxn& txn, unsigned db) {
  std::optional<PartitionStore::Timer> first;
  Status s = txn.Scan(db, {}, [&first](std::string_view k, std::string_view v) {
    if (k.size() == 12) {
      first = PartitionStore::Timer{static_cast<int64_t>(GetBe(k, 0, 8) ^ (1ull << 63)),
                                    static_cast<uint32_t>(GetBe(k, 8, 4)), std::string(v)};
    }
    return false;
  });
  if (!s.ok()) return s;
  return first;
}

std::string OutboxKey(uint64_t seq) {
  std::string k;
  PutBe64(&k, seq);
  return k;
}

}  // namespace

Result<std::unique_ptr<PartitionStore>> PartitionStore::Open(const std::string& path,
                                                           const LmdbOptions& options) {
  auto env = LmdbEnv::Open(path, options);
  if (!env.ok()) return env.status();
  std::unique_ptr<PartitionStore> store(new PartitionStore());
  store->env_ = std::move(env).value();
  struct Db {
    const char* name;
    unsigned* handle;
  };
  for (Db db : {Db{"meta", &store->meta_}, Db{"users", &store->users_},
                Db{"timers", &store->timers_}, Db{"members", &store->members_},
                Db{"outbox", &store->outbox_}}) {
    auto h = store->env_->OpenDb(db.name);
    if (!h.ok()) return h.status();
    *db.handle = *h;
  }
  SEGD_RETURN_IF_ERROR(store->Load());
  return store;
}

// Checks the schema version (writing it into a new store) and counts users.
Status PartitionStore::Load() {
  if (read_only()) {
    auto reader = Read();
    if (!reader.ok()) return reader.status();
    auto version = (*reader)->GetMeta(meta_key::kSchemaVersion);
    if (!version.ok()) return version.status();
    if (!version->has_value() || **version != std::to_string(kSchemaVersion)) {
      return Status::FailedPrecondition(
          "state schema version " + version->value_or("(none)") +
          " is not supported by this segd (version " + std::to_string(kSchemaVersion) + ")");
    }
    auto n = (*reader)->txn_->Count(users_);
    if (!n.ok()) return n.status();
    next_user_ = static_cast<uint32_t>(*n);
    return Status::Ok();
  }
  SEGD_RETURN_IF_ERROR(Begin());
  auto version = GetMeta(meta_key::kSchemaVersion);
  if (!version.ok()) return version.status();
  if (!version->has_value()) {
    SEGD_RETURN_IF_ERROR(PutMeta(meta_key::kSchemaVersion, std::to_string(kSchemaVersion)));
  } else if (**version != std::to_string(kSchemaVersion)) {
    Abort();
    return Status::FailedPrecondition("state schema version " + **version +
                                      " is not supported by this segd (version " +
                                      std::to_string(kSchemaVersion) + ")");
  }
  auto n = txn_->Count(users_);
  if (!n.ok()) return n.status();
  next_user_ = static_cast<uint32_t>(*n);
  return Commit();
}

Status PartitionStore::Begin() {
  auto txn = env_->Begin(true);
  if (!txn.ok()) return txn.status();
  txn_ = std::move(txn).value();
  batch_start_users_ = next_user_;
  users_written_ = false;
  writes_.clear();
  write_index_.clear();
  return Status::Ok();
}

// The meta keys of meta_key (partition_store.h), which are not state.
static bool UncapturedMeta(std::string_view key) {
  using namespace meta_key;
  for (const char* k :
       {kStoreId, kInputOffset, kLastSeq, kSchemaVersion, kChangelogBase, kChangelogSeed}) {
    if (key == k) return true;
  }
  return false;
}

void PartitionStore::Capture(char db, std::string_view key,
                             std::optional<std::string_view> value) {
  if (!capture_ || (db == 'm' && UncapturedMeta(key))) return;
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(db);
  k.append(key);
  auto [it, fresh] = write_index_.try_emplace(k, writes_.size());
  if (fresh) writes_.push_back({db, std::string(key), std::nullopt});
  Write& w = writes_[it->second];
  if (value) {
    w.value.emplace(*value);
  } else {
    w.value.reset();
  }
}

Result<std::optional<std::string>> PartitionStore::CaptureFrom(std::string_view from,
                                                               size_t max_keys) {
  // Positions: the database's letter, then the key to start at.
  const std::pair<char, unsigned> dbs[] = {{'m', meta_}, {'u', users_}, {'t', timers_},
                                           {'b', members_}};
  size_t first = 0;
  if (!from.empty()) {
    while (first < std::size(dbs) && dbs[first].first != from[0]) ++first;
    if (first == std::size(dbs)) return Status::InvalidArgument("bad capture position");
    from.remove_prefix(1);
  }
  size_t taken = 0;
  std::optional<std::string> next;
  for (size_t i = first; i < std::size(dbs) && !next; ++i) {
    auto [letter, db] = dbs[i];
    SEGD_RETURN_IF_ERROR(txn_->Scan(db, i == first ? from : std::string_view(),
                                    [&, letter = letter](std::string_view k, std::string_view v) {
                                      if (taken == max_keys) {
                                        next = std::string(1, letter).append(k);
                                        return false;
                                      }
                                      Capture(letter, k, v);
                                      ++taken;
                                      return true;
                                    }));
  }
  return next;
}

std::vector<PartitionStore::Write> PartitionStore::TakeWrites() {
  std::vector<Write> out = std::move(writes_);
  writes_.clear();
  write_index_.clear();
  return out;
}

Status PartitionStore::ApplyWrite(std::string_view key, std::optional<std::string_view> value) {
  if (key.empty()) return Status::InvalidArgument("empty changelog key");
  unsigned db;
  switch (key[0]) {
    case 'm': db = meta_; break;
    case 'u': db = users_; break;
    case 't': db = timers_; break;
    case 'b': db = members_; break;
    default: return Status::InvalidArgument("changelog key of unknown kind");
  }
  key.remove_prefix(1);
  if (db == users_) users_written_ = true;
  return value ? txn_->Put(db, key, *value) : txn_->Delete(db, key);
}

Status PartitionStore::ClearAll() {
  for (unsigned db : {meta_, users_, timers_, members_, outbox_}) {
    SEGD_RETURN_IF_ERROR(txn_->Clear(db));
  }
  next_user_ = 0;
  return Status::Ok();
}

Status PartitionStore::Recount() {
  auto n = txn_->Count(users_);
  if (!n.ok()) return n.status();
  next_user_ = static_cast<uint32_t>(*n);
  batch_start_users_ = next_user_;
  return Status::Ok();
}

Status PartitionStore::Commit() {
  Status s = txn_->Commit();
  txn_.reset();
  if (!s.ok()) next_user_ = batch_start_users_;
  return s;
}

void PartitionStore::Abort() {
  txn_.reset();
  next_user_ = batch_start_users_;
}

Result<std::optional<std::string>> PartitionStore::GetMeta(std::string_view key) {
  return GetMetaIn(*txn_, meta_, key);
}

Status PartitionStore::PutMeta(std::string_view key, std::string_view value) {
  Capture('m', key, value);
  return txn_->Put(meta_, key, value);
}

Status PartitionStore::DeleteMeta(std::string_view key) {
  Capture('m', key, std::nullopt);
  return txn_->Delete(meta_, key);
}

Result<std::optional<PartitionStore::StoredUser>> PartitionStore::GetUser(std::string_view user) {
  return GetUserIn(*txn_, users_, user);
}

Status PartitionStore::PutUser(std::string_view user, uint32_t id, std::string_view record) {
  std::string value;
  value.reserve(record.size() + 5);
  PutVarint(&value, id);
  value.append(record);
  Capture('u', user, value);
  users_written_ = true;
  return txn_->Put(users_, user, value);
}

Status PartitionStore::ForEachUser(std::string_view start, const UserFn& fn) {
  return ForEachUserIn(*txn_, users_, start, fn);
}

Status PartitionStore::AddTimer(int64_t due, uint32_t id, std::string_view user) {
  std::string key = TimerKey(due, id);
  Capture('t', key, user);
  return txn_->Put(timers_, key, user);
}

Status PartitionStore::RemoveTimer(int64_t due, uint32_t id) {
  std::string key = TimerKey(due, id);
  Capture('t', key, std::nullopt);
  return txn_->Delete(timers_, key);
}

Result<std::optional<PartitionStore::Timer>> PartitionStore::FirstTimer() {
  return FirstTimerIn(*txn_, timers_);
}

Result<int64_t> PartitionStore::PeekFirstTimerDue() {
  auto txn = env_->Begin(false);
  if (!txn.ok()) return txn.status();
  int64_t due = kNoTimer;
  Status s = (*txn)->Scan(timers_, {}, [&due](std::string_view k, std::string_view) {
    if (k.size() == 12) due = static_cast<int64_t>(GetBe(k, 0, 8) ^ (1ull << 63));
    return false;
  });
  if (!s.ok()) return s;
  return due;
}

Result<uint64_t> PartitionStore::TimerCount() { return txn_->Count(timers_); }

Result<uint64_t> PartitionStore::CountTimersDue(int64_t now, uint64_t cap) {
  uint64_t n = 0;
  Status s = txn_->Scan(timers_, {}, [&](std::string_view k, std::string_view) {
    if (k.size() != 12 || static_cast<int64_t>(GetBe(k, 0, 8) ^ (1ull << 63)) > now) return false;
    return ++n < cap;
  });
  if (!s.ok()) return s;
  return n;
}

Status PartitionStore::PutMemberChunk(std::string_view segment, uint16_t chunk,
                                      std::string_view bitmap) {
  std::string key = MemberKey(segment, chunk);
  Capture('b', key, bitmap);
  return txn_->Put(members_, key, bitmap);
}

Status PartitionStore::DeleteMemberChunk(std::string_view segment, uint16_t chunk) {
  std::string key = MemberKey(segment, chunk);
  Capture('b', key, std::nullopt);
  return txn_->Delete(members_, key);
}

Status PartitionStore::ForEachMemberChunk(
    std::string_view segment, const std::function<void(uint16_t, std::string_view)>& fn) {
  return ForEachMemberChunkIn(*txn_, members_, segment, fn);
}

Status PartitionStore::PutOutbox(uint64_t seq, std::string_view message) {
  return txn_->Put(outbox_, OutboxKey(seq), message);
}

Status PartitionStore::DeleteOutbox(uint64_t seq) { return txn_->Delete(outbox_, OutboxKey(seq)); }

Status PartitionStore::ClearOutbox() { return txn_->Clear(outbox_); }

Status PartitionStore::ForEachOutbox(const std::function<void(uint64_t, std::string_view)>& fn) {
  return txn_->Scan(outbox_, {}, [&fn](std::string_view k, std::string_view v) {
    if (k.size() == 8) fn(GetBe(k, 0, 8), v);
    return true;
  });
}

Status PartitionStore::Grow() {
  std::unique_lock<std::shared_mutex> lock(map_mu_);
  return env_->Grow();
}

bool PartitionStore::MakeRoomForRewrite() {
  bool grew = false;
  while (env_->used_bytes() > env_->map_bytes() / 2 && Grow().ok()) grew = true;
  return grew;
}

Result<std::unique_ptr<PartitionStore::Reader>> PartitionStore::Read() {
  std::shared_lock<std::shared_mutex> lock(map_mu_);
  auto txn = env_->Begin(false);
  if (!txn.ok()) return txn.status();
  return std::unique_ptr<Reader>(new Reader(this, std::move(txn).value(), std::move(lock)));
}

Result<std::optional<std::string>> PartitionStore::Reader::GetMeta(std::string_view key) {
  return GetMetaIn(*txn_, store_->meta_, key);
}

Result<std::optional<PartitionStore::StoredUser>> PartitionStore::Reader::GetUser(
    std::string_view user) {
  return GetUserIn(*txn_, store_->users_, user);
}

Status PartitionStore::Reader::ForEachUser(std::string_view start, const UserFn& fn) {
  return ForEachUserIn(*txn_, store_->users_, start, fn);
}

Result<std::optional<std::string_view>> PartitionStore::Reader::GetMemberChunk(
    std::string_view segment, uint16_t chunk) {
  return txn_->Get(store_->members_, MemberKey(segment, chunk));
}

Status PartitionStore::Reader::ForEachMemberChunk(
    std::string_view segment, const std::function<void(uint16_t, std::string_view)>& fn) {
  return ForEachMemberChunkIn(*txn_, store_->members_, segment, fn);
}

Result<std::optional<PartitionStore::Timer>> PartitionStore::Reader::FirstTimer() {
  return FirstTimerIn(*txn_, store_->timers_);
}

}  // namespace segd
