#include "rules/user_report.h"

#include "common/json.h"
#include "rules/features.h"
#include "rules/parser.h"
#include "rules/value.h"

namespace segd::rules {

namespace {

std::vector<UserReport::Bucket> Buckets(const Calendar& cal, const BucketSeries& series,
                                        bool hours) {
  std::vector<UserReport::Bucket> out;
  for (size_t i = 0; i < series.size(); ++i) {
    UserReport::Bucket b;
    int64_t start = hours ? cal.HourStart(series.unit(i))
                          : cal.DayStart(static_cast<int32_t>(series.unit(i)));
    b.unit = hours ? cal.FormatLocal(start) : cal.FormatLocal(start).substr(0, 10);
    b.count = series.count(i);
    for (int k = 0; k < series.nsums(); ++k) b.sums.push_back(FormatMillionths(series.sum(i, k)));
    out.push_back(std::move(b));
  }
  return out;
}

std::string FunnelText(const FunnelSpec& f) {
  Expr e;
  e.kind = Expr::Kind::kDropped;
  e.steps = f.steps;
  e.within_ms = f.within_ms;
  e.window = f.window;
  return ToString(e);
}

}  // namespace

UserReport DescribeUser(const PartitionView& view, const PartitionView::User& user,
                        const ListMembership* lists) {
  const RuleSet& rules = view.rules();
  Evaluator eval(&rules);
  const Calendar& cal = eval.calendar();
  const UserState& st = user.record.state;
  UserReport r;
  r.user_id = user.user_id;
  r.dense_id = user.dense_id;
  r.time_zone = cal.zone_name();
  r.now = MakeInstant(cal, view.now());
  r.records = st.seq;
  r.timer = MakeInstant(cal, user.record.timer);
  int32_t today = cal.DayOf(view.now());
  for (size_t i = 0; i < rules.props().size(); ++i) {
    const PropSpec& spec = rules.props()[i];
    UserReport::Prop p;
    p.name = spec.name;
    const PropUpdate* u = CurrentProp(st.props[i]);
    p.current = MakeValue("user." + spec.name,
                          u == nullptr ? Val::Missing() : Val::FromProp(u->value));
    if (u != nullptr) p.set_at = MakeInstant(cal, u->ts);
    if (spec.yesterday) {
      const PropUpdate* y = PropBeforeDay(st.props[i], today);
      p.yesterday = MakeValue("user." + spec.name + "@yesterday",
                              y == nullptr ? Val::Missing() : Val::FromProp(y->value));
    }
    r.props.push_back(std::move(p));
  }
  for (size_t i = 0; i < rules.features().size(); ++i) {
    const FeatureSpec& spec = rules.features()[i];
    const FeatureState& fs = st.features[i];
    UserReport::Feature f;
    f.selector = spec.key;
    f.count = fs.count;
    f.sum_props = spec.sum_props;
    for (int64_t s : fs.sums) f.sums.push_back(FormatMillionths(s));
    f.last = MakeInstant(cal, fs.last_ts);
    f.days = Buckets(cal, fs.days, false);
    f.hours = Buckets(cal, fs.hours, true);
    f.has_active_days = spec.all_active_days;
    for (int32_t d : fs.active_days) {
      f.active_days.push_back(cal.FormatLocal(cal.DayStart(d)).substr(0, 10));
    }
    r.features.push_back(std::move(f));
  }
  for (size_t i = 0; i < rules.funnels().size(); ++i) {
    const FunnelSpec& spec = rules.funnels()[i];
    const FunnelState& fs = st.funnels[i];
    UserReport::Funnel f;
    f.text = FunnelText(spec);
    if (fs.attempt) f.attempt = MakeInstant(cal, fs.attempt->ts);
    if (fs.prev_attempt) f.prev_attempt = MakeInstant(cal, fs.prev_attempt->ts);
    for (size_t k = 0; k < fs.steps.size(); ++k) {
      std::vector<Instant> events;
      for (const EventRef& e : fs.steps[k]) events.push_back(MakeInstant(cal, e.ts));
      f.steps.emplace_back(ToString(spec.steps[k + 1]), std::move(events));
    }
    r.funnels.push_back(std::move(f));
  }
  EvalInput in{&st, user.user_id, view.now(), lists, nullptr};
  for (size_t s = 0; s < rules.segments().size(); ++s) {
    UserReport::Segment seg;
    seg.id = rules.segments()[s].id;
    seg.member = user.members[s] != 0;
    seg.verdict = eval.Segment(static_cast<int>(s), in);
    for (const auto& [index, n] : user.record.changes) {
      const std::string* id = view.StoredSegmentId(index);
      if (id != nullptr && *id == seg.id) seg.changes = n;
    }
    r.segments.push_back(std::move(seg));
  }
  return r;
}

namespace {

void Key(std::string* out, const char* key) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
}

void InstantJson(std::string* out, const Instant& t) {
  if (t.ms == kNever) {
    out->append("null");
    return;
  }
  out->append("{\"at\":").append(std::to_string(t.ms)).append(",\"local\":");
  AppendJsonString(out, t.local);
  out->push_back('}');
}

void StringsJson(std::string* out, const std::vector<std::string>& v, bool quoted) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out->push_back(',');
    if (quoted) {
      AppendJsonString(out, v[i]);
    } else {
      out->append(v[i]);
    }
  }
  out->push_back(']');
}

void BucketsJson(std::string* out, const std::vector<UserReport::Bucket>& buckets) {
  out->push_back('[');
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append("{\"unit\":");
    AppendJsonString(out, buckets[i].unit);
    out->append(",\"count\":").append(std::to_string(buckets[i].count));
    if (!buckets[i].sums.empty()) {
      out->append(",\"sums\":");
      StringsJson(out, buckets[i].sums, false);
    }
    out->push_back('}');
  }
  out->push_back(']');
}

std::string BucketsText(const std::vector<UserReport::Bucket>& buckets,
                        const std::vector<std::string>& sum_props) {
  std::string out;
  for (const auto& b : buckets) {
    out += (out.empty() ? "" : ", ") + b.unit + ": " + std::to_string(b.count);
    for (size_t k = 0; k < b.sums.size() && k < sum_props.size(); ++k) {
      out += " (" + sum_props[k] + " " + b.sums[k] + ")";
    }
  }
  return out;
}

}  // namespace

std::string ToJson(const UserReport& r) {
  std::string out = "{";
  Key(&out, "user_id");
  AppendJsonString(&out, r.user_id);
  Key(&out, "dense_id");
  out += std::to_string(r.dense_id);
  Key(&out, "time_zone");
  AppendJsonString(&out, r.time_zone);
  Key(&out, "now");
  InstantJson(&out, r.now);
  Key(&out, "records");
  out += std::to_string(r.records);
  Key(&out, "timer");
  InstantJson(&out, r.timer);
  Key(&out, "segments");
  out += "[";
  for (size_t i = 0; i < r.segments.size(); ++i) {
    const auto& s = r.segments[i];
    out += i > 0 ? ",{" : "{";
    Key(&out, "id");
    AppendJsonString(&out, s.id);
    out += std::string(",\"member\":") + (s.member ? "true" : "false") +
           ",\"verdict\":" + (s.verdict ? "true" : "false") +
           ",\"changes\":" + std::to_string(s.changes) + "}";
  }
  out += "]";
  Key(&out, "properties");
  out += "[";
  for (size_t i = 0; i < r.props.size(); ++i) {
    const auto& p = r.props[i];
    out += i > 0 ? ",{" : "{";
    Key(&out, "name");
    AppendJsonString(&out, p.name);
    Key(&out, "current");
    AppendValueJson(&out, p.current);
    Key(&out, "set_at");
    InstantJson(&out, p.set_at);
    if (p.yesterday) {
      Key(&out, "yesterday");
      AppendValueJson(&out, *p.yesterday);
    }
    out += "}";
  }
  out += "]";
  Key(&out, "features");
  out += "[";
  for (size_t i = 0; i < r.features.size(); ++i) {
    const auto& f = r.features[i];
    out += i > 0 ? ",{" : "{";
    Key(&out, "selector");
    AppendJsonString(&out, f.selector);
    Key(&out, "count");
    out += std::to_string(f.count);
    if (!f.sum_props.empty()) {
      Key(&out, "sum_props");
      StringsJson(&out, f.sum_props, true);
      Key(&out, "sums");
      StringsJson(&out, f.sums, false);
    }
    Key(&out, "last");
    InstantJson(&out, f.last);
    Key(&out, "days");
    BucketsJson(&out, f.days);
    Key(&out, "hours");
    BucketsJson(&out, f.hours);
    if (f.has_active_days) {
      Key(&out, "active_days");
      StringsJson(&out, f.active_days, true);
    }
    out += "}";
  }
  out += "]";
  Key(&out, "funnels");
  out += "[";
  for (size_t i = 0; i < r.funnels.size(); ++i) {
    const auto& f = r.funnels[i];
    out += i > 0 ? ",{" : "{";
    Key(&out, "funnel");
    AppendJsonString(&out, f.text);
    Key(&out, "attempt");
    InstantJson(&out, f.attempt);
    Key(&out, "prev_attempt");
    InstantJson(&out, f.prev_attempt);
    Key(&out, "steps");
    out += "[";
    for (size_t k = 0; k < f.steps.size(); ++k) {
      out += k > 0 ? ",{" : "{";
      Key(&out, "step");
      AppendJsonString(&out, f.steps[k].first);
      Key(&out, "events");
      out += "[";
      for (size_t j = 0; j < f.steps[k].second.size(); ++j) {
        if (j > 0) out += ",";
        InstantJson(&out, f.steps[k].second[j]);
      }
      out += "]}";
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string ToText(const UserReport& r) {
  std::string out = "user " + r.user_id + " (dense id " + std::to_string(r.dense_id) + ", " +
                    std::to_string(r.records) + " records) at " + r.now.local + "\n";
  out += "timer: " + (r.timer.ms == kNever ? std::string("none") : r.timer.local) + "\n";
  out += "segments:";
  bool any = false;
  for (const auto& s : r.segments) {
    if (!s.member && !s.verdict) continue;
    out += " " + s.id;
    if (s.member != s.verdict) {
      out += s.member ? " (stored in, rule now out)" : " (rule now in, stored out)";
    }
    any = true;
  }
  out += any ? "\n" : " none\n";
  if (!r.props.empty()) out += "properties:\n";
  for (const auto& p : r.props) {
    out += "  user." + p.name + " = " + p.current.Display();
    if (p.set_at.ms != kNever) out += " (since " + p.set_at.local + ")";
    if (p.yesterday) out += "; @yesterday = " + p.yesterday->Display();
    out += "\n";
  }
  if (!r.features.empty()) out += "features:\n";
  for (const auto& f : r.features) {
    out += "  " + f.selector + ": " + std::to_string(f.count) + " all time";
    for (size_t k = 0; k < f.sum_props.size() && k < f.sums.size(); ++k) {
      out += ", sum of " + f.sum_props[k] + " " + f.sums[k];
    }
    if (f.last.ms != kNever) out += ", last " + f.last.local;
    out += "\n";
    if (!f.days.empty()) out += "    days: " + BucketsText(f.days, f.sum_props) + "\n";
    if (!f.hours.empty()) out += "    hours: " + BucketsText(f.hours, f.sum_props) + "\n";
    if (f.has_active_days) {
      out += "    active days (" + std::to_string(f.active_days.size()) + "):";
      for (const auto& d : f.active_days) out += " " + d;
      out += "\n";
    }
  }
  if (!r.funnels.empty()) out += "funnels:\n";
  for (const auto& f : r.funnels) {
    out += "  " + f.text + ": attempt " + (f.attempt.ms == kNever ? "none" : f.attempt.local);
    if (f.prev_attempt.ms != kNever) out += ", previous day's attempt " + f.prev_attempt.local;
    out += "\n";
    for (const auto& [step, events] : f.steps) {
      if (events.empty()) continue;
      out += "    " + step + ":";
      for (const auto& e : events) out += " " + e.local;
      out += "\n";
    }
  }
  return out;
}

}  // namespace segd::rules
