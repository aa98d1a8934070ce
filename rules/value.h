// Values and comparisons of the rule language (SEMANTICS.md §3, "Values and
// comparisons").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/record.h"
#include "rules/ast.h"

namespace segd::rules {

// A value during evaluation. kExact is a sum in millionths: compared with a
// number, the number is rounded to millionths the same way.
struct Val {
  enum class Kind : uint8_t { kMissing, kNumber, kExact, kString, kBool };
  Kind kind = Kind::kMissing;
  double num = 0;
  int64_t exact = 0;
  std::string_view str;  // points into the rule tree or the user's state
  bool b = false;

  static Val Missing() { return {}; }
  static Val Number(double d) { return {Kind::kNumber, d, 0, {}, false}; }
  static Val Exact(int64_t m) { return {Kind::kExact, 0, m, {}, false}; }
  static Val String(std::string_view s) { return {Kind::kString, 0, 0, s, false}; }
  static Val Bool(bool v) { return {Kind::kBool, 0, 0, {}, v}; }
  static Val FromLiteral(const Literal& l);
  static Val FromProp(const PropValue& p);
};

// `a op b`: false when either is missing or their types differ (!= too).
bool Compare(const Val& a, CmpOp op, const Val& b);

// A filter on an event property value (missing when the event lacks it).
bool FilterPasses(const Filter& f, const Val& v);

// round(v × 10⁶) half away from zero, saturated to int64.
int64_t ToMillionths(double v);
int64_t SaturatingAdd(int64_t a, int64_t b);

}  // namespace segd::rules
