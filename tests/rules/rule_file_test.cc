#include "rules/rule_file.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

TEST(RuleFileTest, ReadsEveryKeyAndKeepsScalarsAsWritten) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile(R"(timezone: Asia/Shanghai
lists:
  offline_x: [u1, u7, 0123]
segments:
  - id: 2024
    name: Lapsing actives
    rule: did(visit)
    emit_initial: true
  - id: b
    rule: did(x)
)",
                            &errors);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->timezone, "Asia/Shanghai");
  EXPECT_EQ(file->lists.at("offline_x"), (std::vector<std::string>{"u1", "u7", "0123"}));
  ASSERT_EQ(file->segments.size(), 2u);
  EXPECT_EQ(file->segments[0].id, "2024");
  EXPECT_EQ(file->segments[0].name, "Lapsing actives");
  EXPECT_TRUE(file->segments[0].emit_initial);
  EXPECT_EQ(file->segments[0].rule_pos.line, 7);
  EXPECT_EQ(file->segments[0].rule_pos.column, 11);
  EXPECT_EQ(file->segments[1].name, "b");
  EXPECT_FALSE(file->segments[1].emit_initial);
}

TEST(RuleFileTest, UnknownKeyIsAnErrorWithItsPosition) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile("timezone: UTC\nsegmnts: []\n", &errors);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pos.line, 2);
  EXPECT_EQ(errors[0].pos.column, 1);
  EXPECT_NE(errors[0].reason.find("segmnts"), std::string::npos);
}

TEST(RuleFileTest, DuplicateAndInvalidIdsAreRefused) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile(R"(segments:
  - {id: a, rule: did(x)}
  - {id: a, rule: did(y)}
  - {id: "a:b", rule: did(z)}
)",
                            &errors);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].pos.line, 3);
  EXPECT_NE(errors[0].reason.find("duplicate segment id"), std::string::npos);
  EXPECT_NE(errors[1].reason.find("must match"), std::string::npos);
}

TEST(RuleFileTest, BadYamlGivesLineAndColumn) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile("segments:\n  - id: [a\n", &errors);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_GE(errors[0].pos.line, 2);
}

TEST(RuleFileTest, SegmentIdPattern) {
  EXPECT_TRUE(IsValidSegmentId("lapsing_active-2"));
  EXPECT_TRUE(IsValidSegmentId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidSegmentId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidSegmentId(""));
  EXPECT_FALSE(IsValidSegmentId("a b"));
}

}  // namespace
}  // namespace segd
