// One user's state in memory: exactly what the compiled plan asks to keep
// (DESIGN.md, per-user state). The rules/ planner decides the shape (which
// features, properties, funnels, how many sums per bucket); the evaluator
// reads it; state/ stores it compactly (docs/state-format.md).
//
// Units are local calendar days or hours of the rule set's time zone, as
// numbered by rules::Calendar. Sums are exact integers in millionths of the
// property value (SEMANTICS.md §3).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/record.h"

namespace segd {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::min();

// Counts (and sums) per unit, for the units that have at least one event.
// One vector of rows (unit, count, sums...), so that a series is one
// block of memory and its header small: a user holds several per feature,
// most of them empty, and the engine goes through thousands of users a
// batch.
class BucketSeries {
 public:
  explicit BucketSeries(int nsums = 0) : nsums_(nsums) {}

  int nsums() const { return nsums_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t unit(size_t i) const { return rows_[i * stride()]; }
  uint32_t count(size_t i) const { return static_cast<uint32_t>(rows_[i * stride() + 1]); }
  int64_t sum(size_t i, int k) const { return rows_[i * stride() + 2 + static_cast<size_t>(k)]; }

  // Adds one event to `unit`; `sums` has nsums() values.
  void Add(int64_t unit, const int64_t* sums);
  // Appends a whole bucket with its sums zero, and returns them to be set.
  // REQUIRES: unit > every unit held; count > 0.
  int64_t* Append(int64_t unit, uint32_t count) {
    rows_.push_back(unit);
    rows_.push_back(count);
    rows_.resize(rows_.size() + static_cast<size_t>(nsums_), 0);
    ++n_;
    return rows_.data() + rows_.size() - nsums_;
  }
  void Reserve(size_t n) { rows_.reserve(n * stride()); }
  // Drops units < min_unit, except those `keep` says to keep.
  template <typename Keep>
  void PruneBefore(int64_t min_unit, Keep keep);
  // Index of the first unit >= u.
  size_t LowerBound(int64_t u) const;

  // Empty, with `nsums` sums per bucket; keeps the vector's capacity.
  void Reset(int nsums) {
    nsums_ = nsums;
    n_ = 0;
    rows_.clear();
  }

  bool operator==(const BucketSeries&) const = default;

 private:
  size_t stride() const { return 2 + static_cast<size_t>(nsums_); }

  int32_t nsums_;
  uint32_t n_ = 0;              // buckets
  std::vector<int64_t> rows_;  // n_ rows of unit, count, nsums_ sums; units ascending
};

// State of one (event, filters) feature.
struct FeatureState {
  BucketSeries days;   // day buckets within the horizon and any date range
  BucketSeries hours;  // hour buckets within the hour horizon
  uint64_t count = 0;         // all time
  std::vector<int64_t> sums;  // all time, one per summed property
  std::vector<int32_t> active_days;  // all-time distinct days, ascending (if needed)
  int64_t last_ts = kNever;          // latest matching event (days_since)

  bool operator==(const FeatureState&) const = default;
};

// A set or unset of a user property: the value (monostate = unset) with the
// record's ts and the user's arrival sequence number (ties: later arrival).
struct PropUpdate {
  int64_t ts = 0;
  uint32_t seq = 0;
  PropValue value;
  bool After(const PropUpdate& o) const { return ts != o.ts ? ts > o.ts : seq > o.seq; }
  bool operator==(const PropUpdate&) const = default;
};

// A user property. `base` is the latest update of a day before `recent`'s
// days; `recent` holds the latest update of each later day (today and any
// future day), ascending by day — only for properties read @yesterday;
// otherwise everything is folded into `base`.
struct PropState {
  std::optional<PropUpdate> base;
  std::vector<std::pair<int32_t, PropUpdate>> recent;
  bool operator==(const PropState&) const = default;
};

// An event's position in the user's history: (ts, arrival).
struct EventRef {
  int64_t ts = 0;
  uint32_t seq = 0;
  bool operator<(const EventRef& o) const { return ts != o.ts ? ts < o.ts : seq < o.seq; }
  bool operator==(const EventRef&) const = default;
};

// A funnel's latest attempt: its first step and, per later step, the
// matching events after it (ascending, at most kMaxStepEvents each).
// Funnels over a `yesterday` window also keep `prev_attempt`, the last first
// step of the latest day before the attempt's day: when the attempt is
// today's, yesterday's is the one the window holds.
struct FunnelState {
  static constexpr size_t kMaxStepEvents = 32;
  std::optional<EventRef> attempt;
  std::optional<EventRef> prev_attempt;
  std::vector<std::vector<EventRef>> steps;  // steps[i] for step i+1
  bool operator==(const FunnelState&) const = default;
};

struct UserState {
  uint32_t seq = 0;  // records of this user so far; the next one gets seq + 1
  std::vector<FeatureState> features;
  std::vector<PropState> props;
  std::vector<FunnelState> funnels;

  bool operator==(const UserState&) const = default;
};

// Makes an element untouched (as a user who never matched it has it),
// keeping its shape (sums per bucket, funnel steps) and its vectors'
// capacity.
void MakeUntouched(FeatureState* f);
void MakeUntouched(PropState* p);
void MakeUntouched(FunnelState* f);
// The state of a user with no records, in place: seq 0 and every element
// untouched, with the shape and the capacity kept (a decoded user's
// memory is reused for the next one).
void ClearUserState(UserState* s);

template <typename Keep>
void BucketSeries::PruneBefore(int64_t min_unit, Keep keep) {
  // Units ascend: most series have nothing before min_unit, and are left
  // untouched.
  if (n_ == 0 || rows_[0] >= min_unit) return;
  const size_t w = stride();
  size_t out = 0;
  for (size_t i = 0; i < n_; ++i) {
    if (rows_[i * w] < min_unit && !keep(rows_[i * w])) continue;
    if (out != i) std::copy_n(rows_.begin() + i * w, w, rows_.begin() + out * w);
    ++out;
  }
  n_ = static_cast<uint32_t>(out);
  rows_.resize(out * w);
}

}  // namespace segd
