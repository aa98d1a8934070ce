// Deterministic crash points for the exactly-once tests (TESTING.md): with
// SEGD_TEST_CRASH_AT=<point> in the environment, the process _exits (code
// 86) the SEGD_TEST_CRASH_AFTER-th time (default 3) it reaches <point>.
// Points: after_lmdb_commit, mid_produce, before_kafka_commit. Without the
// variable this is one branch on a cached flag.
#pragma once

namespace segd {

inline constexpr int kFaultExitCode = 86;

void FaultPoint(const char* point);

}  // namespace segd
