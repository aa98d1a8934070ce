// Segment memberships of one partition: a Roaring bitmap of dense user ids
// per segment, split into chunks of 65536 ids so a batch rewrites only the
// chunks it touched (state/partition_store.h persists their bytes).
//
// Thread-safety: single writer (the partition's worker); not thread-safe.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "state/partition_store.h"

namespace segd::rules {

class Memberships {
 public:
  // Loads the bitmaps of `segment_ids` (in rule-set order). REQUIRES: the
  // store is in a transaction.
  Status Load(PartitionStore* store, const std::vector<std::string>& segment_ids);

  bool Contains(int seg, uint32_t user) const;
  void Set(int seg, uint32_t user, bool member);
  uint64_t Count(int seg) const { return segments_[seg].count; }
  size_t size() const { return segments_.size(); }

  // Writes the chunks changed since the last Persist/Load. REQUIRES: the
  // store is in a transaction.
  Status Persist(PartitionStore* store);

  // Calls fn(user) for every member of `seg`, ascending.
  template <typename Fn>
  void ForEach(int seg, Fn fn) const {
    std::set<uint16_t> order;
    for (const auto& [chunk, bm] : segments_[seg].chunks) order.insert(chunk);
    for (uint16_t c : order) {
      for (uint32_t u : segments_[seg].chunks.at(c)) fn(u);
    }
  }

 private:
  struct Segment {
    std::string id;
    std::unordered_map<uint16_t, Roaring> chunks;
    std::set<uint16_t> dirty;
    uint64_t count = 0;
  };
  std::vector<Segment> segments_;
};

}  // namespace segd::rules
