// The wall clock in milliseconds since the epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace segd {

inline int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace segd
