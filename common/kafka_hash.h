// Kafka's default partitioning of keyed records (the Java clients'
// murmur2; librdkafka's "murmur2" partitioners): which partition of a
// topic a user's records go to, for tools that split one stream the way
// the broker's producers would (`segd replay --partitions`).
#pragma once

#include <cstdint>
#include <string_view>

namespace segd {

inline uint32_t Murmur2(std::string_view data) {
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(data.size());
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(data[i])); };
  for (size_t i = 0; i + 4 <= data.size(); i += 4) {
    uint32_t k = b(i) | (b(i + 1) << 8) | (b(i + 2) << 16) | (b(i + 3) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  size_t tail = data.size() & ~size_t{3};
  switch (data.size() % 4) {
    case 3: h ^= b(tail + 2) << 16; [[fallthrough]];
    case 2: h ^= b(tail + 1) << 8; [[fallthrough]];
    case 1:
      h ^= b(tail);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

// The partition of `key` among `partitions` (> 0), as Kafka's clients pick it.
inline int KafkaPartitionOf(std::string_view key, int partitions) {
  return static_cast<int>((Murmur2(key) & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

}  // namespace segd
