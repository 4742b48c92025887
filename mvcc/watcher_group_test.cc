#include "mvcc/watcher_group.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace etcd::mvcc::internal {
namespace {

struct TestMember : GroupMember {
  std::string key;
  std::string end;
};

std::unique_ptr<TestMember> Member(std::string key, std::string end = "") {
  auto m = std::make_unique<TestMember>();
  m->key = std::move(key);
  m->end = std::move(end);
  return m;
}

void Add(WatcherGroup& g, TestMember* m) { g.Add(m, m->key, m->end); }

std::vector<GroupMember*> Matches(const WatcherGroup& g, const std::string& key) {
  std::vector<GroupMember*> out;
  g.ForEachMatch(key, [&](GroupMember* m) { out.push_back(m); });
  std::sort(out.begin(), out.end());
  return out;
}

bool Holds(const TestMember& m, const std::string& key) {
  if (m.end.empty()) return key == m.key;
  if (m.end == std::string(1, '\0')) return key >= m.key;
  return key >= m.key && key < m.end;
}

TEST(WatcherGroupTest, KeysRangesAndFromKey) {
  WatcherGroup g;
  auto a = Member("a");
  auto a2 = Member("a");
  auto ac = Member("a", "c");
  auto from_b = Member("b", std::string(1, '\0'));
  auto all = Member("", std::string(1, '\0'));
  for (TestMember* m : {a.get(), a2.get(), ac.get(), from_b.get(), all.get()}) Add(g, m);
  EXPECT_EQ(g.size(), 5u);

  std::vector<GroupMember*> want = {a.get(), a2.get(), ac.get(), all.get()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Matches(g, "a"), want);
  want = {ac.get(), from_b.get(), all.get()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Matches(g, "b"), want);
  want = {from_b.get(), all.get()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Matches(g, "zz"), want);

  g.Remove(a.get());
  g.Remove(ac.get());
  want = {a2.get(), all.get()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Matches(g, "a"), want);
  EXPECT_EQ(a->list, nullptr);
  g.Remove(a2.get());
  g.Remove(from_b.get());
  g.Remove(all.get());
  EXPECT_TRUE(g.empty());
  EXPECT_TRUE(Matches(g, "a").empty());
}

// Random adds and removes against a brute-force scan.
class WatcherGroupRandomTest : public ::testing::TestWithParam<bool> {};

TEST_P(WatcherGroupRandomTest, AgainstBruteForce) {
  std::mt19937 rng(7);
  const std::vector<std::string> keys = {"", "a", "ab", "b", "c", "d", std::string(1, '\0')};
  std::vector<std::unique_ptr<TestMember>> members;
  std::vector<TestMember*> in;
  WatcherGroup g(/*track_members=*/GetParam());
  for (int step = 0; step < 3000; ++step) {
    if (in.empty() || rng() % 3 != 0) {
      std::string k = keys[rng() % keys.size()];
      std::string e;
      switch (rng() % 3) {
        case 0:
          break;
        case 1:
          e = std::string(1, '\0');
          break;
        default:
          e = k + std::string(1, 'a' + rng() % 4);
          break;
      }
      if (k.empty() && e.empty()) k = "a";
      members.push_back(Member(k, e));
      Add(g, members.back().get());
      in.push_back(members.back().get());
    } else {
      const size_t i = rng() % in.size();
      g.Remove(in[i]);
      in.erase(in.begin() + i);
    }
    ASSERT_EQ(g.size(), in.size());
    std::vector<GroupMember*> all;
    g.ForEachMember([&](GroupMember* m) { all.push_back(m); });
    std::vector<GroupMember*> want_all(in.begin(), in.end());
    std::sort(all.begin(), all.end());
    std::sort(want_all.begin(), want_all.end());
    ASSERT_EQ(all, want_all);
    if (GetParam()) {
      ASSERT_EQ(g.members().size(), in.size());
    }
    for (const char* probe : {"a", "ab", "aa", "b", "c", "zz", ""}) {
      std::vector<GroupMember*> want;
      for (TestMember* m : in) {
        if (Holds(*m, probe)) want.push_back(m);
      }
      std::sort(want.begin(), want.end());
      ASSERT_EQ(Matches(g, probe), want) << "step " << step << " key '" << probe << "'";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TrackMembers, WatcherGroupRandomTest, ::testing::Bool());

}  // namespace
}  // namespace etcd::mvcc::internal
