#include "state/user_state.h"

#include <algorithm>

namespace segd {

size_t BucketSeries::LowerBound(int64_t u) const {
  return static_cast<size_t>(std::lower_bound(units_.begin(), units_.end(), u) - units_.begin());
}

void BucketSeries::Add(int64_t unit, const int64_t* sums) {
  size_t i = LowerBound(unit);
  if (i == units_.size() || units_[i] != unit) {
    units_.insert(units_.begin() + static_cast<ptrdiff_t>(i), unit);
    counts_.insert(counts_.begin() + static_cast<ptrdiff_t>(i), 0);
    sums_.insert(sums_.begin() + static_cast<ptrdiff_t>(i * nsums_), nsums_, 0);
  }
  ++counts_[i];
  for (int k = 0; k < nsums_; ++k) {
    // Saturating, as the all-time sums are (SaturatingAdd in rules/).
    int64_t& sum = sums_[i * nsums_ + k];
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
