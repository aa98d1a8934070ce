// A test helper that makes a reference scenario read like the seeds:
// rules, then records, then the changes they caused.
#ifndef SEGD_TESTS_DIFFERENTIAL_TEST_SCENARIO_H_
#define SEGD_TESTS_DIFFERENTIAL_TEST_SCENARIO_H_

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "calendar.h"
#include "record.h"
#include "reference.h"
#include "rule_file.h"

namespace segd_ref {

inline int64_t Ms(const std::string& rfc3339) {
  int64_t ms = -1;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &ms)) << rfc3339;
  return ms;
}

inline std::string Ts(const std::string& rfc3339) { return std::to_string(Ms(rfc3339)); }

// A scenario: rules, then records; changes come back as
// "<user> <segment> enter|leave <at as RFC 3339 UTC> event|time".
class Scenario {
 public:
  Scenario(std::string timezone, std::vector<std::pair<std::string, std::string>> segments,
           std::vector<std::pair<std::string, std::vector<std::string>>> lists = {}) {
    rules_.timezone = std::move(timezone);
    rules_.lists = std::move(lists);
    for (auto& [id, rule] : segments) rules_.segments.push_back({id, "", rule});
    std::string error;
    ref_ = Reference::Create(rules_, &error);
    EXPECT_NE(ref_, nullptr) << error;
  }

  std::vector<std::string> Feed(const std::string& line) {
    last_ = ref_->Feed(line);
    EXPECT_TRUE(last_.accepted) << line << " rejected: " << last_.reason;
    return Describe(last_);
  }
  // The change records of the last Feed, as JSON.
  std::vector<std::string> LastJson() const {
    std::vector<std::string> out;
    for (const Change& c : last_.changes) out.push_back(c.ToJson());
    return out;
  }
  // An event record: Event("u1", "visit", "2025-01-01T10:00:00Z", R"("page":"home")").
  std::vector<std::string> Event(const std::string& user, const std::string& name,
                                 const std::string& when, const std::string& props = "") {
    return Feed(R"({"user_id":")" + user + R"(","event":")" + name + R"(","ts":)" + Ts(when) +
                (props.empty() ? "" : R"(,"props":{)" + props + "}") + "}");
  }
  std::vector<std::string> Set(const std::string& user, const std::string& when,
                               const std::string& set) {
    return Feed(R"({"user_id":")" + user + R"(","ts":)" + Ts(when) + R"(,"set":{)" + set + "}}");
  }
  std::string Rejected(const std::string& line) {
    FeedResult r = ref_->Feed(line);
    EXPECT_FALSE(r.accepted) << line;
    EXPECT_TRUE(r.changes.empty());
    return r.reason;
  }
  Reference& ref() { return *ref_; }

 private:
  static std::string Utc(int64_t ms) {
    int64_t day = FloorDiv(ms, kDayMs);
    int64_t rest = ms - day * kDayMs;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%sT%02d:%02d:%02d.%03dZ", Calendar::CivilString(day).c_str(),
                  static_cast<int>(rest / kHourMs), static_cast<int>(rest / 60000 % 60),
                  static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
    return buf;
  }
  static std::vector<std::string> Describe(const FeedResult& r) {
    std::vector<std::string> out;
    for (const Change& c : r.changes) {
      out.push_back(c.user_id + " " + c.segment + " " + (c.enter ? "enter " : "leave ") +
                    Utc(c.at) + (c.time_cause ? " time" : " event"));
    }
    return out;
  }

  RuleSet rules_;
  std::unique_ptr<Reference> ref_;
  FeedResult last_;
};

using Lines = std::vector<std::string>;

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_TEST_SCENARIO_H_
