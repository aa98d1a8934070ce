#include "rules/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/json.h"
#include "rules/parser.h"
#include "rules/value.h"

namespace segd::rules {

namespace {

// A relative window holds units [cur - back, cur - front]; the same
// reading as the evaluator's (rules/evaluator.cc), used here only to name
// the bucket that makes the evaluator's instant.
struct Span {
  bool hours = false;
  int64_t back = 0, front = 0;
};

bool Relative(const Window& w, Span* span) {
  switch (w.kind) {
    case Window::Kind::kDays: *span = {false, w.n - 1, 0}; return true;
    case Window::Kind::kHours: *span = {true, w.n - 1, 0}; return true;
    case Window::Kind::kToday: *span = {false, 0, 0}; return true;
    case Window::Kind::kYesterday: *span = {false, 1, 1}; return true;
    default: return false;
  }
}

const char* KindName(Expr::Kind k) {
  switch (k) {
    case Expr::Kind::kAnd: return "and";
    case Expr::Kind::kOr: return "or";
    case Expr::Kind::kNot: return "not";
    case Expr::Kind::kCompare: return "compare";
    case Expr::Kind::kIn: return "in";
    case Expr::Kind::kDid: return "did";
    case Expr::Kind::kInSegment: return "in_segment";
    case Expr::Kind::kInList: return "in_list";
    case Expr::Kind::kDropped: return "dropped";
  }
  return "?";
}

const char* TypeName(ExplainedValue::Kind k) {
  switch (k) {
    case ExplainedValue::Kind::kMissing: return "missing";
    case ExplainedValue::Kind::kNumber: return "number";
    case ExplainedValue::Kind::kString: return "string";
    case ExplainedValue::Kind::kBool: return "bool";
    case ExplainedValue::Kind::kInfinity: return "infinity";
  }
  return "?";
}

// did(S, W) reads count(S, W) >= 1.
Value CountOf(const Expr& did) {
  Value count;
  count.kind = Value::Kind::kAggregate;
  count.agg = AggKind::kCount;
  count.selector = did.selector;
  count.window = did.window;
  count.ref = did.ref;
  return count;
}

std::string WindowText(const Window& w) {
  return w.kind == Window::Kind::kAllTime ? "all-time" : ToString(w);
}

std::string DayLabel(const Calendar& cal, int64_t day) {
  return cal.FormatLocal(cal.DayStart(static_cast<int32_t>(day))).substr(0, 10);
}

std::string UnitLabel(const Calendar& cal, bool hours, int64_t unit) {
  return hours ? cal.FormatLocal(cal.HourStart(unit)) : DayLabel(cal, unit);
}

std::string Within(int64_t ms) {
  // As the printer writes it: the largest unit that divides it.
  Expr e;
  e.kind = Expr::Kind::kDropped;
  e.within_ms = ms;
  std::string text = ToString(e);  // "dropped(, within 30m)": take the duration
  size_t at = text.find("within ");
  if (at == std::string::npos) return std::to_string(ms) + " ms";
  size_t end = text.find_first_of(",)", at);
  return text.substr(at + 7, end - at - 7);
}

}  // namespace

Instant MakeInstant(const Calendar& cal, int64_t ms) {
  if (ms == kNever) return {ms, ""};
  std::string local = cal.FormatLocal(ms);
  int64_t in_minute = ((ms % 60000) + 60000) % 60000;
  if (in_minute != 0) {
    local += fmt::format(":{:02}", in_minute / 1000);
    if (in_minute % 1000 != 0) local += fmt::format(".{:03}", in_minute % 1000);
  }
  return {ms, local + " " + cal.zone_name()};
}

std::string FormatMillionths(int64_t m) {
  // Magnitudes as uint64 so that INT64_MIN has one.
  uint64_t a = m < 0 ? 0 - static_cast<uint64_t>(m) : static_cast<uint64_t>(m);
  std::string out = (m < 0 ? "-" : "") + std::to_string(a / 1000000);
  uint64_t frac = a % 1000000;
  if (frac != 0) {
    std::string f = fmt::format("{:06}", frac);
    f.erase(f.find_last_not_of('0') + 1);
    out += "." + f;
  }
  return out;
}

ExplainedValue MakeValue(std::string text, const Val& v) {
  ExplainedValue out;
  out.text = std::move(text);
  switch (v.kind) {
    case Val::Kind::kMissing: out.kind = ExplainedValue::Kind::kMissing; break;
    case Val::Kind::kNumber:
      if (std::isinf(v.num)) {
        out.kind = ExplainedValue::Kind::kInfinity;
      } else {
        out.kind = ExplainedValue::Kind::kNumber;
        out.value = ToString(Literal(v.num));
      }
      break;
    case Val::Kind::kExact:
      out.kind = ExplainedValue::Kind::kNumber;
      out.value = FormatMillionths(v.exact);
      break;
    case Val::Kind::kString:
      out.kind = ExplainedValue::Kind::kString;
      out.value = std::string(v.str);
      break;
    case Val::Kind::kBool:
      out.kind = ExplainedValue::Kind::kBool;
      out.value = v.b ? "true" : "false";
      break;
  }
  return out;
}

std::string ExplainedValue::Display() const {
  switch (kind) {
    case Kind::kMissing: return "missing";
    case Kind::kInfinity: return "infinity";
    case Kind::kString: return ToString(Literal(value));
    default: return value;
  }
}

void AppendValueJson(std::string* out, const ExplainedValue& v) {
  out->append("{\"text\":");
  AppendJsonString(out, v.text);
  out->append(",\"type\":");
  AppendJsonString(out, TypeName(v.kind));
  if (v.kind == ExplainedValue::Kind::kString) {
    out->append(",\"value\":");
    AppendJsonString(out, v.value);
  } else if (v.kind == ExplainedValue::Kind::kNumber || v.kind == ExplainedValue::Kind::kBool) {
    out->append(",\"value\":").append(v.value);
  }
  out->push_back('}');
}

ExplainedValue Explainer::ValueOf(const Value& v, const EvalInput& in) {
  return MakeValue(ToString(v), eval_.Evaluate(v, in));
}

std::string Explainer::DroppedDetail(const Expr& e, const EvalInput& in) {
  const Calendar& cal = eval_.calendar();
  const FunnelState& fs = in.state->funnels[e.ref];
  const EventRef* attempt = eval_.Attempt(e, fs, in.now);
  if (attempt == nullptr) {
    return "no attempt (" + ToString(e.steps[0]) + ") in the " + WindowText(e.window) + " window";
  }
  int64_t deadline = SaturatingAdd(attempt->ts, e.within_ms);
  std::string out = "latest attempt: " + ToString(e.steps[0]) + " at " +
                    MakeInstant(cal, attempt->ts).local;
  EventRef prev = *attempt;
  size_t reached = 0;
  for (size_t i = 0; i < fs.steps.size(); ++i) {
    const auto& events = fs.steps[i];
    auto it = std::upper_bound(events.begin(), events.end(), prev);
    if (it == events.end() || it->ts >= deadline) break;
    prev = *it;
    ++reached;
    out += "; " + ToString(e.steps[i + 1]) + " at " + MakeInstant(cal, it->ts).local;
  }
  if (reached == fs.steps.size()) return out + "; completed";
  out += "; deadline " + MakeInstant(cal, deadline).local;
  if (reached + 1 < fs.steps.size()) {
    return out + "; reached only step " + std::to_string(reached + 1) + " of " +
           std::to_string(fs.steps.size() + 1) + ", which is not a drop";
  }
  return out + (in.now >= deadline ? "; passed without " : "; not passed yet, waiting for ") +
         ToString(e.steps.back());
}

ExplainedNode Explainer::Node(const Expr& e, const EvalInput& in) {
  ExplainedNode n;
  n.kind = e.kind;
  n.text = ToString(e);
  n.verdict = eval_.Evaluate(e, in);
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
    case Expr::Kind::kNot:
      for (const auto& c : e.children) n.children.push_back(Node(*c, in));
      break;
    case Expr::Kind::kCompare: {
      n.values.push_back(ValueOf(e.lhs, in));
      n.values.push_back(ValueOf(e.rhs, in));
      auto k0 = n.values[0].kind, k1 = n.values[1].kind;
      auto number = [](ExplainedValue::Kind k) {
        return k == ExplainedValue::Kind::kNumber || k == ExplainedValue::Kind::kInfinity;
      };
      if (k0 == ExplainedValue::Kind::kMissing || k1 == ExplainedValue::Kind::kMissing) {
        n.detail = "a missing value makes every comparison false";
      } else if (k0 != k1 && !(number(k0) && number(k1))) {
        n.detail = "values of different types never compare true";
      }
      break;
    }
    case Expr::Kind::kIn:
      n.values.push_back(ValueOf(e.lhs, in));
      if (n.values[0].kind == ExplainedValue::Kind::kMissing) {
        n.detail = "a missing value is in no list of literals";
      }
      break;
    case Expr::Kind::kDid: n.values.push_back(ValueOf(CountOf(e), in)); break;
    case Expr::Kind::kInSegment:
      n.detail = "the rule of " + e.name + ": " + ToString(*rules_->segments()[e.ref].rule);
      break;
    case Expr::Kind::kInList:
      n.detail = lists_ == nullptr ? "no list is known here: every list is empty"
                 : n.verdict       ? "the user is in the list"
                                   : "the user is not in the list";
      break;
    case Expr::Kind::kDropped: n.detail = DroppedDetail(e, in); break;
  }
  return n;
}

// The buckets entering or leaving `v`'s window at t, the days_since or
// user.p@yesterday step at t, and the value before and after.
void Explainer::ValueCauses(const Value& v, const EvalInput& in, int64_t t,
                            std::vector<std::string>* out) {
  if (v.kind == Value::Kind::kLiteral) return;
  const Calendar& cal = eval_.calendar();
  EvalInput at = in;
  at.now = t;
  ExplainedValue before = ValueOf(v, in), after = ValueOf(v, at);
  if (before.kind == after.kind && before.value == after.value) return;
  std::string change = ToString(v) + " goes from " + before.Display() + " to " + after.Display();
  std::string when = " at " + MakeInstant(cal, t).local;
  Span s;
  if (v.kind == Value::Kind::kAggregate && Relative(v.window, &s)) {
    const FeatureState& fs = in.state->features[v.ref];
    const BucketSeries& series = s.hours ? fs.hours : fs.days;
    std::string sel = ToString(v.selector), win = ToString(v.window);
    for (size_t i = 0; i < series.size(); ++i) {
      int64_t u = series.unit(i);
      std::string what = "the " + sel + " of " + UnitLabel(cal, s.hours, u);
      if (series.count(i) > 1) what += " (" + std::to_string(series.count(i)) + " events)";
      auto start = [&](int64_t unit) {
        return s.hours ? cal.HourStart(unit) : cal.DayStart(static_cast<int32_t>(unit));
      };
      int64_t enter = u + s.front, leave = u + s.back + 1;
      if (s.front > 0 && start(enter) == t) {
        out->push_back(what + " enters the " + win + " window" + when + ": " + change);
      }
      if (start(leave) == t) {
        out->push_back(what + " leaves the " + win + " window" + when + ": " + change);
      }
    }
    return;
  }
  if (v.kind == Value::Kind::kDaysSince) {
    int64_t last = in.state->features[v.ref].last_ts;
    out->push_back("a new day starts" + when + ", and the last " + ToString(v.selector) +
                   " was on " + DayLabel(cal, cal.DayOf(last)) + ": " + change);
    return;
  }
  if (v.kind == Value::Kind::kUserProp && v.at_yesterday) {
    out->push_back("a new day starts" + when + ", and the value user." + v.prop +
                   " had at its start becomes yesterday's: " + change);
    return;
  }
  out->push_back(change + when);
}

std::string Explainer::FunnelCause(const Expr& e, const EvalInput& in, int64_t t) {
  const Calendar& cal = eval_.calendar();
  const FunnelState& fs = in.state->funnels[e.ref];
  std::string when = " at " + MakeInstant(cal, t).local;
  for (const std::optional<EventRef>* a : {&fs.attempt, &fs.prev_attempt}) {
    if (!*a) continue;
    std::string attempt = "the attempt that began with " + ToString(e.steps[0]) + " at " +
                          MakeInstant(cal, (*a)->ts).local;
    if (SaturatingAdd((*a)->ts, e.within_ms) == t) {
      return attempt + " reaches its deadline (within " + Within(e.within_ms) + ")" + when +
             " without " + ToString(e.steps.back());
    }
  }
  const EventRef* before = eval_.Attempt(e, fs, in.now);
  const EventRef* after = eval_.Attempt(e, fs, t);
  if (before != after) {
    const EventRef* a = after != nullptr ? after : before;
    return "the attempt that began with " + ToString(e.steps[0]) + " at " +
           MakeInstant(cal, a->ts).local + (after != nullptr ? " enters" : " leaves") + " the " +
           WindowText(e.window) + " window" + when;
  }
  return "the funnel's state changes" + when;
}

void Explainer::Reasons(const Expr& e, const EvalInput& in, int64_t t,
                        std::vector<std::string>* out) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
    case Expr::Kind::kNot:
      for (const auto& c : e.children) Reasons(*c, in, t, out);
      return;
    default: break;
  }
  EvalInput at = in;
  at.now = t;
  bool before = eval_.Evaluate(e, in), after = eval_.Evaluate(e, at);
  if (before == after) return;
  std::string becomes = ToString(e) + " becomes " + (after ? "true" : "false");
  std::vector<std::string> causes;
  switch (e.kind) {
    case Expr::Kind::kCompare:
      ValueCauses(e.lhs, in, t, &causes);
      ValueCauses(e.rhs, in, t, &causes);
      break;
    case Expr::Kind::kIn: ValueCauses(e.lhs, in, t, &causes); break;
    case Expr::Kind::kDid: ValueCauses(CountOf(e), in, t, &causes); break;
    case Expr::Kind::kDropped: causes.push_back(FunnelCause(e, in, t)); break;
    case Expr::Kind::kInSegment: {
      std::vector<std::string> inner;
      Reasons(*rules_->segments()[e.ref].rule, in, t, &inner);
      for (const auto& r : inner) out->push_back(r + " (in segment " + e.name + ")");
      out->push_back(becomes);
      return;
    }
    default: break;
  }
  if (causes.empty()) {
    out->push_back(becomes + " at " + MakeInstant(eval_.calendar(), t).local);
    return;
  }
  for (const auto& c : causes) out->push_back(c + ", so " + becomes);
}

Explanation Explainer::Explain(int seg, const UserState& state, std::string_view user_id,
                               int64_t now, std::optional<bool> member) {
  const CompiledSegment& s = rules_->segments()[seg];
  const Calendar& cal = eval_.calendar();
  // in_segment evaluates the other rule (members nullptr), as NextChange
  // does: the stored membership equals it (the engine keeps it so).
  EvalInput in{&state, user_id, now, lists_, nullptr};
  Explanation x;
  x.segment = s.id;
  x.name = s.name;
  x.user_id = std::string(user_id);
  x.time_zone = cal.zone_name();
  x.now = MakeInstant(cal, now);
  x.member = member;
  x.rule = Node(*s.rule, in);
  x.verdict = eval_.Segment(seg, in);
  int64_t t = eval_.NextChange(seg, in);
  x.next_change = MakeInstant(cal, t);
  if (t != kNever) {
    EvalInput at = in;
    at.now = t;
    x.flips = eval_.Segment(seg, at) != x.verdict;
    Reasons(*s.rule, in, t, &x.reasons);
  }
  return x;
}

namespace {

void AppendNodeJson(std::string* out, const ExplainedNode& n) {
  out->append("{\"kind\":");
  AppendJsonString(out, KindName(n.kind));
  out->append(",\"text\":");
  AppendJsonString(out, n.text);
  out->append(n.verdict ? ",\"verdict\":true" : ",\"verdict\":false");
  if (!n.values.empty()) {
    out->append(",\"values\":[");
    for (size_t i = 0; i < n.values.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendValueJson(out, n.values[i]);
    }
    out->push_back(']');
  }
  if (!n.detail.empty()) {
    out->append(",\"detail\":");
    AppendJsonString(out, n.detail);
  }
  if (!n.children.empty()) {
    out->append(",\"children\":[");
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendNodeJson(out, n.children[i]);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

void AppendInstantJson(std::string* out, const Instant& t) {
  out->append("{\"at\":").append(std::to_string(t.ms)).append(",\"local\":");
  AppendJsonString(out, t.local);
  out->push_back('}');
}

void AppendNodeText(std::string* out, const ExplainedNode& n, int depth) {
  std::string line = std::string(n.verdict ? "true " : "false") + std::string(2 + 2 * depth, ' ');
  bool branch = !n.children.empty();
  line += branch ? KindName(n.kind) : n.text;
  for (const auto& v : n.values) {
    if (v.text == v.Display()) continue;  // a literal says itself
    line += "   [" + v.text + " = " + v.Display() + "]";
  }
  if (!n.detail.empty()) line += "   (" + n.detail + ")";
  out->append(line).push_back('\n');
  for (const auto& c : n.children) AppendNodeText(out, c, depth + 1);
}

}  // namespace

std::string ToJson(const Explanation& e) {
  std::string out = "{\"segment\":";
  AppendJsonString(&out, e.segment);
  if (!e.name.empty()) {
    out += ",\"name\":";
    AppendJsonString(&out, e.name);
  }
  out += ",\"user_id\":";
  AppendJsonString(&out, e.user_id);
  out += ",\"time_zone\":";
  AppendJsonString(&out, e.time_zone);
  out += ",\"now\":";
  AppendInstantJson(&out, e.now);
  out += e.verdict ? ",\"verdict\":true" : ",\"verdict\":false";
  if (e.member) out += *e.member ? ",\"member\":true" : ",\"member\":false";
  out += ",\"rule\":";
  AppendNodeJson(&out, e.rule);
  out += ",\"next_change\":";
  if (e.next_change.ms == kNever) {
    out += "null";
  } else {
    out += "{\"at\":" + std::to_string(e.next_change.ms) + ",\"local\":";
    AppendJsonString(&out, e.next_change.local);
    out += e.flips ? ",\"flips\":true" : ",\"flips\":false";
    out += ",\"reasons\":[";
    for (size_t i = 0; i < e.reasons.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(&out, e.reasons[i]);
    }
    out += "]}";
  }
  out.push_back('}');
  return out;
}

std::string ToText(const Explanation& e) {
  std::string out = "segment " + e.segment + (e.name.empty() ? "" : " (" + e.name + ")") +
                    ": user " + e.user_id + " is " + (e.verdict ? "IN" : "OUT") + " at " +
                    e.now.local + "\n";
  if (e.member && *e.member != e.verdict) {
    out += "  note: the stored membership says " + std::string(*e.member ? "in" : "out") +
           " (the state was kept under another rule set, or a timer is due)\n";
  }
  out += "rule: " + e.rule.text + "\n";
  AppendNodeText(&out, e.rule, 0);
  if (e.next_change.ms == kNever) {
    out += "next change by time alone: never (only a new record can change it)\n";
    return out;
  }
  out += "next change by time alone: " + e.next_change.local;
  out += e.flips ? std::string(" (the user ") + (e.verdict ? "leaves" : "enters") + ")\n"
                 : " (the engine looks again then; the answer does not change at that instant)\n";
  for (const auto& r : e.reasons) out += "  because " + r + "\n";
  return out;
}

}  // namespace segd::rules
