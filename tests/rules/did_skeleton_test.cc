#include "rules/did_skeleton.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

Record Event(const std::string& user, const std::string& event, int64_t ts) {
  Record r;
  r.user_id = user;
  r.ts_ms = ts;
  r.has_event = true;
  r.event = event;
  return r;
}

DidRuleSet Compile(const std::string& yaml) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile(yaml, &errors);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto rules = DidRuleSet::Compile(*file, &errors);
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  return std::move(rules).value();
}

TEST(DidSkeletonTest, ParsesPlainAndBackquotedNames) {
  size_t at = 0;
  EXPECT_EQ(*ParseDidRule("did(visit)", &at), "visit");
  EXPECT_EQ(*ParseDidRule("  did ( a:b-c )  ", &at), "a:b-c");
  EXPECT_EQ(*ParseDidRule("did(`Order Completed`)", &at), "Order Completed");
  EXPECT_FALSE(ParseDidRule("did(visit, 7d)", &at).ok());
  EXPECT_EQ(at, 9u);
  EXPECT_FALSE(ParseDidRule("count(visit) > 1", &at).ok());
  EXPECT_EQ(at, 0u);
}

TEST(DidSkeletonTest, OtherRuleFormsAreRefusedWithPosition) {
  std::vector<RuleError> errors;
  auto file = ParseRuleFile("segments:\n  - id: a\n    rule: did(x, 7d)\n", &errors);
  ASSERT_TRUE(file.ok());
  auto rules = DidRuleSet::Compile(*file, &errors);
  ASSERT_FALSE(rules.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pos.line, 3);
  EXPECT_EQ(errors[0].pos.column, 11 + 5);
}

TEST(DidSkeletonTest, EntersOnceOnTheFirstMatchingEvent) {
  DidRuleSet rules = Compile(R"(segments:
  - {id: visited, rule: did(visit)}
  - {id: bought, rule: did(purchase)}
  - {id: visited2, rule: did(visit)}
)");
  DidState state(&rules);
  std::vector<ChangeRecord> out;
  state.Apply(Event("u1", "purchase", 10), 100, &out);
  state.Apply(Event("u1", "visit", 20), 200, &out);
  state.Apply(Event("u1", "visit", 30), 300, &out);
  state.Apply(Event("u2", "other", 40), 400, &out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].ToJson(),
            R"({"id":"bought:1:1:u1","user_id":"u1","segment":"bought","change":"enter",)"
            R"("at":100,"cause":"event"})");
  EXPECT_EQ(out[1].segment, "visited");
  EXPECT_EQ(out[2].segment, "visited2");
  EXPECT_EQ(out[2].at_ms, 200);
  EXPECT_EQ(state.MemberCount(0), 1u);
  EXPECT_EQ(state.MemberCount(1), 1u);
}

}  // namespace
}  // namespace segd
