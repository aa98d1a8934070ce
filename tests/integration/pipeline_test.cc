// Kafka → segd → Kafka on a real broker: the output and dead-letter topics
// hold exactly what the records call for.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "kafka_fixture.h"

namespace segd::testing {
namespace {

using std::chrono::seconds;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_ = UniqueName("in");
    out_ = UniqueName("out");
    dlq_ = UniqueName("dlq");
    CreateTopic(in_, 2);
    rules_ = WriteTempFile(UniqueName("rules") + ".yaml", R"(timezone: UTC
segments:
  - id: visited
    rule: did(visit)
  - id: bought
    rule: did(purchase)
)");
    group_ = UniqueName("group");
    data_dir_ = WriteTempFile(UniqueName("data") + ".unused", "") + ".d";
  }

  std::string Config(const std::string& instance) {
    return WriteTempFile(UniqueName("config") + ".yaml",
                         "rules: " + rules_ + "\ndata_dir: " + data_dir_ +
                             "\nclock: event\nkafka:\n  brokers: " +
                             TestBrokers() + "\n  group_id: " + group_ +
                             "\n  instance_id: " + instance + "\ntopics:\n  input: [" + in_ +
                             "]\n  output: " + out_ + "\n  dead_letter: " + dlq_ +
                             "\nbatch:\n  max_ms: 50\nadmin:\n  listen: 127.0.0.1:0\n");
  }

  // Output values by key, in the order they were committed.
  std::map<std::string, std::vector<std::string>> ByKey(const std::vector<Message>& ms) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& m : ms) out[m.key.value_or("<none>")].push_back(m.value);
    return out;
  }

  std::string in_, out_, dlq_, rules_, group_, data_dir_;
};

std::string Enter(const std::string& seg, const std::string& user, int64_t at) {
  return R"({"id":")" + seg + ":1:1:" + user + R"(","user_id":")" + user + R"(","segment":")" +
         seg + R"(","change":"enter","at":)" + std::to_string(at) + R"(,"cause":"event"})";
}

TEST_F(PipelineTest, ChangesAndDeadLettersAreExactlyWhatTheRecordsCallFor) {
  TestProducer producer;
  // Partition 0: clock 1000, 2000; refused records leave it alone; a late
  // purchase enters at the partition's now (2000), not at its own ts.
  producer.Send(in_, 0, "u1", R"({"user_id":"u1","event":"visit","ts":1000})");
  producer.Send(in_, 0, "u1", R"({"user_id":"u1","event":"visit","ts":2000})");
  producer.Send(in_, 0, "u1", "not json");
  producer.Send(in_, 0, "zz", R"({"user_id":"u1","event":"purchase","ts":2500})");
  producer.Send(in_, 0, std::nullopt, R"({"user_id":"u4","event":"visit","ts":3000})");
  producer.Send(in_, 0, "u4", R"({"user_id":"u4","event":"purchase","ts":1500})");
  // Partition 1 has its own clock.
  producer.Send(in_, 1, "u2", R"({"user_id":"u2","set":{"age":30},"ts":5000})");
  producer.Send(in_, 1, "u2", R"({"user_id":"u2","event":"purchase","ts":4000,"props":{"amount":3}})");
  producer.Send(in_, 1, "42", R"({"user_id":42,"event":"visit","ts":"1970-01-01T00:00:06Z"})");
  producer.Send(in_, 1, "u5", R"({"user_id":"u5","event":"visit","ts":1.5})");
  producer.Flush();

  SegdProcess segd({"run", "--config", Config("a")}, WriteTempFile("segd-a.log", ""));
  std::vector<Message> out = ReadTopic(out_, 4, seconds(60));
  std::vector<Message> dlq = ReadTopic(dlq_, 4, seconds(30));
  EXPECT_EQ(segd.Signal(SIGTERM), 0) << "segd did not stop cleanly on SIGTERM";

  std::map<std::string, std::vector<std::string>> expected = {
      {"u1", {Enter("visited", "u1", 1000)}},
      {"u4", {Enter("bought", "u4", 2000)}},
      {"u2", {Enter("bought", "u2", 5000)}},
      {"42", {Enter("visited", "42", 6000)}},
  };
  EXPECT_EQ(ByKey(out), expected);

  struct Dead {
    std::string partition, offset, reason, value;
  };
  std::vector<Dead> want = {
      {"0", "2", "invalid_json", "not json"},
      {"0", "3", "key_mismatch", R"({"user_id":"u1","event":"purchase","ts":2500})"},
      {"0", "4", "missing_key", R"({"user_id":"u4","event":"visit","ts":3000})"},
      {"1", "3", "invalid_ts", R"({"user_id":"u5","event":"visit","ts":1.5})"},
  };
  ASSERT_EQ(dlq.size(), want.size());
  std::sort(dlq.begin(), dlq.end(), [](const Message& a, const Message& b) {
    return std::make_pair(a.headers.at("segd.source.partition"), a.headers.at("segd.source.offset")) <
           std::make_pair(b.headers.at("segd.source.partition"), b.headers.at("segd.source.offset"));
  });
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(dlq[i].value, want[i].value);
    EXPECT_EQ(dlq[i].headers.at("segd.source.topic"), in_);
    EXPECT_EQ(dlq[i].headers.at("segd.source.partition"), want[i].partition);
    EXPECT_EQ(dlq[i].headers.at("segd.source.offset"), want[i].offset);
    EXPECT_EQ(dlq[i].headers.at("segd.reason"), want[i].reason);
    EXPECT_FALSE(dlq[i].headers.at("segd.detail").empty());
  }
  // The original key goes with the dead letter, and no key stays no key.
  EXPECT_EQ(dlq[0].key, std::optional<std::string>("u1"));
  EXPECT_EQ(dlq[1].key, std::optional<std::string>("zz"));
  EXPECT_EQ(dlq[2].key, std::nullopt);
}

// Offsets are committed with the output and the state is kept in LMDB: a
// restarted segd goes on after the last committed record, and remembers who
// is already in a segment.
TEST_F(PipelineTest, RestartResumesAfterTheCommittedOffsets) {
  TestProducer producer;
  producer.Send(in_, 0, "u1", R"({"user_id":"u1","event":"visit","ts":1000})");
  producer.Flush();
  {
    SegdProcess segd({"run", "--config", Config("b")}, WriteTempFile("segd-b1.log", ""));
    ASSERT_EQ(ReadTopic(out_, 1, seconds(60), std::chrono::milliseconds(0)).size(), 1u);
    ASSERT_EQ(segd.Signal(SIGTERM), 0);
  }
  producer.Send(in_, 1, "u6", R"({"user_id":"u6","event":"purchase","ts":7000})");
  producer.Send(in_, 0, "u1", R"({"user_id":"u1","event":"visit","ts":8000})");
  producer.Flush();
  SegdProcess segd({"run", "--config", Config("b")}, WriteTempFile("segd-b2.log", ""));
  std::vector<Message> out = ReadTopic(out_, 2, seconds(60));
  EXPECT_EQ(segd.Signal(SIGTERM), 0);
  std::map<std::string, std::vector<std::string>> expected = {
      {"u1", {Enter("visited", "u1", 1000)}},
      {"u6", {Enter("bought", "u6", 7000)}},
  };
  EXPECT_EQ(ByKey(out), expected);
}

}  // namespace
}  // namespace segd::testing
