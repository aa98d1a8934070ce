#include "coverage.h"

#include <map>
#include <set>

#include "reference.h"

namespace segd_ref {
namespace {

// Constructs the generated rules are built to reach, in report order.
const char* const kConstructs[] = {"and",
                                   "or",
                                   "not",
                                   "compare =",
                                   "compare !=",
                                   "compare <",
                                   "compare <=",
                                   "compare >",
                                   "compare >=",
                                   "in [...]",
                                   "count",
                                   "active_days",
                                   "sum",
                                   "days_since",
                                   "did",
                                   "user.p",
                                   "user.p@yesterday",
                                   "filter =",
                                   "filter !=",
                                   "filter >=",
                                   "filter in [...]",
                                   "in_segment",
                                   "in_list",
                                   "dropped 2 steps",
                                   "dropped 3+ steps",
                                   "window Nd",
                                   "window Nh",
                                   "window today",
                                   "window yesterday",
                                   "window date range",
                                   "window all time"};
const char* const kSumNonNumeric = "sum over a non-numeric value";
const char* const kMissingCompare = "comparison with a missing value";
const char* const kNeverDone = "days_since of a never-done event";

const char* const kBoundaries[] = {"midnight",
                                   "hour",
                                   "DST change day",
                                   "funnel deadline",
                                   "late record past a funnel deadline",
                                   "date-range end",
                                   "late record into a closed date range",
                                   "late record",
                                   "unset",
                                   "list",
                                   "@yesterday at midnight",
                                   "days_since at midnight"};

void WindowFeature(const Window& w, std::set<std::string>* out) {
  switch (w.kind) {
    case Window::Kind::kAllTime:
      out->insert("window all time");
      break;
    case Window::Kind::kDays:
      out->insert("window Nd");
      break;
    case Window::Kind::kHours:
      out->insert("window Nh");
      break;
    case Window::Kind::kToday:
      out->insert("window today");
      break;
    case Window::Kind::kYesterday:
      out->insert("window yesterday");
      break;
    case Window::Kind::kRange:
      out->insert("window date range");
      break;
  }
}

void SelectorFeatures(const Selector& s, std::set<std::string>* out) {
  for (const Filter& f : s.filters) {
    out->insert(f.is_in ? std::string("filter in [...]")
                        : "filter " + std::string(CmpOpText(f.op)));
  }
}

void ValueFeatures(const ValueExpr& v, std::set<std::string>* out) {
  switch (v.kind) {
    case ValueExpr::Kind::kLiteral:
      return;
    case ValueExpr::Kind::kUserProp:
      out->insert(v.at_yesterday ? "user.p@yesterday" : "user.p");
      return;
    case ValueExpr::Kind::kDaysSince:
      out->insert("days_since");
      break;
    case ValueExpr::Kind::kCount:
      out->insert("count");
      break;
    case ValueExpr::Kind::kActiveDays:
      out->insert("active_days");
      break;
    case ValueExpr::Kind::kSum:
      out->insert("sum");
      break;
  }
  SelectorFeatures(v.selector, out);
  if (v.kind != ValueExpr::Kind::kDaysSince) WindowFeature(v.window, out);
}

std::set<std::string> NodeFeatures(const Node& n) {
  std::set<std::string> out;
  switch (n.kind) {
    case Node::Kind::kAnd:
      out.insert("and");
      break;
    case Node::Kind::kOr:
      out.insert("or");
      break;
    case Node::Kind::kNot:
      out.insert("not");
      break;
    case Node::Kind::kCompare:
      out.insert("compare " + std::string(CmpOpText(n.op)));
      ValueFeatures(n.lhs, &out);
      ValueFeatures(n.rhs, &out);
      break;
    case Node::Kind::kIn:
      out.insert("in [...]");
      ValueFeatures(n.lhs, &out);
      break;
    case Node::Kind::kDid:
    case Node::Kind::kDropped:
      out.insert(n.kind == Node::Kind::kDid ? "did"
                 : n.steps.size() == 2      ? "dropped 2 steps"
                                            : "dropped 3+ steps");
      for (const Selector& s : n.steps) SelectorFeatures(s, &out);
      WindowFeature(n.window, &out);
      break;
    case Node::Kind::kInSegment:
      out.insert("in_segment");
      break;
    case Node::Kind::kInList:
      out.insert("in_list");
      break;
  }
  return out;
}

// What a segment's own rule reads (not through in_segment).
struct SegmentTraits {
  bool list = false, user_prop = false, at_yesterday = false, days_since = false, dropped = false;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // date-range windows: from, to
};

SegmentTraits TraitsOf(const Node& root) {
  SegmentTraits t;
  ForEachNode(root, [&](const Node& n) {
    if (n.kind == Node::Kind::kInList) t.list = true;
    if (n.kind == Node::Kind::kDropped) t.dropped = true;
    for (const Window* w : {&n.window, &n.lhs.window, &n.rhs.window}) {
      if (w->kind == Window::Kind::kRange) t.ranges.emplace_back(w->from_day, w->to_day);
    }
    for (const ValueExpr* v : {&n.lhs, &n.rhs}) {
      if (n.kind != Node::Kind::kCompare && n.kind != Node::Kind::kIn) continue;
      if (v->kind == ValueExpr::Kind::kUserProp) {
        t.user_prop = true;
        t.at_yesterday |= v->at_yesterday;
      }
      if (v->kind == ValueExpr::Kind::kDaysSince) t.days_since = true;
    }
  });
  return t;
}

}  // namespace

bool CoverageReport::AllReached() const {
  for (const auto& items : {constructs, boundaries}) {
    for (const CoverageItem& item : items) {
      if (item.count == 0) return false;
    }
  }
  return true;
}

std::string CoverageReport::ToText() const {
  std::string out = "users " + std::to_string(users) + ", records " + std::to_string(records) +
                    " (rejected " + std::to_string(rejected) + ", late " + std::to_string(late) +
                    "), changes " + std::to_string(changes) + " (time " +
                    std::to_string(time_changes) + ")\n";
  auto list = [&](const char* kind, const std::vector<CoverageItem>& items) {
    for (const CoverageItem& item : items) {
      out += std::string(kind) + " " + item.name + ": " +
             (item.count > 0 ? std::to_string(item.count) : "NOT REACHED") + "\n";
    }
  };
  list("construct", constructs);
  list("boundary", boundaries);
  out += std::string("all reached: ") + (AllReached() ? "yes" : "no") + "\n";
  return out;
}

bool MeasureCoverage(const RuleSet& rules, const std::vector<std::string>& records,
                     CoverageReport* report, std::vector<std::string>* changes,
                     std::string* error) {
  auto ref = Reference::Create(rules, error);
  if (!ref) return false;
  *report = CoverageReport();
  const Calendar& cal = ref->calendar();
  std::map<std::string, size_t> segment_index;
  std::vector<SegmentTraits> traits;
  for (size_t i = 0; i < rules.segments.size(); ++i) {
    segment_index[rules.segments[i].id] = i;
    traits.push_back(TraitsOf(ref->rule(i)));
  }
  std::set<std::string> listed;
  for (const auto& [name, users] : rules.lists) listed.insert(users.begin(), users.end());
  std::map<int64_t, bool> dst_day;
  auto is_dst_day = [&](int64_t day) {
    auto it = dst_day.find(day);
    if (it == dst_day.end()) it = dst_day.emplace(day, cal.DayLengthMs(day) != kDayMs).first;
    return it->second;
  };
  std::map<std::string, int64_t> boundary;
  for (const std::string& line : records) {
    ++report->records;
    FeedResult r = ref->Feed(line);
    if (!r.accepted) {
      ++report->rejected;
      continue;
    }
    if (r.late) ++report->late;
    for (const Change& c : r.changes) {
      if (changes != nullptr) changes->push_back(c.ToJson());
      ++report->changes;
      const SegmentTraits& t = traits[segment_index.at(c.segment)];
      if (c.time_cause) {
        ++report->time_changes;
        bool day_start = cal.IsDayStart(c.at);
        bool hour_start = cal.IsHourStart(c.at);
        if (day_start) {
          ++boundary["midnight"];
          if (t.at_yesterday) ++boundary["@yesterday at midnight"];
          if (t.days_since) ++boundary["days_since at midnight"];
        } else if (hour_start) {
          ++boundary["hour"];
        }
        int64_t day = cal.Day(c.at);
        if (is_dst_day(day) || (day_start && is_dst_day(day - 1))) ++boundary["DST change day"];
        if (!hour_start && ref->IsDeadline(c.user_id, c.at)) ++boundary["funnel deadline"];
      } else {
        if (r.late) {
          ++boundary["late record"];
          if (t.dropped && c.enter) ++boundary["late record past a funnel deadline"];
          int64_t ts_day = cal.Day(r.record.ts);
          for (const auto& [from, to] : t.ranges) {
            if (from <= ts_day && ts_day <= to && to < cal.Day(c.at)) {
              ++boundary["late record into a closed date range"];
            }
          }
        }
        if (r.record.RemovesProperty() && t.user_prop) ++boundary["unset"];
      }
      if (t.list && listed.count(c.user_id) > 0) ++boundary["list"];
    }
    if (r.had_clock) {
      for (size_t i = 0; i < traits.size(); ++i) {
        for (const auto& [from, to] : traits[i].ranges) {
          int64_t end = cal.StartOfDay(to + 1);
          if (r.clock_before < end && end <= ref->now() && ref->MemberCount(i) > 0) {
            ++boundary["date-range end"];
          }
        }
      }
    }
  }
  report->users = static_cast<int64_t>(ref->user_count());

  std::map<std::string, int64_t> construct;
  for (size_t i = 0; i < rules.segments.size(); ++i) {
    ForEachNode(ref->rule(i), [&](const Node& n) {
      const NodeStats& s = ref->node_stats()[i][n.id];
      if (s.true_count == 0 || s.false_count == 0) return;
      for (const std::string& f : NodeFeatures(n)) construct[f] += s.true_count + s.false_count;
    });
  }
  for (const char* name : kConstructs) report->constructs.push_back({name, construct[name]});
  const EvalCounters& counters = ref->counters();
  report->constructs.push_back({kSumNonNumeric, counters.sum_non_numeric});
  report->constructs.push_back({kMissingCompare, counters.missing_compare});
  report->constructs.push_back({kNeverDone, counters.infinite_days_since});
  for (const char* name : kBoundaries) report->boundaries.push_back({name, boundary[name]});
  return true;
}

}  // namespace segd_ref
