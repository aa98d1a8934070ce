#include "rules/partition_view.h"

#include <roaring/roaring.hh>

#include <exception>
#include <unordered_map>

#include "rules/features.h"

namespace segd::rules {

namespace {

// A stored membership chunk (rules/membership.h writes them).
Result<Roaring> DecodeChunk(const std::string& segment, std::string_view bytes) {
  try {
    return Roaring::readSafe(bytes.data(), bytes.size());
  } catch (const std::exception&) {
    return Status::Internal("corrupt membership bitmap of segment " + segment);
  }
}

}  // namespace

int FindSegment(const RuleSet& rules, std::string_view id) {
  for (size_t i = 0; i < rules.segments().size(); ++i) {
    if (rules.segments()[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

Result<PartitionView> PartitionView::Open(const RuleSet* rules, PartitionStore::Reader* reader) {
  PartitionView view(rules, reader);
  auto stored = ReadStoredDefinitions(*reader);
  if (!stored.ok()) return stored.status();
  view.stored_ = std::move(stored).value();
  if (view.stored_) {
    if (view.stored_->timezone != rules->calendar().zone_name()) {
      return Status::FailedPrecondition("the rule set's time zone is " +
                                        rules->calendar().zone_name() +
                                        " but the state was kept in " + view.stored_->timezone);
    }
    view.remap_ = view.stored_->layout != LayoutText(*rules);
  }
  auto clock = reader->GetMeta("clock");
  if (!clock.ok()) return clock.status();
  if (clock->has_value()) view.now_ = std::stoll(**clock);
  return view;
}

Result<std::optional<PartitionView::User>> PartitionView::LoadUser(std::string_view user_id) {
  auto stored = reader_->GetUser(user_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<User>();
  User u;
  u.user_id = std::string(user_id);
  u.dense_id = (*stored)->id;
  SEGD_RETURN_IF_ERROR(DecodeUserRecord((*stored)->record, &u.record));
  if (remap_) {
    RemapState(*rules_, stored_->layout, &u.record.state);
  } else {
    ShapeState(*rules_, &u.record.state);
  }
  u.members.resize(rules_->segments().size());
  for (size_t s = 0; s < rules_->segments().size(); ++s) {
    auto m = IsMember(rules_->segments()[s].id, u.dense_id);
    if (!m.ok()) return m.status();
    u.members[s] = *m;
  }
  return std::optional<User>(std::move(u));
}

Result<bool> PartitionView::IsMember(const std::string& segment, uint32_t dense_id) {
  auto chunk = reader_->GetMemberChunk(segment, static_cast<uint16_t>(dense_id >> 16));
  if (!chunk.ok()) return chunk.status();
  if (!chunk->has_value()) return false;
  auto bm = DecodeChunk(segment, **chunk);
  if (!bm.ok()) return bm.status();
  return bm->contains(dense_id);
}

const std::string* PartitionView::StoredSegmentId(uint32_t index) const {
  if (!stored_ || index >= stored_->segments.size()) return nullptr;
  return &stored_->segments[index].id;
}

Status PartitionView::ForEachMember(int seg, std::string_view after,
                                    const std::function<bool(std::string_view)>& fn) {
  const std::string& id = rules_->segments()[seg].id;
  std::unordered_map<uint16_t, Roaring> chunks;
  Status bad = Status::Ok();
  SEGD_RETURN_IF_ERROR(reader_->ForEachMemberChunk(id, [&](uint16_t c, std::string_view bytes) {
    auto bm = DecodeChunk(id, bytes);
    if (bm.ok()) {
      chunks.emplace(c, std::move(bm).value());
    } else {
      bad = bm.status();
    }
  }));
  SEGD_RETURN_IF_ERROR(bad);
  if (chunks.empty()) return Status::Ok();
  // Dense ids have no reverse index: the users are scanned in id order and
  // each looked up in the bitmap.
  return reader_->ForEachUser(after, [&](std::string_view user, uint32_t dense, std::string_view) {
    if (user == after) return true;
    auto it = chunks.find(static_cast<uint16_t>(dense >> 16));
    if (it == chunks.end() || !it->second.contains(dense)) return true;
    return fn(user);
  });
}

}  // namespace segd::rules
