// A membership change (SEMANTICS.md §4): what segd emits to the output topic.
#pragma once

#include <cstdint>
#include <string>

namespace segd {

enum class ChangeKind { kEnter, kLeave };
enum class ChangeCause { kEvent, kTime, kDefinition, kList };

struct ChangeRecord {
  std::string user_id;
  std::string segment;
  uint32_t generation = 1;  // the segment's definition count (1 = first)
  uint32_t n = 1;           // this user's change count in this generation
  ChangeKind change = ChangeKind::kEnter;
  ChangeCause cause = ChangeCause::kEvent;
  int64_t at_ms = 0;  // now, or the boundary when time alone caused it

  // "<segment>:<generation>:<n>:<user_id>", stable across restarts and replays.
  std::string Id() const;
  // The output message value: {"id":...,"user_id":...,"segment":...,
  // "change":...,"at":...,"cause":...} with keys in that order.
  std::string ToJson() const;
};

const char* ChangeKindName(ChangeKind k);
const char* ChangeCauseName(ChangeCause c);

}  // namespace segd
