// RAII over an LMDB environment: open, transactions, named databases, and a
// map that grows on demand instead of failing with MDB_MAP_FULL.
//
// Thread-safety: LMDB allows one write transaction per environment at a
// time; segd gives each environment a single writer (its partition's
// worker). Read transactions may run on other threads (MDB_NOTLS).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct MDB_env;
struct MDB_txn;

namespace segd {

struct LmdbOptions {
  uint64_t initial_map_bytes = 64ull << 20;  // 64 MiB; doubles when full
  uint64_t max_map_bytes = 1ull << 40;       // growth stops here: ResourceExhausted
  unsigned max_dbs = 32;
  // false: MDB_NOSYNC, and no MDB_WRITEMAP (with both, a machine crash could
  // corrupt the file; without the write map it only loses the last commits).
  bool sync = true;
  // MDB_WRITEMAP: transactions write into the map (page cache) instead of
  // copies in process memory written back at commit (`lmdb.write_map`).
  // Without it LMDB keeps, for the environment's life, as many page
  // copies as its largest transaction wrote: one that rewrote half a
  // million of 10M users left 600 MiB of them, and a rule change that
  // carries every user over writes them all. With it, the first write to
  // each page after a commit's flush takes a page fault (ext4's
  // page_mkwrite), and with several writer threads the write-back sends
  // TLB shootdowns to the other cores (BENCHMARKS.md: latency at 20k
  // records/s was the same with and without it once the stores used
  // MDB_NORDAHEAD). Only with `sync`.
  bool writemap = true;
  // MDB_RDONLY: no write transaction, no folder or database created, no
  // preallocation; `initial_map_bytes` is ignored (the map covers the data
  // file). Safe while another process (a running segd) writes the same
  // environment: readers never block the writer.
  bool read_only = false;
};

class LmdbTxn;

class LmdbEnv {
 public:
  // Opens (creating if needed, unless read_only) the environment in
  // directory `path`.
  static Result<std::unique_ptr<LmdbEnv>> Open(const std::string& path,
                                              const LmdbOptions& options);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Handle of the named database, created on first use (read_only: NotFound
  // when it does not exist).
  Result<unsigned> OpenDb(const std::string& name);
  bool read_only() const { return options_.read_only; }

  // Starts a transaction. REQUIRES: at most one write transaction at a time.
  Result<std::unique_ptr<LmdbTxn>> Begin(bool write);

  // Doubles the map size (up to max_map_bytes). REQUIRES: no transaction of
  // this process is open. Called after a write failed with MAP_FULL.
  // ResourceExhausted when the limit is reached or the disk has no room.
  Status Grow();

  // Whether `s` says the map is full (Grow() may help), as opposed to the
  // disk having no room (it will not until space is freed).
  static bool IsMapFull(const Status& s);

  // Flushes committed transactions to disk (for sync = false).
  Status Sync();

  uint64_t map_bytes() const { return map_bytes_; }
  // Bytes of the map in use (last page number × page size).
  uint64_t used_bytes() const;

 private:
  LmdbEnv() = default;
  static Result<std::unique_ptr<LmdbEnv>> OpenReadOnly(const std::string& path,
                                                       const LmdbOptions& options);
  // With sync, gives the data file real blocks up to `bytes`, so a full disk
  // is an error at Grow() (the map stays as it was), never a failed write
  // of a commit (nor, with writemap, a SIGBUS on a write through the map).
  Status Preallocate(uint64_t bytes);
  MDB_env* env_ = nullptr;
  LmdbOptions options_;
  uint64_t map_bytes_ = 0;
};

// A transaction; aborted on destruction unless committed.
class LmdbTxn {
 public:
  ~LmdbTxn();
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;

  // The value is valid until the transaction ends or the key is written.
  Result<std::optional<std::string_view>> Get(unsigned db, std::string_view key);
  // ResourceExhausted when the map is full: abort, Grow(), redo.
  Status Put(unsigned db, std::string_view key, std::string_view value);
  Status Delete(unsigned db, std::string_view key);  // absent key is not an error
  // Deletes every key of `db`.
  Status Clear(unsigned db);
  // Calls fn(key, value) for the keys >= `start`, in order, until fn returns
  // false. The views are valid during the call only.
  Status Scan(unsigned db, std::string_view start,
              const std::function<bool(std::string_view, std::string_view)>& fn);
  Result<uint64_t> Count(unsigned db);
  Status Commit();

 private:
  friend class LmdbEnv;
  explicit LmdbTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
};

}  // namespace segd
