#include "rules/value.h"

#include <cmath>
#include <limits>

namespace segd::rules {

namespace {

template <typename T>
bool Ordered(const T& a, CmpOp op, const T& b) {
  switch (op) {
    case CmpOp::kEq: return a == b;
    case CmpOp::kNe: return a != b;
    case CmpOp::kLt: return a < b;
    case CmpOp::kLe: return a <= b;
    case CmpOp::kGt: return a > b;
    case CmpOp::kGe: return a >= b;
  }
  return false;
}

bool IsNumeric(const Val& v) { return v.kind == Val::Kind::kNumber || v.kind == Val::Kind::kExact; }

// Compares an exact sum with a plain number. Numbers too large for
// millionths compare by magnitude (the sum is bounded by int64).
bool CompareExact(int64_t exact, CmpOp op, double num) {
  double scaled = num * 1e6;
  if (std::isinf(num) || std::fabs(scaled) >= 9.2e18) {
    return Ordered<double>(static_cast<double>(exact), op, scaled);
  }
  return Ordered<int64_t>(exact, op, ToMillionths(num));
}

CmpOp Mirror(CmpOp op) {
  switch (op) {
    case CmpOp::kLt: return CmpOp::kGt;
    case CmpOp::kLe: return CmpOp::kGe;
    case CmpOp::kGt: return CmpOp::kLt;
    case CmpOp::kGe: return CmpOp::kLe;
    default: return op;
  }
}

}  // namespace

Val Val::FromLiteral(const Literal& l) {
  if (const double* d = std::get_if<double>(&l)) return Number(*d);
  if (const bool* b = std::get_if<bool>(&l)) return Bool(*b);
  return String(std::get<std::string>(l));
}

Val Val::FromProp(const PropValue& p) {
  if (const double* d = std::get_if<double>(&p)) return Number(*d);
  if (const bool* b = std::get_if<bool>(&p)) return Bool(*b);
  if (const std::string* s = std::get_if<std::string>(&p)) return String(*s);
  return Missing();
}

bool Compare(const Val& a, CmpOp op, const Val& b) {
  using K = Val::Kind;
  if (a.kind == K::kMissing || b.kind == K::kMissing) return false;
  if (IsNumeric(a) && IsNumeric(b)) {
    if (a.kind == K::kExact && b.kind == K::kExact) return Ordered(a.exact, op, b.exact);
    if (a.kind == K::kExact) return CompareExact(a.exact, op, b.num);
    if (b.kind == K::kExact) return CompareExact(b.exact, Mirror(op), a.num);
    return Ordered(a.num, op, b.num);
  }
  if (a.kind != b.kind) return false;
  if (a.kind == K::kString) return Ordered(a.str, op, b.str);  // UTF-8 bytes = code points
  return Ordered(a.b, op, b.b);
}

bool FilterPasses(const Filter& f, const Val& v) {
  if (!f.is_in) return Compare(v, f.op, Val::FromLiteral(f.values.at(0)));
  for (const Literal& l : f.values) {
    if (Compare(v, CmpOp::kEq, Val::FromLiteral(l))) return true;
  }
  return false;
}

int64_t ToMillionths(double v) {
  double scaled = v * 1e6;
  constexpr double kMax = 9.2e18;
  if (scaled >= kMax) return std::numeric_limits<int64_t>::max();
  if (scaled <= -kMax) return std::numeric_limits<int64_t>::min();
  return std::llround(scaled);
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

}  // namespace segd::rules
