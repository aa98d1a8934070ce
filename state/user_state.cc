#include "state/user_state.h"

#include <algorithm>

namespace segd {

size_t BucketSeries::LowerBound(int64_t u) const {
  const size_t w = stride();
  size_t lo = 0, hi = n_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rows_[mid * w] < u) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void BucketSeries::Add(int64_t unit, const int64_t* sums) {
  const size_t w = stride();
  size_t i = LowerBound(unit);
  if (i == n_ || rows_[i * w] != unit) {
    rows_.insert(rows_.begin() + static_cast<ptrdiff_t>(i * w), w, 0);
    rows_[i * w] = unit;
    ++n_;
  }
  int64_t* row = rows_.data() + i * w;
  row[1] = static_cast<uint32_t>(row[1] + 1);  // a count is 32 bits
  for (int k = 0; k < nsums_; ++k) {
    // Saturating, as the all-time sums are (SaturatingAdd in rules/).
    int64_t& sum = row[2 + k];
    if (__builtin_add_overflow(sum, sums[k], &sum)) {
      sum = sums[k] > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    }
  }
}

void MakeUntouched(FeatureState* f) {
  f->days.Reset(f->days.nsums());
  f->hours.Reset(f->hours.nsums());
  f->count = 0;
  std::fill(f->sums.begin(), f->sums.end(), 0);
  f->active_days.clear();
  f->last_ts = kNever;
}

void MakeUntouched(PropState* p) {
  p->base.reset();
  p->recent.clear();
}

void MakeUntouched(FunnelState* f) {
  f->attempt.reset();
  f->prev_attempt.reset();
  for (std::vector<EventRef>& events : f->steps) events.clear();
}

void ClearUserState(UserState* s) {
  s->seq = 0;
  for (FeatureState& f : s->features) MakeUntouched(&f);
  for (PropState& p : s->props) MakeUntouched(&p);
  for (FunnelState& f : s->funnels) MakeUntouched(&f);
}

}  // namespace segd
