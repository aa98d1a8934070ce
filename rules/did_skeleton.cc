#include "rules/did_skeleton.h"

#include <cctype>

namespace segd {

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-';
}

void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && std::isspace(static_cast<unsigned char>(s[*i]))) ++*i;
}

}  // namespace

Result<std::string> ParseDidRule(std::string_view rule, size_t* error_offset) {
  size_t i = 0;
  SkipSpace(rule, &i);
  auto fail = [&](size_t at, const std::string& why) -> Result<std::string> {
    *error_offset = at;
    return Status::InvalidArgument(why);
  };
  if (rule.substr(i, 3) != "did") {
    return fail(i, "only did(EVENT) is evaluated by this version of segd");
  }
  i += 3;
  SkipSpace(rule, &i);
  if (i >= rule.size() || rule[i] != '(') return fail(i, "expected '(' after did");
  ++i;
  SkipSpace(rule, &i);
  std::string name;
  if (i < rule.size() && rule[i] == '`') {
    size_t end = rule.find('`', i + 1);
    if (end == std::string_view::npos) return fail(i, "unclosed backquote");
    name = std::string(rule.substr(i + 1, end - i - 1));
    if (name.empty()) return fail(i, "empty event name");
    i = end + 1;
  } else {
    if (i >= rule.size() || !IsNameStart(rule[i])) return fail(i, "expected an event name");
    size_t start = i;
    while (i < rule.size() && IsNameChar(rule[i]) &&
           !(rule[i] == '-' && i + 1 < rule.size() && rule[i + 1] == '>')) {
      ++i;
    }
    name = std::string(rule.substr(start, i - start));
  }
  SkipSpace(rule, &i);
  if (i >= rule.size() || rule[i] != ')') {
    return fail(i, "only did(EVENT) without window or filters is evaluated by this version");
  }
  ++i;
  SkipSpace(rule, &i);
  if (i != rule.size()) return fail(i, "unexpected text after did(...)");
  return name;
}

Result<DidRuleSet> DidRuleSet::Compile(const RuleFile& file, std::vector<RuleError>* errors) {
  errors->clear();
  DidRuleSet set;
  for (const auto& def : file.segments) {
    size_t offset = 0;
    Result<std::string> event = ParseDidRule(def.rule, &offset);
    if (!event.ok()) {
      // Rules on one line: the column moves by the offset within the rule.
      SourcePos pos = def.rule_pos;
      pos.column += static_cast<int>(offset);
      errors->push_back({pos, "segment " + def.id + ": " + event.status().message()});
      continue;
    }
    int index = static_cast<int>(set.segments_.size());
    set.by_event_[*event].push_back(index);
    set.segments_.push_back({def.id, std::move(event).value()});
  }
  if (!errors->empty()) return Status::InvalidArgument(errors->front().ToString());
  return set;
}

const std::vector<int>* DidRuleSet::SegmentsFor(const std::string& event) const {
  auto it = by_event_.find(event);
  return it == by_event_.end() ? nullptr : &it->second;
}

void DidState::Apply(const Record& record, int64_t now_ms, std::vector<ChangeRecord>* out) {
  if (!record.has_event) return;
  const std::vector<int>* segs = rules_->SegmentsFor(record.event);
  if (segs == nullptr) return;
  if (counts_.size() < rules_->segments().size()) counts_.resize(rules_->segments().size());
  std::unordered_set<int>& in = members_[record.user_id];
  for (int s : *segs) {
    if (!in.insert(s).second) continue;
    ++counts_[s];
    ChangeRecord c;
    c.user_id = record.user_id;
    c.segment = rules_->segments()[s].id;
    c.change = ChangeKind::kEnter;
    c.cause = ChangeCause::kEvent;
    c.at_ms = now_ms;
    out->push_back(std::move(c));
  }
}

size_t DidState::MemberCount(int index) const {
  return static_cast<size_t>(index) < counts_.size() ? counts_[index] : 0;
}

}  // namespace segd
