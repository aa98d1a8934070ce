#include "rules/features.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "rules/value.h"

namespace segd::rules {

namespace {

// A property's numeric value in millionths, or nullopt when it is absent
// or not a number (it then adds nothing to a sum).
std::optional<int64_t> Millionths(const Record& r, const std::string& prop) {
  for (const Prop& p : r.props) {
    if (p.name != prop) continue;
    if (const double* d = std::get_if<double>(&p.value)) return ToMillionths(*d);
    return std::nullopt;
  }
  return std::nullopt;
}

void InsertSorted(std::vector<int32_t>* v, int32_t x) {
  auto it = std::lower_bound(v->begin(), v->end(), x);
  if (it == v->end() || *it != x) v->insert(it, x);
}

void ApplyToFeature(const FeatureSpec& spec, const Calendar& cal, const Record& r, int64_t now,
                    FeatureState* fs) {
  int64_t sums[16] = {0};
  std::vector<int64_t> big;
  int64_t* s = sums;
  if (spec.sum_props.size() > 16) {
    big.assign(spec.sum_props.size(), 0);
    s = big.data();
  }
  for (size_t k = 0; k < spec.sum_props.size(); ++k) {
    s[k] = Millionths(r, spec.sum_props[k]).value_or(0);
    fs->sums[k] = SaturatingAdd(fs->sums[k], s[k]);
  }
  ++fs->count;
  fs->last_ts = std::max(fs->last_ts, r.ts_ms);
  int32_t day = cal.DayOf(r.ts_ms);
  if ((spec.day_horizon > 0 && day > cal.DayOf(now) - spec.day_horizon) ||
      spec.InDateRange(day)) {
    fs->days.Add(day, s);
  }
  if (spec.hour_horizon > 0) {
    int64_t hour = cal.HourOf(r.ts_ms);
    if (hour > cal.HourOf(now) - spec.hour_horizon) fs->hours.Add(hour, s);
  }
  if (spec.all_active_days) InsertSorted(&fs->active_days, day);
}

bool InDateRangeWindow(const Window& w, const Calendar& cal, int64_t ts) {
  if (w.kind != Window::Kind::kDateRange) return true;
  int32_t day = cal.DayOf(ts);
  return day >= w.first_day && day <= w.last_day;
}

// The latest attempt is the last A (in ts, arrival order); events of later
// steps are kept only after it, at most kMaxStepEvents per step. Without
// an attempt the most recent step events are kept, for an A that may still
// arrive late; with one, the events the attempt uses and the most recent
// others (DropStepEvent). A `yesterday`
// window also keeps the last A of the latest earlier day (prev_attempt),
// and the step events after that one.
void NoteAttempt(const FunnelSpec& spec, const Calendar& cal, const EventRef& e,
                 FunnelState* fs) {
  if (spec.window.kind != Window::Kind::kYesterday) {
    if (!fs->attempt || *fs->attempt < e) fs->attempt = e;
    return;
  }
  if (!fs->attempt) {
    fs->attempt = e;
    return;
  }
  int32_t day = cal.DayOf(e.ts), attempt_day = cal.DayOf(fs->attempt->ts);
  if (*fs->attempt < e) {
    if (day > attempt_day) fs->prev_attempt = fs->attempt;
    fs->attempt = e;
  } else if (day < attempt_day &&
             (!fs->prev_attempt || cal.DayOf(fs->prev_attempt->ts) < day ||
              (cal.DayOf(fs->prev_attempt->ts) == day && *fs->prev_attempt < e))) {
    fs->prev_attempt = e;
  }
}

// Step events at or before this belong to no attempt the funnel can still
// use: those after the latest attempt, or with a `yesterday` window those
// from the start of the day before the attempt's day (a late first step of
// that day may still become the attempt the window holds).
std::optional<EventRef> StepAnchor(const FunnelSpec& spec, const Calendar& cal,
                                   const FunnelState& fs) {
  if (!fs.attempt || spec.window.kind != Window::Kind::kYesterday) return fs.attempt;
  int64_t day_before = cal.DayStart(cal.DayOf(fs.attempt->ts) - 1);
  return EventRef{day_before - 1, UINT32_MAX};
}

void PruneSteps(const EventRef& anchor, FunnelState* fs) {
  for (auto& events : fs->steps) {
    events.erase(events.begin(), std::upper_bound(events.begin(), events.end(), anchor));
  }
}

// The event of step list `k` that the attempt starting at `start` uses:
// each step the first event strictly after the previous step's (as
// Evaluator::Dropped walks them, before its deadline cut).
std::optional<EventRef> ChainEvent(const FunnelState& fs, const EventRef& start, size_t k) {
  EventRef at = start;
  for (size_t j = 0; j <= k; ++j) {
    const std::vector<EventRef>& events = fs.steps[j];
    auto it = std::upper_bound(events.begin(), events.end(), at);
    if (it == events.end()) return std::nullopt;
    at = *it;
  }
  return at;
}

// Step list `k` is over its bound: the oldest event that neither the
// attempt nor (a `yesterday` window) the previous day's attempt uses goes.
// In a stream in order those are all an attempt ever uses, so the bound
// changes nothing; only records late past many others can find an event
// gone that a late first or earlier step would have used.
void DropStepEvent(FunnelState* fs, size_t k) {
  std::optional<EventRef> keep[2];
  if (fs->attempt) keep[0] = ChainEvent(*fs, *fs->attempt, k);
  if (fs->prev_attempt) keep[1] = ChainEvent(*fs, *fs->prev_attempt, k);
  std::vector<EventRef>& events = fs->steps[k];
  for (auto it = events.begin(); it != events.end(); ++it) {
    if (*it == keep[0] || *it == keep[1]) continue;
    events.erase(it);
    return;
  }
}

void ApplyToFunnel(const FunnelSpec& spec, const Calendar& cal, const Record& r, uint32_t seq,
                   FunnelState* fs) {
  EventRef e{r.ts_ms, seq};
  if (Matches(spec.steps[0], r)) {
    if (InDateRangeWindow(spec.window, cal, r.ts_ms)) {
      NoteAttempt(spec, cal, e, fs);
      PruneSteps(*StepAnchor(spec, cal, *fs), fs);
    }
    return;  // an event matching A is never a later step of an attempt
  }
  std::optional<EventRef> anchor = StepAnchor(spec, cal, *fs);
  for (size_t i = 1; i < spec.steps.size(); ++i) {
    if (!Matches(spec.steps[i], r)) continue;
    if (anchor && !(*anchor < e)) continue;
    auto& events = fs->steps[i - 1];
    events.insert(std::upper_bound(events.begin(), events.end(), e), e);
    if (events.size() > FunnelState::kMaxStepEvents) {
      if (anchor) {
        DropStepEvent(fs, i - 1);
      } else {
        events.erase(events.begin());  // the most recent wait for a late A
      }
    }
  }
}

void FoldRecent(int32_t today, PropState* ps) {
  size_t n = 0;
  while (n < ps->recent.size() && ps->recent[n].first < today) {
    const PropUpdate& u = ps->recent[n].second;
    if (!ps->base || !ps->base->After(u)) ps->base = u;
    ++n;
  }
  ps->recent.erase(ps->recent.begin(), ps->recent.begin() + static_cast<ptrdiff_t>(n));
}

// Later (ts, seq) wins; within one record (same ts and seq) the later
// operation wins, so `unset` beats `set` of the same key.
void UpdateProp(const PropSpec& spec, const Calendar& cal, int32_t today, const PropUpdate& u,
                PropState* ps) {
  auto keep_newer = [&u](std::optional<PropUpdate>& slot) {
    if (!slot || !slot->After(u)) slot = u;
  };
  if (!spec.yesterday) {
    keep_newer(ps->base);
    return;
  }
  FoldRecent(today, ps);
  int32_t day = cal.DayOf(u.ts);
  if (day < today) {
    keep_newer(ps->base);
    return;
  }
  auto it = std::lower_bound(ps->recent.begin(), ps->recent.end(), day,
                             [](const auto& entry, int32_t d) { return entry.first < d; });
  if (it == ps->recent.end() || it->first != day) {
    ps->recent.insert(it, {day, u});
  } else if (!it->second.After(u)) {
    it->second = u;
  }
}

}  // namespace

bool Matches(const Selector& selector, const Record& record) {
  if (!record.has_event || record.event != selector.event) return false;
  for (const Filter& f : selector.filters) {
    Val v = Val::Missing();
    for (const Prop& p : record.props) {
      if (p.name == f.prop) {
        v = Val::FromProp(p.value);
        break;
      }
    }
    if (!FilterPasses(f, v)) return false;
  }
  return true;
}

void ShapeState(const RuleSet& rules, UserState* state) {
  state->features.resize(rules.features().size());
  for (size_t i = 0; i < rules.features().size(); ++i) {
    FeatureState& fs = state->features[i];
    int nsums = static_cast<int>(rules.features()[i].sum_props.size());
    fs.sums.resize(nsums, 0);
    if (fs.days.nsums() != nsums || fs.hours.nsums() != nsums) {
      // A sum added to a feature starts counting now: buckets restart.
      fs.days = BucketSeries(nsums);
      fs.hours = BucketSeries(nsums);
    }
  }
  state->props.resize(rules.props().size());
  state->funnels.resize(rules.funnels().size());
  for (size_t i = 0; i < rules.funnels().size(); ++i) {
    state->funnels[i].steps.resize(rules.funnels()[i].steps.size() - 1);
  }
}

void ApplyRecord(const RuleSet& rules, const Calendar& cal, const Record& record, int64_t now,
                 UserState* state) {
  uint32_t seq = ++state->seq;
  if (record.has_event) {
    if (const auto* fs = rules.FeaturesFor(record.event)) {
      for (int f : *fs) {
        if (Matches(rules.features()[f].selector, record)) {
          ApplyToFeature(rules.features()[f], cal, record, now, &state->features[f]);
        }
      }
    }
    if (const auto* fns = rules.FunnelsFor(record.event)) {
      for (int f : *fns) ApplyToFunnel(rules.funnels()[f], cal, record, seq, &state->funnels[f]);
    }
  }
  if (record.set.empty() && record.unset.empty()) return;
  int32_t today = cal.DayOf(now);
  for (const Prop& p : record.set) {
    int id = rules.PropIndex(p.name);
    if (id >= 0) UpdateProp(rules.props()[id], cal, today, {record.ts_ms, seq, p.value}, &state->props[id]);
  }
  for (const std::string& name : record.unset) {
    int id = rules.PropIndex(name);
    if (id >= 0) UpdateProp(rules.props()[id], cal, today, {record.ts_ms, seq, {}}, &state->props[id]);
  }
}

void CompactState(const RuleSet& rules, const Calendar& cal, int64_t now, UserState* state) {
  int32_t today = cal.DayOf(now);
  int64_t hour = -1;
  for (size_t i = 0; i < rules.features().size(); ++i) {
    const FeatureSpec& spec = rules.features()[i];
    FeatureState& fs = state->features[i];
    if (!fs.days.empty()) {
      int64_t min_day = spec.day_horizon > 0 ? today - spec.day_horizon + 1 : INT64_MAX;
      fs.days.PruneBefore(min_day, [&spec](int64_t d) { return spec.InDateRange(d); });
    }
    if (!fs.hours.empty()) {
      if (hour < 0) hour = cal.HourOf(now);
      fs.hours.PruneBefore(hour - spec.hour_horizon + 1, [](int64_t) { return false; });
    }
  }
  for (size_t i = 0; i < rules.props().size(); ++i) {
    if (rules.props()[i].yesterday) FoldRecent(today, &state->props[i]);
  }
  // A previous day's attempt older than yesterday is in no window any more.
  for (size_t i = 0; i < rules.funnels().size(); ++i) {
    FunnelState& fs = state->funnels[i];
    if (fs.prev_attempt && cal.DayOf(fs.prev_attempt->ts) < today - 1) {
      fs.prev_attempt.reset();
      if (auto anchor = StepAnchor(rules.funnels()[i], cal, fs)) PruneSteps(*anchor, &fs);
    }
  }
}

const PropUpdate* CurrentProp(const PropState& ps) {
  const PropUpdate* best = ps.base ? &*ps.base : nullptr;
  for (const auto& [day, u] : ps.recent) {
    if (best == nullptr || !best->After(u)) best = &u;
  }
  return best;
}

const PropUpdate* PropBeforeDay(const PropState& ps, int32_t before_day) {
  // `base` holds updates of days before the last fold, which is at most
  // the day of any instant the evaluator asks about.
  const PropUpdate* best = ps.base ? &*ps.base : nullptr;
  for (const auto& [day, u] : ps.recent) {
    if (day >= before_day) break;
    if (best == nullptr || !best->After(u)) best = &u;
  }
  return best;
}

}  // namespace segd::rules
