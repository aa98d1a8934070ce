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
  for (int k = 0; k < nsums_; ++k) sums_[i * nsums_ + k] += sums[k];
}

}  // namespace segd
