// "Look at one user": what the state keeps for them, in readable form — the
// properties (current and, where a rule reads it, as of yesterday), each
// kept feature's counters by its canonical selector text, the funnel
// attempts, the pending timer — and the segments they are in.
//
// Thread-safety: DescribeUser uses an Evaluator of its own; reports are
// plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/evaluator.h"
#include "rules/explain.h"
#include "rules/partition_view.h"

namespace segd::rules {

struct UserReport {
  std::string user_id;
  uint32_t dense_id = 0;
  std::string time_zone;
  Instant now;
  uint32_t records = 0;  // records of this user applied so far
  Instant timer;         // the pending timer (ms kNever: none)

  struct Prop {
    std::string name;
    ExplainedValue current;  // text "user.<name>"
    Instant set_at;          // ts of the update that gave it (ms kNever: never set)
    std::optional<ExplainedValue> yesterday;  // when a rule reads user.<name>@yesterday
  };
  struct Bucket {
    std::string unit;  // "2026-11-16" or "2026-11-16 09:00"
    uint32_t count = 0;
    std::vector<std::string> sums;  // one per sum_props, decimal
  };
  struct Feature {
    std::string selector;  // canonical text: coupon_claim{coupon = "A"}
    uint64_t count = 0;    // all time
    std::vector<std::string> sum_props;
    std::vector<std::string> sums;  // all time, decimal, one per sum_props
    Instant last;                   // latest matching event
    std::vector<Bucket> days, hours;
    bool has_active_days = false;
    std::vector<std::string> active_days;  // all-time active days, when kept
  };
  struct Funnel {
    std::string text;  // dropped(A -> B, within 30m, 7d)
    Instant attempt, prev_attempt;
    std::vector<std::pair<std::string, std::vector<Instant>>> steps;  // selector, events kept
  };
  struct Segment {
    std::string id;
    bool member = false;   // stored membership
    bool verdict = false;  // the rule at now (equal to member unless the state lags)
    uint32_t changes = 0;  // the n of the user's last change id in this generation
  };
  std::vector<Prop> props;
  std::vector<Feature> features;
  std::vector<Funnel> funnels;
  std::vector<Segment> segments;
};

// `lists`: the static lists (nullptr: every list is empty).
UserReport DescribeUser(const PartitionView& view, const PartitionView::User& user,
                        const ListMembership* lists = nullptr);

// One JSON object (no trailing newline) and a text rendering for people.
std::string ToJson(const UserReport& r);
std::string ToText(const UserReport& r);

}  // namespace segd::rules
