// Test helper: one user's hand-built history under a rule set, so a
// scenario reads like the seeds:
//
//   History h(kRules);
//   h.Event("visit", At("2026-11-02T09:00:00+08:00"));
//   EXPECT_TRUE(h.In("lapsing_active", At("2026-11-23T00:00:00+08:00")));
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/change_record.h"
#include "rules/evaluator.h"
#include "rules/features.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "stream/record_decoder.h"

namespace segd::rules::testing {

inline int64_t At(const char* rfc3339) {
  auto ms = ParseRfc3339Ms(rfc3339);
  EXPECT_TRUE(ms.has_value()) << rfc3339;
  return ms.value_or(0);
}

inline RuleSet Compile(const std::string& yaml) {
  std::vector<RuleError> errors, warnings;
  auto file = ParseRuleFile(yaml, &errors);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto rules = RuleSet::Compile(*file, {}, &errors, &warnings);
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  return std::move(rules).value();
}

class MapLists : public ListMembership {
 public:
  explicit MapLists(const RuleSet* rules) : rules_(rules) {}
  void Add(const std::string& list, const std::string& user) { members_[list].push_back(user); }
  bool Contains(int list, std::string_view user) const override {
    auto it = members_.find(rules_->list_names()[list]);
    if (it == members_.end()) return false;
    for (const auto& u : it->second) {
      if (u == user) return true;
    }
    return false;
  }

 private:
  const RuleSet* rules_;
  std::map<std::string, std::vector<std::string>> members_;
};

class History {
 public:
  explicit History(const std::string& yaml, std::string user = "u1")
      : rules_(Compile(yaml)), user_(std::move(user)), eval_(&rules_), lists_(&rules_) {
    ShapeState(rules_, &state_);
  }

  History& Event(const std::string& event, int64_t ts, std::vector<Prop> props = {}) {
    Record r = Base(ts);
    r.has_event = true;
    r.event = event;
    r.props = std::move(props);
    return Apply(r);
  }
  History& Set(const std::string& prop, PropValue v, int64_t ts) {
    Record r = Base(ts);
    r.set.push_back({prop, std::move(v)});
    return Apply(r);
  }
  History& Unset(const std::string& prop, int64_t ts) {
    Record r = Base(ts);
    r.unset.push_back(prop);
    return Apply(r);
  }
  History& Apply(const Record& r) {
    now_ = std::max(now_, r.ts_ms);
    ApplyRecord(rules_, eval_.calendar(), r, now_, &state_);
    return *this;
  }
  // Drops what no window can reach from `now` on, as a commit would.
  History& Compact(int64_t now) {
    CompactState(rules_, eval_.calendar(), now, &state_);
    return *this;
  }

  int Index(const std::string& segment) const {
    for (size_t i = 0; i < rules_.segments().size(); ++i) {
      if (rules_.segments()[i].id == segment) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no segment " << segment;
    return 0;
  }
  bool In(const std::string& segment, int64_t at) {
    return eval_.Segment(Index(segment), {&state_, user_, at, &lists_, nullptr});
  }
  int64_t Next(const std::string& segment, int64_t at) {
    return eval_.NextChange(Index(segment), {&state_, user_, at, &lists_, nullptr});
  }

  const RuleSet& rules() const { return rules_; }
  MapLists& lists() { return lists_; }
  UserState& state() { return state_; }

 private:
  Record Base(int64_t ts) {
    Record r;
    r.user_id = user_;
    r.ts_ms = ts;
    return r;
  }

  RuleSet rules_;
  std::string user_;
  Evaluator eval_;
  MapLists lists_;
  UserState state_;
  int64_t now_ = INT64_MIN;
};

inline Prop P(const std::string& name, PropValue v) { return {name, std::move(v)}; }

// Change records as the JSON lines segd writes, one per line.
inline std::string Text(const std::vector<ChangeRecord>& changes) {
  std::string out;
  for (const ChangeRecord& c : changes) out += c.ToJson() + "\n";
  return out;
}

// An event record of `user` at `ts`.
inline Record Event(const std::string& user, const std::string& event, int64_t ts) {
  Record r;
  r.user_id = user;
  r.ts_ms = ts;
  r.has_event = true;
  r.event = event;
  return r;
}

// A partition store in a temporary folder (no fsync), removed at the end.
class TempStore {
 public:
  explicit TempStore(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("segd-test-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  ~TempStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    LmdbOptions o;
    o.sync = false;
    store_ = std::move(PartitionStore::Open(dir_.string(), o)).value();
  }
  PartitionStore* get() { return store_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<PartitionStore> store_;
};

}  // namespace segd::rules::testing
