// The generated rule set: the seed scenarios of SCENARIOS.md plus rules for
// every other construct and boundary. Thresholds are chosen so that the
// generated histories (generator.cc) cross them in both directions.
#include "calendar.h"
#include "generator.h"

namespace segd_ref {

RuleSet GeneratedRules(const GeneratorConfig& config, int64_t first_day,
                       std::vector<std::string> offline_x) {
  auto date = [&](int day) { return Calendar::CivilString(first_day + day); };
  const int days = config.days;
  // The register range ends inside the period; the visit range after it.
  const std::string register_range = date(3) + ".." + date(days / 3);
  const std::string visit_range = date(days / 3 + 1) + ".." + date(2 * days / 3);

  RuleSet rules;
  rules.timezone = config.timezone;
  rules.lists = {{"offline_x", std::move(offline_x)}, {"empty_list", {}}};
  rules.segments = {
      // SCENARIOS.md 1-12.
      {"monthly_active", "", "active_days(visit, 30d) >= 20"},
      {"lapsing_active", "", "active_days(visit, 30d) >= 15 and not did(visit, 7d)"},
      {"coupon_unused", "",
       "(did(coupon_claim{coupon=\"A\"}, 30d) or did(coupon_claim{coupon=\"B\"}, 30d)) and "
       "not did(coupon_use, 30d)"},
      {"signup_dropped", "", "dropped(signup_start -> send_code -> signup_done, within 30m, 1d)"},
      {"order_unpaid", "", "dropped(order_submit -> pay, within 1h, 7d)"},
      {"activity_x", "", "did(activity_signup{activity=\"X\"})"},
      {"offline_x", "", "in_list(\"offline_x\")"},
      {"tier_infant", "", "user.contact_count@yesterday < 3"},
      {"tier_growing", "",
       "user.contact_count@yesterday >= 3 and user.contact_count@yesterday <= 6"},
      {"tier_mature", "", "user.contact_count@yesterday >= 7"},
      {"cart_calc_3", "", "count(cart_calc, 7d) >= 3"},
      {"young_men", "", "user.gender = \"male\" and user.age < 25"},
      {"whales", "",
       "user.level > 10 and did(comment, 30d) and did(like, 30d) and count(gift_send, 30d) > 10"},
      {"sleeping", "",
       "did(register, " + register_range + ") and did(view_credit) and not did(invest)"},
      {"rfm_top", "",
       "days_since(purchase) <= 30 and count(purchase, 365d) >= 5 and "
       "sum(purchase.amount, 365d) >= 3000"},
      {"churn_warning", "",
       "active_days(visit, 30d) >= 15 and not did(visit, 7d) and days_since(visit) >= 14"},
      // Shorter variants that a few weeks of history cross both ways.
      {"lapsing_short", "", "active_days(visit, 14d) >= 5 and not did(visit, 3d)"},
      {"churn_short", "", "active_days(visit, 30d) >= 8 and days_since(visit) >= 5"},
      // Hours, today, yesterday.
      {"hourly_busy", "", "count(visit, 24h) >= 3"},
      {"cart_recent", "", "did(cart_calc, 6h)"},
      {"browsed_not_bought_today", "", "did(visit, today) and not did(purchase, today)"},
      {"regular_yesterday", "", "count(visit, yesterday) >= 2"},
      // User properties: @yesterday against now, in [...], != with missing,
      // strings and booleans, backquoted names.
      {"level_up", "", "user.level > user.level@yesterday"},
      {"gender_or_age", "", "user.gender in [\"female\", \"other\"] or user.age in [18, 19, 20]"},
      {"not_berlin", "", "user.city != \"Berlin\""},
      {"early_city_vip", "", "user.city < \"M\" and user.vip = true"},
      {"not_vip", "", "user.vip != true"},
      {"quoted_names", "", "did(`Order Completed`, 7d) or user.`$city` = \"Shanghai\""},
      {"colon_dash_names", "", "count(page:view, 3d) >= 2 and not did(app-open, 2d)"},
      // Filters, sums, comparisons of aggregates, literals on the left.
      {"multi_channel", "", "count(purchase{channel in [\"app\", \"web\"]}, 7d) >= 2"},
      {"big_week", "", "sum(purchase.amount, 7d) > 1500"},
      {"tips_exact", "", "sum(tip.amount, today) = 0.3"},
      {"first_buyer", "",
       "count(purchase{first = true, amount >= 100}) >= 1 and user.vip != false"},
      {"refund_heavy", "",
       "sum(refund.amount, 30d) > 0 and sum(refund.amount, 30d) >= sum(purchase.amount, 7d)"},
      {"more_refunds", "", "count(refund, 30d) > count(purchase{channel != \"store\"}, 30d)"},
      {"visits_left", "", "2.5 < count(visit, 3d)"},
      {"recent_buyer", "", "days_since(purchase) in [0, 1]"},
      {"never_bought", "", "not did(purchase) and days_since(purchase) > 1000"},
      {"quiet_now", "", "not (did(visit, 2d) or did(purchase, 2d)) and did(visit)"},
      {"visit_range", "", "active_days(visit, " + visit_range + ") >= 4"},
      // Segments built on segments, and lists.
      {"chain_a", "", "in_segment(lapsing_short) or in_segment(coupon_unused)"},
      {"2024", "", "in_segment(chain_a) and not in_segment(order_unpaid)"},
      {"chain_c", "", "in_segment(2024) and days_since(visit) >= 1"},
      {"offline_active", "",
       "in_list(\"offline_x\") and did(visit, 7d) and not in_list(\"empty_list\") and "
       "not in_list(\"no_such_list\")"},
      // More funnels: three steps over all time, an Nh window, a last step that
      // also matches the first, a date-range window and a yesterday window.
      {"cart_abandon", "", "dropped(view_item -> add_cart -> checkout, within 2h)"},
      {"order_unpaid_12h", "", "dropped(order_submit -> pay, within 45m, 12h)"},
      {"search_loop", "", "dropped(search -> search{result = \"hit\"}, within 15m, today)"},
      {"register_no_credit", "",
       "dropped(register -> view_credit, within 2h, " + register_range + ")"},
      {"unpaid_yesterday", "",
       "dropped(order_submit{channel = \"app\"} -> pay, within 30m, yesterday)"},
      // Windows of sums and active days the rules above do not use, and
      // comparisons between an aggregate and another value.
      {"sum_all_time", "", "sum(purchase.amount) >= 2000"},
      {"sum_range", "", "sum(purchase.amount, " + visit_range + ") > 500"},
      {"sum_hours", "", "sum(tip.amount, 12h) >= 0.3"},
      {"sum_yesterday", "", "sum(purchase.amount, yesterday) > 100"},
      {"active_all_time", "", "active_days(visit) >= 10"},
      {"active_today_only", "", "active_days(visit, today) = 1 and active_days(visit, yesterday) = 0"},
      {"since_vs_count", "", "days_since(visit) > count(purchase, 30d)"},
      {"count_in_list", "", "count(visit, 7d) in [2, 3, 5]"},
      {"level_vs_comments", "", "user.level >= count(comment, 30d) and did(comment, 30d)"},
      {"negative_literals", "", "sum(refund.amount, 30d) > -1 and user.age > -1 and -2 < user.level"},
      {"mid_step_filter", "",
       "dropped(view_item -> add_cart{channel = \"app\"} -> checkout, within 1h, 7d)"},
      {"funnel_seconds", "", "dropped(search -> search{result = \"hit\"}, within 90s, 2d)"},
  };
  return rules;
}

}  // namespace segd_ref
