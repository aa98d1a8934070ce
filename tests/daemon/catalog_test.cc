// Catalog: the API's segment and list changes as definitions topic entries,
// and a catalog rebuilt from those entries (what another instance, or a
// restart, reads from the topic) runs the same rule set in the same order.
#include "daemon/catalog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace segd {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/segd-catalog-XXXXXX";
    dir_ = mkdtemp(tmpl);
    rules_ = dir_ + "/rules.yaml";
    std::ofstream(rules_) << "segments:\n  - id: buyer\n    rule: did(purchase)\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Catalog> Open(const std::string& data) {
    auto c = Catalog::Open(rules_, dir_ + "/" + data, 400, nullptr);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  // Applies a change's entry to `to`, as a reader of the topic does.
  static void Apply(Catalog* to, const Catalog::Change& change) {
    std::vector<RuleError> errors;
    auto c = to->PrepareEntry(change.key, change.value, &errors);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE(to->Commit(std::move(c).value()).ok());
  }

  static std::vector<std::string> Order(const Catalog& c) {
    std::vector<std::string> ids;
    for (const auto& s : c.rules()->segments()) ids.push_back(s.id);
    return ids;
  }

  std::string dir_, rules_;
};

TEST_F(CatalogTest, EntriesRebuildTheSameRuleSetInTheSameOrder) {
  auto a = Open("a");
  std::vector<Catalog::Change> entries;
  auto put = [&](const std::string& id, const std::string& rule) {
    ApiSegment s;
    s.id = s.name = id;
    s.rule = rule;
    std::vector<RuleError> errors;
    auto c = a->PreparePut(s, &errors);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->key, "segment:" + id);
    ASSERT_TRUE(c->value.has_value());
    entries.push_back(*c);
    ASSERT_TRUE(a->Commit(std::move(c).value()).ok());
  };
  put("zeta", "did(visit)");
  put("alpha", "in_segment(zeta) and did(purchase, 7d)");
  put("zeta", "did(visit, 30d)");  // changed in place: keeps its position
  auto list = a->PreparePutList("vip", {"u2", "u1", "u2"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->key, "list:vip");
  entries.push_back(*list);
  ASSERT_TRUE(a->Commit(std::move(list).value()).ok());
  EXPECT_EQ(Order(*a), (std::vector<std::string>{"buyer", "zeta", "alpha"}));

  // Every entry in order (a running instance), and only each key's last
  // one (a compacted topic read from its beginning, where `alpha` comes
  // before the entry that last defined `zeta`, which it reads).
  auto b = Open("b");
  for (const auto& e : entries) Apply(b.get(), e);
  auto c = Open("c");
  std::map<std::string, std::optional<std::string>> last;
  for (size_t i : {1, 2, 3}) last[entries[i].key] = entries[i].value;
  std::vector<std::string> skipped;
  c->Rebuild(last, &skipped);
  EXPECT_TRUE(skipped.empty());
  for (const Catalog* x : {b.get(), c.get()}) {
    EXPECT_EQ(Order(*x), Order(*a));
    EXPECT_EQ(x->api_segment("zeta")->rule, "did(visit, 30d)");
    int vip = x->rules()->ListIndex("vip");
    ASSERT_GE(vip, 0);
    EXPECT_EQ(x->rules()->ListSize(vip), 2u);
    EXPECT_EQ(x->rules()->ListDigest(vip), a->rules()->ListDigest(a->rules()->ListIndex("vip")));
  }
}

TEST_F(CatalogTest, DeletionsAndEntriesThatNoLongerFit) {
  auto a = Open("a");
  ApiSegment base{"base", "base", "did(visit)", false, 0, 0};
  ApiSegment dependent{"dependent", "dependent", "in_segment(base)", false, 0, 0};
  std::vector<RuleError> errors;
  auto put_base = a->PreparePut(base, &errors);
  ASSERT_TRUE(put_base.ok());
  ASSERT_TRUE(a->Commit(*put_base).ok());
  auto put_dep = a->PreparePut(dependent, &errors);
  ASSERT_TRUE(put_dep.ok());
  auto del_base = a->PrepareDelete("base", &errors);
  ASSERT_TRUE(del_base.ok());
  EXPECT_FALSE(del_base->value.has_value());  // a tombstone

  // Another instance deleted `base` first: `dependent` no longer compiles.
  auto b = Open("b");
  Apply(b.get(), *put_base);
  Apply(b.get(), *del_base);
  EXPECT_FALSE(b->PrepareEntry(put_dep->key, put_dep->value, &errors).ok());
  // A reader of the compacted topic leaves the same entry out.
  auto c = Open("c");
  std::vector<std::string> skipped;
  c->Rebuild({{put_base->key, std::nullopt}, {put_dep->key, put_dep->value}}, &skipped);
  EXPECT_EQ(Order(*c), Order(*b));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].rfind("segment:dependent", 0), 0u) << skipped[0];
  // The same entry again, or a repeated deletion, changes nothing.
  auto same = b->PrepareEntry(put_base->key, put_base->value, &errors);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->unchanged);  // `base` is deleted on b
  Apply(b.get(), *same);
  auto twice = b->PrepareEntry(put_base->key, put_base->value, &errors);
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->unchanged);
  Apply(b.get(), *del_base);
  auto again = b->PrepareEntry(del_base->key, del_base->value, &errors);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  // Entries naming the rule file's segments, or that are not JSON, do not apply.
  EXPECT_FALSE(b->PrepareEntry("segment:buyer", std::string("{}"), &errors).ok());
  EXPECT_FALSE(b->PrepareEntry("segment:x", std::string("{"), &errors).ok());
  EXPECT_FALSE(b->PrepareEntry("other:x", std::string("{}"), &errors).ok());
}

TEST_F(CatalogTest, ANewSegmentGoesAfterTheExistingOnesWhateverTheClock) {
  auto a = Open("a");
  std::vector<RuleError> errors;
  // An existing segment created "in the future" (another instance's clock).
  ApiSegment late{"late", "late", "did(visit)", false, 0, 0};
  auto c = a->PreparePut(late, &errors);
  ASSERT_TRUE(c.ok());
  std::string value = *c->value;
  size_t at = value.find("\"created_ms\":");
  value.replace(at, value.find(',', at) - at, "\"created_ms\":99999999999999");
  auto future = a->PrepareEntry(c->key, value, &errors);
  ASSERT_TRUE(future.ok());
  ASSERT_TRUE(a->Commit(std::move(future).value()).ok());
  ApiSegment next{"aaa", "aaa", "did(purchase)", false, 0, 0};
  auto n = a->PreparePut(next, &errors);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(a->Commit(std::move(n).value()).ok());
  EXPECT_EQ(Order(*a), (std::vector<std::string>{"buyer", "late", "aaa"}));
}

}  // namespace
}  // namespace segd
