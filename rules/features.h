// Keeping a user's state: applying a record to exactly the features,
// properties and funnels the plan asks for, and dropping what no window can
// see any more.
#pragma once

#include <cstdint>

#include "common/record.h"
#include "rules/plan.h"
#include "state/user_state.h"

namespace segd::rules {

// Shapes `state` for `rules` (vectors sized, sums per bucket set). Existing
// entries are kept; call after a rule-set change too.
void ShapeState(const RuleSet& rules, UserState* state);

// Applies `record` (already accepted) to `state` at partition clock `now`:
// the event, then `set`, then `unset` (SEMANTICS.md §1). REQUIRES: ShapeState.
void ApplyRecord(const RuleSet& rules, const Calendar& cal, const Record& record, int64_t now,
                 UserState* state);

// Drops buckets that no window can reach from `now` on, and folds property
// updates of days before today. Never changes any rule's value at any
// instant >= now.
void CompactState(const RuleSet& rules, const Calendar& cal, int64_t now, UserState* state);

// True when `record`'s event and properties match `selector`.
bool Matches(const Selector& selector, const Record& record);

// The value of a property update at `day`-relative views (for the evaluator).
// Latest update overall, and latest with day < `before_day`.
const PropUpdate* CurrentProp(const PropState& ps);
const PropUpdate* PropBeforeDay(const PropState& ps, int32_t before_day);

}  // namespace segd::rules
