// A decoded input record (SEMANTICS.md §1): what the engine applies.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace segd {

// A property value. std::monostate means "missing": in `set` it unsets the
// property (a JSON null in `set` is the same as `unset`).
using PropValue = std::variant<std::monostate, std::string, double, bool>;

struct Prop {
  std::string name;
  PropValue value;
};

struct Record {
  std::string user_id;
  int64_t ts_ms = 0;       // milliseconds since the Unix epoch, 0..253402300799999
  bool has_event = false;  // the record is a behaviour event
  std::string event;       // REQUIRES: has_event
  std::vector<Prop> props;  // event properties; only strings, numbers, booleans
  std::vector<Prop> set;    // property updates in document order
  std::vector<std::string> unset;
  uint32_t ignored_values = 0;  // nested objects/arrays/nulls dropped from props/set

  void Clear() {
    user_id.clear();
    ts_ms = 0;
    has_event = false;
    event.clear();
    props.clear();
    set.clear();
    unset.clear();
    ignored_values = 0;
  }
};

inline constexpr int64_t kMaxTimestampMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

}  // namespace segd
