// `segd replay`: the engine without Kafka (SEMANTICS.md §4). JSON lines in,
// one partition (or `partitions`, split by user id as Kafka's clients
// partition keys, each with its own store and clock, run on `workers`
// threads); change records out on stdout as JSON lines, per batch in
// partition order; each refused record as a JSON line on stderr with its
// line number and reason. Deterministic with the event clock.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "daemon/config.h"

namespace segd {

struct ReplayOptions {
  std::string rules_path;
  std::string input_path = "-";  // "-": stdin
  std::string data_dir;          // empty: a temporary folder, removed at the end
  ClockMode clock = ClockMode::kEvent;
  size_t batch_records = 10000;
  size_t timers_per_batch = SIZE_MAX;  // the engine's bound on timers fired per batch
  int max_window_days = 400;
  int partitions = 1;  // the stream split by user id (murmur2, as Kafka's clients)
  int workers = 1;     // threads running the partitions
  bool write_map = true;  // MDB_WRITEMAP with one worker, as `lmdb.write_map`
  DecoderOptions decoder;
};

// Returns the process exit code: 0 on success, 1 on an error (printed to
// `err`), 2 for a refused rule file.
int RunReplay(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace segd
