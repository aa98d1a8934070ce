// What the `users` database holds per user: the rule features (UserState),
// the user's pending timer, and how many changes the user has had in each
// segment (the `n` of change ids, SEMANTICS.md §4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "state/user_state.h"

namespace segd {

struct UserRecord {
  UserState state;
  int64_t timer = kNever;  // the due instant in the timers database, or kNever
  // (segment index, changes so far), ascending by segment; absent = 0.
  std::vector<std::pair<uint32_t, uint32_t>> changes;
  // The schedule: (segment index, the next instant at which that segment
  // may change with no new record), ascending by segment, for each segment
  // that has one; `timer` is the earliest. When !scheduled (a record
  // written before schedules were kept) it is unknown and empty.
  bool scheduled = true;
  std::vector<std::pair<uint32_t, int64_t>> next;

  uint32_t Changes(uint32_t seg) const;
  // Counts one more change in `seg`; returns the new count.
  uint32_t BumpChanges(uint32_t seg);

  bool operator==(const UserRecord&) const = default;
};

// Layout (docs/state-format.md): varint timer (0 = none, else zigzag(due)
// + 1), varint count of change entries, (segment delta, n) varint pairs,
// the schedule when known (a 0x00 byte, then its entries; absent in
// records written before schedules were kept), then the UserState encoding.
// REQUIRES (Encode): every instant of `next` >= timer.
void EncodeUserRecord(const UserRecord& r, std::string* out);
// Makes *r the record of a user not stored yet, in place (capacity kept).
void ClearUserRecord(UserRecord* r);
// Decodes in place: *out may hold an earlier record, whose vectors' capacity
// is reused (a scan decodes every user into one object). Every field is set.
Status DecodeUserRecord(std::string_view bytes, UserRecord* out);

}  // namespace segd
