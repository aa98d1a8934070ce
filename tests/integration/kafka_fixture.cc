#include "kafka_fixture.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "stream/topic_admin.h"

namespace segd::testing {

namespace {

std::string RunCapture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) throw std::runtime_error(cmd + " failed:\n" + out);
  return out;
}

// A fresh folder per test process. Named by pid alone, a folder left by an
// earlier run with a recycled pid held data folders for topics of the same
// names, and segd resumed from their stale stores.
std::string TempRoot() {
  static std::string root = [] {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("segd-it-" + std::to_string(getpid()) + "-XXXXXX"))
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    return tmpl;
  }();
  return root;
}

// Starts a broker for this process when none was given; stops it at exit.
struct OwnBroker {
  std::string dir;
  std::string address;
  OwnBroker() {
    dir = TempRoot() + "/broker";
    std::string out = RunCapture(SourceDir() + "/scripts/kafka-local start " + dir + " 2>&1");
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    address = out.substr(out.rfind('\n') + 1);
  }
  ~OwnBroker() {
    std::string cmd = SourceDir() + "/scripts/kafka-local stop " + dir + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "broker stop failed\n");
    std::filesystem::remove_all(TempRoot());
  }
};

}  // namespace

std::string SourceDir() {
  const char* d = std::getenv("SEGD_SOURCE_DIR");
  return d ? d : SEGD_SOURCE_DIR_DEFAULT;
}

std::string SegdBinary() {
  const char* d = std::getenv("SEGD_BINARY_DIR");
  return std::string(d ? d : SEGD_BINARY_DIR_DEFAULT) + "/daemon/segd";
}

const std::string& TestBrokers() {
  static std::string brokers = [] {
    if (const char* b = std::getenv("SEGD_TEST_BROKERS"); b && *b) return std::string(b);
    static OwnBroker broker;
    return broker.address;
  }();
  return brokers;
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

void CreateTopic(const std::string& name, int partitions) {
  KafkaSettings k;
  k.brokers = TestBrokers();
  Status s = CreateTopics(k, {{name, partitions, -1, {}}}, 30000);
  if (!s.ok()) throw std::runtime_error("create topic " + name + ": " + s.ToString());
}

TestProducer::TestProducer() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", TestBrokers().c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk_ == nullptr) throw std::runtime_error(err);
}

TestProducer::~TestProducer() {
  Flush();
  rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
}

void TestProducer::Send(const std::string& topic, int32_t partition,
                        const std::optional<std::string>& key, const std::string& value) {
  auto* rk = static_cast<rd_kafka_t*>(rk_);
  const void* key_data = key ? key->data() : nullptr;
  size_t key_size = key ? key->size() : 0;
  rd_kafka_resp_err_t e;
  do {
    e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_KEY(key_data, key_size),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(rk, 100);
  } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
  if (e) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(e));
  rd_kafka_poll(rk, 0);
}

void TestProducer::Flush() {
  if (rd_kafka_flush(static_cast<rd_kafka_t*>(rk_), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("test producer flush timed out");
  }
}

std::vector<Message> ReadTopic(const std::string& topic, size_t expected,
                               std::chrono::milliseconds timeout,
                               std::chrono::milliseconds settle) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", TestBrokers().c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", UniqueName("reader").c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) throw std::runtime_error(err);
  rd_kafka_poll_set_consumer(rk);

  // segd may not have created the topic yet: wait for it.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int partitions = 0;
  while (partitions == 0) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        partitions = md->topics[0].partition_cnt;
      }
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    if (partitions > 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("topic " + topic + " does not exist");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);

  std::vector<Message> out;
  std::optional<std::chrono::steady_clock::time_point> settle_until;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (!settle_until && (out.size() >= expected || now >= deadline)) settle_until = now + settle;
    if (settle_until && now >= *settle_until) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Message msg;
      msg.partition = m->partition;
      msg.offset = m->offset;
      if (m->key) msg.key = std::string(static_cast<const char*>(m->key), m->key_len);
      msg.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; ++i) {
          msg.headers[name] = std::string(static_cast<const char*>(val), size);
        }
      }
      out.push_back(std::move(msg));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::sort(out.begin(), out.end(), [](const Message& a, const Message& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return out;
}

SegdProcess::SegdProcess(const std::vector<std::string>& args, const std::string& log_path) {
  std::string bin = SegdBinary();
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path.c_str(), "w");
    if (log != nullptr) {
      dup2(fileno(log), STDERR_FILENO);
      dup2(fileno(log), STDOUT_FILENO);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
}

SegdProcess::~SegdProcess() {
  if (Running()) Signal(SIGKILL, std::chrono::seconds(10));
}

bool SegdProcess::Running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int SegdProcess::Signal(int sig, std::chrono::milliseconds timeout) {
  if (!Running()) return status_;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string WriteTempFile(const std::string& name, const std::string& text) {
  std::string path = TempRoot() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace segd::testing
