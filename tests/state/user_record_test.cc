// The user record's own fields around the user state: timer, change counts
// and the schedule of next-change instants (docs/state-format.md, `users`).
#include "state/user_record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "state/user_state_codec.h"

namespace segd {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDue = 1'767'830'400'000;  // 2026-01-08T00:00Z

UserRecord Scheduled() {
  UserRecord r;
  r.timer = kDue;
  r.changes = {{0, 1}, {3, 2}};
  r.next = {{0, kDue}, {2, kDue + 30 * 24 * kHour}, {7, kDue + 90 * 60'000 + 1}};
  r.state.seq = 4;
  return r;
}

std::string Bytes(const UserRecord& r) {
  std::string out;
  EncodeUserRecord(r, &out);
  return out;
}

TEST(UserRecordTest, ScheduleRoundTrips) {
  UserRecord r = Scheduled();
  UserRecord back;
  ASSERT_TRUE(DecodeUserRecord(Bytes(r), &back).ok());
  EXPECT_EQ(back, r);

  UserRecord none;  // no timer, empty schedule
  ASSERT_TRUE(DecodeUserRecord(Bytes(none), &back).ok());
  EXPECT_EQ(back, none);
  EXPECT_TRUE(back.scheduled);
}

TEST(UserRecordTest, WholeHoursTakeFewBytes) {
  UserRecord r;
  r.timer = kDue;
  r.next = {{0, kDue}, {1, kDue + 30 * 24 * kHour}};
  UserRecord at_timer = r;
  at_timer.next[1].second = kDue;
  // 720 hours: the varint of 1440, two bytes where the milliseconds take five.
  EXPECT_EQ(Bytes(r).size(), Bytes(at_timer).size() + 1);
}

TEST(UserRecordTest, RecordWithoutScheduleReadsAsUnknown) {
  UserRecord r = Scheduled();
  r.scheduled = false;
  std::string bytes = Bytes(r);
  UserRecord back;
  ASSERT_TRUE(DecodeUserRecord(bytes, &back).ok());
  EXPECT_FALSE(back.scheduled);
  EXPECT_TRUE(back.next.empty());
  EXPECT_EQ(back.timer, kDue);
  EXPECT_EQ(back.changes, r.changes);
  EXPECT_EQ(back.state, r.state);
  // The same record with a schedule is that plus the schedule's bytes.
  // Marker and count, then (gap, dist) per entry: at the timer; 720 hours
  // later; 90 minutes and 1 ms later (in milliseconds).
  EXPECT_EQ(Bytes(Scheduled()).size(), bytes.size() + 2 + 2 + 3 + 5);
}

TEST(UserRecordTest, CorruptSchedulesAreRefused) {
  // timer 0 (none), no changes, schedule of one entry: refused without a timer.
  UserRecord back;
  EXPECT_FALSE(DecodeUserRecord(std::string("\x00\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00", 11),
                                &back)
                   .ok());
  // More entries than bytes left: the count follows the timer (6 bytes),
  // the change pairs (5) and the marker.
  std::string bytes = Bytes(Scheduled());
  ASSERT_EQ(bytes[11], '\0');
  ASSERT_EQ(bytes[12], '\x03');
  bytes[12] = '\x7f';
  EXPECT_FALSE(DecodeUserRecord(bytes, &back).ok());
  // An instant past the largest int64: the last schedule byte, just before
  // the state, made (20 << 1) | 1, 20 ms past a timer 10 ms below the limit.
  UserRecord late;
  late.timer = std::numeric_limits<int64_t>::max() - 10;
  late.next = {{0, late.timer}};
  std::string far = Bytes(late);
  ASSERT_TRUE(DecodeUserRecord(far, &back).ok());
  std::string state;
  EncodeUserState(late.state, &state);
  size_t dist = far.size() - state.size() - 1;
  ASSERT_EQ(far[dist], '\0');
  far[dist] = '\x15';  // (10 << 1) | 1: exactly the limit, still an instant
  EXPECT_TRUE(DecodeUserRecord(far, &back).ok());
  EXPECT_EQ(back.next[0].second, std::numeric_limits<int64_t>::max());
  far[dist] = '\x29';
  EXPECT_FALSE(DecodeUserRecord(far, &back).ok());
}

}  // namespace
}  // namespace segd
