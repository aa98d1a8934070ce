#include "daemon/replay.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/kafka_hash.h"
#include "common/worker_pool.h"
#include "rules/engine.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "stream/record_decoder.h"

namespace segd {

namespace {

// Removes a temporary data folder when replay ends.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

struct Line {
  size_t number;
  Record record;
};

void PrintRejection(std::ostream& err, size_t line, const Rejection& why) {
  std::string s = "{\"line\":" + std::to_string(line) + ",\"reason\":";
  AppendJsonString(&s, ReasonName(why.reason));
  s += ",\"detail\":";
  AppendJsonString(&s, why.detail);
  s += "}\n";
  err << s;
}

// Runs one batch through the engine; on a full map grows it and redoes the
// batch, so what is printed is always what was committed.
Status RunBatch(rules::PartitionEngine& engine, PartitionStore& store, ClockMode clock,
                std::span<const Line> batch, std::string* out) {
  std::vector<ChangeRecord> changes;
  while (true) {
    changes.clear();
    Status s = engine.BeginBatch();
    for (size_t i = 0; s.ok() && i < batch.size(); ++i) {
      int64_t t = clock == ClockMode::kEvent ? batch[i].record.ts_ms : WallMs();
      s = engine.AdvanceTo(t, &changes);
      if (s.ok()) s = engine.Apply(batch[i].record, &changes);
    }
    // Timers an earlier batch's bound left due are worked off too.
    if (s.ok()) s = engine.AdvanceTo(engine.now(), &changes);
    if (s.ok()) {
      s = engine.CommitBatch();
    } else {
      engine.AbortBatch();
    }
    if (LmdbEnv::IsMapFull(s)) {
      SEGD_RETURN_IF_ERROR(store.Grow());
      continue;
    }
    SEGD_RETURN_IF_ERROR(s);
    for (const ChangeRecord& c : changes) out->append(c.ToJson()).push_back('\n');
    return Status::Ok();
  }
}

// Timers the per-batch bound left due when the input ended: worked off
// batch by batch at the clock the input reached.
Status DrainTimers(rules::PartitionEngine& engine, PartitionStore& store, ClockMode clock,
                   std::string* out) {
  while (engine.next_due() <= engine.now()) {
    SEGD_RETURN_IF_ERROR(RunBatch(engine, store, clock, {}, out));
  }
  return Status::Ok();
}

}  // namespace

int RunReplay(const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<RuleError> errors, warnings;
  auto file = LoadRuleFile(options.rules_path, &errors);
  Result<rules::RuleSet> rules = file.ok() ? rules::RuleSet::Compile(
                                                 *file, {options.max_window_days}, &errors, &warnings)
                                           : Result<rules::RuleSet>(file.status());
  if (!rules.ok()) {
    if (errors.empty()) err << "segd: " << rules.status().message() << "\n";
    for (const auto& e : errors) err << options.rules_path << ":" << e.ToString() << "\n";
    return 2;
  }
  for (const auto& w : warnings) err << options.rules_path << ": warning: " << w.ToString() << "\n";

  TempDir temp;
  std::string dir = options.data_dir;
  if (dir.empty()) {
    temp.path = (std::filesystem::temp_directory_path() /
                 ("segd-replay-" + std::to_string(getpid())))
                    .string();
    dir = temp.path;
  }
  // One store and engine per partition; with one partition the store is
  // the data folder itself, with several it is p<N> inside it.
  struct Part {
    std::unique_ptr<PartitionStore> store;
    std::unique_ptr<rules::PartitionEngine> engine;
    // The batch is batch[0, used): the Lines past it are kept for their
    // records' capacity, which the next lines decode into.
    std::vector<Line> batch;
    size_t used = 0;
    std::string out;
    Status status = Status::Ok();
  };
  int n = std::max(options.partitions, 1);
  std::vector<Part> parts(n);
  rules::EngineOptions eo;
  eo.max_timers_per_batch = options.timers_per_batch;
  eo.scan_workers = std::max(options.workers, 1);
  for (int i = 0; i < n; ++i) {
    std::string pdir = n == 1 ? dir : dir + "/p" + std::to_string(i);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    // MDB_WRITEMAP as `lmdb.write_map` (see LmdbOptions), but never with
    // several workers: writing back pages mapped by a process whose threads
    // run on other cores means TLB shootdowns on each of them
    // (BENCHMARKS.md, worker threads).
    LmdbOptions lo;
    lo.writemap = options.write_map && options.workers <= 1;
    auto store = PartitionStore::Open(pdir, lo);
    if (!store.ok()) {
      err << "segd: " << store.status().ToString() << "\n";
      return 1;
    }
    parts[i].store = std::move(store).value();
    auto engine = rules::PartitionEngine::Open(&rules.value(), parts[i].store.get(), eo);
    if (!engine.ok()) {
      err << "segd: " << engine.status().ToString() << "\n";
      return 1;
    }
    parts[i].engine = std::move(engine).value();
  }
  WorkerPool pool(std::max(options.workers, 1));
  // Runs `step` for every partition on the workers, then prints their
  // output in partition order.
  auto run = [&](const std::function<Status(Part&)>& step) -> bool {
    pool.Run(parts.size(), [&](size_t i, int) { parts[i].status = step(parts[i]); });
    bool ok = true;
    for (Part& p : parts) {
      out << p.out;
      p.out.clear();
      if (ok && !p.status.ok()) {
        err << "segd: " << p.status.ToString() << "\n";
        ok = false;
      }
    }
    return ok;
  };

  // A data folder written under another rule set is carried over first.
  if (!run([](Part& p) {
        if (!p.engine->NeedsMigration()) return Status::Ok();
        std::vector<ChangeRecord> changes;
        Status s;
        p.store->MakeRoomForRewrite();
        while (true) {  // a map still too small for the carried-over state grows
          changes.clear();
          s = p.engine->BeginBatch();
          if (s.ok()) s = p.engine->Migrate(&changes);
          if (s.ok()) {
            s = p.engine->CommitBatch();
          } else {
            p.engine->AbortBatch();
          }
          if (!LmdbEnv::IsMapFull(s)) break;
          SEGD_RETURN_IF_ERROR(p.store->Grow());
        }
        if (!s.ok()) return Status(s.code(), "carrying the state over to the new rule set: " + s.message());
        for (const ChangeRecord& c : changes) p.out.append(c.ToJson()).push_back('\n');
        return Status::Ok();
      })) {
    return 1;
  }

  std::ifstream file_in;
  std::istream* in = &std::cin;
  if (options.input_path != "-") {
    file_in.open(options.input_path);
    if (!file_in) {
      err << "segd: cannot read " << options.input_path << "\n";
      return 1;
    }
    in = &file_in;
  }
  RecordDecoder decoder(options.decoder);
  Record record;
  std::string text;
  size_t number = 0;
  auto flush = [&]() -> bool {
    bool ok = run([&](Part& p) {
      if (p.used == 0) return Status::Ok();
      return RunBatch(*p.engine, *p.store, options.clock,
                      std::span<const Line>(p.batch.data(), p.used), &p.out);
    });
    for (Part& p : parts) p.used = 0;
    return ok;
  };
  while (std::getline(*in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    MessageContext ctx;
    if (options.clock == ClockMode::kWall) ctx.max_ts = WallMs() + 5 * 60 * 1000;
    if (auto why = decoder.Decode(text, ctx, &record)) {
      PrintRejection(err, number, *why);
      continue;
    }
    Part& p = parts[n == 1 ? 0 : KafkaPartitionOf(record.user_id, n)];
    if (p.used == p.batch.size()) p.batch.emplace_back();
    Line& line = p.batch[p.used++];
    line.number = number;
    std::swap(line.record, record);  // `record` takes the slot's old capacity
    if (p.used >= options.batch_records && !flush()) return 1;
  }
  if (!flush()) return 1;
  if (!run([&](Part& p) { return DrainTimers(*p.engine, *p.store, options.clock, &p.out); })) {
    return 1;
  }
  out.flush();
  return 0;
}

}  // namespace segd
