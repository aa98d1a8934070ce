// Calendar days and hours in a rule set's IANA time zone (SEMANTICS.md §2).
//
// A day or hour is numbered by its local label: day d is the local date d
// days after 1970-01-01, hour h the local hour h hours after 1970-01-01T00
// local. A unit starts at its first instant: where DST skips local
// midnight, the first local time that exists; a local hour that DST skips
// has no instants (it starts where the next one does). Where DST repeats an
// hour, the repeated local hour is one unit two hours long.
//
// Thread-safety: a Calendar caches the zone's current offset period, so one
// instance must not be used by two threads at once; copies are cheap.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <string_view>

#include "common/status.h"

namespace date {
class time_zone;
}

namespace segd::rules {

inline constexpr int64_t kMsPerHour = 3'600'000;
inline constexpr int64_t kMsPerDay = 86'400'000;

class Calendar {
 public:
  // The zone named `iana` (e.g. "Asia/Shanghai", "UTC"), from the system's
  // tzdata. NotFound for an unknown name.
  static Result<Calendar> ForZone(std::string_view iana);

  const std::string& zone_name() const { return name_; }

  // The local day / hour that contains instant `ms`.
  int32_t DayOf(int64_t ms) const;
  int64_t HourOf(int64_t ms) const;
  // The first instant of local day `day` / local hour `hour`.
  int64_t DayStart(int32_t day) const;
  int64_t HourStart(int64_t hour) const;

  // Local wall time of `ms` as "YYYY-MM-DD HH:MM", for explanations.
  std::string FormatLocal(int64_t ms) const;

 private:
  Calendar() {
    day_starts_.fill({std::numeric_limits<int64_t>::min(), 0});
    hour_starts_.fill({std::numeric_limits<int64_t>::min(), 0});
  }
  // Offset from UTC at instant `ms`, through a one-period cache.
  int64_t OffsetMs(int64_t ms) const;
  int64_t LocalStart(int64_t local_ms) const;

  const date::time_zone* zone_ = nullptr;
  std::string name_;
  mutable int64_t cache_begin_ = 1;  // [begin, end) of the cached offset period; empty
  mutable int64_t cache_end_ = 0;
  mutable int64_t cache_offset_ = 0;
  // Unit starts asked for again and again (today + k while scheduling):
  // direct-mapped by unit number; a slot holds (unit, start).
  static constexpr size_t kStartSlots = 256;
  mutable std::array<std::pair<int64_t, int64_t>, kStartSlots> day_starts_{};
  mutable std::array<std::pair<int64_t, int64_t>, kStartSlots> hour_starts_{};
};

// Civil day number (days since 1970-01-01) of a proleptic Gregorian date.
int32_t DaysFromCivil(int year, unsigned month, unsigned day);

}  // namespace segd::rules
