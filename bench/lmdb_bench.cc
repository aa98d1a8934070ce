// Baseline (c): the storage limit. LMDB random read-modify-write of one
// small value per record, for the users of the same input, with the
// engine's batch size and commit policy: each batch reads every user it
// touches once, writes each back once, and commits (fsync unless --nosync).
//
//   segd_bench_lmdb FILE DIR [--batch N] [--value-bytes B] [--nosync]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "state/lmdb_env.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: segd_bench_lmdb FILE DIR [--batch N] [--value-bytes B] [--nosync]\n");
    return 2;
  }
  size_t batch = 10000, value_bytes = 64;
  bool sync = true;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--value-bytes") && i + 1 < argc) value_bytes = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--nosync")) sync = false;
  }
  // The user of each record, as the engine would key it.
  std::ifstream in(argv[1]);
  std::vector<std::string> users;
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find("\"user_id\":\"");
    if (a == std::string::npos) continue;
    a += 11;
    users.push_back(line.substr(a, line.find('"', a) - a));
  }
  segd::LmdbOptions opts;
  opts.sync = sync;
  auto env = segd::LmdbEnv::Open(argv[2], opts);
  if (!env.ok()) return 1;
  auto db = (*env)->OpenDb("users");
  auto start = std::chrono::steady_clock::now();
  std::unordered_map<std::string, std::string> touched;
  for (size_t i = 0; i < users.size(); i += batch) {
    while (true) {
      auto txn = (*env)->Begin(true);
      touched.clear();
      segd::Status s;
      for (size_t j = i; j < std::min(users.size(), i + batch); ++j) {
        auto [it, fresh] = touched.try_emplace(users[j]);
        if (fresh) {
          auto v = (*txn)->Get(*db, users[j]);
          it->second = v.ok() && v->has_value() ? std::string(**v) : std::string(value_bytes, '\0');
        }
        ++it->second[j % value_bytes];  // the modification
      }
      for (const auto& [k, v] : touched) {
        s = (*txn)->Put(*db, k, v);
        if (!s.ok()) break;
      }
      if (s.ok()) s = (*txn)->Commit();
      if (s.code() == segd::Status::Code::kResourceExhausted) {
        txn->reset();
        if ((*env)->Grow().ok()) continue;
      }
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      break;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"records\":%zu,\"seconds\":%.3f,\"records_per_s\":%.0f}\n", users.size(), secs,
              static_cast<double>(users.size()) / secs);
  return 0;
}
