// segd_loadgen: a seeded generator of realistic input streams for the
// benchmarks — Zipf-distributed activity over many users, the event and
// property mix of SCENARIOS.md, weeks of simulated time, a few late records.
//
//   segd_loadgen --users 1000000 --records 5000000 --days 28 --seed 1 > records.jsonl
//
// Output: one JSON record per line (SEMANTICS.md §1), in roughly ascending
// time; with --keyed, "KEY<TAB>JSON" lines for kcat -K'\t'.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  uint64_t users = 100000;
  uint64_t records = 1000000;
  int days = 28;
  uint64_t seed = 1;
  double zipf = 1.1;
  int64_t start_ms = 1761926400000;  // 2025-11-01T00:00:00+08:00
  bool keyed = false;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--users") o->users = std::strtoull(next(), nullptr, 10);
    else if (a == "--records") o->records = std::strtoull(next(), nullptr, 10);
    else if (a == "--days") o->days = std::atoi(next());
    else if (a == "--seed") o->seed = std::strtoull(next(), nullptr, 10);
    else if (a == "--zipf") o->zipf = std::atof(next());
    else if (a == "--start-ms") o->start_ms = std::strtoll(next(), nullptr, 10);
    else if (a == "--keyed") o->keyed = true;
    else return false;
  }
  return o->users > 0 && o->days > 0;
}

// Samples user ranks 0..n-1 with probability ∝ 1/(rank+1)^s, through a
// cumulative table (n doubles) and binary search.
class Zipf {
 public:
  Zipf(uint64_t n, double s) : cdf_(n) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), s));
    for (double& c : cdf_) c /= sum;
  }
  uint64_t operator()(std::mt19937_64& rng) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<uint64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct Kind {
  const char* event;  // nullptr: a property update
  int weight;
};

// The SCENARIOS.md mix, roughly as often as a consumer app sees them.
const Kind kMix[] = {
    {"visit", 420},         {"cart_calc", 70},     {"purchase", 45},    {"coupon_claim", 35},
    {"coupon_use", 15},     {"signup_start", 25},  {"send_code", 20},   {"signup_done", 14},
    {"order_submit", 40},   {"pay", 32},           {"comment", 40},     {"like", 60},
    {"gift_send", 40},      {"activity_signup", 12}, {"register", 10},  {"view_credit", 12},
    {"invest", 4},          {nullptr, 106},
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: segd_loadgen [--users N] [--records M] [--days D] [--seed S] "
                 "[--zipf s] [--start-ms T] [--keyed]\n");
    return 2;
  }
  std::mt19937_64 rng(o.seed);
  Zipf zipf(o.users, o.zipf);
  // A random permutation, so the busiest users are not u0, u1, …
  std::vector<uint32_t> perm(o.users);
  for (uint64_t i = 0; i < o.users; ++i) perm[i] = static_cast<uint32_t>(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  int total = 0;
  for (const Kind& k : kMix) total += k.weight;
  const double span = static_cast<double>(o.days) * 86'400'000.0;
  std::string line;
  line.reserve(256);
  char buf[128];
  for (uint64_t i = 0; i < o.records; ++i) {
    int64_t ts = o.start_ms + static_cast<int64_t>(span * static_cast<double>(i) /
                                                   static_cast<double>(o.records));
    if (rng() % 50 == 0) ts -= static_cast<int64_t>(rng() % (3 * 86'400'000ull));  // late
    // Every user shows up at least once (a user base, not only the busy).
    uint64_t user = i < o.users ? perm[i] : perm[zipf(rng)];
    int pick = static_cast<int>(rng() % total);
    const Kind* kind = kMix;
    while (pick >= kind->weight) pick -= (kind++)->weight;
    std::snprintf(buf, sizeof(buf), "u%llu", static_cast<unsigned long long>(user));
    line.clear();
    if (o.keyed) line.append(buf).push_back('\t');
    line.append("{\"user_id\":\"").append(buf).append("\",\"ts\":");
    line.append(std::to_string(ts));
    if (kind->event == nullptr) {
      std::snprintf(buf, sizeof(buf),
                    ",\"set\":{\"contact_count\":%d,\"gender\":\"%s\",\"age\":%d,\"level\":%d}}",
                    static_cast<int>(rng() % 12), rng() % 2 ? "male" : "female",
                    16 + static_cast<int>(rng() % 40), static_cast<int>(rng() % 20));
      line.append(buf);
    } else {
      line.append(",\"event\":\"").append(kind->event).append("\",\"props\":{");
      std::snprintf(buf, sizeof(buf), "\"coupon\":\"%c\",\"activity\":\"%c\",\"amount\":%d.%02d}}",
                    "ABC"[rng() % 3], "XY"[rng() % 2], static_cast<int>(rng() % 2000),
                    static_cast<int>(rng() % 100));
      line.append(buf);
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return 0;
}
