#include "state/user_record.h"

#include <algorithm>

#include "state/user_state_codec.h"
#include "state/varint.h"

namespace segd {

namespace {

constexpr uint64_t kMsPerHourForSchedule = 3'600'000;

}  // namespace

uint32_t UserRecord::Changes(uint32_t seg) const {
  auto it = std::lower_bound(changes.begin(), changes.end(), std::make_pair(seg, 0u));
  return it != changes.end() && it->first == seg ? it->second : 0;
}

uint32_t UserRecord::BumpChanges(uint32_t seg) {
  auto it = std::lower_bound(changes.begin(), changes.end(), std::make_pair(seg, 0u));
  if (it == changes.end() || it->first != seg) it = changes.insert(it, {seg, 0});
  return ++it->second;
}

void EncodeUserRecord(const UserRecord& r, std::string* out) {
  out->clear();
  // 0 = no timer; otherwise the due instant, zigzag, plus one.
  PutVarint(out, r.timer == kNever ? 0 : ZigZag(r.timer) + 1);
  PutVarint(out, r.changes.size());
  uint32_t prev = 0;
  for (const auto& [seg, n] : r.changes) {
    PutVarint(out, seg - prev);
    PutVarint(out, n);
    prev = seg;
  }
  // The schedule: a marker byte (the state's format byte is never 0), the
  // entries' count, then per entry the gap to the previous segment index
  // and the instant's distance from the timer, in hours when it is a whole
  // number of them (the usual case: unit starts).
  if (r.scheduled) {
    out->push_back('\0');
    PutVarint(out, r.next.size());
  }
  uint64_t next_seg = 0;
  for (const auto& [seg, at] : r.scheduled ? r.next : decltype(r.next){}) {
    PutVarint(out, seg - next_seg);
    next_seg = uint64_t{seg} + 1;
    uint64_t d = static_cast<uint64_t>(at) - static_cast<uint64_t>(r.timer);
    PutVarint(out, d % kMsPerHourForSchedule == 0 ? (d / kMsPerHourForSchedule) << 1
                                                  : (d << 1) | 1);
  }
  std::string state;
  EncodeUserState(r.state, &state);
  out->append(state);
}

void ClearUserRecord(UserRecord* r) {
  r->timer = kNever;
  r->changes.clear();
  r->scheduled = true;
  r->next.clear();
  ClearUserState(&r->state);
}

Status DecodeUserRecord(std::string_view bytes, UserRecord* out) {
  // Decoded in place, reusing out's capacity (scans decode many records
  // into one object); every field is set.
  out->timer = kNever;
  out->changes.clear();
  out->scheduled = true;
  out->next.clear();
  uint64_t timer, count;
  if (!GetVarint(&bytes, &timer) || !GetVarint(&bytes, &count) || count > bytes.size()) {
    return Status::InvalidArgument("corrupt user record header");
  }
  out->timer = timer == 0 ? kNever : UnZigZag(timer - 1);
  uint64_t seg = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta, n;
    if (!GetVarint(&bytes, &delta) || !GetVarint(&bytes, &n) || seg + delta > UINT32_MAX ||
        n > UINT32_MAX) {
      return Status::InvalidArgument("corrupt user record change counts");
    }
    seg += delta;
    out->changes.emplace_back(static_cast<uint32_t>(seg), static_cast<uint32_t>(n));
  }
  out->scheduled = !bytes.empty() && bytes[0] == '\0';
  if (out->scheduled) {
    bytes.remove_prefix(1);
    uint64_t n;
    if (!GetVarint(&bytes, &n) || n > bytes.size() || (n > 0 && out->timer == kNever)) {
      return Status::InvalidArgument("corrupt user record schedule");
    }
    uint64_t next_seg = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t gap, d;
      if (!GetVarint(&bytes, &gap) || !GetVarint(&bytes, &d) || gap > UINT32_MAX ||
          next_seg + gap > UINT32_MAX ||
          ((d & 1) == 0 && (d >> 1) > static_cast<uint64_t>(INT64_MAX) / kMsPerHourForSchedule)) {
        return Status::InvalidArgument("corrupt user record schedule");
      }
      uint64_t seg = next_seg + gap;
      uint64_t dist = (d & 1) ? d >> 1 : (d >> 1) * kMsPerHourForSchedule;
      // timer + dist must stay an int64 (the subtraction wraps to the exact
      // room left above the timer).
      if (dist > static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(out->timer)) {
        return Status::InvalidArgument("corrupt user record schedule");
      }
      out->next.emplace_back(static_cast<uint32_t>(seg), out->timer + static_cast<int64_t>(dist));
      next_seg = seg + 1;
    }
  }
  return DecodeUserStateInPlace(bytes, &out->state);
}

}  // namespace segd
