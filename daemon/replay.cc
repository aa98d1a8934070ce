#include "daemon/replay.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "common/json.h"
#include "rules/engine.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "stream/record_decoder.h"

namespace segd {

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
                const std::vector<Line>& batch, std::ostream& out) {
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
    std::string text;
    for (const ChangeRecord& c : changes) text.append(c.ToJson()).push_back('\n');
    out << text;
    return Status::Ok();
  }
}

// Timers the per-batch bound left due when the input ended: worked off
// batch by batch at the clock the input reached.
Status DrainTimers(rules::PartitionEngine& engine, PartitionStore& store, ClockMode clock,
                   std::ostream& out) {
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
  auto store = PartitionStore::Open(dir, {});
  if (!store.ok()) {
    err << "segd: " << store.status().ToString() << "\n";
    return 1;
  }
  rules::EngineOptions eo;
  eo.max_timers_per_batch = options.timers_per_batch;
  auto engine = rules::PartitionEngine::Open(&rules.value(), store->get(), eo);
  if (!engine.ok()) {
    err << "segd: " << engine.status().ToString() << "\n";
    return 1;
  }

  if ((*engine)->NeedsMigration()) {
    // The data folder was written under another rule set.
    std::vector<ChangeRecord> changes;
    Status s = (*engine)->BeginBatch();
    if (s.ok()) s = (*engine)->Migrate(&changes);
    if (s.ok()) {
      s = (*engine)->CommitBatch();
    } else {
      (*engine)->AbortBatch();
    }
    if (!s.ok()) {
      err << "segd: carrying the state over to the new rule set: " << s.ToString() << "\n";
      return 1;
    }
    for (const ChangeRecord& c : changes) out << c.ToJson() << "\n";
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
  std::vector<Line> batch;
  std::string text;
  size_t number = 0;
  auto flush = [&]() -> bool {
    Status s = RunBatch(**engine, **store, options.clock, batch, out);
    batch.clear();
    if (!s.ok()) err << "segd: " << s.ToString() << "\n";
    return s.ok();
  };
  while (std::getline(*in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    Line line{number, {}};
    MessageContext ctx;
    if (options.clock == ClockMode::kWall) ctx.max_ts = WallMs() + 5 * 60 * 1000;
    if (auto why = decoder.Decode(text, ctx, &line.record)) {
      PrintRejection(err, number, *why);
      continue;
    }
    batch.push_back(std::move(line));
    if (batch.size() >= options.batch_records && !flush()) return 1;
  }
  if (!batch.empty() && !flush()) return 1;
  if (Status s = DrainTimers(**engine, **store, options.clock, out); !s.ok()) {
    err << "segd: " << s.ToString() << "\n";
    return 1;
  }
  out.flush();
  return 0;
}

}  // namespace segd
