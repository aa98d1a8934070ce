// A seeded generator of mixed histories for the differential test: a rule
// set covering every construct of SEMANTICS §3 and a stream of input records
// (JSON lines, one partition) meant to reach every kind of boundary —
// midnights, hour starts, a DST change day, funnel deadlines, date-range
// ends — with late records, property set/unset/set-null, listed users and a
// few invalid records. The same config always gives the same output.
#ifndef SEGD_TESTS_DIFFERENTIAL_GENERATOR_H_
#define SEGD_TESTS_DIFFERENTIAL_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rule_file.h"

namespace segd_ref {

struct GeneratorConfig {
  uint64_t seed = 1;
  int users = 120;
  int days = 42;  // the simulated period, in local calendar days
  // The default zone and start put the DST change of 2025-11-02 on day 13.
  std::string timezone = "America/New_York";
  std::string start_date = "2025-10-20";
};

struct GeneratedStream {
  RuleSet rules;
  std::vector<std::string> records;  // in arrival order
};

// The rule set Generate writes (generator_rules.cc). `first_day` is the
// period's first local date (days since 1970-01-01); `offline_x` the user ids
// of the list of that name.
RuleSet GeneratedRules(const GeneratorConfig& config, int64_t first_day,
                       std::vector<std::string> offline_x);

// Returns false with *error for a bad config (unknown zone, bad date, too few
// users or days: at least 10 users and 10 days).
bool Generate(const GeneratorConfig& config, GeneratedStream* out, std::string* error);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_GENERATOR_H_
