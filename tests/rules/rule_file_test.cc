#include "rules/rule_file.h"

#include <gtest/gtest.h>

#include "rules/parser.h"

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

TEST(RuleFileTest, TimezonePosition) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile("segments: []\ntimezone:   Asia/Shanghai\n", &errors);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->timezone_pos.line, 2);
  EXPECT_EQ(file->timezone_pos.column, 13);
}

// Where `marker` (unique) starts in `yaml`.
SourcePos FindInFile(std::string_view yaml, std::string_view marker) {
  size_t at = yaml.find(marker);
  EXPECT_NE(at, std::string_view::npos) << marker;
  EXPECT_EQ(yaml.find(marker, at + 1), std::string_view::npos) << marker << " is not unique";
  size_t line_start = yaml.rfind('\n', at);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += yaml[i] == '\n';
  return {line, static_cast<int>(at - line_start) + 1};
}

// Parses the rule of the last segment of `yaml`, which must fail at the
// token `marker`, and returns where MapRulePos puts that error.
SourcePos MappedError(const std::string& yaml) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile(yaml, &errors);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return {};
  const SegmentDef& def = file->segments.back();
  std::vector<rules::Diagnostic> diags;
  EXPECT_FALSE(rules::ParseRule(def.rule, &diags).ok()) << def.rule;
  if (diags.empty()) return {};
  return MapRulePos(def, diags[0].pos);
}

struct MapCase {
  const char* name;
  const char* yaml;
};

TEST(RuleFileTest, RulePositionsMapToTheFile) {
  // Every rule fails at the unknown function cont(, which appears once.
  const MapCase cases[] = {
      {"plain", "segments:\n  - id: a\n    rule: did(a) and cont(x) > 1\n"},
      {"plain with comment", "segments:\n  - id: a\n    rule: did(a) and cont(x) > 1  # c\n"},
      {"double-quoted", "segments:\n  - id: a\n    rule: \"did(a) and cont(x) > 1\"\n"},
      {"single-quoted", "segments:\n  - id: a\n    rule: 'did(a) and cont(x) > 1'\n"},
      {"flow map", "segments:\n  - {id: a, rule: did(b)}\n  - {id: b, rule: did(a) or cont(x)}\n"},
      {"literal block",
       "segments:\n  - id: a\n    rule: |\n      did(a)\n        and cont(x) > 1\n"},
      {"literal block, blank lines",
       "segments:\n  - id: a\n    rule: |-\n\n      did(a)\n\n      and cont(x) > 1\n    name: "
       "n\n"},
      {"folded block",
       "segments:\n  - id: a\n    rule: >\n      did(a) and\n      did(b) and cont(x) > 1\n"},
      {"folded block, blank line",
       "segments:\n  - id: a\n    rule: >\n      did(a) and\n\n      did(b) and cont(x) > 1\n"},
      {"plain on two lines",
       "segments:\n  - id: a\n    rule: did(a) and\n      did(b) and cont(x) > 1\n"},
      {"double-quoted on two lines",
       "segments:\n  - id: a\n    rule: \"did(a) and\n      did(b) and cont(x) > 1\"\n"},
      {"after other segments",
       "segments:\n  - id: a\n    rule: did(x)\n  - id: b\n    rule: |\n      cont(x) > 1\n"},
  };
  for (const MapCase& c : cases) {
    SourcePos got = MappedError(c.yaml);
    SourcePos want = FindInFile(c.yaml, "cont(");
    EXPECT_EQ(got.line, want.line) << c.name;
    EXPECT_EQ(got.column, want.column) << c.name;
  }
}

TEST(RuleFileTest, RulePositionsAfterAnEscapeAreApproximate) {
  std::string yaml = "segments:\n  - id: a\n    rule: \"user.a = \\\"x\\\" and cont(x) > 1\"\n";
  SourcePos got = MappedError(yaml);
  SourcePos want = FindInFile(yaml, "cont(");
  EXPECT_EQ(got.line, want.line);
  EXPECT_NEAR(got.column, want.column, 2);
}

TEST(RuleFileTest, RulePositionWithoutPiecesStartsAtTheRule) {
  SegmentDef def;
  def.rule = "did(a)\nand x";
  def.rule_pos = {7, 11};
  SourcePos first = MapRulePos(def, {1, 5});
  EXPECT_EQ(first.line, 7);
  EXPECT_EQ(first.column, 15);
  SourcePos second = MapRulePos(def, {2, 5});
  EXPECT_EQ(second.line, 8);
}

TEST(RuleFileTest, DuplicateKeysAreRefusedWhereTheyRepeat) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile(R"(timezone: UTC
lists:
  l: [a]
  l: [b]
segments:
  - {id: a, rule: did(x), rule: did(y)}
timezone: Asia/Shanghai
)",
                            &errors);
  ASSERT_FALSE(file.ok());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].pos.line, 4);
  EXPECT_NE(errors[0].reason.find("duplicate key \"l\""), std::string::npos);
  EXPECT_EQ(errors[1].pos.line, 6);
  EXPECT_NE(errors[1].reason.find("duplicate key \"rule\""), std::string::npos);
  EXPECT_EQ(errors[2].pos.line, 7);
}

TEST(RuleFileTest, AnEmptyFileIsRefusedAtItsStart) {
  std::vector<RuleError> errors;
  ASSERT_FALSE(ParseRuleFile("", &errors).ok());
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].pos.line, 1);
  EXPECT_EQ(errors[0].pos.column, 1);
}

}  // namespace
}  // namespace segd
