#include "daemon/config.h"

#include "common/worker_pool.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>

namespace segd {

namespace {

constexpr const char* kConsumerPrefix = "kafka.consumer.";
constexpr const char* kProducerPrefix = "kafka.producer.";

const OptionSpec kOptions[] = {
    {"rules", "string", "", "Rule file (YAML, SEMANTICS.md §3); required"},
    {"data_dir", "string", "./segd-data", "Folder of the per-partition LMDB stores"},
    {"lmdb.max_map_bytes", "bytes", "64GiB",
     "Largest LMDB map per partition; the map grows on demand up to this"},
    {"lmdb.initial_map_bytes", "bytes", "64MiB",
     "LMDB map a new partition store starts with (preallocated; doubles when full)"},
    {"lmdb.sync", "bool", "true",
     "Flush every batch commit to disk before its Kafka commit (see Durability)"},
    {"lmdb.write_map", "bool", "true",
     "With lmdb.sync: write transactions into LMDB's memory map (MDB_WRITEMAP) instead of "
     "copies written back at commit"},
    {"lmdb.sync_interval", "duration", "1s",
     "With lmdb.sync false: flush to disk at least this often (group commit); 0: leave it to the OS"},
    {"limits.max_window_days", "int", "400", "Longest relative window a rule may use, days"},
    {"clock", "string", "wall", "wall (system clock) or event (largest record ts per partition)"},
    {"changelog.enabled", "bool", "false",
     "Mirror each partition's state to a compacted changelog topic (<group_id>-<input>-changelog), "
     "in the same transactions, and restore a partition from it when its local store is not the "
     "committed one"},
    {"changelog.seed_keys", "int", "20000",
     "When the changelog is turned on over an existing store: the keys of it sent per batch (its "
     "first changelog goes a part per batch; a partition restores from it only once whole)"},
    {"standby_replicas", "int", "0",
     "Warm copies kept of each partition on other instances of the group, by tailing its "
     "changelog (needs changelog.enabled), so a failover restores only the tail"},
    {"definitions.enabled", "bool", "true",
     "Send segment and list changes made through the admin API to the compacted definitions topic "
     "(<group_id>-definitions), which every instance of the group reads and applies in order; "
     "false: they stay with the instance that took them (catalog.json)"},
    {"workers", "int", "0",
     "Threads that process the assigned partitions (each partition on one at a time) and that "
     "decode a partition's users when a rule change reads them all; 0: one per core"},
    {"kafka.brokers", "string", "127.0.0.1:9092", "Bootstrap brokers, host:port[,host:port]"},
    {"kafka.group_id", "string", "segd", "Consumer group of the input topics"},
    {"kafka.instance_id", "string", "",
     "Static group member id (group.instance.id); default: the host name"},
    {"kafka.transactional_id", "string", "",
     "Producer transactional.id; default: segd-<group_id>-<instance_id>"},
    {"topics.input", "list", "events", "Input topics (records of SEMANTICS.md §1)"},
    {"topics.output", "string", "segd-changes", "Output topic for enter/leave records"},
    {"topics.dead_letter", "string", "segd-dead-letter", "Topic for refused records"},
    {"topics.create", "bool", "true", "Create the output and dead-letter topics if missing"},
    {"topics.output_partitions", "int", "0",
     "Partitions of created topics; 0: as many as the first input topic"},
    {"batch.max_records", "int", "10000", "Records per batch (one LMDB transaction; its Kafka transaction runs beside the next batch)"},
    {"batch.max_ms", "int", "100", "Longest wait to fill a batch, milliseconds"},
    {"batch.max_timers", "int", "20000",
     "Timers fired per batch at most; a larger backlog (a midnight) spreads over batches"},
    {"backpressure.max_outbox", "int", "100000",
     "Pause a partition while it has more change records not yet delivered to Kafka"},
    {"backpressure.max_timer_backlog", "int", "1000000",
     "Pause a partition while more of its timers are due and not yet fired"},
    {"input.format", "string", "segd",
     "segd (SEMANTICS.md §1) or segment (Segment-spec calls, docs/input-formats.md)"},
    {"input.fields.user_id", "string", "user_id", "Field holding the user id"},
    {"input.fields.event", "string", "event", "Field holding the event name"},
    {"input.fields.ts", "string", "ts", "Field holding the time"},
    {"input.fields.props", "string", "props", "Field holding event properties"},
    {"input.fields.set", "string", "set", "Field holding property updates"},
    {"input.fields.unset", "string", "unset", "Field holding property removals"},
    {"limits.max_record_bytes", "int", "65536", "Largest accepted record, bytes"},
    {"limits.max_future_skew", "duration", "5m",
     "With the wall clock, records whose ts is further ahead are refused"},
    {"admin.listen", "string", "127.0.0.1:9464", "Admin HTTP address (/metrics, /healthz, /readyz)"},
    {"admin.token", "string", "",
     "Bearer token the admin API's writes need; empty: writes are refused"},
    {"log.level", "string", "info", "debug, info, warn or error"},
    {"log.format", "string", "text", "text (key=value) or json"},
};

bool IsPassThrough(const std::string& key) {
  return key.rfind(kConsumerPrefix, 0) == 0 || key.rfind(kProducerPrefix, 0) == 0;
}

const OptionSpec* FindOption(const std::string& key) {
  for (const auto& o : kOptions) {
    if (key == o.key) return &o;
  }
  return nullptr;
}

// Flattens the YAML map into dotted keys; lists become comma-joined values.
void Flatten(const YAML::Node& node, const std::string& prefix,
             std::map<std::string, std::string>* out, std::vector<std::string>* errors) {
  for (const auto& kv : node) {
    std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (v.IsMap() && !IsPassThrough(key)) {
      if (FindOption(key) != nullptr) {
        errors->push_back(key + ": expected a value, not a map");
        continue;
      }
      Flatten(v, key, out, errors);
    } else if (v.IsSequence()) {
      std::string joined;
      for (const auto& item : v) {
        if (!item.IsScalar()) {
          errors->push_back(key + ": list items must be plain values");
          break;
        }
        if (!joined.empty()) joined += ",";
        joined += item.Scalar();
      }
      (*out)[key] = joined;
    } else if (v.IsScalar()) {
      (*out)[key] = v.Scalar();
    } else if (v.IsNull()) {
      (*out)[key] = "";
    } else {
      errors->push_back(key + ": unsupported value");
    }
  }
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

class Builder {
 public:
  explicit Builder(const std::map<std::string, std::string>& values) : v_(values) {}

  std::string Str(const char* key) { return v_.at(key); }
  int64_t Int(const char* key) {
    const std::string& s = v_.at(key);
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') errors_.push_back(std::string(key) + ": not an integer: " + s);
    return n;
  }
  bool Bool(const char* key) {
    const std::string& s = v_.at(key);
    if (s == "true") return true;
    if (s != "false") errors_.push_back(std::string(key) + ": expected true or false: " + s);
    return false;
  }
  int64_t Duration(const char* key) {
    int64_t ms = 0;
    if (!ParseDurationMs(v_.at(key), &ms)) {
      errors_.push_back(std::string(key) + ": not a duration (e.g. 30s, 5m): " + v_.at(key));
    }
    return ms;
  }
  void Check(bool ok, const std::string& message) {
    if (!ok) errors_.push_back(message);
  }
  std::vector<std::string>& errors() { return errors_; }

 private:
  const std::map<std::string, std::string>& v_;
  std::vector<std::string> errors_;
};

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "segd";
  return buf;
}

Config Build(const std::map<std::string, std::string>& values, std::vector<std::string>* errors) {
  Builder b(values);
  Config c;
  c.rules = b.Str("rules");
  c.data_dir = b.Str("data_dir");
  b.Check(!c.data_dir.empty(), "data_dir: must not be empty");
  if (!ParseBytes(b.Str("lmdb.max_map_bytes"), &c.lmdb_max_map_bytes)) {
    b.Check(false, "lmdb.max_map_bytes: not a size (e.g. 64GiB): " + b.Str("lmdb.max_map_bytes"));
  }
  if (!ParseBytes(b.Str("lmdb.initial_map_bytes"), &c.lmdb_initial_map_bytes) ||
      c.lmdb_initial_map_bytes < (1u << 20)) {
    b.Check(false, "lmdb.initial_map_bytes: not a size of at least 1MiB: " +
                       b.Str("lmdb.initial_map_bytes"));
  }
  c.lmdb_sync = b.Bool("lmdb.sync");
  c.lmdb_write_map = b.Bool("lmdb.write_map");
  c.lmdb_sync_interval_ms = b.Duration("lmdb.sync_interval");
  c.max_window_days = static_cast<int>(b.Int("limits.max_window_days"));
  b.Check(c.max_window_days > 0, "limits.max_window_days: must be positive");
  std::string clock = b.Str("clock");
  b.Check(clock == "wall" || clock == "event", "clock: expected wall or event: " + clock);
  c.clock = clock == "event" ? ClockMode::kEvent : ClockMode::kWall;
  c.kafka.brokers = b.Str("kafka.brokers");
  c.group_id = b.Str("kafka.group_id");
  c.instance_id = b.Str("kafka.instance_id");
  if (c.instance_id.empty()) c.instance_id = HostName();
  c.transactional_id = b.Str("kafka.transactional_id");
  if (c.transactional_id.empty()) c.transactional_id = "segd-" + c.group_id + "-" + c.instance_id;
  c.input_topics = SplitList(b.Str("topics.input"));
  b.Check(!c.input_topics.empty(), "topics.input: at least one input topic is needed");
  c.output_topic = b.Str("topics.output");
  c.dead_letter_topic = b.Str("topics.dead_letter");
  c.create_topics = b.Bool("topics.create");
  c.output_partitions = static_cast<int>(b.Int("topics.output_partitions"));
  c.changelog = b.Bool("changelog.enabled");
  int64_t seed_keys = b.Int("changelog.seed_keys");
  b.Check(seed_keys >= 1, "changelog.seed_keys: must be positive");
  c.changelog_seed_keys = static_cast<size_t>(seed_keys);
  int64_t standbys = b.Int("standby_replicas");
  b.Check(standbys >= 0 && standbys <= 16, "standby_replicas: 0 to 16");
  b.Check(standbys == 0 || c.changelog, "standby_replicas needs changelog.enabled: true");
  c.standby_replicas = static_cast<int>(standbys);
  c.definitions = b.Bool("definitions.enabled");
  int64_t workers = b.Int("workers");
  b.Check(workers >= 0 && workers <= 1024, "workers: 0 (one per core) to 1024");
  c.workers = workers == 0 ? CoreCount() : static_cast<int>(workers);
  c.batch_max_records = static_cast<size_t>(b.Int("batch.max_records"));
  b.Check(c.batch_max_records > 0, "batch.max_records: must be positive");
  c.batch_max_ms = static_cast<int>(b.Int("batch.max_ms"));
  b.Check(c.batch_max_ms > 0, "batch.max_ms: must be positive");
  int64_t max_timers = b.Int("batch.max_timers");
  b.Check(max_timers > 0, "batch.max_timers: must be positive");
  c.batch_max_timers = static_cast<size_t>(max_timers);
  int64_t max_outbox = b.Int("backpressure.max_outbox");
  b.Check(max_outbox > 0, "backpressure.max_outbox: must be positive");
  c.max_outbox = static_cast<size_t>(max_outbox);
  int64_t max_backlog = b.Int("backpressure.max_timer_backlog");
  b.Check(max_backlog > 0, "backpressure.max_timer_backlog: must be positive");
  c.max_timer_backlog = static_cast<size_t>(max_backlog);
  std::string format = b.Str("input.format");
  b.Check(format == "segd" || format == "segment", "input.format: expected segd or segment");
  c.decoder.format = format == "segment" ? InputFormat::kSegment : InputFormat::kSegd;
  c.decoder.fields.user_id = b.Str("input.fields.user_id");
  c.decoder.fields.event = b.Str("input.fields.event");
  c.decoder.fields.ts = b.Str("input.fields.ts");
  c.decoder.fields.props = b.Str("input.fields.props");
  c.decoder.fields.set = b.Str("input.fields.set");
  c.decoder.fields.unset = b.Str("input.fields.unset");
  c.decoder.max_record_bytes = static_cast<size_t>(b.Int("limits.max_record_bytes"));
  c.max_future_skew_ms = b.Duration("limits.max_future_skew");
  c.admin_listen = b.Str("admin.listen");
  c.admin_token = b.Str("admin.token");
  c.log_level = b.Str("log.level");
  c.log_format = b.Str("log.format");
  b.Check(c.log_format == "text" || c.log_format == "json", "log.format: expected text or json");
  for (const auto& [key, value] : values) {
    if (key.rfind(kConsumerPrefix, 0) == 0) {
      c.kafka.consumer[key.substr(std::string(kConsumerPrefix).size())] = value;
    } else if (key.rfind(kProducerPrefix, 0) == 0) {
      c.kafka.producer[key.substr(std::string(kProducerPrefix).size())] = value;
    }
  }
  errors->insert(errors->end(), b.errors().begin(), b.errors().end());
  return c;
}

}  // namespace

const std::vector<OptionSpec>& ConfigOptions() {
  static const std::vector<OptionSpec> options(std::begin(kOptions), std::end(kOptions));
  return options;
}

std::string EnvName(const std::string& key) {
  std::string env = "SEGD_";
  for (char ch : key) env.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(ch)));
  return env;
}

bool ParseDurationMs(const std::string& text, int64_t* out) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return false;
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  int64_t mult = 0;
  if (unit.empty() || unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else return false;
  *out = n * mult;
  return true;
}

bool ParseBytes(const std::string& text, uint64_t* out) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return false;
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  else if (unit == "TiB") mult = 1ull << 40;
  else return false;
  *out = n * mult;
  return true;
}

Result<Config> LoadConfig(const std::string& path,
                          const std::map<std::string, std::string>& flags) {
  std::map<std::string, std::string> values;
  for (const auto& o : kOptions) values[o.key] = o.default_value;
  std::vector<std::string> errors;

  if (!path.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument("config " + path + ": " + e.what());
    }
    if (!root.IsNull() && !root.IsMap()) {
      return Status::InvalidArgument("config " + path + ": expected a map of options");
    }
    std::map<std::string, std::string> file;
    if (root.IsMap()) Flatten(root, "", &file, &errors);
    for (const auto& [key, value] : file) {
      if (FindOption(key) == nullptr && !IsPassThrough(key)) {
        errors.push_back("unknown option " + key + " (see segd run --help)");
        continue;
      }
      values[key] = value;
    }
  }
  for (const auto& o : kOptions) {
    if (const char* env = std::getenv(EnvName(o.key).c_str())) values[o.key] = env;
  }
  for (const auto& [key, value] : flags) {
    if (FindOption(key) == nullptr && !IsPassThrough(key)) {
      errors.push_back("unknown option " + key);
      continue;
    }
    values[key] = value;
  }
  Config config = Build(values, &errors);
  if (!errors.empty()) {
    std::string msg = "invalid configuration";
    if (!path.empty()) msg += " in " + path;
    for (const auto& e : errors) msg += "\n  " + e;
    return Status::InvalidArgument(msg);
  }
  return config;
}

}  // namespace segd
