// Input records of SEMANTICS §1 (default field names), as the reference reads them.
#ifndef SEGD_TESTS_DIFFERENTIAL_RECORD_H_
#define SEGD_TESTS_DIFFERENTIAL_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rule_ast.h"

namespace segd_ref {

constexpr int64_t kMaxTsMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

struct InputRecord {
  std::string user_id;
  int64_t ts = 0;
  std::optional<std::string> event;                   // the behaviour event, if any
  std::vector<std::pair<std::string, Scalar>> props;  // scalar props only
  bool has_set = false;
  // Scalar values; nullopt for a `null` value (same as unset).
  std::vector<std::pair<std::string, std::optional<Scalar>>> set;
  bool has_unset = false;
  std::vector<std::string> unset;

  // True if the record removes a user property (unset, or set to null).
  bool RemovesProperty() const;
};

// Reads one input line. Returns "" and fills *out when the record is valid,
// else a short reason (not_json, not_object, missing_user, bad_user,
// missing_ts, bad_ts, bad_event, bad_props, bad_set, bad_unset, no_content).
std::string ParseRecord(std::string_view line, InputRecord* out);

// Parses an RFC 3339 date-time with `T` and an offset; fractions beyond
// milliseconds are truncated; `:60` seconds are invalid.
bool ParseRfc3339(std::string_view text, int64_t* ms);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_RECORD_H_
