// The syntax tree of one rule (SEMANTICS.md §3), as the parser builds it and
// the checker, planner and evaluator read it.
//
// Positions are 1-based (line, column) within the rule text; the rule-file
// layer maps them to positions in the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace segd::rules {

struct Pos {
  int line = 1;
  int column = 1;
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };

// A literal: number (IEEE double), string, or boolean.
using Literal = std::variant<double, std::string, bool>;

// `prop OP literal` or `prop in [literal, ...]` inside a selector's braces.
struct Filter {
  std::string prop;
  bool is_in = false;
  CmpOp op = CmpOp::kEq;        // when !is_in
  std::vector<Literal> values;  // one value unless is_in
  Pos pos;
};

// `event_name {filter, ...}`.
struct Selector {
  std::string event;
  std::vector<Filter> filters;
  Pos pos;
};

struct Window {
  enum class Kind { kAllTime, kDays, kHours, kToday, kYesterday, kDateRange };
  Kind kind = Kind::kAllTime;
  int n = 0;  // kDays, kHours: N >= 1
  // kDateRange: civil days since 1970-01-01 (may be negative), first <= last.
  int32_t first_day = 0;
  int32_t last_day = 0;
  Pos pos;
};

enum class AggKind { kCount, kActiveDays, kSum };

// Something that has a value: a literal, an aggregate, a user property or
// days_since.
struct Value {
  enum class Kind { kLiteral, kAggregate, kUserProp, kDaysSince };
  Kind kind = Kind::kLiteral;
  Literal literal;       // kLiteral
  AggKind agg = AggKind::kCount;  // kAggregate
  Selector selector;     // kAggregate, kDaysSince
  std::string prop;      // kAggregate with kSum: the summed property; kUserProp: the name
  Window window;         // kAggregate (kAllTime when omitted)
  bool at_yesterday = false;  // kUserProp: `user.p@yesterday`
  Pos pos;
  // Filled by the planner (-1 before): the feature (kAggregate, kDaysSince)
  // or property (kUserProp) of the compiled plan this value reads.
  int ref = -1;
};

struct Expr {
  enum class Kind {
    kAnd,        // children (>= 2)
    kOr,         // children (>= 2)
    kNot,        // children[0]
    kCompare,    // lhs op rhs
    kIn,         // lhs in [in_values]
    kDid,        // did(selector, window)
    kInSegment,  // in_segment(name)
    kInList,     // in_list(name)
    kDropped,    // dropped(steps..., within within_ms, window)
  };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<Expr>> children;
  Value lhs, rhs;
  CmpOp op = CmpOp::kEq;
  std::vector<Literal> in_values;
  std::vector<Pos> in_positions;  // kIn: where each of in_values is written (for errors)
  Selector selector;            // kDid
  Window window;                // kDid, kDropped
  std::string name;             // kInSegment: segment id; kInList: list name
  std::vector<Selector> steps;  // kDropped: >= 2 steps
  int64_t within_ms = 0;        // kDropped: > 0
  Pos pos;
  // Filled by the planner (-1 before): the feature (kDid), funnel
  // (kDropped), segment index (kInSegment) or list (kInList) it reads.
  int ref = -1;
};

using ExprPtr = std::unique_ptr<Expr>;

// A problem found in a rule: where, and what a person can do about it.
struct Diagnostic {
  Pos pos;
  std::string reason;
};

}  // namespace segd::rules
