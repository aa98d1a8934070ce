#include "reference.h"

#include <algorithm>

#include "json_value.h"

namespace segd_ref {

std::string Change::ToJson() const {
  std::string id = segment + ":1:" + std::to_string(n) + ":" + user_id;
  return "{\"id\":" + JsonQuote(id) + ",\"user_id\":" + JsonQuote(user_id) +
         ",\"segment\":" + JsonQuote(segment) + ",\"change\":\"" + (enter ? "enter" : "leave") +
         "\",\"at\":" + std::to_string(at) + ",\"cause\":\"" + (time_cause ? "time" : "event") +
         "\"}";
}

std::unique_ptr<Reference> Reference::Create(const RuleSet& rules, std::string* error,
                                             ReferenceOptions options) {
  std::unique_ptr<Reference> ref(new Reference());
  ref->rules_ = rules;
  ref->options_ = options;
  if (!ref->calendar_.Load(rules.timezone, error)) return nullptr;
  for (const auto& [name, users] : rules.lists) {
    ref->lists_[name].insert(users.begin(), users.end());
  }
  for (size_t i = 0; i < rules.segments.size(); ++i) {
    const SegmentDef& seg = rules.segments[i];
    std::string parse_error;
    auto root = ParseRule(seg.rule, &parse_error);
    if (!root) {
      *error = "segment " + seg.id + ": " + parse_error;
      return nullptr;
    }
    bool ok = true;
    int nodes = 0;
    ForEachNode(*root, [&](const Node& n) {
      ++nodes;
      if (n.kind == Node::Kind::kInSegment && ref->segment_index_.count(n.name) == 0) {
        *error = "segment " + seg.id + ": in_segment(" + n.name + ") is not defined before it";
        ok = false;
      }
      auto note_window = [&](const Window& w) {
        if (w.kind == Window::Kind::kHours) ref->uses_hours_ = true;
      };
      note_window(n.window);
      note_window(n.lhs.window);
      note_window(n.rhs.window);
      for (const ValueExpr* v : {&n.lhs, &n.rhs}) {
        if (v->kind == ValueExpr::Kind::kActiveDays && v->window.kind == Window::Kind::kHours) {
          *error = "segment " + seg.id + ": active_days with an Nh window";
          ok = false;
        }
      }
    });
    if (!ok) return nullptr;
    ref->segment_index_[seg.id] = static_cast<int>(i);
    ref->stats_.emplace_back(nodes);
    ref->roots_.push_back(std::move(root));
  }
  for (const auto& root : ref->roots_) {
    ForEachNode(*root, [&](const Node& n) {
      if (n.kind == Node::Kind::kDropped) ref->funnels_.push_back({&n.steps[0], n.within_ms});
    });
  }
  return ref;
}

FeedResult Reference::Feed(std::string_view line) {
  FeedResult result;
  result.reason = ParseRecord(line, &result.record);
  if (!result.reason.empty()) return result;
  const InputRecord& record = result.record;
  result.accepted = true;
  result.had_clock = has_clock_;
  result.clock_before = now_;
  result.late = has_clock_ && record.ts < now_;
  if (!has_clock_) {
    has_clock_ = true;
    now_ = record.ts;
  } else if (record.ts > now_) {
    AdvanceClock(record.ts, &result.changes);
  }
  auto [it, inserted] = user_index_.try_emplace(record.user_id, users_.size());
  if (inserted) {
    User user;
    user.id = record.user_id;
    user.member.assign(roots_.size(), false);
    user.change_count.assign(roots_.size(), 0);
    users_.push_back(std::move(user));
  }
  User* user = &users_[it->second];
  Apply(record, user);
  EvaluateUser(user, now_, /*time_cause=*/false, &result.changes);
  return result;
}

void Reference::AdvanceClock(int64_t t1, std::vector<Change>* out) {
  const int64_t t0 = now_;
  std::set<int64_t> candidates;
  for (int64_t b = calendar_.NextDayStart(t0); b <= t1; b = calendar_.NextDayStart(b)) {
    candidates.insert(b);
  }
  if (uses_hours_ || options_.dense_step_ms > 0) {
    for (int64_t b = calendar_.NextHourStart(t0); b <= t1; b = calendar_.NextHourStart(b)) {
      candidates.insert(b);
    }
  }
  const int64_t step = options_.dense_step_ms;
  if (step > 0) {
    for (int64_t b = (t0 / step + 1) * step; b <= t1; b += step) candidates.insert(b);
  }
  std::set<int64_t> deadlines(deadlines_.upper_bound(t0), deadlines_.upper_bound(t1));
  candidates.insert(deadlines.begin(), deadlines.end());
  for (int64_t b : candidates) {
    now_ = b;
    // A user's membership depends only on its own history and now, and moves
    // only at a day or hour start or at one of its own deadlines: at another
    // user's deadline it is skipped.
    bool everyone = !deadlines.count(b) || calendar_.IsDayStart(b) ||
                    ((uses_hours_ || step > 0) && calendar_.IsHourStart(b)) ||
                    (step > 0 && b % step == 0);
    for (User& user : users_) {
      if (everyone || user.deadlines.count(b) > 0) {
        EvaluateUser(&user, b, /*time_cause=*/true, out);
      }
    }
  }
  now_ = t1;
}

// The event first, then `set`, then `unset` (SEMANTICS §1): each gets the
// next arrival number, so for equal ts a later operation wins.
void Reference::Apply(const InputRecord& record, User* user) {
  if (record.event) {
    Event e;
    e.ts = record.ts;
    e.seq = ++seq_;
    e.name = *record.event;
    e.props = record.props;
    e.day = calendar_.Day(e.ts);
    e.hour = calendar_.Hour(e.ts);
    for (const Funnel& f : funnels_) {
      if (EventMatches(*f.start, e)) {
        deadlines_.insert(e.ts + f.within_ms);
        user->deadlines.insert(e.ts + f.within_ms);
      }
    }
    auto& events = user->history.events;
    auto pos = std::upper_bound(
        events.begin(), events.end(), e,
        [](const Event& a, const Event& b) { return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq; });
    events.insert(pos, std::move(e));
  }
  for (const auto& [key, value] : record.set) {
    user->history.prop_ops.push_back({record.ts, ++seq_, key, value});
  }
  for (const std::string& key : record.unset) {
    user->history.prop_ops.push_back({record.ts, ++seq_, key, std::nullopt});
  }
}

void Reference::EvaluateUser(User* user, int64_t now, bool time_cause, std::vector<Change>* out) {
  EvalInput in;
  in.user = &user->history;
  in.user_id = &user->id;
  in.at.now = now;
  in.at.today = calendar_.Day(now);
  in.at.hour = calendar_.Hour(now);
  in.at.today_start = calendar_.DayFloor(now);
  in.membership = &user->member;
  in.segment_index = &segment_index_;
  in.lists = &lists_;
  in.counters = &counters_;
  for (size_t i = 0; i < roots_.size(); ++i) {
    in.stats = &stats_[i];
    bool member = Evaluate(*roots_[i], in);
    if (member == user->member[i]) continue;
    user->member[i] = member;  // segments after this one see the new membership
    Change c;
    c.user_id = user->id;
    c.segment = rules_.segments[i].id;
    c.enter = member;
    c.at = now;
    c.time_cause = time_cause;
    c.n = ++user->change_count[i];
    out->push_back(std::move(c));
  }
}

bool Reference::IsMember(const std::string& user_id, const std::string& segment) const {
  auto u = user_index_.find(user_id);
  auto s = segment_index_.find(segment);
  if (u == user_index_.end() || s == segment_index_.end()) return false;
  return users_[u->second].member[s->second];
}

int64_t Reference::MemberCount(size_t segment) const {
  int64_t count = 0;
  for (const User& user : users_) count += user.member[segment] ? 1 : 0;
  return count;
}

bool Reference::IsDeadline(const std::string& user_id, int64_t t) const {
  auto u = user_index_.find(user_id);
  return u != user_index_.end() && users_[u->second].deadlines.count(t) > 0;
}

bool Reference::AnyEventInRange(const Selector& selector, int64_t from_day, int64_t to_day) const {
  for (const User& user : users_) {
    for (const Event& e : user.history.events) {
      if (e.day >= from_day && e.day <= to_day && EventMatches(selector, e)) return true;
    }
  }
  return false;
}

}  // namespace segd_ref
