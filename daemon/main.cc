// segd's command line: run, check, topics, --version.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include "common/log.h"
#include "daemon/admin_server.h"
#include "daemon/config.h"
#include "daemon/pipeline.h"
#include "metrics/metrics.h"
#include "rules/did_skeleton.h"
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

Result<DidRuleSet> LoadRules(const std::string& path) {
  std::vector<RuleError> errors;
  auto file = LoadRuleFile(path, &errors);
  if (file.ok()) {
    auto rules = DidRuleSet::Compile(*file, &errors);
    if (rules.ok()) return rules;
  }
  if (errors.empty()) return file.status();
  std::string msg = "rule file " + path + " refused:";
  for (const auto& e : errors) msg += "\n  " + path + ":" + e.ToString();
  return Status::InvalidArgument(msg);
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
  auto rules = LoadRules(config->rules);
  if (!rules.ok()) {
    std::cerr << "segd: " << rules.status().message() << "\n";
    return 2;
  }
  Metrics metrics;
  Pipeline pipeline(*config, &rules.value(), &metrics);
  g_pipeline = &pipeline;
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  AdminServer admin(&metrics, [&pipeline] { return pipeline.ready(); });
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

int CheckCommand(const std::string& path) {
  auto rules = LoadRules(path);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return 1;
  }
  std::cout << "ok: " << rules->segments().size() << " segments\n";
  for (const auto& s : rules->segments()) {
    std::cout << "  " << s.id << ": enters on event " << s.event << "\n";
  }
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
  check->add_option("RULES", rules_path, "Rule file")->required();

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
  if (*check) return CheckCommand(rules_path);
  if (*create) return TopicsCreateCommand(brokers, partitions, topic_configs, topic_names);
  std::cout << app.help();
  return 2;
}
