// What a replay through the reference actually exercised: which constructs
// of the rule language were seen both true and false, and at which kinds of
// boundary memberships changed. The differential test prints it and fails if
// something the generator was built to reach was not reached.
#ifndef SEGD_TESTS_DIFFERENTIAL_COVERAGE_H_
#define SEGD_TESTS_DIFFERENTIAL_COVERAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rule_file.h"

namespace segd_ref {

struct CoverageItem {
  std::string name;
  int64_t count = 0;  // how often it was reached (0: not reached)
};

struct CoverageReport {
  int64_t users = 0;
  int64_t records = 0;
  int64_t rejected = 0;
  int64_t late = 0;
  int64_t changes = 0;
  int64_t time_changes = 0;
  // Constructs: the number of evaluations of the nodes carrying the construct,
  // counted only once some such node has been seen both true and false.
  std::vector<CoverageItem> constructs;
  // Boundary kinds: the number of changes (or crossings) of that kind.
  std::vector<CoverageItem> boundaries;

  bool AllReached() const;
  std::string ToText() const;
};

// Replays `records` through a fresh reference with `rules`. Appends every
// change record (JSON) to *changes if it is not null. Returns false with
// *error if the rules are invalid.
bool MeasureCoverage(const RuleSet& rules, const std::vector<std::string>& records,
                     CoverageReport* report, std::vector<std::string>* changes, std::string* error);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_COVERAGE_H_
