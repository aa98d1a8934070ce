// Calendar days and hours of one IANA time zone, DST included (SEMANTICS §2).
//
// A calendar day is a local date and a calendar hour a local (date, hour)
// label: Day(t) = floor(local(t) / 24h) and Hour(t) = floor(local(t) / 1h),
// where local(t) = t + UTC offset at t. Window arithmetic ("today-29",
// "(hour of now)-23") is arithmetic on these labels, as on a wall calendar:
// the hour a spring-forward skips holds no instant and the hour a fall-back
// repeats is one calendar hour two hours long. A day or hour "starts" at the
// first instant carrying its label (where DST skips local midnight, the first
// local time that exists); these are the instants where windows can change.
//
// All instants are milliseconds since the Unix epoch.
#ifndef SEGD_TESTS_DIFFERENTIAL_CALENDAR_H_
#define SEGD_TESTS_DIFFERENTIAL_CALENDAR_H_

#include <cstdint>
#include <string>

namespace date {
class time_zone;
}

namespace segd_ref {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

// Floor division for possibly negative numerators.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

class Calendar {
 public:
  Calendar() = default;

  // Loads `zone_name` from the system tzdata. Returns false with *error if unknown.
  bool Load(const std::string& zone_name, std::string* error);

  int64_t OffsetMs(int64_t t) const;
  int64_t LocalMs(int64_t t) const { return t + OffsetMs(t); }
  int64_t Day(int64_t t) const { return FloorDiv(LocalMs(t), kDayMs); }
  int64_t Hour(int64_t t) const { return FloorDiv(LocalMs(t), kHourMs); }

  bool IsDayStart(int64_t t) const { return Day(t) != Day(t - 1); }
  bool IsHourStart(int64_t t) const { return Hour(t) != Hour(t - 1); }
  // The smallest day (hour) start strictly after t.
  int64_t NextDayStart(int64_t t) const { return NextChange(t, kDayMs); }
  int64_t NextHourStart(int64_t t) const { return NextChange(t, kHourMs); }
  // The largest day start <= t: the start of t's calendar day.
  int64_t DayFloor(int64_t t) const { return PrevChange(t, kDayMs); }
  // The first instant whose Day() is >= day.
  int64_t StartOfDay(int64_t day) const;
  // Length of calendar day `day` (23 h or 25 h on a DST change day).
  int64_t DayLengthMs(int64_t day) const;

  // Days since 1970-01-01 of a civil date; the inverse as "YYYY-MM-DD".
  static int64_t DaysFromCivil(int year, unsigned month, unsigned day);
  static std::string CivilString(int64_t days);

 private:
  struct Period {
    int64_t begin = 1;  // empty until first use
    int64_t end = 0;
    int64_t offset = 0;
  };
  const Period& PeriodAt(int64_t t) const;
  int64_t NextChange(int64_t t, int64_t unit) const;
  int64_t PrevChange(int64_t t, int64_t unit) const;

  const date::time_zone* zone_ = nullptr;
  mutable Period cache_;  // not thread-safe: one Calendar per thread
};

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_CALENDAR_H_
