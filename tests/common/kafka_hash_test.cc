#include "common/kafka_hash.h"

#include <gtest/gtest.h>

namespace segd {
namespace {

// The values of Kafka's own UtilsTest (Utils.murmur2, as signed ints); the
// partitions were checked against librdkafka's murmur2 partitioner.
TEST(KafkaHashTest, Murmur2IsKafkas) {
  EXPECT_EQ(static_cast<int32_t>(Murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
            -58897971);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("abc")), 479470107);
}

TEST(KafkaHashTest, PartitionsAsTheClientsPickThem) {
  EXPECT_EQ(KafkaPartitionOf("21", 7), 3);
  EXPECT_EQ(KafkaPartitionOf("foobar", 7), 0);
  EXPECT_EQ(KafkaPartitionOf("abc", 7), 4);
  EXPECT_EQ(KafkaPartitionOf("u42", 7), 5);
  EXPECT_EQ(KafkaPartitionOf("anything", 1), 0);
}

}  // namespace
}  // namespace segd
