#include "state/user_record.h"

#include <algorithm>

#include "state/user_state_codec.h"
#include "state/varint.h"

namespace segd {

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
  std::string state;
  EncodeUserState(r.state, &state);
  out->append(state);
}

Status DecodeUserRecord(std::string_view bytes, UserRecord* out) {
  *out = UserRecord();
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
  return DecodeUserState(bytes, &out->state);
}

}  // namespace segd
