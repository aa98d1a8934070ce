// The engine's index of its batch's users: every object inserted is found
// by its key, across growth; and Clear (both of its ways: slot by slot
// when few are held, the whole array when many are) leaves nothing behind,
// though it empties the slots of a probe sequence before looking for the
// later ones.
#include "rules/pointer_index.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace segd::rules {
namespace {

struct Item {
  std::string key;
};
struct KeyOf {
  std::string_view operator()(const Item& i) const { return i.key; }
};
// Few distinct hashes: long probe sequences, with wrap-around.
struct BadHash {
  size_t operator()(std::string_view k) const { return k.size() % 3 + 61; }
};
using Index = PointerIndex<Item, std::string_view, KeyOf, BadHash>;

// Keys of five lengths, so of three hashes; or (`one_hash`) of one length,
// so one probe sequence.
std::vector<std::unique_ptr<Item>> Items(int from, int n, bool one_hash = false) {
  std::vector<std::unique_ptr<Item>> v;
  for (int i = from; i < from + n; ++i) {
    std::string pad(one_hash ? 0 : i % 5, 'x');
    v.push_back(std::make_unique<Item>(Item{"k" + pad + std::to_string(10000 + i)}));
  }
  return v;
}

TEST(PointerIndexTest, FindsEveryObjectAcrossGrowth) {
  Index index;
  EXPECT_EQ(index.Find("none"), nullptr);
  auto items = Items(0, 300);
  for (auto& i : items) index.Insert(i.get());
  EXPECT_EQ(index.size(), 300u);
  for (auto& i : items) EXPECT_EQ(index.Find(i->key), i.get()) << i->key;
  EXPECT_EQ(index.Find("k-absent"), nullptr);
}

TEST(PointerIndexTest, ClearEmptiesItBothWaysAndItFillsAgain) {
  for (int held : {3, 200}) {  // few of the slots (one by one), many (all at once)
    Index index;
    auto big = Items(1000, 200);
    for (auto& i : big) index.Insert(i.get());
    index.Clear(big);  // grown to its size: slots enough for the few case
    auto items = Items(0, held, /*one_hash=*/true);
    for (auto& i : items) index.Insert(i.get());
    // Cleared in the order inserted: the first slots of a probe sequence
    // are emptied before the later ones are looked for.
    index.Clear(items);
    EXPECT_EQ(index.size(), 0u);
    for (auto& i : items) EXPECT_EQ(index.Find(i->key), nullptr) << held << " " << i->key;
    // New objects under the same keys: each key finds the new one, never
    // one cleared before.
    auto again = Items(0, held, /*one_hash=*/true);
    for (auto& i : again) index.Insert(i.get());
    for (auto& i : again) EXPECT_EQ(index.Find(i->key), i.get()) << held << " " << i->key;
    for (auto& i : big) EXPECT_EQ(index.Find(i->key), nullptr);
  }
}

}  // namespace
}  // namespace segd::rules
