// libFuzzer target for DecodeUserState: any bytes must be refused with
// InvalidArgument and a message, or decode to a state that keeps the
// invariants of state/user_state.h, whose encoding is exactly the input
// (the decoder accepts only canonical bytes) and which decodes again to the
// same state. Crashes, sanitizer reports and broken invariants (abort) are
// findings.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "state/user_state_codec.h"

namespace segd {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "user_state_codec_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void CheckSeries(const BucketSeries& b) {
  Check(b.nsums() >= 0, "negative nsums");
  for (size_t i = 1; i < b.size(); ++i) Check(b.unit(i - 1) < b.unit(i), "units not ascending");
}

void CheckState(const UserState& s) {
  for (const FeatureState& f : s.features) {
    CheckSeries(f.days);
    CheckSeries(f.hours);
    for (size_t i = 1; i < f.active_days.size(); ++i) {
      Check(f.active_days[i - 1] < f.active_days[i], "active days not ascending");
    }
  }
  for (const PropState& p : s.props) {
    for (size_t i = 1; i < p.recent.size(); ++i) {
      Check(p.recent[i - 1].first < p.recent[i].first, "recent updates not ascending by day");
    }
  }
  for (const FunnelState& f : s.funnels) {
    for (const std::vector<EventRef>& events : f.steps) {
      for (size_t i = 1; i < events.size(); ++i) {
        Check(events[i - 1] < events[i], "step events not ascending");
      }
    }
  }
}

bool HasNaN(const std::optional<PropUpdate>& u) {
  const double* d = u ? std::get_if<double>(&u->value) : nullptr;
  return d != nullptr && std::isnan(*d);
}

// NaN != NaN, so a state holding one never compares equal to itself; the
// byte comparison covers those.
bool HasNaN(const UserState& s) {
  for (const PropState& p : s.props) {
    if (HasNaN(p.base)) return true;
    for (const auto& [day, u] : p.recent) {
      if (HasNaN(u)) return true;
    }
  }
  return false;
}

}  // namespace
}  // namespace segd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segd;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  UserState state;
  Status status = DecodeUserState(bytes, &state);
  if (!status.ok()) {
    Check(status.code() == Status::Code::kInvalidArgument, "error is not InvalidArgument");
    Check(!status.message().empty(), "error has no message");
    Check(state == UserState(), "a failed decode changed its output");
    return 0;
  }
  CheckState(state);
  std::string encoded;
  EncodeUserState(state, &encoded);
  Check(encoded == bytes, "accepted bytes are not the encoding of what they decode to");
  UserState again;
  Check(DecodeUserState(encoded, &again).ok(), "a re-encoded state was refused");
  Check(HasNaN(state) || again == state, "a re-encoded state decoded differently");
  return 0;
}
