#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace segd {
namespace {

// A tally flushed into a histogram gives the same buckets, count and sum
// as observing each value on it, boundaries included (le semantics).
TEST(HistogramTallyTest, FlushEqualsObservingEachValue) {
  const auto& bounds = Metrics::LatencyBuckets();
  prometheus::Histogram direct(bounds), tallied(bounds);
  HistogramTally tally(bounds);
  const double values[] = {0, 0.001, 0.0011, 0.02, 0.5, 1, 59.9, 60, 61, 1e9};
  for (double v : values) {
    direct.Observe(v);
    tally.Observe(v);
  }
  direct.Observe(0.25);
  direct.Observe(0.25);
  direct.Observe(0.25);
  tally.Observe(0.25, 3);
  tally.FlushTo(tallied);
  auto a = direct.Collect().histogram, b = tallied.Collect().histogram;
  EXPECT_EQ(a.sample_count, b.sample_count);
  EXPECT_DOUBLE_EQ(a.sample_sum, b.sample_sum);
  ASSERT_EQ(a.bucket.size(), b.bucket.size());
  for (size_t i = 0; i < a.bucket.size(); ++i) {
    EXPECT_EQ(a.bucket[i].cumulative_count, b.bucket[i].cumulative_count) << "bucket " << i;
  }
  // Flushing resets the tally: a second flush adds nothing.
  tally.FlushTo(tallied);
  EXPECT_EQ(tallied.Collect().histogram.sample_count, a.sample_count);
}

}  // namespace
}  // namespace segd
