#include "generator.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include "calendar.h"
#include "json_value.h"

namespace segd_ref {
namespace {

constexpr int64_t kMinuteMs = 60'000;

std::string Num(double v) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

struct User {
  std::string id;
  bool numeric = false;  // id written as a JSON integer in about half its records
  enum class Pattern { kDaily, kRegular, kLapsing, kSporadic, kReturning, kBurst };
  Pattern pattern = Pattern::kRegular;
  int join = 0;
  int stop = 1 << 20;  // kLapsing: no visits from this day on
  int gap_from = 0, gap_to = -1;
  bool shopper = false, whale = false, signup = false, carts = false, searcher = false;
  bool tipper = false;
  int coupon_day = -1, coupon_use_day = -1, activity_day = -1, credit_day = -1, invest_day = -1;
  int contacts = 0;
  int level = 1;
  bool first_purchase = true;
};

class Builder {
 public:
  Builder(const GeneratorConfig& config, const Calendar& calendar, int64_t first_day)
      : config_(config), calendar_(calendar), first_day_(first_day), rng_(config.seed) {}

  std::vector<std::string> Run(std::vector<std::string>* offline_x);

 private:
  struct Pending {
    int64_t arrival;
    int64_t order;
    std::string json;
  };

  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Uniform() < p; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }
  // An instant `hours` after the start of period day `day`, plus random ms.
  int64_t At(int day, double hours) {
    return calendar_.StartOfDay(first_day_ + day) + static_cast<int64_t>(hours * kHourMs) +
           Int(0, 59'999);
  }

  std::string Rfc3339(int64_t ts);
  // Emits one record; delay < 0 means "late with a small probability".
  void Emit(const User& u, int64_t ts, const std::string& body, int64_t delay = -1);
  void Event(const User& u, int64_t ts, const std::string& name, const std::string& props = "",
             int64_t delay = -1) {
    Emit(u, ts,
         "\"event\":" + JsonQuote(name) + (props.empty() ? "" : ",\"props\":{" + props + "}"),
         delay);
  }
  void Set(const User& u, int64_t ts, const std::string& set, int64_t delay = -1) {
    Emit(u, ts, "\"set\":{" + set + "}", delay);
  }
  void EmitInvalid(int day);

  User MakeUser(int index);
  void Initial(User& u);
  void Day(User& u, int day);
  void Visits(User& u, int day);
  void Shopping(User& u, int day);
  void Funnels(User& u, int day);
  void Properties(User& u, int day);
  void Specials(std::vector<std::string>* offline_x);

  const GeneratorConfig& config_;
  const Calendar& calendar_;
  const int64_t first_day_;
  std::mt19937_64 rng_;
  std::vector<Pending> pending_;
};

std::string Builder::Rfc3339(int64_t ts) {
  static const std::vector<int> kOffsets = {0, 480, -300, 330, 60, -600};
  int offset = Pick(kOffsets);
  int64_t local = ts + offset * kMinuteMs;
  int64_t day = FloorDiv(local, kDayMs);
  int64_t rest = local - day * kDayMs;
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%sT%02d:%02d:%02d", Calendar::CivilString(day).c_str(),
                static_cast<int>(rest / kHourMs), static_cast<int>(rest / kMinuteMs % 60),
                static_cast<int>(rest / 1000 % 60));
  std::string out = buf;
  int ms = static_cast<int>(rest % 1000);
  if (ms != 0 || Chance(0.3)) {
    std::snprintf(buf, sizeof(buf), ".%03d", ms);
    out += buf;
    if (Chance(0.5)) out += std::to_string(Int(100, 999));  // truncated away
  }
  if (offset == 0) return out + (Chance(0.5) ? "Z" : "+00:00");
  std::snprintf(buf, sizeof(buf), "%c%02d:%02d", offset < 0 ? '-' : '+', std::abs(offset) / 60,
                std::abs(offset) % 60);
  return out + buf;
}

void Builder::Emit(const User& u, int64_t ts, const std::string& body, int64_t delay) {
  if (delay < 0) delay = Chance(0.03) ? Int(1, 36 * 60) * kMinuteMs : 0;
  std::string user = u.numeric && Chance(0.5) ? u.id : JsonQuote(u.id);
  std::string ts_text = Chance(0.9) ? std::to_string(ts) : JsonQuote(Rfc3339(ts));
  std::string json = Chance(0.8) ? "{\"user_id\":" + user + "," + body + ",\"ts\":" + ts_text + "}"
                                 : "{\"ts\":" + ts_text + "," + body + ",\"user_id\":" + user + "}";
  pending_.push_back({ts + delay, static_cast<int64_t>(pending_.size()), std::move(json)});
}

// One invalid record of a random kind, somewhere in `day`. Most carry a ts far
// ahead, so an engine that let them move the clock would show it.
void Builder::EmitInvalid(int day) {
  int64_t ts = At(day, 7 + Uniform() * 16);
  std::string far = std::to_string(ts + 40 * kDayMs);
  std::string id = "\"u" + std::to_string(Int(0, config_.users - 1)) + "\"";
  static const std::vector<std::string> kKinds = {
      "truncated",  "missing_ts",    "missing_user", "float_ts", "no_offset",   "leap_second",
      "no_content", "duplicate_key", "empty_user",   "array",    "event_number"};
  const std::string& kind = Pick(kKinds);
  std::string json;
  if (kind == "truncated") json = "{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":";
  if (kind == "missing_ts") json = "{\"user_id\":" + id + ",\"event\":\"visit\"}";
  if (kind == "missing_user") json = "{\"event\":\"visit\",\"ts\":" + far + "}";
  if (kind == "float_ts")
    json = "{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":" + far + ".5}";
  if (kind == "no_offset") {
    json = "{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":\"" +
           Calendar::CivilString(first_day_ + day + 40) + "T10:00:00\"}";
  }
  if (kind == "leap_second") {
    json = "{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":\"" +
           Calendar::CivilString(first_day_ + day + 40) + "T23:59:60Z\"}";
  }
  if (kind == "no_content") json = "{\"user_id\":" + id + ",\"ts\":" + far + "}";
  if (kind == "duplicate_key") {
    json = "{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":" + far + ",\"ts\":" + far + "}";
  }
  if (kind == "empty_user") json = "{\"user_id\":\"\",\"event\":\"visit\",\"ts\":" + far + "}";
  if (kind == "array") json = "[{\"user_id\":" + id + ",\"event\":\"visit\",\"ts\":" + far + "}]";
  if (kind == "event_number") json = "{\"user_id\":" + id + ",\"event\":5,\"ts\":" + far + "}";
  pending_.push_back({ts, static_cast<int64_t>(pending_.size()), json});
}

User Builder::MakeUser(int index) {
  User u;
  u.numeric = index % 19 == 5;
  u.id = u.numeric ? std::to_string(70000 + index) : "u" + std::to_string(index);
  const int days = config_.days;
  u.join = Chance(0.4) ? 0 : Int(0, days / 3);
  using P = User::Pattern;
  static const std::vector<P> kPatterns = {P::kDaily,    P::kRegular,   P::kLapsing, P::kLapsing,
                                           P::kSporadic, P::kReturning, P::kBurst,   P::kRegular};
  u.pattern = Pick(kPatterns);
  if (u.pattern == P::kLapsing) u.stop = u.join + Int(6, std::max(7, days * 2 / 3));
  if (u.pattern == P::kReturning) {
    u.gap_from = u.join + Int(3, std::max(4, days / 2));
    u.gap_to = u.gap_from + Int(5, 10);
  }
  u.shopper = Chance(0.5);
  u.whale = Chance(0.12);
  u.signup = Chance(0.35);
  u.carts = Chance(0.3);
  u.searcher = Chance(0.3);
  u.tipper = Chance(0.15);
  if (Chance(0.4)) u.coupon_day = Int(u.join, days - 1);
  if (u.coupon_day >= 0 && Chance(0.5)) u.coupon_use_day = u.coupon_day + Int(0, 10);
  if (Chance(0.3)) u.activity_day = Int(u.join, days - 1);
  if (Chance(0.5)) u.credit_day = Int(u.join, days - 1);
  if (u.credit_day >= 0 && Chance(0.35)) u.invest_day = u.credit_day + Int(0, 12);
  u.contacts = Int(0, 2);
  u.level = u.whale ? Int(9, 14) : Int(1, 12);
  return u;
}

// The first record: the initial user properties, often with `register`.
void Builder::Initial(User& u) {
  static const std::vector<std::string> kGenders = {"male", "male", "female", "other"};
  static const std::vector<std::string> kCities = {"Berlin", "Amsterdam", "Shanghai",
                                                   "Paris",  "Zurich",    "Lyon"};
  std::string set =
      "\"gender\":" + JsonQuote(Pick(kGenders)) + ",\"age\":" + std::to_string(Int(16, 40)) +
      ",\"city\":" + JsonQuote(Pick(kCities)) + ",\"level\":" + std::to_string(u.level) +
      ",\"vip\":" + (Chance(0.4) ? "true" : "false") +
      ",\"contact_count\":" + std::to_string(u.contacts);
  if (Chance(0.2)) set += ",\"$city\":" + JsonQuote(Pick(kCities));
  if (Chance(0.1)) set += ",\"nested\":{\"ignored\":1},\"list\":[1,2]";
  int64_t ts = At(u.join, 7 + Uniform() * 3);
  if (Chance(0.7)) {
    Emit(u, ts, "\"event\":\"register\",\"props\":{\"source\":\"app\"},\"set\":{" + set + "}");
  } else {
    Set(u, ts, set);
  }
}

void Builder::Visits(User& u, int day) {
  using P = User::Pattern;
  double p = 0.55;
  switch (u.pattern) {
    case P::kDaily:
      p = 0.92;
      break;
    case P::kRegular:
      p = 0.55;
      break;
    case P::kLapsing:
      p = day < u.stop ? 0.9 : 0;
      break;
    case P::kSporadic:
      p = 0.15;
      break;
    case P::kReturning:
      p = day >= u.gap_from && day <= u.gap_to ? 0 : 0.8;
      break;
    case P::kBurst:
      p = 0.3;
      break;
  }
  if (!Chance(p)) return;
  static const std::vector<std::string> kPages = {"home", "list", "pay", "detail"};
  bool burst = u.pattern == P::kBurst;
  int n = burst ? Int(3, 5) : Int(1, 3);
  double base = 7 + Uniform() * 15;
  for (int k = 0; k < n; ++k) {
    int64_t ts = burst ? At(day, base + Uniform() * 1.5) : At(day, 7 + Uniform() * 16.9);
    Event(u, ts, "visit", "\"page\":" + JsonQuote(Pick(kPages)));
  }
  if (Chance(0.04)) Event(u, calendar_.StartOfDay(first_day_ + day), "visit");  // at midnight
  if (Chance(0.3)) Event(u, At(day, 8 + Uniform() * 14), "page:view");
  if (Chance(0.1)) Event(u, At(day, 8 + Uniform() * 14), "app-open");
  if (Chance(0.25)) {
    for (int k = Int(1, 3); k > 0; --k) Event(u, At(day, 7 + Uniform() * 16.9), "cart_calc");
  }
}

void Builder::Shopping(User& u, int day) {
  static const std::vector<std::string> kChannels = {"app", "web", "store"};
  if (u.shopper && Chance(0.35)) {
    std::string amount;
    double r = Uniform();
    if (r < 0.08) {
      amount = "\"" + Num(Int(50, 900)) + "\"";  // a string: not numeric
    } else if (r < 0.11) {
      amount = "true";
    } else {
      amount = Num(Int(5000, 150000) / 100.0);
    }
    std::string props = "\"amount\":" + amount;
    if (Chance(0.85)) props += ",\"channel\":" + JsonQuote(Pick(kChannels));
    if (u.first_purchase) props += ",\"first\":true";
    u.first_purchase = false;
    Event(u, At(day, 8 + Uniform() * 15), "purchase", props);
  }
  if (u.shopper && Chance(0.06)) {
    Event(u, At(day, 8 + Uniform() * 15), "refund", "\"amount\":" + Num(Int(500, 60000) / 100.0));
  }
  if (Chance(0.04)) Event(u, At(day, 8 + Uniform() * 15), "Order Completed");
  if (day == u.coupon_day) {
    static const std::vector<std::string> kCoupons = {"A", "B", "C"};
    Event(u, At(day, 9 + Uniform() * 12), "coupon_claim",
          "\"coupon\":" + JsonQuote(Pick(kCoupons)));
  }
  if (day == u.coupon_use_day) Event(u, At(day, 9 + Uniform() * 12), "coupon_use");
  if (u.tipper && Chance(0.3)) {
    int64_t ts = At(day, 10 + Uniform() * 10);
    Event(u, ts, "tip", "\"amount\":0.1");
    Event(u, ts + Int(1, 90) * kMinuteMs, "tip",
          Chance(0.8) ? "\"amount\":0.2" : "\"amount\":\"0.2\"");
  }
  if (u.whale) {
    if (Chance(0.5)) Event(u, At(day, 18 + Uniform() * 5), "comment");
    if (Chance(0.5)) Event(u, At(day, 18 + Uniform() * 5), "like");
    for (int k = Int(0, 3); k > 0; --k) Event(u, At(day, 18 + Uniform() * 5), "gift_send");
  }
  if (day == u.activity_day) {
    Event(u, At(day, 9 + Uniform() * 12), "activity_signup",
          "\"activity\":" + JsonQuote(Chance(0.6) ? "X" : "Y"));
  }
  if (day == u.credit_day) Event(u, At(day, 9 + Uniform() * 12), "view_credit");
  if (day == u.invest_day) Event(u, At(day, 9 + Uniform() * 12), "invest");
}

// Funnels that complete, drop, restart, or hit their deadline to the millisecond.
void Builder::Funnels(User& u, int day) {
  if (u.shopper && Chance(0.2)) {
    int64_t t = At(day, 8 + Uniform() * 15);
    Event(u, t, "order_submit", "\"channel\":" + JsonQuote(Chance(0.6) ? "app" : "web"));
    double r = Uniform();
    if (r < 0.4)
      Event(u, t + Int(5, 29) * kMinuteMs, "pay");
    else if (r < 0.55)
      Event(u, t + Int(31, 90) * kMinuteMs, "pay");
    else if (r < 0.6)
      Event(u, t + kHourMs, "pay");  // exactly at the 1h deadline
    else if (r < 0.65)
      Event(u, t + 45 * kMinuteMs - 1, "pay");  // just inside 45m
    else if (r < 0.7)
      Event(u, t, "pay");  // same ms, later arrival
    if (Chance(0.15)) Event(u, t + Int(10, 30) * kMinuteMs, "order_submit");  // restart
  }
  if (u.signup && Chance(0.15)) {
    int64_t t = At(day, 8 + Uniform() * 15);
    Event(u, t, "signup_start");
    if (Chance(0.8)) {
      int64_t t2 = t + Int(1, 25) * kMinuteMs;
      Event(u, t2, "send_code");
      if (Chance(0.55)) Event(u, t2 + Int(1, 20) * kMinuteMs, "signup_done");
    }
    if (Chance(0.2)) Event(u, t + Int(35, 180) * kMinuteMs, "signup_start");
  }
  if (u.carts && Chance(0.2)) {
    int64_t t = At(day, 8 + Uniform() * 14);
    Event(u, t, "view_item", "\"sku\":" + std::to_string(Int(1, 50)));
    if (Chance(0.6)) {
      t += Int(5, 60) * kMinuteMs;
      // The channel from the minute (no draw, so the stream stays as it was).
      Event(u, t, "add_cart", (t / kMinuteMs) % 2 ? "\"channel\":\"app\"" : "\"channel\":\"web\"");
      if (Chance(0.5)) Event(u, t + Int(5, 90) * kMinuteMs, "checkout");
    }
  }
  if (u.searcher && Chance(0.4)) {
    int64_t t = At(day, 8 + Uniform() * 15);
    Event(u, t, "search");
    if (Chance(0.4)) Event(u, t + Int(1, 20) * kMinuteMs, "search", "\"result\":\"hit\"");
  }
}

void Builder::Properties(User& u, int day) {
  double hours = 7 + Uniform() * 16.5;
  if (Chance(0.25)) {
    u.contacts = Chance(0.1) ? Int(0, 4) : u.contacts + Int(1, 2);  // sometimes contacts drop
    Set(u, At(day, hours), "\"contact_count\":" + std::to_string(u.contacts));
  }
  if (Chance(0.08)) Set(u, At(day, hours), "\"level\":" + std::to_string(++u.level));
  if (Chance(0.04))
    Set(u, At(day, hours), "\"city\":" + JsonQuote(Chance(0.5) ? "Berlin" : "Lyon"));
  if (Chance(0.02)) Set(u, At(day, hours), "\"city\":null");
  if (Chance(0.02)) Emit(u, At(day, hours), "\"unset\":[\"city\",\"tier\"]");
  if (Chance(0.03))
    Set(u, At(day, hours), std::string("\"vip\":") + (Chance(0.5) ? "true" : "false"));
  if (Chance(0.03)) Set(u, At(day, hours), "\"$city\":\"Shanghai\"");
  if (Chance(0.04)) {  // event, set and unset in one record
    Emit(u, At(day, hours),
         "\"event\":\"visit\",\"set\":{\"city\":\"Amsterdam\",\"age\":" +
             std::to_string(Int(17, 30)) + "},\"unset\":[\"city\"]");
  }
  if (Chance(0.02)) {  // two sets at the same ts: the later arrival wins
    int64_t ts = At(day, hours);
    Set(u, ts, "\"gender\":\"female\"", 0);
    Set(u, ts, "\"gender\":\"male\"", 0);
  }
}

void Builder::Day(User& u, int day) {
  Visits(u, day);
  Shopping(u, day);
  Funnels(u, day);
  Properties(u, day);
  if (Chance(0.012)) EmitInvalid(day);
}

// Users whose histories make sure each boundary kind is reached whatever the seed.
void Builder::Specials(std::vector<std::string>* offline_x) {
  const int range_end = config_.days / 3;
  User late_reg;  // a register inside the date range that arrives after it ended
  late_reg.id = "late_register";
  Event(late_reg, At(range_end, 9), "visit", "", 0);
  Event(late_reg, At(range_end, 10), "view_credit", "", 0);
  Event(late_reg, At(range_end, 22), "register", "", 14 * kHourMs);
  User member;  // a member of "sleeping" when the date range ends
  member.id = "range_member";
  Event(member, At(range_end - 1, 9), "register", "", 0);
  Event(member, At(range_end - 1, 10), "view_credit", "", 0);
  Event(member, At(range_end + 2, 10), "visit", "", 0);
  User late_order;  // an order whose deadline has passed when it arrives
  late_order.id = "late_order";
  Event(late_order, At(5, 10), "order_submit", "\"channel\":\"web\"", 3 * kHourMs);
  User late_set;  // yesterday's contact count arrives today
  late_set.id = "late_set";
  Set(late_set, At(5, 10), "\"contact_count\":1", 0);
  Set(late_set, At(6, 23), "\"contact_count\":9", 13 * kHourMs);
  User unset;
  unset.id = "unset_user";
  Set(unset, At(4, 10), "\"city\":\"Paris\"", 0);
  Emit(unset, At(5, 10), "\"unset\":[\"city\"]", 0);
  Set(unset, At(6, 10), "\"city\":\"Paris\"", 0);
  Set(unset, At(7, 10), "\"city\":null", 0);
  User listed;
  listed.id = "0123";
  for (int day = 2; day < config_.days; day += 2) Event(listed, At(day, 12), "visit", "", 0);
  User empty;
  empty.id = "empty_set";
  Set(empty, At(3, 12), "", 0);
  offline_x->push_back("0123");
  offline_x->push_back("ghost_never_seen");
}

std::vector<std::string> Builder::Run(std::vector<std::string>* offline_x) {
  for (int i = 0; i < config_.users; ++i) {
    User u = MakeUser(i);
    if (i % 7 == 3) offline_x->push_back(u.id);
    Initial(u);
    for (int day = u.join; day < config_.days; ++day) Day(u, day);
  }
  Specials(offline_x);
  std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.arrival != b.arrival ? a.arrival < b.arrival : a.order < b.order;
  });
  std::vector<std::string> out;
  for (Pending& p : pending_) out.push_back(std::move(p.json));
  return out;
}

}  // namespace

bool Generate(const GeneratorConfig& config, GeneratedStream* out, std::string* error) {
  if (config.users < 10 || config.days < 10) {
    *error = "need at least 10 users and 10 days";
    return false;
  }
  Calendar calendar;
  if (!calendar.Load(config.timezone, error)) return false;
  unsigned y, m, d;
  if (std::sscanf(config.start_date.c_str(), "%4u-%2u-%2u", &y, &m, &d) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31) {
    *error = "bad start date " + config.start_date;
    return false;
  }
  int64_t first_day = Calendar::DaysFromCivil(static_cast<int>(y), m, d);
  std::vector<std::string> offline_x;
  Builder builder(config, calendar, first_day);
  out->records = builder.Run(&offline_x);
  out->rules = GeneratedRules(config, first_day, std::move(offline_x));
  return true;
}

}  // namespace segd_ref
