// A compiled rule set: the segments' checked syntax trees plus the plan of
// what per-user state to keep and which segments a record can affect
// (DESIGN.md, Evaluation).
//
// Compiling resolves every aggregate, days_since, did and funnel to a
// feature or funnel index and every user.p to a property index (the `ref`
// fields of the tree), deduplicating equal selectors.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "rules/ast.h"
#include "rules/calendar.h"
#include "rules/rule_file.h"

namespace segd::rules {

// One (event, filters) selector whose events the state counts.
struct FeatureSpec {
  Selector selector;
  std::string key;                     // canonical text of the selector (rules::ToString)
  std::vector<std::string> sum_props;  // properties summed (bucket sums, in order)
  int day_horizon = 0;     // day buckets kept: today-day_horizon+1 .. (0: none)
  int64_t hour_horizon = 0;  // hour buckets kept likewise
  std::vector<std::pair<int32_t, int32_t>> date_ranges;  // days kept whatever their age
  bool all_active_days = false;  // keep the all-time set of active days

  // Index of `prop` in sum_props, or -1.
  int SumIndex(const std::string& prop) const;
  bool InDateRange(int64_t day) const;
};

// A user property read by user.p (and whether @yesterday is needed).
struct PropSpec {
  std::string name;
  bool yesterday = false;
};

struct FunnelSpec {
  std::vector<Selector> steps;
  int64_t within_ms = 0;
  Window window;
  std::string key;
};

struct CompiledSegment {
  std::string id;
  std::string name;
  std::string rule_text;
  bool emit_initial = false;
  ExprPtr rule;
  std::vector<int> depends_on;  // segments read by in_segment, directly
  bool time_dependent = false;  // can change with no new record (directly or via in_segment)
};

struct CompileOptions {
  int max_window_days = 400;
};

class RuleSet {
 public:
  // Parses, checks and plans every segment of `file`. A file with one bad
  // rule is refused whole: errors hold every problem with its file position.
  static Result<RuleSet> Compile(const RuleFile& file, const CompileOptions& options,
                                 std::vector<RuleError>* errors,
                                 std::vector<RuleError>* warnings);

  RuleSet(RuleSet&&) = default;
  RuleSet& operator=(RuleSet&&) = default;

  const Calendar& calendar() const { return calendar_; }
  const std::vector<FeatureSpec>& features() const { return features_; }
  const std::vector<PropSpec>& props() const { return props_; }
  const std::vector<FunnelSpec>& funnels() const { return funnels_; }
  const std::vector<CompiledSegment>& segments() const { return segments_; }
  const std::vector<std::string>& list_names() const { return list_names_; }
  const std::map<std::string, std::vector<std::string>>& lists() const { return lists_; }

  // Features / funnels whose selectors name `event` (nullptr if none).
  const std::vector<int>* FeaturesFor(const std::string& event) const;
  const std::vector<int>* FunnelsFor(const std::string& event) const;
  // Segments a record with `event` or a change of property `prop` can
  // affect, in definition order, dependents (in_segment) included.
  const std::vector<int>* SegmentsForEvent(const std::string& event) const;
  const std::vector<int>* SegmentsForProp(const std::string& prop) const;
  int PropIndex(const std::string& name) const;
  int ListIndex(const std::string& name) const;
  // Segments that read list `list` through in_list, in definition order,
  // dependents (in_segment) included.
  const std::vector<int>& SegmentsForList(int list) const { return segments_by_list_[list]; }
  // Whether `user_id` is in list `list` (an index of list_names()).
  bool InList(int list, std::string_view user_id) const;
  // Distinct user ids in list `list`.
  size_t ListSize(int list) const { return list_sets_[list].size(); }
  // A digest of list `list`'s distinct ids (16 hex digits): equal lists,
  // equal digests, whatever their order.
  const std::string& ListDigest(int list) const { return list_digests_[list]; }

  // Human-readable plan for `segd check`.
  std::string Describe() const;

 private:
  RuleSet() = default;
  friend class Planner;

  Calendar calendar_ = *Calendar::ForZone("UTC");
  std::vector<FeatureSpec> features_;
  std::vector<PropSpec> props_;
  std::vector<FunnelSpec> funnels_;
  std::vector<CompiledSegment> segments_;
  std::vector<std::string> list_names_;
  std::map<std::string, std::vector<std::string>> lists_;
  std::unordered_map<std::string, std::vector<int>> features_by_event_;
  std::unordered_map<std::string, std::vector<int>> funnels_by_event_;
  std::unordered_map<std::string, std::vector<int>> segments_by_event_;
  std::unordered_map<std::string, std::vector<int>> segments_by_prop_;
  std::vector<std::vector<int>> segments_by_list_;  // per list index
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::vector<std::unordered_set<std::string, Hash, std::equal_to<>>> list_sets_;
  std::vector<std::string> list_digests_;
};

}  // namespace segd::rules
