// Standby placement: every instance works out the same placement from the
// group's description; each partition gets min(K, members - 1) copies, never
// on its owner, and one owner's copies spread over the others.
#include "daemon/standby.h"

#include <gtest/gtest.h>

#include <map>

namespace segd {
namespace {

GroupDescription Group(const std::map<std::string, std::vector<int>>& owned) {
  GroupDescription g;
  g.stable = true;
  for (const auto& [name, parts] : owned) {
    GroupMember m;
    m.instance_id = name;
    m.member_id = name + "-member";
    for (int p : parts) m.assignment.emplace_back("events", p);
    m.assignment.emplace_back("other-topic", 0);  // not an input topic of ours
    g.members.push_back(m);
  }
  return g;
}

// partition → the members keeping a copy of it.
std::map<int, std::vector<std::string>> Copies(const GroupDescription& g, int k) {
  std::map<int, std::vector<std::string>> out;
  for (const auto& m : g.members) {
    for (const auto& tp : StandbyPlacement(g, m.instance_id, k, {"events"})) {
      EXPECT_EQ(tp.topic, "events");
      out[tp.partition].push_back(m.instance_id);
    }
  }
  return out;
}

TEST(StandbyPlacementTest, EachPartitionGetsKCopiesOffItsOwner) {
  auto g = Group({{"a", {0, 1, 2}}, {"b", {3, 4}}, {"c", {5}}});
  std::map<int, std::string> owner = {{0, "a"}, {1, "a"}, {2, "a"},
                                      {3, "b"}, {4, "b"}, {5, "c"}};
  for (int k : {1, 2}) {
    auto copies = Copies(g, k);
    ASSERT_EQ(copies.size(), 6u) << k;
    for (const auto& [p, holders] : copies) {
      EXPECT_EQ(holders.size(), static_cast<size_t>(k)) << p;
      for (const auto& h : holders) EXPECT_NE(h, owner[p]) << p;
    }
  }
  // One owner's partitions spread over both others.
  auto one = Copies(g, 1);
  EXPECT_NE(one[0], one[1]);
}

TEST(StandbyPlacementTest, MoreReplicasThanOthersCopiesToEveryOther) {
  auto g = Group({{"a", {0, 1}}, {"b", {2, 3}}});
  auto copies = Copies(g, 5);
  EXPECT_EQ(copies[0], std::vector<std::string>{"b"});
  EXPECT_EQ(copies[2], std::vector<std::string>{"a"});
}

TEST(StandbyPlacementTest, NothingAloneWithoutReplicasOrForAStranger) {
  auto alone = Group({{"a", {0, 1, 2}}});
  EXPECT_TRUE(StandbyPlacement(alone, "a", 2, {"events"}).empty());
  auto g = Group({{"a", {0}}, {"b", {1}}});
  EXPECT_TRUE(StandbyPlacement(g, "a", 0, {"events"}).empty());
  EXPECT_TRUE(StandbyPlacement(g, "z", 1, {"events"}).empty());
}

TEST(StandbyPlacementTest, MembersWithoutInstanceIdGoByMemberId) {
  auto g = Group({{"a", {0}}, {"b", {1}}});
  for (auto& m : g.members) m.instance_id.clear();
  EXPECT_EQ(StandbyPlacement(g, "a-member", 1, {"events"}),
            (std::set<TopicPartition>{{"events", 1}}));
}

}  // namespace
}  // namespace segd
