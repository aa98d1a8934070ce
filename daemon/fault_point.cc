#include "daemon/fault_point.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/log.h"

namespace segd {

namespace {

struct Armed {
  std::string point;
  int after = 3;
  int hits = 0;
};

Armed* Load() {
  const char* at = std::getenv("SEGD_TEST_CRASH_AT");
  if (at == nullptr || *at == '\0') return nullptr;
  auto* a = new Armed{at};
  if (const char* n = std::getenv("SEGD_TEST_CRASH_AFTER")) a->after = std::atoi(n);
  return a;
}

}  // namespace

void FaultPoint(const char* point) {
  static Armed* armed = Load();  // never freed: lives until _exit
  if (armed == nullptr || armed->point != point) return;
  if (++armed->hits < armed->after) return;
  LogWarn("Test crash point reached: exiting", {{"point", point}});
  _exit(kFaultExitCode);
}

}  // namespace segd
