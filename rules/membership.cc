#include "rules/membership.h"

#include <stdexcept>

namespace segd::rules {

Status Memberships::Load(PartitionStore* store, const std::vector<std::string>& segment_ids) {
  segments_.clear();
  segments_.resize(segment_ids.size());
  for (size_t i = 0; i < segment_ids.size(); ++i) {
    Segment& seg = segments_[i];
    seg.id = segment_ids[i];
    Status bad = Status::Ok();
    Status s = store->ForEachMemberChunk(seg.id, [&](uint16_t chunk, std::string_view bytes) {
      try {
        Roaring bm = Roaring::readSafe(bytes.data(), bytes.size());
        seg.count += bm.cardinality();
        seg.chunks.emplace(chunk, std::move(bm));
      } catch (const std::exception& e) {
        bad = Status::Internal("corrupt membership bitmap of segment " + seg.id);
      }
    });
    SEGD_RETURN_IF_ERROR(s);
    SEGD_RETURN_IF_ERROR(bad);
  }
  return Status::Ok();
}

bool Memberships::Contains(int seg, uint32_t user) const {
  const Segment& s = segments_[seg];
  auto it = s.chunks.find(static_cast<uint16_t>(user >> 16));
  return it != s.chunks.end() && it->second.contains(user);
}

void Memberships::Set(int seg, uint32_t user, bool member) {
  Segment& s = segments_[seg];
  uint16_t chunk = static_cast<uint16_t>(user >> 16);
  Roaring& bm = s.chunks[chunk];
  bool was = bm.contains(user);
  if (was == member) return;
  if (member) {
    bm.add(user);
    ++s.count;
  } else {
    bm.remove(user);
    --s.count;
  }
  s.dirty.insert(chunk);
}

Status Memberships::Persist(PartitionStore* store) {
  std::string buf;
  for (Segment& s : segments_) {
    for (uint16_t chunk : s.dirty) {
      Roaring& bm = s.chunks[chunk];
      if (bm.isEmpty()) {
        SEGD_RETURN_IF_ERROR(store->DeleteMemberChunk(s.id, chunk));
        s.chunks.erase(chunk);
        continue;
      }
      bm.runOptimize();
      buf.resize(bm.getSizeInBytes());
      bm.write(buf.data());
      SEGD_RETURN_IF_ERROR(store->PutMemberChunk(s.id, chunk, buf));
    }
    s.dirty.clear();
  }
  return Status::Ok();
}

}  // namespace segd::rules
