// The rule language of SEMANTICS §3 as a tree, for the reference evaluator.
#ifndef SEGD_TESTS_DIFFERENTIAL_RULE_AST_H_
#define SEGD_TESTS_DIFFERENTIAL_RULE_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace segd_ref {

// A literal, an event property or a user property value.
struct Scalar {
  enum class Type { kNumber, kString, kBool };
  Type type = Type::kNumber;
  double number = 0;
  std::string str;
  bool boolean = false;

  static Scalar Number(double v) { return Scalar{Type::kNumber, v, {}, false}; }
  static Scalar String(std::string v) { return Scalar{Type::kString, 0, std::move(v), false}; }
  static Scalar Bool(bool v) { return Scalar{Type::kBool, 0, {}, v}; }
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
std::string_view CmpOpText(CmpOp op);

// `prop OP literal` or `prop in [literals]` inside a selector.
struct Filter {
  std::string prop;
  bool is_in = false;
  CmpOp op = CmpOp::kEq;
  std::vector<Scalar> literals;  // one unless is_in
};

struct Selector {
  std::string event;
  std::vector<Filter> filters;
};

struct Window {
  enum class Kind { kAllTime, kDays, kHours, kToday, kYesterday, kRange };
  Kind kind = Kind::kAllTime;
  int64_t n = 0;         // kDays, kHours
  int64_t from_day = 0;  // kRange: local dates as days since 1970-01-01, inclusive
  int64_t to_day = 0;
};

struct ValueExpr {
  enum class Kind { kLiteral, kCount, kActiveDays, kSum, kDaysSince, kUserProp };
  Kind kind = Kind::kLiteral;
  Scalar literal;             // kLiteral
  Selector selector;          // aggregates, days_since
  std::string prop;           // kSum: the event property; kUserProp: the user property
  Window window;              // aggregates
  bool at_yesterday = false;  // kUserProp
};

struct Node {
  enum class Kind { kAnd, kOr, kNot, kCompare, kIn, kDid, kInSegment, kInList, kDropped };
  Kind kind = Kind::kAnd;
  int id = 0;  // preorder index within its rule

  std::vector<std::unique_ptr<Node>> children;  // kAnd, kOr (2+), kNot (1)
  CmpOp op = CmpOp::kEq;                        // kCompare
  ValueExpr lhs, rhs;                           // kCompare; kIn uses lhs
  std::vector<Scalar> literals;                 // kIn
  std::vector<Selector> steps;                  // kDid: one; kDropped: two or more
  Window window;                                // kDid, kDropped
  int64_t within_ms = 0;                        // kDropped
  std::string name;                             // kInSegment: id; kInList: list name
};

// Parses one rule. Returns nullptr and sets *error ("column N: reason") when
// the text is not a valid rule. Node ids are assigned in preorder from 0.
std::unique_ptr<Node> ParseRule(std::string_view text, std::string* error);

// Calls fn(node) for `root` and every node below it, in preorder.
template <typename Fn>
void ForEachNode(const Node& root, Fn&& fn) {
  fn(root);
  for (const auto& child : root.children) ForEachNode(*child, fn);
}

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_RULE_AST_H_
