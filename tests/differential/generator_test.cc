// The generator is deterministic, its rule file reads back, its histories
// reach every construct and boundary kind, and the reference's candidate
// instants are complete: visiting every 10 minutes as well changes nothing.
#include "generator.h"

#include <gtest/gtest.h>

#include "coverage.h"
#include "reference.h"
#include "rule_file.h"

namespace segd_ref {
namespace {

std::vector<std::string> Replay(const RuleSet& rules, const std::vector<std::string>& records,
                                ReferenceOptions options = {}) {
  std::string error;
  auto ref = Reference::Create(rules, &error, options);
  EXPECT_NE(ref, nullptr) << error;
  std::vector<std::string> out;
  for (const std::string& line : records) {
    for (const Change& c : ref->Feed(line).changes) out.push_back(c.ToJson());
  }
  return out;
}

TEST(GeneratorTest, SameSeedSameStreamAndRulesReadBack) {
  GeneratorConfig config;
  config.users = 20;
  config.days = 12;
  GeneratedStream a, b, c;
  std::string error;
  ASSERT_TRUE(Generate(config, &a, &error)) << error;
  ASSERT_TRUE(Generate(config, &b, &error)) << error;
  config.seed = 2;
  ASSERT_TRUE(Generate(config, &c, &error)) << error;
  EXPECT_EQ(a.records, b.records);
  EXPECT_NE(a.records, c.records);
  RuleSet read;
  ASSERT_TRUE(ParseRuleFile(WriteRuleFile(a.rules), &read, &error)) << error;
  ASSERT_EQ(read.segments.size(), a.rules.segments.size());
  for (size_t i = 0; i < read.segments.size(); ++i) {
    EXPECT_EQ(read.segments[i].id, a.rules.segments[i].id);
    EXPECT_EQ(read.segments[i].rule, a.rules.segments[i].rule);
  }
  EXPECT_EQ(read.lists, a.rules.lists);
  EXPECT_EQ(read.timezone, a.rules.timezone);
}

TEST(GeneratorTest, ReachesEveryConstructAndBoundaryKind) {
  for (uint64_t seed : {1, 2, 3}) {
    GeneratorConfig config;
    config.seed = seed;
    config.users = 60;
    GeneratedStream stream;
    std::string error;
    ASSERT_TRUE(Generate(config, &stream, &error)) << error;
    CoverageReport report;
    ASSERT_TRUE(MeasureCoverage(stream.rules, stream.records, &report, nullptr, &error)) << error;
    EXPECT_TRUE(report.AllReached()) << "seed " << seed << "\n" << report.ToText();
    EXPECT_GT(report.rejected, 0);
    EXPECT_GT(report.late, 0);
  }
}

TEST(GeneratorTest, ReachesEveryBoundaryKindInAnotherZone) {
  GeneratorConfig config;
  config.seed = 7;
  config.users = 60;
  config.timezone = "Europe/Berlin";
  config.start_date = "2026-03-16";  // DST starts on 2026-03-29, day 13
  GeneratedStream stream;
  std::string error;
  ASSERT_TRUE(Generate(config, &stream, &error)) << error;
  CoverageReport report;
  ASSERT_TRUE(MeasureCoverage(stream.rules, stream.records, &report, nullptr, &error)) << error;
  EXPECT_TRUE(report.AllReached()) << report.ToText();
}

TEST(GeneratorTest, CandidateInstantsAreComplete) {
  GeneratorConfig config;
  config.seed = 11;
  config.users = 15;
  config.days = 12;
  config.start_date = "2025-10-27";  // DST ends on 2025-11-02, day 6
  GeneratedStream stream;
  std::string error;
  ASSERT_TRUE(Generate(config, &stream, &error)) << error;
  std::vector<std::string> normal = Replay(stream.rules, stream.records);
  ReferenceOptions dense;
  dense.dense_step_ms = 10 * 60'000;
  EXPECT_EQ(normal, Replay(stream.rules, stream.records, dense));
  EXPECT_GT(normal.size(), 100u);
}

}  // namespace
}  // namespace segd_ref
