#include "common/status.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

Status FailsWhen(bool fail) {
  SEGD_RETURN_IF_ERROR(fail ? Status::Unavailable("broker down") : Status::Ok());
  return Status::NotFound("reached the end");
}

TEST(StatusTest, ReturnIfErrorStopsAtTheFirstError) {
  EXPECT_EQ(FailsWhen(true).code(), Status::Code::kUnavailable);
  EXPECT_EQ(FailsWhen(false).code(), Status::Code::kNotFound);
  EXPECT_EQ(FailsWhen(true).ToString(), "unavailable: broker down");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  Result<int> ok = 5;
  Result<int> bad = Status::InvalidArgument("no");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "no");
  EXPECT_TRUE(ok.status().ok());
}

}  // namespace
}  // namespace segd
