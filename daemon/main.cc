// segd's command line: run, check, replay, inspect, export, topics, --version.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include "common/log.h"
#include "daemon/admin_api.h"
#include "daemon/admin_server.h"
#include "daemon/catalog.h"
#include "daemon/config.h"
#include "daemon/inspect.h"
#include "daemon/pipeline.h"
#include "daemon/replay.h"
#include "metrics/metrics.h"
#include "rules/plan.h"
#include "rules/rule_file.h"
#include "stream/topic_admin.h"

#ifndef SEGD_VERSION
#define SEGD_VERSION "0.0.0"
#endif

namespace segd {
namespace {

std::atomic<Pipeline*> g_pipeline{nullptr};

void OnSignal(int) {
  if (Pipeline* p = g_pipeline.load()) p->Stop();
}

int RunCommand(const std::string& config_path, const std::map<std::string, std::string>& flags) {
  auto config = LoadConfig(config_path, flags);
  if (!config.ok()) {
    std::cerr << "segd: " << config.status().message() << "\n";
    return 2;
  }
  LogLevel level;
  if (ParseLogLevel(config->log_level, &level)) SetLogLevel(level);
  SetLogFormat(config->log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  if (config->rules.empty()) {
    std::cerr << "segd: no rule file (set rules: in the config or --rules)\n";
    return 2;
  }
  std::vector<RuleError> warnings;
  auto catalog = Catalog::Open(config->rules, config->data_dir, config->max_window_days, &warnings);
  for (const auto& w : warnings) {
    LogWarn("Rule file warning", {{"file", config->rules}, {"warning", w.ToString()}});
  }
  if (!catalog.ok()) {
    std::cerr << "segd: " << catalog.status().message() << "\n";
    return 2;
  }
  auto rules = (*catalog)->rules();
  Metrics metrics;
  Pipeline pipeline(*config, catalog->get(), &metrics);
  g_pipeline = &pipeline;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  AdminApi api(catalog->get(), &pipeline, &metrics, config->admin_token);
  AdminServer admin([&api](const HttpRequest& r) { return api.Handle(r); });
  Status s = admin.Start(config->admin_listen);
  if (!s.ok()) {
    LogError("Admin server failed", {{"error", s.ToString()}});
    return 1;
  }
  LogInfo("Starting", {{"version", SEGD_VERSION},
                       {"brokers", config->kafka.brokers},
                       {"group", config->group_id},
                       {"instance", config->instance_id},
                       {"segments", rules->segments().size()},
                       {"admin", admin.address()}});
  s = pipeline.Start();
  if (s.ok()) s = pipeline.Run();
  g_pipeline = nullptr;
  admin.Stop();
  if (!s.ok()) {
    LogError("Stopped on error", {{"error", s.ToString()}});
    return 1;
  }
  LogInfo("Stopped");
  return 0;
}

// Validates a rule file: prints the plan, or every error with its line and
// column (exit 1). Warnings (e.g. a list that does not exist yet) are printed
// either way.
int CheckCommand(const std::string& path, int max_window_days) {
  std::vector<RuleError> warnings;
  auto rules = LoadRuleSet(path, max_window_days, &warnings);
  for (const auto& w : warnings) std::cerr << path << ":" << w.ToString() << " (warning)\n";
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return 1;
  }
  std::cout << "ok: " << rules->segments().size() << " segments\n" << rules->Describe();
  return 0;
}

int TopicsCreateCommand(const std::string& brokers, int partitions,
                        const std::vector<std::string>& configs,
                        const std::vector<std::string>& names) {
  KafkaSettings kafka;
  kafka.brokers = brokers;
  std::map<std::string, std::string> cfg;
  for (const auto& kv : configs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      std::cerr << "segd: --config expects key=value: " << kv << "\n";
      return 2;
    }
    cfg[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<TopicSpec> specs;
  for (const auto& n : names) specs.push_back({n, partitions, -1, cfg});
  Status s = CreateTopics(kafka, specs, 30000);
  if (!s.ok()) {
    std::cerr << "segd: " << s.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace segd

int main(int argc, char** argv) {
  using namespace segd;
  CLI::App app{"segd: streaming real-time user segmentation"};
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print the version");

  CLI::App* run = app.add_subcommand("run", "Run the daemon: Kafka in, enter/leave records out");
  std::string config_path;
  run->add_option("--config", config_path, "Configuration file (YAML)");
  std::map<std::string, std::string> flags;
  std::vector<std::string> flag_values(ConfigOptions().size());
  for (size_t i = 0; i < ConfigOptions().size(); ++i) {
    const OptionSpec& o = ConfigOptions()[i];
    std::string help = std::string(o.help) + " [env " + EnvName(o.key) + "]";
    run->add_option(std::string("--") + o.key, flag_values[i], help)
        ->default_str(o.default_value)
        ->type_name(o.type);
  }

  CLI::App* check = app.add_subcommand("check", "Validate a rule file and print its plan");
  std::string rules_path;
  int max_window_days = 400;
  check->add_option("RULES", rules_path, "Rule file")->required();
  check->add_option("--max-window-days", max_window_days, "Longest relative window allowed")
      ->capture_default_str();

  CLI::App* replay = app.add_subcommand(
      "replay", "Run records through the engine without Kafka: JSON lines in, changes out");
  ReplayOptions ro;
  std::string replay_clock = "event";
  replay->add_option("--rules", ro.rules_path, "Rule file")->required();
  replay->add_option("--input", ro.input_path, "Records, one JSON object per line; - for stdin")
      ->capture_default_str();
  replay->add_option("--clock", replay_clock, "event (default) or wall")
      ->check(CLI::IsMember({"event", "wall"}))
      ->capture_default_str();
  std::string replay_format = "segd";
  replay->add_option("--input-format", replay_format,
                     "segd (SEMANTICS.md §1) or segment (Segment spec, docs/input-formats.md)")
      ->check(CLI::IsMember({"segd", "segment"}))
      ->capture_default_str();
  replay->add_option("--data", ro.data_dir,
                     "Data folder to keep the state in (default: a temporary one)");
  replay->add_option("--batch", ro.batch_records, "Records per LMDB transaction")
      ->capture_default_str();
  replay->add_option("--timers-per-batch", ro.timers_per_batch,
                     "Timers fired per batch at most; the rest wait for the next batch "
                     "(default: no bound)");
  replay->add_option("--partitions", ro.partitions,
                     "Split the stream by user id into N partitions (as Kafka's clients "
                     "partition keys), each with its own state and clock")
      ->check(CLI::Range(1, 1024));
  replay->add_option("--workers", ro.workers, "Threads running the partitions")
      ->check(CLI::Range(1, 1024));
  bool no_write_map = false;
  replay->add_flag("--no-write-map", no_write_map,
                   "Open the stores without MDB_WRITEMAP (lmdb.write_map: false in segd run); "
                   "with several workers they never use it");
  replay->add_option("--max-window-days", ro.max_window_days, "Longest relative window allowed")
      ->capture_default_str();

  CLI::App* inspect = app.add_subcommand(
      "inspect", "Look at kept state, read-only (safe while segd runs on the folder)");
  CLI::App* inspect_user = inspect->add_subcommand(
      "user", "A user's properties, counters, funnels, timer and segments, or why they are in or "
              "out of a segment");
  inspect->require_subcommand(1);
  InspectOptions io;
  inspect_user->add_option("USER", io.user, "User id")->required();
  inspect_user->add_option("--data", io.data_dir,
                           "A partition store folder, or a data_dir of <topic>-<partition> folders")
      ->required();
  inspect_user->add_option("--rules", io.rules_path,
                           "Read the state with this rule file and the data_dir's catalog.json "
                           "(the admin API's segments and uploaded lists; default: the rule set "
                           "stored with the state, which has no lists)");
  inspect_user->add_option("--explain", io.explain,
                           "Explain this segment: every term's value and verdict, and the next "
                           "change by time");
  inspect_user->add_flag("--json", io.json, "One JSON object per partition holding the user");
  inspect_user->add_option("--max-window-days", io.max_window_days,
                           "Longest relative window allowed (with --rules)")
      ->capture_default_str();

  CLI::App* export_cmd = app.add_subcommand(
      "export", "Write a segment's members, read-only (safe while segd runs on the folder)");
  ExportOptions eo;
  export_cmd->add_option("SEGMENT", eo.segment, "Segment id")->required();
  export_cmd->add_option("--data", eo.data_dir,
                         "A partition store folder, or a data_dir of <topic>-<partition> folders")
      ->required();
  export_cmd->add_option("--format", eo.format, "csv (header user_id) or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();

  CLI::App* topics = app.add_subcommand("topics", "Manage Kafka topics");
  CLI::App* create = topics->add_subcommand("create", "Create topics (existing ones are kept)");
  std::string brokers = "127.0.0.1:9092";
  int partitions = 1;
  std::vector<std::string> topic_configs, topic_names;
  create->add_option("--brokers", brokers, "Bootstrap brokers")->capture_default_str();
  create->add_option("--partitions", partitions, "Partitions per topic")->capture_default_str();
  create->add_option("--config", topic_configs, "Topic setting key=value (repeatable)");
  create->add_option("NAME", topic_names, "Topic names")->required();
  topics->require_subcommand(1);

  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "segd " << SEGD_VERSION << "\n";
    return 0;
  }
  if (*run) {
    for (size_t i = 0; i < ConfigOptions().size(); ++i) {
      const OptionSpec& o = ConfigOptions()[i];
      if (run->count(std::string("--") + o.key) > 0) flags[o.key] = flag_values[i];
    }
    return RunCommand(config_path, flags);
  }
  if (*check) return CheckCommand(rules_path, max_window_days);
  if (*replay) {
    ro.clock = replay_clock == "wall" ? ClockMode::kWall : ClockMode::kEvent;
    ro.write_map = !no_write_map;
    ro.decoder.format = replay_format == "segment" ? InputFormat::kSegment : InputFormat::kSegd;
    return RunReplay(ro, std::cout, std::cerr);
  }
  if (*inspect_user) return RunInspectUser(io, std::cout, std::cerr);
  if (*export_cmd) return RunExport(eo, std::cout, std::cerr);
  if (*create) return TopicsCreateCommand(brokers, partitions, topic_configs, topic_names);
  std::cout << app.help();
  return 2;
}
