// The binary encoding of one user's state (UserState), the tail of the value
// of the LMDB users database (state/user_record.h). Byte layout:
// docs/state-format.md, "User state value (format 1)".
//
// Small by design (DESIGN.md, per-user state): varints, delta-coded units,
// and a user who never touched a feature, property or funnel pays about one
// byte for it, or nothing when it comes after the last touched one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "state/user_state.h"

namespace segd {

// The first byte of every value. A decoder refuses any other.
inline constexpr uint8_t kUserStateFormat = 1;

// A list that costs no bytes per element when its elements are all zero or
// empty (a feature's all-time sums, a funnel's step lists) is written out
// element by element when it is longer than this, so that a corrupt length
// cannot make a decoder allocate more than this many elements for free.
inline constexpr size_t kMaxImplicitElements = 64;

// Replaces the contents of *out with the encoding of `s` (the capacity of
// *out is reused).
//
// Deterministic: equal states give equal bytes, so a caller may skip writing
// a user whose bytes did not change. Elements at the end of `features`,
// `props` and `funnels` that are untouched are left out, shape included:
//   feature: no buckets, count 0, all sums 0, no active days, last_ts kNever
//            (whatever its nsums and number of sums);
//   prop:    no base, no recent updates;
//   funnel:  no attempt, every step list empty (whatever the number of steps).
// The caller restores them by reshaping the decoded state to the plan
// (rules::ShapeState), which gives exactly what was left out.
//
// REQUIRES: the invariants of state/user_state.h: in each BucketSeries
// nsums() >= 0, units strictly ascending, counts().size() == size() and
// sums().size() == size() * nsums(); active_days strictly ascending;
// PropState::recent strictly ascending by day; each funnel step list
// strictly ascending by (ts, seq). Checked by assert() in debug builds; a
// state that breaks them encodes to bytes that DecodeUserState refuses.
void EncodeUserState(const UserState& s, std::string* out);

// Decodes a value written by EncodeUserState. On success *out holds the state
// with `features`, `props` and `funnels` sized to what was encoded (see
// above), so DecodeUserState(EncodeUserState(s)) is `s` without its trailing
// untouched elements, and the caller reshapes it to the plan.
//
// Returns InvalidArgument, with the byte offset and the part of the state
// where decoding stopped, for a truncated or corrupt value, and leaves *out
// unchanged. Accepts only the bytes EncodeUserState produces (minimal
// varints, flags that agree with the data, no trailing untouched element, no
// bytes after the end), so that for every accepted `bytes`,
// EncodeUserState(decoded) == bytes. Any input is safe: time is linear in
// its size, and every count is checked against the bytes left before
// anything is allocated for it.
Status DecodeUserState(std::string_view bytes, UserState* out);

// DecodeUserState into *out as it stands, reusing its vectors' capacity:
// for scans that decode many states one after another into one object.
// A list longer than the encoded one keeps its length, its elements past
// the encoded ones made untouched with their shape kept, so a state
// shaped to the plan (rules::ShapeState) stays shaped and equals the
// decoded state reshaped. On failure *out holds an unspecified state.
Status DecodeUserStateInPlace(std::string_view bytes, UserState* out);

}  // namespace segd
