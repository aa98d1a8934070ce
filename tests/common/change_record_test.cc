#include "common/change_record.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

TEST(ChangeRecordTest, JsonHasTheShapeOfSemantics4) {
  ChangeRecord c;
  c.user_id = "u42";
  c.segment = "lapsed_active";
  c.generation = 1;
  c.n = 3;
  c.change = ChangeKind::kEnter;
  c.cause = ChangeCause::kTime;
  c.at_ms = 1763827200000;
  EXPECT_EQ(c.ToJson(),
            R"({"id":"lapsed_active:1:3:u42","user_id":"u42","segment":"lapsed_active",)"
            R"("change":"enter","at":1763827200000,"cause":"time"})");
}

TEST(ChangeRecordTest, UserIdWithColonsAndQuotesIsEscapedAndKeptWhole) {
  ChangeRecord c;
  c.user_id = "a:b\"c\n";
  c.segment = "s";
  c.change = ChangeKind::kLeave;
  c.cause = ChangeCause::kList;
  EXPECT_EQ(c.Id(), "s:1:1:a:b\"c\n");
  EXPECT_EQ(c.ToJson(),
            R"({"id":"s:1:1:a:b\"c\n","user_id":"a:b\"c\n","segment":"s",)"
            R"("change":"leave","at":0,"cause":"list"})");
}

TEST(ChangeRecordTest, CauseNames) {
  EXPECT_STREQ(ChangeCauseName(ChangeCause::kEvent), "event");
  EXPECT_STREQ(ChangeCauseName(ChangeCause::kTime), "time");
  EXPECT_STREQ(ChangeCauseName(ChangeCause::kDefinition), "definition");
  EXPECT_STREQ(ChangeCauseName(ChangeCause::kList), "list");
}

}  // namespace
}  // namespace segd
