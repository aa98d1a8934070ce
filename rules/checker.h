// The rule checker: what a parsed rule must also satisfy to be compiled
// (SEMANTICS.md §3), beyond syntax.
//
// Errors (the rule is refused):
// - `active_days` over a window in hours;
// - a comparison, or a literal of `in [...]`, between statically typed
//   values of different types (count, active_days, sum, days_since and
//   number literals are numbers; string and boolean literals are what they
//   are; `user.p` may hold any type, so it never is an error);
// - `in_segment(x)` where x is the segment itself or not one defined before
//   it (this is what keeps the rule set free of cycles);
// - a relative window longer than max_window_days (Nd with N above it, Nh
//   with N above 24 times it); date ranges keep their own counters and are
//   exempt.
// Warnings: `in_list("x")` naming a list that does not exist yet.
#pragma once

#include <string>
#include <vector>

#include "rules/ast.h"

namespace segd::rules {

struct CheckContext {
  std::vector<std::string> earlier_segments;  // ids defined before this segment, in order
  std::string self_id;                        // the id of the segment being checked
  int max_window_days = 400;
  std::vector<std::string> known_lists;  // lists in the rule file or uploaded
};

// Appends what is wrong with `rule` to *errors and what is suspicious to
// *warnings, each with the position of the construct and a reason a person
// can act on. REQUIRES: errors and warnings are not null; `rule` as
// ParseRule builds it.
void CheckRule(const Expr& rule, const CheckContext& ctx, std::vector<Diagnostic>* errors,
               std::vector<Diagnostic>* warnings);

}  // namespace segd::rules
