// segd's configuration: one table of options (name, type, default, help),
// read from a YAML file, then SEGD_* environment variables, then flags.
//
// The file is validated as a whole: an unknown key is an error naming its
// path. `kafka.consumer.*` and `kafka.producer.*` pass to librdkafka as they
// are. Exceptions are not used; errors come back as a Status listing every
// problem found.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "stream/kafka_config.h"
#include "stream/record_decoder.h"

namespace segd {

enum class ClockMode { kWall, kEvent };

struct Config {
  std::string rules;
  std::string data_dir;
  uint64_t lmdb_max_map_bytes = 0;
  uint64_t lmdb_initial_map_bytes = 0;
  bool lmdb_sync = true;
  bool lmdb_write_map = true;  // MDB_WRITEMAP (with lmdb_sync only)
  int64_t lmdb_sync_interval_ms = 0;  // with lmdb_sync off; 0: the OS decides
  int max_window_days = 400;
  ClockMode clock = ClockMode::kWall;
  int workers = 1;  // threads processing partitions (resolved: 0 in the file is the core count)
  bool changelog = false;  // mirror partition state to changelog topics
  size_t changelog_seed_keys = 20000;  // keys per batch of a store's first changelog
  int standby_replicas = 0;  // warm copies of each partition on other instances
  bool definitions = true;  // API changes travel on the definitions topic
  KafkaSettings kafka;
  std::string group_id;
  std::string instance_id;
  std::string transactional_id;
  std::vector<std::string> input_topics;
  std::string output_topic;
  std::string dead_letter_topic;
  bool create_topics = true;
  int output_partitions = 0;  // 0: as many as the first input topic
  size_t batch_max_records = 0;
  int batch_max_ms = 0;
  size_t batch_max_timers = 0;
  size_t max_outbox = 0;         // backpressure bounds, per partition
  size_t max_timer_backlog = 0;
  DecoderOptions decoder;
  int64_t max_future_skew_ms = 0;
  std::string admin_listen;
  std::string admin_token;
  std::string log_level;
  std::string log_format;
};

struct OptionSpec {
  const char* key;      // dotted path in the YAML file; flag --<key>
  const char* type;     // string, int, bool, duration, list
  const char* default_value;
  const char* help;
};

// Every option, in the order `segd run --help` and the README list them.
const std::vector<OptionSpec>& ConfigOptions();

// The environment variable for `key`: SEGD_ + upper case, '.' → '_'.
std::string EnvName(const std::string& key);

// Builds the configuration: defaults, then the YAML file at `path` (may be
// empty: no file), then SEGD_* variables, then `flags` (key → value, from
// the command line). Lists are comma-separated outside YAML.
Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& flags);

// Parses "250ms", "30s", "5m", "2h", "1d" or plain milliseconds.
bool ParseDurationMs(const std::string& text, int64_t* out);

// Parses "512MiB", "64GiB", "1TiB", "4096" (bytes) and the like.
bool ParseBytes(const std::string& text, uint64_t* out);

// The changelog topic of input topic `input` (changelog.enabled): one
// partition per input partition, compacted.
inline std::string ChangelogTopic(const Config& config, const std::string& input) {
  return config.group_id + "-" + input + "-changelog";
}

// The definitions topic (definitions.enabled): one compacted partition of
// the API's segment and list changes, read by every instance of the group.
inline std::string DefinitionsTopic(const Config& config) {
  return config.group_id + "-definitions";
}

}  // namespace segd
