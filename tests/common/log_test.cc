#include "common/log.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

TEST(LogTest, TextIsMessageThenKeyValueFields) {
  EXPECT_EQ(FormatLogBody(LogFormat::kText, "Partition assigned",
                          {{"topic", "events"}, {"partition", 3}}),
            "Partition assigned topic=events partition=3");
}

TEST(LogTest, TextQuotesValuesWithSpacesOrEquals) {
  EXPECT_EQ(FormatLogBody(LogFormat::kText, "Failed", {{"error", "broker down"}, {"k", "a=b"}}),
            R"(Failed error="broker down" k="a=b")");
}

TEST(LogTest, JsonEscapes) {
  EXPECT_EQ(FormatLogBody(LogFormat::kJson, "Bad \"x\"", {{"k", "v\n"}}),
            R"("msg":"Bad \"x\"","k":"v\n")");
}

TEST(LogTest, ParsesLevels) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace segd
