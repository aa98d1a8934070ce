#include "rules/calendar.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <chrono>
#include <limits>

namespace segd::rules {

namespace {

using Ms = std::chrono::milliseconds;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t ToMs(date::sys_seconds s) {
  return std::chrono::duration_cast<Ms>(s.time_since_epoch()).count();
}

// sys_info bounds may be the zone's min/max; clamp to int64 milliseconds.
int64_t ClampedMs(date::sys_seconds s) {
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1000;
  int64_t secs = s.time_since_epoch().count();
  if (secs >= kLimit) return std::numeric_limits<int64_t>::max();
  if (secs <= -kLimit) return std::numeric_limits<int64_t>::min();
  return secs * 1000;
}

}  // namespace

Result<Calendar> Calendar::ForZone(std::string_view iana) {
  Calendar c;
  try {
    c.zone_ = date::locate_zone(iana);
  } catch (const std::exception& e) {
    return Status::NotFound("unknown time zone \"" + std::string(iana) + "\"");
  }
  c.name_ = std::string(iana);
  return c;
}

int64_t Calendar::OffsetMs(int64_t ms) const {
  if (ms >= cache_begin_ && ms < cache_end_) return cache_offset_;
  date::sys_time<Ms> t{Ms{ms}};
  date::sys_info info = zone_->get_info(t);
  cache_begin_ = ClampedMs(info.begin);
  cache_end_ = ClampedMs(info.end);
  cache_offset_ = info.offset.count() * 1000;
  return cache_offset_;
}

int32_t Calendar::DayOf(int64_t ms) const {
  return static_cast<int32_t>(FloorDiv(ms + OffsetMs(ms), kMsPerDay));
}

int64_t Calendar::HourOf(int64_t ms) const { return FloorDiv(ms + OffsetMs(ms), kMsPerHour); }

// The first instant whose local time is >= local_ms: local_ms itself
// converted, or the end of the DST gap that swallowed it.
int64_t Calendar::LocalStart(int64_t local_ms) const {
  date::local_time<Ms> lt{Ms{local_ms}};
  date::local_info info = zone_->get_info(lt);
  if (info.result == date::local_info::nonexistent) return ToMs(info.first.end);
  // Unique or ambiguous: the earliest instant with that local time.
  return local_ms - info.first.offset.count() * 1000;
}

int64_t Calendar::DayStart(int32_t day) const {
  auto& slot = day_starts_[static_cast<uint64_t>(day) % kStartSlots];
  if (slot.first != day) slot = {day, LocalStart(static_cast<int64_t>(day) * kMsPerDay)};
  return slot.second;
}

int64_t Calendar::HourStart(int64_t hour) const {
  auto& slot = hour_starts_[static_cast<uint64_t>(hour) % kStartSlots];
  if (slot.first != hour) slot = {hour, LocalStart(hour * kMsPerHour)};
  return slot.second;
}

std::string Calendar::FormatLocal(int64_t ms) const {
  int64_t local = ms + OffsetMs(ms);
  int64_t day = FloorDiv(local, kMsPerDay);
  int64_t in_day = local - day * kMsPerDay;
  date::year_month_day ymd{date::sys_days{date::days{day}}};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     in_day / kMsPerHour, (in_day % kMsPerHour) / 60000);
}

int32_t DaysFromCivil(int year, unsigned month, unsigned day) {
  date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  return static_cast<int32_t>(date::sys_days{ymd}.time_since_epoch().count());
}

}  // namespace segd::rules
