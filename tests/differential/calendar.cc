#include "calendar.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

namespace segd_ref {
namespace {

constexpr int64_t kFarMs = int64_t{1} << 52;  // beyond any instant we use

int64_t ClampedMs(date::sys_seconds s) {
  int64_t sec = s.time_since_epoch().count();
  if (sec > kFarMs / 1000) return kFarMs;
  if (sec < -kFarMs / 1000) return -kFarMs;
  return sec * 1000;
}

int64_t Mod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

}  // namespace

bool Calendar::Load(const std::string& zone_name, std::string* error) {
  try {
    zone_ = date::locate_zone(zone_name);
  } catch (const std::exception& e) {
    *error = "unknown time zone " + zone_name + ": " + e.what();
    return false;
  }
  cache_ = Period();
  return true;
}

const Calendar::Period& Calendar::PeriodAt(int64_t t) const {
  if (t >= cache_.begin && t < cache_.end) return cache_;
  date::sys_time<std::chrono::milliseconds> tp{std::chrono::milliseconds(t)};
  date::sys_info info = zone_->get_info(tp);
  cache_.begin = ClampedMs(info.begin);
  cache_.end = ClampedMs(info.end);
  cache_.offset = info.offset.count() * 1000;
  return cache_;
}

int64_t Calendar::OffsetMs(int64_t t) const { return PeriodAt(t).offset; }

// Within one offset period local time is continuous, so a label changes
// exactly where local time is a multiple of `unit`; at a period's edge it may
// change (or not) by the jump of the offset.
int64_t Calendar::NextChange(int64_t t, int64_t unit) const {
  int64_t x = t + 1;
  while (true) {
    if (FloorDiv(LocalMs(x), unit) != FloorDiv(LocalMs(x - 1), unit)) return x;
    Period p = PeriodAt(x);
    int64_t aligned = x + (unit - Mod(x + p.offset, unit));  // next multiple, > x
    if (aligned < p.end) return aligned;
    x = p.end;
  }
}

int64_t Calendar::PrevChange(int64_t t, int64_t unit) const {
  int64_t x = t;
  while (true) {
    if (FloorDiv(LocalMs(x), unit) != FloorDiv(LocalMs(x - 1), unit)) return x;
    Period p = PeriodAt(x);
    int64_t aligned = x - Mod(x + p.offset, unit);  // latest multiple, <= x
    if (aligned > p.begin) return aligned;
    if (FloorDiv(LocalMs(p.begin), unit) != FloorDiv(LocalMs(p.begin - 1), unit)) {
      return p.begin;
    }
    x = p.begin - 1;
  }
}

int64_t Calendar::StartOfDay(int64_t day) const {
  // Two days before the UTC midnight of the date is before any local start of it.
  int64_t x = day * kDayMs - 2 * kDayMs;
  while (Day(x) < day) x = NextDayStart(x);
  return x;
}

int64_t Calendar::DayLengthMs(int64_t day) const {
  int64_t start = StartOfDay(day);
  return NextDayStart(start) - start;
}

int64_t Calendar::DaysFromCivil(int year, unsigned month, unsigned day) {
  date::sys_days d = date::year{year} / date::month{month} / date::day{day};
  return d.time_since_epoch().count();
}

std::string Calendar::CivilString(int64_t days) {
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace segd_ref
