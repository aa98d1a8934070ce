// Helpers for integration tests against a real Kafka broker.
//
// The broker is the one named by SEGD_TEST_BROKERS (scripts/test starts one
// for the whole run), or one this process starts with scripts/kafka-local in
// a temporary folder and stops at exit. Each test makes its own topics, so
// tests share a broker without seeing each other's records.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segd::testing {

// host:port of the test broker, starting one on first use.
const std::string& TestBrokers();

// A name unique to this process and call: "<prefix>-<pid>-<n>".
std::string UniqueName(const std::string& prefix);

void CreateTopic(const std::string& name, int partitions);

struct Message {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Produces `value` with `key` (nullopt: no key) to `partition` (-1: by key).
class TestProducer {
 public:
  TestProducer();
  ~TestProducer();
  void Send(const std::string& topic, int32_t partition, const std::optional<std::string>& key,
            const std::string& value);
  void Flush();

 private:
  void* rk_;
};

// Reads `topic` from the beginning with isolation.level=read_committed until
// `expected` messages arrived or `timeout` passed, then for `settle` more to
// catch extra messages. Ordered by partition, then offset.
std::vector<Message> ReadTopic(const std::string& topic, size_t expected,
                               std::chrono::milliseconds timeout,
                               std::chrono::milliseconds settle = std::chrono::milliseconds(1500));

// A `segd` child process; killed (SIGKILL) on destruction if still running.
class SegdProcess {
 public:
  // Starts `segd args...`; stderr goes to `log_path`.
  SegdProcess(const std::vector<std::string>& args, const std::string& log_path);
  ~SegdProcess();
  // Sends `sig` and waits up to `timeout` for exit; returns the exit status
  // (or -1 on timeout).
  int Signal(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Path of the segd binary and of the source tree (from the environment
// CTest sets).
std::string SegdBinary();
std::string SourceDir();

// Writes `text` to a new file in the test's temporary folder; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& text);

}  // namespace segd::testing
