// The encoder and the decoder of docs/state-format.md, "User state value
// (format 1)", written part by part side by side so that a change to one is
// seen next to the other.
//
// The decoder accepts only what the encoder writes (canonical bytes): that
// makes "equal state, equal bytes" hold both ways, and lets the fuzz target
// check EncodeUserState(DecodeUserState(b)) == b for every accepted b, which
// catches any field the two sides disagree on.
#include "state/user_state_codec.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>
#include <variant>
#include <vector>

#include "state/varint.h"

namespace segd {
namespace {

// Feature flags: the first byte of a feature.
constexpr uint8_t kHasDays = 1 << 0;
constexpr uint8_t kHasHours = 1 << 1;
constexpr uint8_t kHasCount = 1 << 2;
constexpr uint8_t kHasSums = 1 << 3;
constexpr uint8_t kHasActiveDays = 1 << 4;
constexpr uint8_t kHasLastTs = 1 << 5;
constexpr int kShapeShift = 6;
constexpr uint8_t kShapeVarint = 3;  // shape field value: a shape varint follows

// Property value tags.
constexpr uint8_t kTagMissing = 0;
constexpr uint8_t kTagString = 1;
constexpr uint8_t kTagDouble = 2;
constexpr uint8_t kTagFalse = 3;
constexpr uint8_t kTagTrue = 4;

// Funnel header bits, below the number of steps.
constexpr uint64_t kHasAttempt = 1;
constexpr uint64_t kHasStepLists = 2;
constexpr uint64_t kHasPrevAttempt = 4;
constexpr int kStepsShift = 3;

constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxInt = std::numeric_limits<int>::max();
constexpr int64_t kMinI32 = std::numeric_limits<int32_t>::min();
constexpr int64_t kMaxI32 = std::numeric_limits<int32_t>::max();
constexpr uint64_t kMaxI64 = std::numeric_limits<int64_t>::max();

bool AllZero(const std::vector<int64_t>& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t x) { return x == 0; });
}

// Untouched elements hold nothing that reshaping to the plan would not
// restore; trailing ones are not written (user_state_codec.h).
bool Untouched(const FeatureState& f) {
  return f.days.empty() && f.hours.empty() && f.count == 0 && AllZero(f.sums) &&
         f.active_days.empty() && f.last_ts == kNever;
}
bool Untouched(const PropState& p) { return !p.base && p.recent.empty(); }
bool AllEmpty(const std::vector<std::vector<EventRef>>& steps) {
  return std::all_of(steps.begin(), steps.end(),
                     [](const std::vector<EventRef>& events) { return events.empty(); });
}
bool Untouched(const FunnelState& f) {
  return !f.attempt && !f.prev_attempt && AllEmpty(f.steps);
}

// ---------------------------------------------------------------- Encoding

void PutVarint(uint64_t v, std::string* out) { segd::PutVarint(out, v); }
void PutZigZag(int64_t v, std::string* out) { segd::PutSigned(out, v); }

// `x` after `prev` in a strictly ascending sequence: the gap minus one, so
// that consecutive units cost a zero byte.
void PutGap(int64_t prev, int64_t x, std::string* out) {
  assert(x > prev);
  PutVarint(static_cast<uint64_t>(x) - static_cast<uint64_t>(prev) - 1, out);
}

void PutSeries(const BucketSeries& b, std::string* out) {
  assert(b.nsums() >= 0);
  PutVarint(b.size(), out);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 0) {
      PutZigZag(b.unit(0), out);
    } else {
      PutGap(b.unit(i - 1), b.unit(i), out);
    }
    PutVarint(b.count(i), out);
    for (int k = 0; k < b.nsums(); ++k) PutZigZag(b.sum(i, k), out);
  }
}

void PutFeature(const FeatureState& f, std::string* out) {
  assert(f.days.nsums() >= 0 && f.hours.nsums() >= 0);
  const uint64_t nd = static_cast<uint64_t>(f.days.nsums());
  const uint64_t nh = static_cast<uint64_t>(f.hours.nsums());
  const uint64_t ns = f.sums.size();
  const bool regular = nd == nh && nh == ns;
  const uint8_t shape = regular && nd < kShapeVarint ? static_cast<uint8_t>(nd) : kShapeVarint;
  const bool sums = !AllZero(f.sums) || ns > kMaxImplicitElements;
  uint8_t flags = static_cast<uint8_t>(shape << kShapeShift);
  if (!f.days.empty()) flags |= kHasDays;
  if (!f.hours.empty()) flags |= kHasHours;
  if (f.count != 0) flags |= kHasCount;
  if (sums) flags |= kHasSums;
  if (!f.active_days.empty()) flags |= kHasActiveDays;
  if (f.last_ts != kNever) flags |= kHasLastTs;
  out->push_back(static_cast<char>(flags));
  if (shape == kShapeVarint) {
    PutVarint(nd << 1 | (regular ? 0 : 1), out);
    if (!regular) {
      PutVarint(nh, out);
      PutVarint(ns, out);
    }
  }
  if (flags & kHasDays) PutSeries(f.days, out);
  if (flags & kHasHours) PutSeries(f.hours, out);
  if (flags & kHasCount) PutVarint(f.count, out);
  if (sums) {
    for (int64_t s : f.sums) PutZigZag(s, out);
  }
  if (flags & kHasActiveDays) {
    PutVarint(f.active_days.size(), out);
    PutZigZag(f.active_days[0], out);
    for (size_t i = 1; i < f.active_days.size(); ++i) {
      PutGap(f.active_days[i - 1], f.active_days[i], out);
    }
  }
  if (flags & kHasLastTs) PutZigZag(f.last_ts, out);
}

void PutValue(const PropValue& v, std::string* out) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    out->push_back(static_cast<char>(kTagString));
    PutVarint(s->size(), out);
    out->append(*s);
  } else if (const auto* d = std::get_if<double>(&v)) {
    out->push_back(static_cast<char>(kTagDouble));
    uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
  } else if (const auto* b = std::get_if<bool>(&v)) {
    out->push_back(static_cast<char>(*b ? kTagTrue : kTagFalse));
  } else {
    out->push_back(static_cast<char>(kTagMissing));
  }
}

void PutUpdate(const PropUpdate& u, std::string* out) {
  PutZigZag(u.ts, out);
  PutVarint(u.seq, out);
  PutValue(u.value, out);
}

void PutProp(const PropState& p, std::string* out) {
  PutVarint(static_cast<uint64_t>(p.recent.size()) << 1 | (p.base ? 1 : 0), out);
  if (p.base) PutUpdate(*p.base, out);
  for (size_t i = 0; i < p.recent.size(); ++i) {
    if (i == 0) {
      PutZigZag(p.recent[0].first, out);
    } else {
      PutGap(p.recent[i - 1].first, p.recent[i].first, out);
    }
    PutUpdate(p.recent[i].second, out);
  }
}

void PutFunnel(const FunnelState& f, std::string* out) {
  const bool lists = !AllEmpty(f.steps) || f.steps.size() > kMaxImplicitElements;
  PutVarint(static_cast<uint64_t>(f.steps.size()) << kStepsShift | (lists ? kHasStepLists : 0) |
                (f.attempt ? kHasAttempt : 0) | (f.prev_attempt ? kHasPrevAttempt : 0),
            out);
  if (f.attempt) {
    PutZigZag(f.attempt->ts, out);
    PutVarint(f.attempt->seq, out);
  }
  if (f.prev_attempt) {
    PutZigZag(f.prev_attempt->ts, out);
    PutVarint(f.prev_attempt->seq, out);
  }
  if (!lists) return;
  // A step list's first ts is relative to the attempt's (0 without one),
  // wrapping; later ones are the (non-negative) gap to the previous event.
  const uint64_t anchor = f.attempt ? static_cast<uint64_t>(f.attempt->ts) : 0;
  for (const std::vector<EventRef>& events : f.steps) {
    PutVarint(events.size(), out);
    for (size_t i = 0; i < events.size(); ++i) {
      if (i == 0) {
        PutZigZag(static_cast<int64_t>(static_cast<uint64_t>(events[0].ts) - anchor), out);
      } else {
        assert(events[i - 1] < events[i]);
        PutVarint(static_cast<uint64_t>(events[i].ts) - static_cast<uint64_t>(events[i - 1].ts),
                  out);
      }
      PutVarint(events[i].seq, out);
    }
  }
}

// Writes the number of elements up to the last touched one, then those.
template <typename T>
void PutList(const std::vector<T>& v, void (*put)(const T&, std::string*), std::string* out) {
  size_t n = v.size();
  while (n > 0 && Untouched(v[n - 1])) --n;
  PutVarint(n, out);
  for (size_t i = 0; i < n; ++i) put(v[i], out);
}

// ---------------------------------------------------------------- Decoding

// Reads `bytes` front to back. Every read checks the bytes left; the first
// failure is kept, with its offset and the part of the state being read.
class Reader {
 public:
  static constexpr size_t kListHeader = static_cast<size_t>(-1);

  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  size_t left() const { return bytes_.size() - pos_; }

  // Names the part being read in error messages: element `index` of a list,
  // or its header (kListHeader).
  void SetPart(const char* part, size_t index) {
    part_ = part;
    index_ = index;
  }

  // Always returns false, so that a check reads `return r.Fail("...")`.
  bool Fail(std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
      error_pos_ = pos_;
    }
    return false;
  }

  std::string Error() const {
    std::string m = "user state value: " + error_ + " at byte " + std::to_string(error_pos_);
    if (part_ != nullptr) {
      m += " (" + std::string(part_) + " " +
           (index_ == kListHeader ? std::string("list header") : std::to_string(index_)) + ")";
    }
    return m;
  }

  bool Byte(uint8_t* b) {
    if (pos_ == bytes_.size()) return Fail("truncated");
    *b = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }

  bool Bytes(size_t n, std::string_view* s) {
    if (n > left()) return Fail("truncated");
    *s = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // A LEB128 varint of at most 64 bits, in its shortest form.
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      if (shift == 63 && b > 1) return Fail("varint longer than 64 bits");
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) return Fail("varint not in its shortest form");
        *v = result;
        return true;
      }
    }
  }

  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Varint(&x)) return false;
    if (x > kMaxU32) return Fail("value " + std::to_string(x) + " does not fit 32 bits");
    *v = static_cast<uint32_t>(x);
    return true;
  }

  bool ZigZag(int64_t* v) {
    uint64_t z;
    if (!Varint(&z)) return false;
    *v = segd::UnZigZag(z);
    return true;
  }

  // Checks that `n` elements of at least `min_bytes` each fit in the bytes
  // left: what bounds every allocation by the size of the input.
  bool CheckCount(uint64_t n, size_t min_bytes) {
    if (n > left() / min_bytes) {
      return Fail("count " + std::to_string(n) + " exceeds the " + std::to_string(left()) +
                  " bytes left");
    }
    return true;
  }

  bool Count(size_t min_bytes, size_t* n) {
    uint64_t x;
    if (!Varint(&x) || !CheckCount(x, min_bytes)) return false;
    *n = static_cast<size_t>(x);
    return true;
  }

  // The element after `prev` in a strictly ascending sequence (PutGap).
  bool Next(int64_t prev, int64_t* x) {
    uint64_t gap;
    if (!Varint(&gap)) return false;
    if (gap >= kMaxI64 - static_cast<uint64_t>(prev)) return Fail("unit past the largest int64");
    *x = static_cast<int64_t>(static_cast<uint64_t>(prev) + 1 + gap);
    return true;
  }

  // A sequence element that must fit an int32 (days).
  bool Day(int64_t day, int32_t* out) {
    if (day < kMinI32 || day > kMaxI32) return Fail("day " + std::to_string(day) + " out of range");
    *out = static_cast<int32_t>(day);
    return true;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  const char* part_ = nullptr;
  size_t index_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
};

bool DecodeSeries(Reader& r, BucketSeries* b) {
  const size_t nsums = static_cast<size_t>(b->nsums());
  size_t n;
  // A bucket takes at least a unit, a count and its sums, one byte each.
  if (!r.Count(2 + nsums, &n)) return false;
  if (n == 0) return r.Fail("bucket flag set for no buckets");
  b->Reserve(n);
  int64_t unit = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(i == 0 ? r.ZigZag(&unit) : r.Next(unit, &unit))) return false;
    uint32_t count;
    if (!r.U32(&count)) return false;
    int64_t* sums = b->Append(unit, count);
    for (size_t k = 0; k < nsums; ++k) {
      if (!r.ZigZag(&sums[k])) return false;
    }
  }
  return true;
}

// The flags' shape field, or the shape varint(s) after them: days.nsums,
// hours.nsums and the number of all-time sums.
bool DecodeShape(Reader& r, uint8_t field, uint64_t* nd, uint64_t* nh, uint64_t* ns) {
  if (field != kShapeVarint) {
    *nd = *nh = *ns = field;
    return true;
  }
  uint64_t v;
  if (!r.Varint(&v)) return false;
  *nd = *nh = *ns = v >> 1;
  if ((v & 1) == 0) {
    if (*nd < kShapeVarint) return r.Fail("shape varint for a shape that fits the flags");
  } else {
    if (!r.Varint(nh) || !r.Varint(ns)) return false;
    if (*nd == *nh && *nh == *ns) return r.Fail("irregular shape flag for a regular shape");
  }
  if (*nd > kMaxInt || *nh > kMaxInt) return r.Fail("nsums larger than an int");
  return true;
}

bool DecodeFeature(Reader& r, FeatureState* f) {
  uint8_t flags;
  uint64_t nd, nh, ns;
  if (!r.Byte(&flags) || !DecodeShape(r, flags >> kShapeShift, &nd, &nh, &ns)) return false;
  // Every field is set (the element may hold an earlier decode's values).
  f->days.Reset(static_cast<int>(nd));
  f->hours.Reset(static_cast<int>(nh));
  f->count = 0;
  f->active_days.clear();
  f->last_ts = kNever;
  if ((flags & kHasDays) && !DecodeSeries(r, &f->days)) return false;
  if ((flags & kHasHours) && !DecodeSeries(r, &f->hours)) return false;
  if (flags & kHasCount) {
    if (!r.Varint(&f->count)) return false;
    if (f->count == 0) return r.Fail("count flag set for a zero count");
  }
  if (flags & kHasSums) {
    if (!r.CheckCount(ns, 1)) return false;
    f->sums.resize(ns);
    for (int64_t& s : f->sums) {
      if (!r.ZigZag(&s)) return false;
    }
    if (ns <= kMaxImplicitElements && AllZero(f->sums)) {
      return r.Fail("sums flag set for sums that are all zero");
    }
  } else {
    if (ns > kMaxImplicitElements) return r.Fail("more implicit zero sums than allowed");
    f->sums.assign(ns, 0);
  }
  if (flags & kHasActiveDays) {
    size_t n;
    if (!r.Count(1, &n)) return false;
    if (n == 0) return r.Fail("active days flag set for no days");
    f->active_days.resize(n);
    int64_t day = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!(i == 0 ? r.ZigZag(&day) : r.Next(day, &day))) return false;
      if (!r.Day(day, &f->active_days[i])) return false;
    }
  }
  if (flags & kHasLastTs) {
    if (!r.ZigZag(&f->last_ts)) return false;
    if (f->last_ts == kNever) return r.Fail("last_ts flag set for kNever");
  }
  return true;
}

bool DecodeValue(Reader& r, PropValue* v) {
  uint8_t tag;
  if (!r.Byte(&tag)) return false;
  switch (tag) {
    case kTagMissing:
      v->emplace<std::monostate>();
      return true;
    case kTagString: {
      size_t n;
      std::string_view s;
      if (!r.Count(1, &n) || !r.Bytes(n, &s)) return false;
      v->emplace<std::string>(s);
      return true;
    }
    case kTagDouble: {
      std::string_view s;
      if (!r.Bytes(8, &s)) return false;
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        bits |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
      }
      double d;
      std::memcpy(&d, &bits, sizeof d);
      v->emplace<double>(d);
      return true;
    }
    case kTagFalse:
    case kTagTrue:
      v->emplace<bool>(tag == kTagTrue);
      return true;
    default:
      return r.Fail("unknown value tag " + std::to_string(tag));
  }
}

bool DecodeUpdate(Reader& r, PropUpdate* u) {
  return r.ZigZag(&u->ts) && r.U32(&u->seq) && DecodeValue(r, &u->value);
}

bool DecodeProp(Reader& r, PropState* p) {
  uint64_t header;
  if (!r.Varint(&header)) return false;
  const uint64_t n = header >> 1;
  // A recent update takes at least a day, a ts, a seq and a tag.
  if (!r.CheckCount(n, 4)) return false;
  p->base.reset();
  if (header & 1) {
    p->base.emplace();
    if (!DecodeUpdate(r, &*p->base)) return false;
  }
  p->recent.resize(n);
  int64_t day = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(i == 0 ? r.ZigZag(&day) : r.Next(day, &day))) return false;
    if (!r.Day(day, &p->recent[i].first) || !DecodeUpdate(r, &p->recent[i].second)) return false;
  }
  return true;
}

bool DecodeEvents(Reader& r, uint64_t anchor, std::vector<EventRef>* events) {
  size_t n;
  if (!r.Count(2, &n)) return false;  // a ts and a seq
  events->resize(n);
  for (size_t i = 0; i < n; ++i) {
    EventRef& e = (*events)[i];
    if (i == 0) {
      int64_t delta;
      if (!r.ZigZag(&delta)) return false;
      e.ts = static_cast<int64_t>(anchor + static_cast<uint64_t>(delta));
    } else {
      const int64_t prev = (*events)[i - 1].ts;
      uint64_t gap;
      if (!r.Varint(&gap)) return false;
      if (gap > kMaxI64 - static_cast<uint64_t>(prev)) return r.Fail("ts past the largest int64");
      e.ts = static_cast<int64_t>(static_cast<uint64_t>(prev) + gap);
    }
    if (!r.U32(&e.seq)) return false;
    if (i > 0 && !((*events)[i - 1] < e)) return r.Fail("step events not ascending");
  }
  return true;
}

bool DecodeFunnel(Reader& r, FunnelState* f) {
  uint64_t header;
  if (!r.Varint(&header)) return false;
  const uint64_t nsteps = header >> kStepsShift;
  const bool lists = header & kHasStepLists;
  if (lists) {
    if (!r.CheckCount(nsteps, 1)) return false;  // each list starts with its count
  } else if (nsteps > kMaxImplicitElements) {
    return r.Fail("more implicit empty step lists than allowed");
  }
  f->attempt.reset();
  f->prev_attempt.reset();
  if (header & kHasAttempt) {
    f->attempt.emplace();
    if (!r.ZigZag(&f->attempt->ts) || !r.U32(&f->attempt->seq)) return false;
  }
  if (header & kHasPrevAttempt) {
    f->prev_attempt.emplace();
    if (!r.ZigZag(&f->prev_attempt->ts) || !r.U32(&f->prev_attempt->seq)) return false;
  }
  f->steps.resize(nsteps);
  if (!lists) {
    for (std::vector<EventRef>& events : f->steps) events.clear();
    return true;
  }
  const uint64_t anchor = f->attempt ? static_cast<uint64_t>(f->attempt->ts) : 0;
  bool any = false;
  for (std::vector<EventRef>& events : f->steps) {
    if (!DecodeEvents(r, anchor, &events)) return false;
    any = any || !events.empty();
  }
  if (!any && nsteps <= kMaxImplicitElements) {
    return r.Fail("step lists flag set for lists that are all empty");
  }
  return true;
}

template <typename T>
bool DecodeList(Reader& r, const char* part, bool (*decode)(Reader&, T*), std::vector<T>* v,
                bool keep_size) {
  r.SetPart(part, Reader::kListHeader);
  size_t n;
  if (!r.Count(1, &n)) return false;  // an element takes at least one byte
  if (!keep_size || v->size() < n) v->resize(n);
  for (size_t i = 0; i < n; ++i) {
    r.SetPart(part, i);
    if (!decode(r, &(*v)[i])) return false;
  }
  if (n > 0 && Untouched((*v)[n - 1])) {
    return r.Fail("untouched element at the end of its list");
  }
  for (size_t i = n; i < v->size(); ++i) MakeUntouched(&(*v)[i]);
  return true;
}

bool Decode(Reader& r, UserState* s, bool keep_size) {
  uint8_t format;
  if (r.left() == 0) return r.Fail("empty value");
  if (!r.Byte(&format)) return false;
  if (format != kUserStateFormat) {
    return r.Fail("unknown format version " + std::to_string(format));
  }
  if (!r.U32(&s->seq)) return false;
  if (!DecodeList(r, "feature", DecodeFeature, &s->features, keep_size) ||
      !DecodeList(r, "prop", DecodeProp, &s->props, keep_size) ||
      !DecodeList(r, "funnel", DecodeFunnel, &s->funnels, keep_size)) {
    return false;
  }
  r.SetPart(nullptr, 0);
  if (r.left() != 0) return r.Fail("bytes after the end of the state");
  return true;
}

}  // namespace

void EncodeUserState(const UserState& s, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kUserStateFormat));
  PutVarint(s.seq, out);
  PutList(s.features, PutFeature, out);
  PutList(s.props, PutProp, out);
  PutList(s.funnels, PutFunnel, out);
}

Status DecodeUserState(std::string_view bytes, UserState* out) {
  Reader r(bytes);
  UserState s;
  if (!Decode(r, &s, /*keep_size=*/false)) return Status::InvalidArgument(r.Error());
  *out = std::move(s);
  return Status::Ok();
}

Status DecodeUserStateInPlace(std::string_view bytes, UserState* out) {
  Reader r(bytes);
  if (!Decode(r, out, /*keep_size=*/true)) return Status::InvalidArgument(r.Error());
  return Status::Ok();
}

}  // namespace segd
