#include "rules/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "rules/checker.h"
#include "rules/parser.h"

namespace segd::rules {

int FeatureSpec::SumIndex(const std::string& prop) const {
  auto it = std::find(sum_props.begin(), sum_props.end(), prop);
  return it == sum_props.end() ? -1 : static_cast<int>(it - sum_props.begin());
}

bool FeatureSpec::InDateRange(int64_t day) const {
  for (const auto& [first, last] : date_ranges) {
    if (day >= first && day <= last) return true;
  }
  return false;
}

// Walks the checked trees once, interning features, properties, funnels and
// lists and filling every `ref`.
class Planner {
 public:
  explicit Planner(RuleSet* rs) : rs_(rs) {}

  void PlanSegment(int index) {
    CompiledSegment& seg = rs_->segments_[index];
    events_.clear();
    props_.clear();
    lists_.clear();
    time_ = false;
    Visit(*seg.rule, seg);
    for (int dep : seg.depends_on) {
      const CompiledSegment& d = rs_->segments_[dep];
      if (d.time_dependent) time_ = true;
      events_.insert(seg_events_[dep].begin(), seg_events_[dep].end());
      props_.insert(seg_props_[dep].begin(), seg_props_[dep].end());
      lists_.insert(seg_lists_[dep].begin(), seg_lists_[dep].end());
    }
    seg.time_dependent = time_;
    for (const auto& e : events_) rs_->segments_by_event_[e].push_back(index);
    for (const auto& p : props_) rs_->segments_by_prop_[p].push_back(index);
    for (int l : lists_) by_list_[l].push_back(index);
    seg_events_.push_back(events_);
    seg_props_.push_back(props_);
    seg_lists_.push_back(lists_);
  }

  // After every segment: the per-list tables, sized to every list known.
  void Finish() {
    size_t n = rs_->list_names_.size();
    rs_->segments_by_list_.assign(n, {});
    for (auto& [l, segs] : by_list_) rs_->segments_by_list_[l] = std::move(segs);
    rs_->list_sets_.resize(n);
    rs_->list_digests_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto it = rs_->lists_.find(rs_->list_names_[i]);
      std::vector<std::string_view> ids;
      if (it != rs_->lists_.end()) {
        for (const std::string& u : it->second) {
          if (rs_->list_sets_[i].insert(u).second) ids.push_back(u);
        }
      }
      // FNV-1a over the sorted distinct ids, each ended by a 0 byte.
      std::sort(ids.begin(), ids.end());
      uint64_t h = 1469598103934665603ull;
      auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 1099511628211ull;
      };
      for (std::string_view u : ids) {
        for (char c : u) mix(static_cast<unsigned char>(c));
        mix(0);
      }
      rs_->list_digests_[i] = fmt::format("{:016x}", h);
    }
  }

 private:
  int InternFeature(const Selector& s) {
    std::string key = ToString(s);
    for (size_t i = 0; i < rs_->features_.size(); ++i) {
      if (rs_->features_[i].key == key) return static_cast<int>(i);
    }
    FeatureSpec f;
    f.selector = s;
    f.key = key;
    rs_->features_.push_back(std::move(f));
    int id = static_cast<int>(rs_->features_.size() - 1);
    rs_->features_by_event_[s.event].push_back(id);
    return id;
  }

  void NeedWindow(FeatureSpec& f, const Window& w, bool active_days) {
    switch (w.kind) {
      case Window::Kind::kAllTime:
        if (active_days) f.all_active_days = true;
        break;
      case Window::Kind::kDays: f.day_horizon = std::max(f.day_horizon, w.n); break;
      case Window::Kind::kHours: f.hour_horizon = std::max<int64_t>(f.hour_horizon, w.n); break;
      case Window::Kind::kToday: f.day_horizon = std::max(f.day_horizon, 1); break;
      case Window::Kind::kYesterday: f.day_horizon = std::max(f.day_horizon, 2); break;
      case Window::Kind::kDateRange: {
        auto range = std::make_pair(w.first_day, w.last_day);
        if (std::find(f.date_ranges.begin(), f.date_ranges.end(), range) == f.date_ranges.end()) {
          f.date_ranges.push_back(range);
        }
        break;
      }
    }
    if (w.kind != Window::Kind::kAllTime && w.kind != Window::Kind::kDateRange) time_ = true;
  }

  void VisitValue(Value& v) {
    switch (v.kind) {
      case Value::Kind::kLiteral: return;
      case Value::Kind::kAggregate: {
        v.ref = InternFeature(v.selector);
        FeatureSpec& f = rs_->features_[v.ref];
        if (v.agg == AggKind::kSum && f.SumIndex(v.prop) < 0) f.sum_props.push_back(v.prop);
        NeedWindow(f, v.window, v.agg == AggKind::kActiveDays);
        events_.insert(v.selector.event);
        return;
      }
      case Value::Kind::kDaysSince:
        v.ref = InternFeature(v.selector);
        events_.insert(v.selector.event);
        time_ = true;
        return;
      case Value::Kind::kUserProp: {
        int id = rs_->PropIndex(v.prop);
        if (id < 0) {
          rs_->props_.push_back({v.prop, false});
          id = static_cast<int>(rs_->props_.size() - 1);
        }
        if (v.at_yesterday) {
          rs_->props_[id].yesterday = true;
          time_ = true;
        }
        v.ref = id;
        props_.insert(v.prop);
        return;
      }
    }
  }

  int InternFunnel(const Expr& e) {
    std::string key = fmt::format("{}|{}", e.within_ms, ToString(e.window));
    for (const auto& s : e.steps) key += "|" + ToString(s);
    for (size_t i = 0; i < rs_->funnels_.size(); ++i) {
      if (rs_->funnels_[i].key == key) return static_cast<int>(i);
    }
    rs_->funnels_.push_back({e.steps, e.within_ms, e.window, key});
    int id = static_cast<int>(rs_->funnels_.size() - 1);
    std::set<std::string> events;
    for (const auto& s : e.steps) events.insert(s.event);
    for (const auto& ev : events) rs_->funnels_by_event_[ev].push_back(id);
    return id;
  }

  void Visit(Expr& e, CompiledSegment& seg) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot:
        for (auto& c : e.children) Visit(*c, seg);
        return;
      case Expr::Kind::kCompare:
        VisitValue(e.lhs);
        VisitValue(e.rhs);
        return;
      case Expr::Kind::kIn:
        VisitValue(e.lhs);
        return;
      case Expr::Kind::kDid: {
        e.ref = InternFeature(e.selector);
        NeedWindow(rs_->features_[e.ref], e.window, false);
        events_.insert(e.selector.event);
        return;
      }
      case Expr::Kind::kInSegment:
        for (size_t i = 0; i < rs_->segments_.size(); ++i) {
          if (rs_->segments_[i].id == e.name) e.ref = static_cast<int>(i);
        }
        if (std::find(seg.depends_on.begin(), seg.depends_on.end(), e.ref) ==
            seg.depends_on.end()) {
          seg.depends_on.push_back(e.ref);
        }
        return;
      case Expr::Kind::kInList: {
        int id = rs_->ListIndex(e.name);
        if (id < 0) {
          rs_->list_names_.push_back(e.name);
          id = static_cast<int>(rs_->list_names_.size() - 1);
        }
        e.ref = id;
        lists_.insert(id);
        return;
      }
      case Expr::Kind::kDropped:
        e.ref = InternFunnel(e);
        for (const auto& s : e.steps) events_.insert(s.event);
        time_ = true;
        return;
    }
  }

  RuleSet* rs_;
  std::set<std::string> events_, props_;
  std::set<int> lists_;
  bool time_ = false;
  std::vector<std::set<std::string>> seg_events_, seg_props_;
  std::vector<std::set<int>> seg_lists_;
  std::map<int, std::vector<int>> by_list_;
};

Result<RuleSet> RuleSet::Compile(const RuleFile& file, const CompileOptions& options,
                                 std::vector<RuleError>* errors,
                                 std::vector<RuleError>* warnings) {
  errors->clear();
  warnings->clear();
  RuleSet rs;
  auto cal = Calendar::ForZone(file.timezone);
  if (!cal.ok()) {
    errors->push_back({file.timezone_pos, cal.status().message()});
  } else {
    rs.calendar_ = *cal;
  }
  rs.lists_ = file.lists;
  for (const auto& [name, ids] : file.lists) rs.list_names_.push_back(name);

  CheckContext ctx;
  ctx.max_window_days = options.max_window_days;
  ctx.known_lists = rs.list_names_;
  for (const SegmentDef& def : file.segments) {
    std::vector<Diagnostic> diags, warns;
    auto rule = ParseRule(def.rule, &diags);
    if (rule.ok()) {
      ctx.self_id = def.id;
      CheckRule(**rule, ctx, &diags, &warns);
    }
    for (const auto& d : diags) {
      errors->push_back({MapRulePos(def, d.pos), "segment " + def.id + ": " + d.reason});
    }
    for (const auto& w : warns) {
      warnings->push_back({MapRulePos(def, w.pos), "segment " + def.id + ": " + w.reason});
    }
    ctx.earlier_segments.push_back(def.id);
    if (!rule.ok() || !diags.empty()) continue;
    CompiledSegment seg;
    seg.id = def.id;
    seg.name = def.name;
    seg.rule_text = def.rule;
    seg.emit_initial = def.emit_initial;
    seg.rule = std::move(rule).value();
    rs.segments_.push_back(std::move(seg));
  }
  if (!errors->empty()) return Status::InvalidArgument(errors->front().ToString());
  Planner planner(&rs);
  for (size_t i = 0; i < rs.segments_.size(); ++i) planner.PlanSegment(static_cast<int>(i));
  planner.Finish();
  return rs;
}

const std::vector<int>* RuleSet::FeaturesFor(const std::string& event) const {
  auto it = features_by_event_.find(event);
  return it == features_by_event_.end() ? nullptr : &it->second;
}

const std::vector<int>* RuleSet::FunnelsFor(const std::string& event) const {
  auto it = funnels_by_event_.find(event);
  return it == funnels_by_event_.end() ? nullptr : &it->second;
}

const std::vector<int>* RuleSet::SegmentsForEvent(const std::string& event) const {
  auto it = segments_by_event_.find(event);
  return it == segments_by_event_.end() ? nullptr : &it->second;
}

const std::vector<int>* RuleSet::SegmentsForProp(const std::string& prop) const {
  auto it = segments_by_prop_.find(prop);
  return it == segments_by_prop_.end() ? nullptr : &it->second;
}

int RuleSet::PropIndex(const std::string& name) const {
  for (size_t i = 0; i < props_.size(); ++i) {
    if (props_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int RuleSet::ListIndex(const std::string& name) const {
  for (size_t i = 0; i < list_names_.size(); ++i) {
    if (list_names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool RuleSet::InList(int list, std::string_view user_id) const {
  return list >= 0 && static_cast<size_t>(list) < list_sets_.size() &&
         list_sets_[list].find(user_id) != list_sets_[list].end();
}

std::string RuleSet::Describe() const {
  std::string out = fmt::format("time zone: {}\n", calendar_.zone_name());
  out += fmt::format("features kept per user ({}):\n", features_.size());
  for (size_t i = 0; i < features_.size(); ++i) {
    const FeatureSpec& f = features_[i];
    out += fmt::format("  f{} {}: all-time count", i, f.key);
    for (const auto& p : f.sum_props) out += ", sum of " + p;
    if (f.day_horizon > 0) out += fmt::format(", day buckets for {} days", f.day_horizon);
    if (f.hour_horizon > 0) out += fmt::format(", hour buckets for {} hours", f.hour_horizon);
    for (const auto& [a, b] : f.date_ranges) out += fmt::format(", days {}..{}", a, b);
    if (f.all_active_days) out += ", all-time active days";
    out += ", last time\n";
  }
  for (size_t i = 0; i < props_.size(); ++i) {
    out += fmt::format("  p{} user.{}{}\n", i, props_[i].name,
                       props_[i].yesterday ? " (current and as of yesterday)" : "");
  }
  for (size_t i = 0; i < funnels_.size(); ++i) {
    out += fmt::format("  funnel{} {} steps, within {} ms, window {}\n", i,
                       funnels_[i].steps.size(), funnels_[i].within_ms,
                       ToString(funnels_[i].window));
  }
  out += fmt::format("segments ({}):\n", segments_.size());
  for (const auto& s : segments_) {
    out += fmt::format("  {}: {}{}\n", s.id, s.rule_text,
                       s.time_dependent ? "  [changes with time]" : "");
  }
  out += "records → segments:\n";
  std::map<std::string, std::vector<int>> sorted(segments_by_event_.begin(),
                                                 segments_by_event_.end());
  for (const auto& [event, segs] : sorted) {
    out += "  event " + event + " →";
    for (int s : segs) out += " " + segments_[s].id;
    out += "\n";
  }
  std::map<std::string, std::vector<int>> psorted(segments_by_prop_.begin(),
                                                  segments_by_prop_.end());
  for (const auto& [prop, segs] : psorted) {
    out += "  user." + prop + " →";
    for (int s : segs) out += " " + segments_[s].id;
    out += "\n";
  }
  return out;
}

}  // namespace segd::rules
