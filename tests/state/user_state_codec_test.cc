#include "state/user_state_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace segd {
namespace {

constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();
constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kTs = 1'717'000'000'000;  // 2024-05-29, milliseconds
constexpr int32_t kDay = 19'872;            // the same day, days since 1970-01-01

struct Bucket {
  int64_t unit;
  uint32_t count;
  std::vector<int64_t> sums;
};

BucketSeries Series(int nsums, const std::vector<Bucket>& buckets) {
  BucketSeries b(nsums);
  for (const Bucket& x : buckets) {
    EXPECT_EQ(x.sums.size(), static_cast<size_t>(nsums));
    std::copy(x.sums.begin(), x.sums.end(), b.Append(x.unit, x.count));
  }
  return b;
}

std::string Encode(const UserState& s) {
  std::string out;
  EncodeUserState(s, &out);
  return out;
}

// The contract's notion of "untouched" (user_state_codec.h), written out
// independently of the codec.
bool Untouched(const FeatureState& f) {
  return f.days.empty() && f.hours.empty() && f.count == 0 &&
         std::all_of(f.sums.begin(), f.sums.end(), [](int64_t s) { return s == 0; }) &&
         f.active_days.empty() && f.last_ts == kNever;
}
bool Untouched(const PropState& p) { return !p.base && p.recent.empty(); }
bool Untouched(const FunnelState& f) {
  return !f.attempt && std::all_of(f.steps.begin(), f.steps.end(),
                                   [](const std::vector<EventRef>& e) { return e.empty(); });
}

template <typename T>
void TrimUntouched(std::vector<T>* v) {
  while (!v->empty() && Untouched(v->back())) v->pop_back();
}

// What decoding the encoding of `s` must give.
UserState Trimmed(UserState s) {
  TrimUntouched(&s.features);
  TrimUntouched(&s.props);
  TrimUntouched(&s.funnels);
  return s;
}

// Encodes, decodes, checks the result is `s` without trailing untouched
// elements and that its encoding is the same bytes.
void ExpectRoundTrip(const UserState& s) {
  std::string bytes = Encode(s);
  UserState got;
  Status st = DecodeUserState(bytes, &got);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(got, Trimmed(s));
  EXPECT_EQ(Encode(got), bytes);
}

// The invariants of user_state.h that the decoder promises for any input.
void ExpectValid(const BucketSeries& b) {
  ASSERT_GE(b.nsums(), 0);
  for (size_t i = 1; i < b.size(); ++i) ASSERT_LT(b.unit(i - 1), b.unit(i));
}

void ExpectValid(const UserState& s) {
  for (const FeatureState& f : s.features) {
    ExpectValid(f.days);
    ExpectValid(f.hours);
    for (size_t i = 1; i < f.active_days.size(); ++i) {
      ASSERT_LT(f.active_days[i - 1], f.active_days[i]);
    }
  }
  for (const PropState& p : s.props) {
    for (size_t i = 1; i < p.recent.size(); ++i) {
      ASSERT_LT(p.recent[i - 1].first, p.recent[i].first);
    }
  }
  for (const FunnelState& f : s.funnels) {
    for (const auto& events : f.steps) {
      for (size_t i = 1; i < events.size(); ++i) ASSERT_TRUE(events[i - 1] < events[i]);
    }
  }
}

FeatureState TouchedFeature() {
  FeatureState f;
  f.count = 1;
  f.last_ts = kTs;
  f.days = Series(0, {{kDay, 1, {}}});
  return f;
}

TEST(UserStateCodecTest, EmptyStateIsFiveBytes) {
  UserState s;
  EXPECT_EQ(Encode(s), std::string("\x01\x00\x00\x00\x00", 5));
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, EncodeReplacesTheOutput) {
  std::string out = "old contents";
  EncodeUserState(UserState{}, &out);
  EXPECT_EQ(out.size(), 5u);
}

TEST(UserStateCodecTest, Seq) {
  for (uint32_t seq : {0u, 1u, 127u, 128u, 300u, kMaxU32}) {
    UserState s;
    s.seq = seq;
    ExpectRoundTrip(s);
  }
}

// The worked example of docs/state-format.md, byte for byte.
TEST(UserStateCodecTest, DocumentedExample) {
  UserState s;
  s.seq = 3;
  s.features.resize(2);
  s.features[1].days = Series(1, {{19872, 2, {1500000}}, {19874, 1, {-250000}}});
  s.features[1].hours = BucketSeries(1);
  s.features[1].count = 3;
  s.features[1].sums = {1250000};
  s.features[1].last_ts = 1717000000000;
  s.props.resize(1);
  s.props[0].base = PropUpdate{1716900000000, 1, std::string("pro")};
  // version, seq, 2 features; feature 0 untouched; feature 1: flags, days,
  // count, sums, last_ts; 1 prop: header, ts, seq, tag, "pro"; 0 funnels.
  EXPECT_EQ(Encode(s), std::string("\x01\x03\x02"
                                   "\x00"
                                   "\x6d\x02\xc0\xb6\x02\x02\xc0\x8d\xb7\x01\x01\x01\x9f\xc2\x1e"
                                   "\x03\xa0\xcb\x98\x01\x80\xc8\xe6\xd2\xf8\x63"
                                   "\x01\x01\x80\xc4\xb7\xf3\xf7\x63\x01\x01\x03pro"
                                   "\x00",
                                   45));
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, FeatureFields) {
  FeatureState f;
  f.days = Series(2, {{kDay - 30, 1, {5, -5}}, {kDay - 1, 7, {kMin64, kMax64}}, {kDay, 1, {0, 0}}});
  f.hours = Series(2, {{24LL * kDay, 2, {1, 2}}, {24LL * kDay + 1, kMaxU32, {-1, -2}}});
  f.count = std::numeric_limits<uint64_t>::max();
  f.sums = {kMin64, kMax64};
  f.active_days = {kMin32, -1, 0, kDay, kMax32};
  f.last_ts = kMax64;
  UserState s;
  s.features = {f};
  ExpectRoundTrip(s);

  // Each field alone.
  for (int field = 0; field < 6; ++field) {
    FeatureState g;
    g.days = BucketSeries(2);
    g.hours = BucketSeries(2);
    g.sums = {0, 0};
    if (field == 0) g.days = f.days;
    if (field == 1) g.hours = f.hours;
    if (field == 2) g.count = 1;
    if (field == 3) g.sums = {0, -1};
    if (field == 4) g.active_days = {kDay};
    if (field == 5) g.last_ts = 0;
    s.features = {g};
    SCOPED_TRACE(field);
    ExpectRoundTrip(s);
  }
}

TEST(UserStateCodecTest, LastTs) {
  for (int64_t ts : {kNever, kNever + 1, int64_t{-1}, int64_t{0}, kTs, kMax64}) {
    UserState s;
    s.features.resize(1);
    s.features[0].last_ts = ts;
    s.features[0].count = 1;
    ExpectRoundTrip(s);
  }
}

TEST(UserStateCodecTest, UnitsNegativeExtremeAndAdjacent) {
  UserState s;
  s.features.resize(1);
  s.features[0].days = Series(1, {{kMin64, 1, {1}},
                                  {kMin64 + 1, 1, {2}},
                                  {-100, 1, {3}},
                                  {-1, 1, {4}},
                                  {0, 1, {5}},
                                  {1, 1, {6}},
                                  {kMax64 - 1, 1, {7}},
                                  {kMax64, 1, {8}}});
  s.features[0].sums = {0};
  s.features[0].hours = BucketSeries(1);
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, ManyBuckets) {
  UserState s;
  s.features.resize(1);
  FeatureState& f = s.features[0];
  f.days = BucketSeries(3);
  f.hours = BucketSeries(3);
  f.sums = {0, 0, 0};
  for (int64_t i = 0; i < 20000; ++i) {
    int64_t sums[3] = {i * 1'000'000, -i, i % 7};
    f.days.Add(kDay - 20000 + i, sums);
    for (int k = 0; k <= i % 3; ++k) f.hours.Add(24LL * kDay + 3 * i, sums);
  }
  f.count = 40000;
  ExpectRoundTrip(s);
}

// Shapes that fit the flags cost nothing; an untouched feature is one byte
// when its shape fits the flags.
TEST(UserStateCodecTest, Shapes) {
  auto untouched = [](int nd, int nh, size_t ns) {
    FeatureState f;
    f.days = BucketSeries(nd);
    f.hours = BucketSeries(nh);
    f.sums.assign(ns, 0);
    return f;
  };
  UserState touched;
  touched.features = {TouchedFeature()};
  const size_t touched_only = Encode(touched).size();
  for (int n : {0, 1, 2, 3, 64, 65, 200}) {
    UserState s;
    s.features = {untouched(n, n, static_cast<size_t>(n)), TouchedFeature()};
    SCOPED_TRACE(n);
    ExpectRoundTrip(s);
    size_t untouched_bytes = Encode(s).size() - touched_only;
    // Flags; a shape varint from 3 sums on; more than 64 zero sums written out.
    size_t expected = n <= 2 ? 1 : n < 64 ? 2 : n == 64 ? 3 : 3 + static_cast<size_t>(n);
    EXPECT_EQ(untouched_bytes, expected);
  }
  UserState s;
  s.features = {untouched(1, 2, 0), untouched(2, 1, 1),  untouched(0, 0, 5),
                untouched(3, 3, 0), untouched(0, 5, 70), TouchedFeature()};
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, TrailingUntouchedElementsAreDropped) {
  UserState s;
  FeatureState shaped;  // untouched but sized to the plan: 2 sums
  shaped.days = BucketSeries(2);
  shaped.hours = BucketSeries(2);
  shaped.sums = {0, 0};
  s.features = {shaped, TouchedFeature(), shaped, shaped};
  s.props.resize(3);
  s.props[1].base = PropUpdate{kTs, 1, true};
  s.funnels.resize(2);
  for (auto& f : s.funnels) f.steps.resize(2);
  UserState got;
  ASSERT_TRUE(DecodeUserState(Encode(s), &got).ok());
  EXPECT_EQ(got.features.size(), 2u);
  EXPECT_EQ(got.features[0], shaped);  // an untouched feature before a touched one keeps its shape
  EXPECT_EQ(got.props.size(), 2u);
  EXPECT_TRUE(got.funnels.empty());
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, PropValues) {
  std::vector<PropValue> values = {
      PropValue(),
      std::string(),
      std::string("premium"),
      std::string("Zürich — 東京 🚀"),
      std::string("nul\0inside", 10),
      std::string(100000, 'x'),
      0.0,
      -0.0,
      1.5,
      -273.15,
      1e308,
      -std::numeric_limits<double>::max(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      true,
      false,
  };
  for (size_t i = 0; i < values.size(); ++i) {
    UserState s;
    s.props.resize(1);
    s.props[0].base = PropUpdate{kTs, 9, values[i]};
    SCOPED_TRACE(i);
    ExpectRoundTrip(s);
  }
  UserState s;
  s.props.resize(1);
  s.props[0].base = PropUpdate{kTs, 1, -0.0};
  UserState got;
  ASSERT_TRUE(DecodeUserState(Encode(s), &got).ok());
  EXPECT_TRUE(std::signbit(std::get<double>(got.props[0].base->value)));

  // NaN != NaN, so compare the bits through a second encoding.
  s.props[0].base->value = std::nan("0x5");
  ASSERT_TRUE(DecodeUserState(Encode(s), &got).ok());
  EXPECT_TRUE(std::isnan(std::get<double>(got.props[0].base->value)));
  EXPECT_EQ(Encode(got), Encode(s));
}

TEST(UserStateCodecTest, PropBaseAndRecent) {
  UserState s;
  s.props.resize(3);
  s.props[0].base = PropUpdate{kMin64, 0, std::string("a")};
  s.props[0].recent = {{kMin32, {kTs, 1, PropValue()}},
                       {kDay, {kTs + 1, 2, 3.0}},
                       {kDay + 1, {kMax64, kMaxU32, false}},
                       {kMax32, {-1, 4, std::string("z")}}};
  s.props[1].recent = {{kDay, {kTs, 5, true}}};  // no base
  ExpectRoundTrip(s);
}

TEST(UserStateCodecTest, Funnels) {
  UserState s;
  s.funnels.resize(5);
  s.funnels[0].attempt = EventRef{kTs, 4};  // attempt, no later steps yet
  s.funnels[0].steps.resize(2);
  s.funnels[1].attempt = EventRef{kTs, 4};
  s.funnels[1].steps = {{{kTs, 5}, {kTs, 6}, {kTs + 1000, 2}}, {}, {{kMax64, kMaxU32}}};
  s.funnels[2].steps = {{}, {{kMin64, 0}, {-5, 1}, {kMax64, 0}}};  // no attempt
  s.funnels[3].attempt = EventRef{kMax64, 1};
  s.funnels[3].steps = {{{kMin64, 1}}};  // before the attempt: delta wraps
  s.funnels[4].steps.resize(70);         // too many to be implicit
  s.funnels[4].attempt = EventRef{kMin64, 0};
  ExpectRoundTrip(s);

  UserState t;
  t.funnels.resize(1);
  t.funnels[0].steps.resize(FunnelState::kMaxStepEvents);
  for (size_t i = 0; i < FunnelState::kMaxStepEvents; ++i) {
    for (uint32_t k = 0; k < FunnelState::kMaxStepEvents; ++k) {
      t.funnels[0].steps[i].push_back({kTs + 60'000 * k, k});
    }
  }
  ExpectRoundTrip(t);
}

// ---------------------------------------------------------------- Random

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool OneIn(uint64_t n) { return Below(n) == 0; }

  // Mostly small or realistic values, sometimes extremes, to hit every
  // varint length.
  int64_t Int64() {
    switch (Below(6)) {
      case 0:
        return static_cast<int64_t>(Below(200)) - 100;
      case 1:
        return kDay + static_cast<int64_t>(Below(400)) - 200;
      case 2:
        return kTs + static_cast<int64_t>(Below(1'000'000'000));
      case 3:
        return std::array<int64_t, 4>{kMin64, kMin64 + 1, kMax64 - 1, kMax64}[Below(4)];
      default:
        return static_cast<int64_t>(rng_());
    }
  }
  uint32_t U32() {
    return OneIn(5) ? static_cast<uint32_t>(rng_()) : static_cast<uint32_t>(Below(300));
  }

  template <typename T>
  std::vector<T> Ascending(size_t max_n, T (Gen::*value)()) {
    std::vector<T> v(Below(max_n + 1));
    for (T& x : v) x = (this->*value)();
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  int32_t Day() {
    return OneIn(8) ? static_cast<int32_t>(rng_()) : kDay + static_cast<int32_t>(Below(100)) - 50;
  }

  BucketSeries Series(int nsums, size_t max_n) {
    BucketSeries b(nsums);
    for (int64_t unit : Ascending<int64_t>(max_n, &Gen::Int64)) {
      int64_t* sums = b.Append(unit, OneIn(4) ? U32() : 1 + static_cast<uint32_t>(Below(5)));
      for (int k = 0; k < nsums; ++k) sums[k] = Int64();
    }
    return b;
  }

  FeatureState Feature() {
    FeatureState f;
    if (OneIn(3)) {  // untouched, maybe shaped
      int n = static_cast<int>(Below(4));
      f.days = BucketSeries(n);
      f.hours = BucketSeries(n);
      f.sums.assign(static_cast<size_t>(n), 0);
      return f;
    }
    int nd = static_cast<int>(OneIn(10) ? Below(80) : Below(3));
    int nh = OneIn(10) ? static_cast<int>(Below(4)) : nd;
    size_t ns = OneIn(10) ? Below(80) : static_cast<size_t>(nd);
    f.days = OneIn(3) ? BucketSeries(nd) : Series(nd, OneIn(10) ? 200 : 8);
    f.hours = OneIn(2) ? BucketSeries(nh) : Series(nh, 30);
    f.count = OneIn(4) ? 0 : (OneIn(5) ? rng_() : Below(1000));
    f.sums.resize(ns);
    for (int64_t& s : f.sums) s = OneIn(3) ? 0 : Int64();
    if (OneIn(3)) f.active_days = Ascending<int32_t>(20, &Gen::Day);
    f.last_ts = OneIn(4) ? kNever : Int64();
    return f;
  }

  PropValue Value() {
    switch (Below(5)) {
      case 0:
        return PropValue();
      case 1: {
        std::string s(Below(OneIn(10) ? 300 : 12), '\0');
        for (char& c : s) c = static_cast<char>(rng_());
        return s;
      }
      case 2: {
        double d;
        do {
          uint64_t bits = rng_();
          std::memcpy(&d, &bits, sizeof d);
        } while (std::isnan(d));  // NaN != NaN would fail the comparison
        return OneIn(2) ? d : static_cast<double>(Int64()) / 100;
      }
      default:
        return OneIn(2);
    }
  }
  PropUpdate Update() { return {Int64(), U32(), Value()}; }

  PropState Prop() {
    PropState p;
    if (OneIn(2)) p.base = Update();
    for (int32_t day : Ascending<int32_t>(OneIn(3) ? 4 : 0, &Gen::Day)) {
      p.recent.emplace_back(day, Update());
    }
    return p;
  }

  EventRef Event() { return {Int64(), U32()}; }

  FunnelState Funnel() {
    FunnelState f;
    if (OneIn(2)) f.attempt = Event();
    f.steps.resize(OneIn(20) ? Below(100) : Below(4));
    for (auto& events : f.steps) {
      if (OneIn(2)) events = Ascending<EventRef>(OneIn(10) ? 32 : 3, &Gen::Event);
    }
    return f;
  }

  UserState State() {
    UserState s;
    s.seq = U32();
    s.features.resize(Below(14));
    for (FeatureState& f : s.features) f = Feature();
    s.props.resize(Below(5));
    for (PropState& p : s.props) p = Prop();
    s.funnels.resize(Below(3));
    for (FunnelState& f : s.funnels) f = Funnel();
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(UserStateCodecTest, RandomStatesRoundTrip) {
  Gen gen(20240529);
  for (int i = 0; i < 5000; ++i) {
    UserState s = gen.State();
    SCOPED_TRACE(i);
    ExpectRoundTrip(s);
    if (HasFailure()) return;
  }
}

// Decoding state after state into one object (a scan's reuse) gives each
// one: the encoded elements exactly, and past them, where the object held
// more, untouched elements that keep their place.
template <typename T>
void ExpectDecodedInPlace(const std::vector<T>& want, size_t size_before, const std::vector<T>& got) {
  ASSERT_EQ(got.size(), std::max(size_before, want.size()));
  for (size_t i = 0; i < got.size(); ++i) {
    if (i < want.size()) {
      EXPECT_EQ(got[i], want[i]) << "element " << i;
    } else {
      EXPECT_TRUE(Untouched(got[i])) << "element " << i;
    }
  }
}

TEST(UserStateCodecTest, RandomStatesDecodeInPlace) {
  Gen gen(20261124);
  UserState x;
  for (int i = 0; i < 3000; ++i) {
    UserState s = Trimmed(gen.State());
    SCOPED_TRACE(i);
    UserState before = x;
    ASSERT_TRUE(DecodeUserStateInPlace(Encode(s), &x).ok());
    EXPECT_EQ(x.seq, s.seq);
    ExpectDecodedInPlace(s.features, before.features.size(), x.features);
    ExpectDecodedInPlace(s.props, before.props.size(), x.props);
    ExpectDecodedInPlace(s.funnels, before.funnels.size(), x.funnels);
    if (HasFailure()) return;
  }
}

// ---------------------------------------------------------------- Corruption

// Varied valid encodings, small enough that decoding every prefix of each
// stays quick under the sanitizers.
std::vector<std::string> SampleEncodings() {
  std::vector<std::string> out;
  Gen gen(7);
  size_t total = 0;
  while (out.size() < 40) {
    std::string bytes = Encode(gen.State());
    if (bytes.size() > 600) continue;
    total += bytes.size();
    out.push_back(std::move(bytes));
  }
  std::printf("%zu sample encodings, %zu bytes in all\n", out.size(), total);
  return out;
}

TEST(UserStateCodecTest, EveryTruncationIsRefused) {
  for (const std::string& bytes : SampleEncodings()) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      UserState got, before;
      got.seq = before.seq = 42;
      Status st = DecodeUserState(std::string_view(bytes).substr(0, n), &got);
      ASSERT_FALSE(st.ok()) << "prefix of " << n << " of " << bytes.size() << " bytes";
      ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
      ASSERT_EQ(got, before) << "a failed decode changed its output";
    }
  }
}

// Any change to valid bytes is refused or decodes to a valid state whose
// encoding is exactly those bytes (the decoder takes only canonical bytes).
TEST(UserStateCodecTest, ByteFlipsAreRefusedOrCanonical) {
  std::mt19937_64 rng(99);
  int accepted = 0, refused = 0;
  for (const std::string& original : SampleEncodings()) {
    for (int trial = 0; trial < 2000; ++trial) {
      std::string bytes = original;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      UserState got;
      Status st = DecodeUserState(bytes, &got);
      if (!st.ok()) {
        ASSERT_EQ(st.code(), Status::Code::kInvalidArgument);
        ++refused;
        continue;
      }
      ++accepted;
      ExpectValid(got);
      ASSERT_EQ(Encode(got), bytes);
    }
    std::string longer = original + '\0';
    UserState got;
    EXPECT_FALSE(DecodeUserState(longer, &got).ok());
  }
  std::printf("byte flips: %d refused, %d accepted as other valid states\n", refused, accepted);
}

// The error message for the bytes of a string literal, NULs included.
template <size_t N>
std::string Message(const char (&literal)[N]) {
  UserState s;
  Status st = DecodeUserState(std::string_view(literal, N - 1), &s);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  return st.message();
}

TEST(UserStateCodecTest, ErrorsNameTheProblemAndWhere) {
  using ::testing::AllOf;
  using ::testing::HasSubstr;
  EXPECT_THAT(Message(""), HasSubstr("empty value"));
  EXPECT_THAT(Message("\x02"), HasSubstr("unknown format version 2"));
  EXPECT_THAT(Message("\x01\x80\x00\x00\x00\x00"), HasSubstr("shortest form"));
  EXPECT_THAT(Message("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), HasSubstr("64 bits"));
  EXPECT_THAT(Message("\x01\x80\x80\x80\x80\x10\x00\x00\x00"), HasSubstr("does not fit 32 bits"));
  // A feature list of 2^62 entries.
  EXPECT_THAT(Message("\x01\x00\x80\x80\x80\x80\x80\x80\x80\x80\x40"),
              AllOf(HasSubstr("exceeds the 0 bytes left"), HasSubstr("feature list header")));
  // One feature with a day series of a billion buckets.
  EXPECT_THAT(Message("\x01\x00\x01\x01\x80\x94\xeb\xdc\x03"),
              AllOf(HasSubstr("count 1000000000 exceeds"), HasSubstr("(feature 0)")));
  EXPECT_THAT(Message("\x01\x00\x00\x00\x00\x00"), HasSubstr("bytes after the end of the state"));
  EXPECT_THAT(Message("\x01\x00\x00\x01\x01\x00\x00\x07\x00"),
              AllOf(HasSubstr("unknown value tag 7"), HasSubstr("(prop 0)")));
  EXPECT_THAT(Message("\x01\x00\x01\x00\x00\x00"), HasSubstr("untouched element at the end"));
  EXPECT_THAT(Message("\x01\x00\x01\x04\x00\x00\x00"),
              HasSubstr("count flag set for a zero count"));
  EXPECT_THAT(Message("\x01\x00\x01\x20"), HasSubstr("truncated"));
  EXPECT_THAT(Message("\x01\x00\x01\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00"),
              HasSubstr("kNever"));
  // Day units 2^63 - 1 and then one more.
  EXPECT_THAT(Message("\x01\x00\x01\x05\x02\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01\x00\x01"
                      "\x01\x00\x00"),
              HasSubstr("past the largest int64"));
  EXPECT_THAT(Message("\x01\x00\x01\x10\x01\x80\x80\x80\x80\x10\x00\x00"),
              HasSubstr("out of range"));
}

// ---------------------------------------------------------------- Size

// A user of a plan with `nfeatures` features (feature `summed`, if not -1,
// also sums a purchase amount, in millionths), two properties and a two-step
// funnel. The user had events on five days of the last month in each
// feature of `touched`, and had one property set twelve days ago.
UserState TypicalUser(size_t nfeatures, const std::vector<int>& touched, int summed) {
  UserState s;
  s.seq = 23;
  s.features.resize(nfeatures);
  if (summed >= 0) {
    s.features[summed] = FeatureState{BucketSeries(1), BucketSeries(1), 0, {0}, {}, kNever};
  }
  const int64_t amount[1] = {19'990'000};
  for (int k : touched) {
    FeatureState& f = s.features[k];
    for (int d : {-27, -20, -9, -3, 0}) {
      for (int e = 0; e < 1 + (d + 30) % 3; ++e) {
        f.days.Add(kDay + d, amount);
        ++f.count;
        if (k == summed) f.sums[0] += amount[0];
      }
    }
    f.last_ts = kTs + 3'600'000LL * k;
  }
  s.props.resize(2);
  s.props[0].base = PropUpdate{kTs - 86'400'000LL * 12, 2, std::string("premium")};
  s.funnels.resize(1);
  s.funnels[0].steps.resize(2);
  return s;
}

// DESIGN.md's target: a user with a handful of events across a dozen
// features costs tens of bytes; at most 150.
TEST(UserStateCodecTest, TypicalUserSize) {
  UserState small = TypicalUser(3, {0, 1, 2}, -1);
  UserState dozen = TypicalUser(12, {0, 4, 7}, 4);
  UserState idle = TypicalUser(12, {}, 4);  // shaped to the plan, never seen an event
  idle.props[0].base.reset();
  const size_t small_size = Encode(small).size();
  const size_t dozen_size = Encode(dozen).size();
  const size_t idle_size = Encode(idle).size();
  std::printf("3 features x 5 day buckets, 1 string prop: %zu bytes\n", small_size);
  std::printf("12 features (3 touched x 5 day buckets, 1 with a sum), 1 string prop: %zu bytes\n",
              dozen_size);
  std::printf("idle user, same plan: %zu bytes\n", idle_size);
  ExpectRoundTrip(small);
  ExpectRoundTrip(dozen);
  ExpectRoundTrip(idle);
  EXPECT_LE(small_size, 90u);
  EXPECT_LE(dozen_size, 120u);
  EXPECT_EQ(idle_size, 5u);
}

}  // namespace
}  // namespace segd
