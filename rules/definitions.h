// The rule set a partition's state is laid out for, as the engine keeps it
// in the store's meta (docs/state-format.md, `timezone`, `layout`,
// `segments`), for readers that did not write it: `segd inspect`, the
// admin API. The engine's own use is in rules/definitions.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "state/user_state.h"

namespace segd::rules {

struct StoredSegment {
  std::string id;
  uint32_t generation = 1;
  std::string rule;  // canonical text; "-" for a deleted segment
  bool deleted() const { return rule == "-"; }
};

struct StoredDefinitions {
  std::string timezone;
  std::string layout;                  // LayoutText of the rule set
  std::vector<StoredSegment> segments;  // definition order, then the deleted ones
};

// The definitions in `reader`'s store; nullopt before the first commit
// under a rule set (then the store holds no user either).
Result<std::optional<StoredDefinitions>> ReadStoredDefinitions(PartitionStore::Reader& reader);

// The stored segments compiled back into a rule set (deleted ones left
// out); its plan lays state out as `layout` says. Segment names,
// emit_initial and lists are not stored: the names are empty and every
// list is empty (in_list is false).
Result<RuleSet> CompileStored(const StoredDefinitions& defs);

// The plan's layout as meta `layout` holds it.
std::string LayoutText(const RuleSet& rules);

// The lists the rules read (in_list), as meta `lists` holds them: one line
// per list, by name, with its digest (RuleSet::ListDigest).
std::string ListsText(const RuleSet& rules);

// The users whose in_list of a list the rules of `to` read differs between
// `from` and `to`: those in one version of the list and not in the other.
// Sorted, distinct.
std::vector<std::string> ListChangeUsers(const RuleSet& from, const RuleSet& to);

// Which users a list change concerns (PartitionEngine::HintListChange):
// computed once for every partition that switches rule sets.
struct ListHint {
  std::string from;                // ListsText of the rules switched from
  std::vector<std::string> users;  // ListChangeUsers(from, to)
};
// nullptr when both rule sets read the same lists.
std::shared_ptr<const ListHint> ListChangeHint(const RuleSet& from, const RuleSet& to);

// Rearranges a state decoded under `old_layout` to `rules`' plan:
// features, properties and funnels carried over by canonical text (sums by
// property name), what the plan lacks dropped, what is new empty. The
// result is shaped (ShapeState).
void RemapState(const RuleSet& rules, const std::string& old_layout, UserState* state);

// A stored layout parsed once, for remapping many users.
struct ParsedLayout {
  std::vector<std::pair<std::string, std::vector<std::string>>> features;  // key, sums
  std::vector<std::string> props, funnels;
  static ParsedLayout Parse(const std::string& layout);
};
void RemapState(const RuleSet& rules, const ParsedLayout& old_layout, UserState* state);

}  // namespace segd::rules
