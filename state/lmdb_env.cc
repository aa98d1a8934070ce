#include "state/lmdb_env.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace segd {

namespace {

constexpr char kMapFull[] = "LMDB map full";

Status FromMdb(int rc, const std::string& what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg = "LMDB " + what + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) return Status::ResourceExhausted(std::string(kMapFull) + ": " + msg);
  if (rc == ENOSPC) return Status::ResourceExhausted("no room on disk: " + msg);
  return Status::Internal(msg);
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

}  // namespace

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::Open(const std::string& path,
                                               const LmdbOptions& options) {
  if (options.read_only) return OpenReadOnly(path, options);
  if (mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) {
    return Status::Internal("cannot create data folder " + path);
  }
  std::unique_ptr<LmdbEnv> env(new LmdbEnv());
  env->options_ = options;
  if (!options.sync) env->options_.writemap = false;
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env->env_), "env_create"));
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_set_maxdbs(env->env_, options.max_dbs), "set_maxdbs"));
  // An existing environment may be larger than the initial size: keep it.
  SEGD_RETURN_IF_ERROR(
      FromMdb(mdb_env_set_mapsize(env->env_, options.initial_map_bytes), "set_mapsize"));
  // MDB_NORDAHEAD: LMDB advises MADV_RANDOM on the map. The access is
  // random, and readahead (on page faults) fills the page cache with large
  // folios that a write through the map dirties whole: on ext4 with large
  // folios, each durable commit wrote back 6x the pages it changed
  // (BENCHMARKS.md). The read-only environments of `segd inspect`, which
  // scan, keep readahead.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (options.sync ? 0 : MDB_NOSYNC) |
                   (env->options_.writemap ? MDB_WRITEMAP : 0);
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_open(env->env_, path.c_str(), flags, 0640), "open " + path));
  MDB_envinfo info;
  mdb_env_info(env->env_, &info);
  env->map_bytes_ = std::max<uint64_t>(info.me_mapsize, options.initial_map_bytes);
  SEGD_RETURN_IF_ERROR(env->Preallocate(env->map_bytes_));
  return env;
}

// The writer preallocates the data file to its map size (lmdb.sync) and
// may have grown the map after its last commit recorded the size, so the
// reader maps the whole file; a later growth shows as MDB_MAP_RESIZED at
// the next Begin, which adopts the new size.
Result<std::unique_ptr<LmdbEnv>> LmdbEnv::OpenReadOnly(const std::string& path,
                                                       const LmdbOptions& options) {
  struct stat st;
  std::string data = path + "/data.mdb";
  if (stat(data.c_str(), &st) != 0) {
    return Status::NotFound("no LMDB environment in " + path + " (" + data + ": " +
                            std::strerror(errno) + ")");
  }
  std::unique_ptr<LmdbEnv> env(new LmdbEnv());
  env->options_ = options;
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env->env_), "env_create"));
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_set_maxdbs(env->env_, options.max_dbs), "set_maxdbs"));
  SEGD_RETURN_IF_ERROR(
      FromMdb(mdb_env_set_mapsize(env->env_, static_cast<size_t>(st.st_size)), "set_mapsize"));
  SEGD_RETURN_IF_ERROR(
      FromMdb(mdb_env_open(env->env_, path.c_str(), MDB_NOTLS | MDB_RDONLY, 0640), "open " + path));
  MDB_envinfo info;
  mdb_env_info(env->env_, &info);
  env->map_bytes_ = info.me_mapsize;
  return env;
}

LmdbEnv::~LmdbEnv() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<unsigned> LmdbEnv::OpenDb(const std::string& name) {
  MDB_txn* txn = nullptr;
  const bool ro = options_.read_only;
  SEGD_RETURN_IF_ERROR(
      FromMdb(mdb_txn_begin(env_, nullptr, ro ? MDB_RDONLY : 0, &txn), "txn_begin"));
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn, name.c_str(), ro ? 0 : MDB_CREATE, &dbi);
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND) return Status::NotFound("no database " + name);
    return FromMdb(rc, "dbi_open " + name);
  }
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_txn_commit(txn), "commit"));
  return static_cast<unsigned>(dbi);
}

Result<std::unique_ptr<LmdbTxn>> LmdbEnv::Begin(bool write) {
  if (write && options_.read_only) {
    return Status::FailedPrecondition("the LMDB environment is open read-only");
  }
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, write ? 0 : MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size and retry.
    mdb_env_set_mapsize(env_, 0);
    rc = mdb_txn_begin(env_, nullptr, write ? 0 : MDB_RDONLY, &txn);
  }
  SEGD_RETURN_IF_ERROR(FromMdb(rc, "txn_begin"));
  return std::unique_ptr<LmdbTxn>(new LmdbTxn(txn));
}

bool LmdbEnv::IsMapFull(const Status& s) {
  return s.code() == Status::Code::kResourceExhausted && s.message().rfind(kMapFull, 0) == 0;
}

Status LmdbEnv::Sync() { return FromMdb(mdb_env_sync(env_, 1), "env_sync"); }

Status LmdbEnv::Grow() {
  if (options_.read_only) {
    return Status::FailedPrecondition("the LMDB environment is open read-only");
  }
  if (map_bytes_ >= options_.max_map_bytes) {
    return Status::ResourceExhausted("LMDB map is at its limit of " +
                                     std::to_string(options_.max_map_bytes) + " bytes");
  }
  uint64_t next = std::min(map_bytes_ * 2, options_.max_map_bytes);
  // Blocks first: if the disk has no room, the map stays as it was.
  SEGD_RETURN_IF_ERROR(Preallocate(next));
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_set_mapsize(env_, next), "set_mapsize"));
  map_bytes_ = next;
  return Status::Ok();
}

Status LmdbEnv::Preallocate(uint64_t bytes) {
  if (!options_.sync) return Status::Ok();
  mdb_filehandle_t fd;
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_env_get_fd(env_, &fd), "get_fd"));
  int rc = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (rc == ENOSPC) {
    return Status::ResourceExhausted("no room on disk for an LMDB map of " +
                                     std::to_string(bytes) + " bytes");
  }
  if (rc != 0) return Status::Internal(std::string("fallocate: ") + std::strerror(rc));
  return Status::Ok();
}

uint64_t LmdbEnv::used_bytes() const {
  MDB_envinfo info;
  MDB_stat stat;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &stat);
  return (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
}

LmdbTxn::~LmdbTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

Result<std::optional<std::string_view>> LmdbTxn::Get(unsigned db, std::string_view key) {
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn_, db, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  SEGD_RETURN_IF_ERROR(FromMdb(rc, "get"));
  return std::optional<std::string_view>(
      std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
}

Status LmdbTxn::Put(unsigned db, std::string_view key, std::string_view value) {
  MDB_val k = Val(key), v = Val(value);
  return FromMdb(mdb_put(txn_, db, &k, &v, 0), "put");
}

Status LmdbTxn::Delete(unsigned db, std::string_view key) {
  MDB_val k = Val(key);
  int rc = mdb_del(txn_, db, &k, nullptr);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  return FromMdb(rc, "del");
}

Status LmdbTxn::Clear(unsigned db) { return FromMdb(mdb_drop(txn_, db, 0), "drop"); }

Status LmdbTxn::Scan(unsigned db, std::string_view start,
                     const std::function<bool(std::string_view, std::string_view)>& fn) {
  MDB_cursor* cursor = nullptr;
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_cursor_open(txn_, db, &cursor), "cursor_open"));
  MDB_val k = Val(start), v;
  int rc = mdb_cursor_get(cursor, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    if (!fn(std::string_view(static_cast<const char*>(k.mv_data), k.mv_size),
            std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) {
      break;
    }
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return FromMdb(rc, "cursor_get");
  return Status::Ok();
}

Result<uint64_t> LmdbTxn::Count(unsigned db) {
  MDB_stat st;
  SEGD_RETURN_IF_ERROR(FromMdb(mdb_stat(txn_, db, &st), "stat"));
  return static_cast<uint64_t>(st.ms_entries);
}

Status LmdbTxn::Commit() {
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;  // committed or aborted by LMDB either way
  return FromMdb(rc, "commit");
}

}  // namespace segd
