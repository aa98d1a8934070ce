#include "daemon/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace segd {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("segd-config-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override {
    std::filesystem::remove(path_);
    unsetenv("SEGD_KAFKA_BROKERS");
  }
  std::filesystem::path path_;
};

TEST_F(ConfigTest, DefaultsWithoutAFile) {
  auto c = LoadConfig("", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(c->clock, ClockMode::kWall);
  EXPECT_EQ(c->input_topics, std::vector<std::string>{"events"});
  EXPECT_EQ(c->max_future_skew_ms, 5 * 60 * 1000);
  EXPECT_EQ(c->transactional_id, "segd-segd-" + c->instance_id);
  EXPECT_TRUE(c->lmdb_sync);
  EXPECT_TRUE(c->lmdb_write_map);
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlags) {
  std::string path = Write(R"(kafka:
  brokers: file:1
  group_id: g
  consumer:
    fetch.max.bytes: 1000
topics:
  input: [a, b]
clock: event
lmdb:
  write_map: false
)");
  setenv("SEGD_KAFKA_BROKERS", "env:2", 1);
  auto c = LoadConfig(path, {{"clock", "wall"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kafka.brokers, "env:2");
  EXPECT_EQ(c->group_id, "g");
  EXPECT_EQ(c->kafka.consumer.at("fetch.max.bytes"), "1000");
  EXPECT_EQ(c->input_topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c->clock, ClockMode::kWall);
  EXPECT_FALSE(c->lmdb_write_map);
}

TEST_F(ConfigTest, EveryProblemIsReportedWithItsPath) {
  std::string path = Write(R"(kafka:
  brokerz: x
batch:
  max_records: many
clock: sundial
)");
  auto c = LoadConfig(path, {});
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("unknown option kafka.brokerz"), std::string::npos) << m;
  EXPECT_NE(m.find("batch.max_records: not an integer"), std::string::npos) << m;
  EXPECT_NE(m.find("clock: expected wall or event"), std::string::npos) << m;
}

TEST_F(ConfigTest, Durations) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseDurationMs("250ms", &ms));
  EXPECT_EQ(ms, 250);
  EXPECT_TRUE(ParseDurationMs("2h", &ms));
  EXPECT_EQ(ms, 7'200'000);
  EXPECT_TRUE(ParseDurationMs("15", &ms));
  EXPECT_EQ(ms, 15);
  EXPECT_FALSE(ParseDurationMs("5 min", &ms));
  EXPECT_FALSE(ParseDurationMs("", &ms));
}

TEST_F(ConfigTest, EnvNames) {
  EXPECT_EQ(EnvName("topics.dead_letter"), "SEGD_TOPICS_DEAD_LETTER");
}

TEST_F(ConfigTest, InputFormat) {
  auto c = LoadConfig("", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->decoder.format, InputFormat::kSegd);
  std::string path = Write("input:\n  format: segment\n");
  c = LoadConfig(path, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->decoder.format, InputFormat::kSegment);
  setenv("SEGD_INPUT_FORMAT", "segd", 1);
  c = LoadConfig(path, {});
  unsetenv("SEGD_INPUT_FORMAT");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->decoder.format, InputFormat::kSegd);
  c = LoadConfig(path, {{"input.format", "rudderstack"}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("input.format: expected segd or segment"),
            std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace segd

namespace segd {
namespace {

// The README's configuration table is the user's reference: every option
// must be in it.
TEST(ConfigDocsTest, ReadmeListsEveryOption) {
  const char* src = std::getenv("SEGD_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(std::string(src) + "/README.md");
  std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(readme.empty());
  for (const auto& o : ConfigOptions()) {
    EXPECT_NE(readme.find(std::string("| `") + o.key + "` |"), std::string::npos)
        << o.key << " is missing from README.md";
  }
}

}  // namespace
}  // namespace segd
