// The rule language's parser and canonical printer (SEMANTICS.md §3).
//
//   auto rule = rules::ParseRule("did(visit, 7d) and not did(pay)", &errors);
//   rules::ToString(**rule)  // "did(visit, 7d) and not did(pay)"
//
// The parser checks syntax only (including lexical limits such as a date
// range that ends before it starts); types, windows against
// max_window_days and references to other segments are the checker's
// (rules/checker.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rules/ast.h"

namespace segd::rules {

// The deepest nesting of parentheses and `not` the parser accepts; deeper
// input is an error, which bounds the recursion of everything that walks a
// tree.
inline constexpr int kMaxRuleDepth = 100;

// Parses one rule. On a syntax error returns InvalidArgument (with the
// first error as "L:C: reason") and appends exactly that one Diagnostic to
// *errors: parsing stops at the first error. REQUIRES: errors != nullptr.
//
// The tree: `and`/`or` are n-ary (a chain, and parenthesized operands of the
// same kind, are flattened into one node); a comparison's and a predicate's
// pos is where it starts; and/or take the pos of their first operand.
Result<ExprPtr> ParseRule(std::string_view text, std::vector<Diagnostic>* errors);

// The canonical text of a rule: minimal parentheses (not > and > or),
// single spaces around operators, names backquoted only when they must be,
// numbers in the shortest decimal form that reads back as the same double,
// strings JSON-escaped, `within` in the largest unit that divides it.
// ParseRule(ToString(e)) is a tree that prints the same text.
// REQUIRES: names and ids as the parser makes them (non-empty, no backquote
// or newline in a name).
std::string ToString(const Expr& expr);
std::string ToString(const Value& value);
std::string ToString(const Selector& selector);
std::string ToString(const Window& window);
std::string ToString(const Literal& literal);

}  // namespace segd::rules
