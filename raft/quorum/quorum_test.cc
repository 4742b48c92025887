#include "raft/quorum/quorum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <sstream>

#include "raft/quorum/quorum_test_util.h"

namespace etcd::raft::quorum {
namespace {

TEST(IndexTest, String) {
  EXPECT_EQ(IndexString(0), "0");
  EXPECT_EQ(IndexString(12345), "12345");
  EXPECT_EQ(IndexString(kInfinity - 1), "18446744073709551614");
  EXPECT_EQ(IndexString(kInfinity), "∞");
}

TEST(VoteResultTest, String) {
  EXPECT_EQ(VoteResultString(VoteResult::kVotePending), "VotePending");
  EXPECT_EQ(VoteResultString(VoteResult::kVoteLost), "VoteLost");
  EXPECT_EQ(VoteResultString(VoteResult::kVoteWon), "VoteWon");
  EXPECT_EQ(VoteResultString(static_cast<VoteResult>(7)), "VoteResult(7)");
  std::ostringstream os;
  os << VoteResult::kVoteWon;
  EXPECT_EQ(os.str(), "VoteWon");
}

TEST(MajorityConfigTest, SortedSetOperations) {
  MajorityConfig c{3, 1, 2, 3};
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.Slice(), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(c.Contains(2));
  EXPECT_FALSE(c.Contains(4));
  EXPECT_TRUE(c.Insert(0));
  EXPECT_FALSE(c.Insert(0));
  EXPECT_TRUE(c.Erase(2));
  EXPECT_FALSE(c.Erase(2));
  EXPECT_EQ(c, (MajorityConfig{0, 1, 3}));
  EXPECT_NE(c, MajorityConfig{});
  c.Clear();
  EXPECT_TRUE(c.empty());
}

TEST(MajorityConfigTest, String) {
  EXPECT_EQ(MajorityConfig().String(), "()");
  EXPECT_EQ(MajorityConfig({7}).String(), "(7)");
  EXPECT_EQ(MajorityConfig({10, 2, 1}).String(), "(1 2 10)");
}

TEST(MajorityConfigTest, CommittedIndex) {
  EXPECT_EQ(MajorityConfig().CommittedIndex(MapAckIndexer()), kInfinity);
  MajorityConfig three{1, 2, 3};
  EXPECT_EQ(three.CommittedIndex(MapAckIndexer()), 0u);
  EXPECT_EQ(three.CommittedIndex(MapAckIndexer{{1, 12}}), 0u);
  EXPECT_EQ(three.CommittedIndex(MapAckIndexer{{1, 12}, {2, 5}}), 5u);
  EXPECT_EQ(three.CommittedIndex(MapAckIndexer{{1, 12}, {2, 5}, {3, 6}}), 6u);
  // Acks from non-voters do not count.
  EXPECT_EQ(three.CommittedIndex(MapAckIndexer{{1, 12}, {4, 50}, {5, 50}}), 0u);
  // More than seven voters take the non-inline path.
  MajorityConfig nine{1, 2, 3, 4, 5, 6, 7, 8, 9};
  MapAckIndexer l;
  for (uint64_t id = 1; id <= 9; ++id) l.Set(id, id * 10);
  EXPECT_EQ(nine.CommittedIndex(l), 50u);
}

TEST(MajorityConfigTest, VoteResult) {
  EXPECT_EQ(MajorityConfig().GetVoteResult({}), VoteResult::kVoteWon);
  MajorityConfig two{4, 8};
  EXPECT_EQ(two.GetVoteResult({}), VoteResult::kVotePending);
  EXPECT_EQ(two.GetVoteResult({{4, false}}), VoteResult::kVoteLost);
  EXPECT_EQ(two.GetVoteResult({{4, true}}), VoteResult::kVotePending);
  EXPECT_EQ(two.GetVoteResult({{4, true}, {8, true}}), VoteResult::kVoteWon);
  MajorityConfig three{2, 4, 7};
  EXPECT_EQ(three.GetVoteResult({{2, true}, {4, false}}), VoteResult::kVotePending);
  EXPECT_EQ(three.GetVoteResult({{2, false}, {4, false}}), VoteResult::kVoteLost);
  EXPECT_EQ(three.GetVoteResult({{2, true}, {4, true}, {7, false}}), VoteResult::kVoteWon);
  // Votes of non-members are ignored.
  EXPECT_EQ(three.GetVoteResult({{1, true}, {3, true}, {5, true}}), VoteResult::kVotePending);
}

TEST(MajorityConfigTest, Describe) {
  EXPECT_EQ(MajorityConfig().Describe(MapAckIndexer()), "<empty majority quorum>");
  MajorityConfig c{1, 2, 3, 4, 5};
  EXPECT_EQ(c.Describe(MapAckIndexer{{1, 101}, {2, 104}, {3, 103}, {4, 103}}),
            "         idx\n"
            "x>       101    (id=1)\n"
            "xxxx>    104    (id=2)\n"
            "xx>      103    (id=3)\n"
            ">        103    (id=4)\n"
            "?          0    (id=5)\n");
}

TEST(JointConfigTest, StringAndIDs) {
  JointConfig j(MajorityConfig{1, 2, 3});
  EXPECT_EQ(j.String(), "(1 2 3)");
  j.outgoing() = MajorityConfig{1, 4};
  EXPECT_EQ(j.String(), "(1 2 3)&&(1 4)");
  EXPECT_EQ(j[1], j.outgoing());
  EXPECT_EQ(j.IDs(), (MajorityConfig{1, 2, 3, 4}));
  EXPECT_EQ(JointConfig().String(), "()");
  EXPECT_EQ(JointConfig(MajorityConfig(), MajorityConfig{2}).String(), "()&&(2)");
}

TEST(JointConfigTest, CommittedIndexIsTheLowerHalf) {
  JointConfig j(MajorityConfig{1, 3}, MajorityConfig{2});
  EXPECT_EQ(j.CommittedIndex(MapAckIndexer{{1, 100}, {2, 50}}), 0u);
  EXPECT_EQ(j.CommittedIndex(MapAckIndexer{{1, 100}, {2, 50}, {3, 45}}), 45u);
  // An empty half defers to the other one.
  JointConfig half(MajorityConfig{1, 2, 3});
  MapAckIndexer l{{1, 100}, {2, 101}, {3, 99}};
  EXPECT_EQ(half.CommittedIndex(l), MajorityConfig({1, 2, 3}).CommittedIndex(l));
  EXPECT_EQ(JointConfig().CommittedIndex(l), kInfinity);
}

TEST(JointConfigTest, VoteResult) {
  JointConfig j(MajorityConfig{1, 2, 3}, MajorityConfig{1, 4});
  EXPECT_EQ(j.GetVoteResult({{1, true}, {2, true}}), VoteResult::kVotePending);
  EXPECT_EQ(j.GetVoteResult({{1, true}, {2, true}, {4, true}}), VoteResult::kVoteWon);
  EXPECT_EQ(j.GetVoteResult({{1, true}, {2, true}, {4, false}}), VoteResult::kVoteLost);
  EXPECT_EQ(j.GetVoteResult({{2, false}, {3, false}, {4, true}}), VoteResult::kVoteLost);
  EXPECT_EQ(JointConfig().GetVoteResult({}), VoteResult::kVoteWon);
}

// A random set of up to 9 IDs drawn from [0, 2n) with random indexes in
// [0, n), the shape of etcd's quick-check inputs.
absl::flat_hash_map<uint64_t, Index> RandomIdxMap(std::mt19937_64& rng) {
  const int n = std::uniform_int_distribution<int>(0, 9)(rng);
  std::vector<uint64_t> ids(2 * n);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  absl::flat_hash_map<uint64_t, Index> m;
  for (int i = 0; i < n; ++i) {
    m[ids[i]] = std::uniform_int_distribution<Index>(0, n - 1)(rng);
  }
  return m;
}

MajorityConfig RandomConfig(std::mt19937_64& rng) {
  std::vector<uint64_t> ids;
  for (const auto& [id, idx] : RandomIdxMap(rng)) ids.push_back(id);
  return MajorityConfig(std::move(ids));
}

// The optimized CommittedIndex agrees with the naive definition on many
// random configs and acknowledgements (etcd's quick_test.go).
TEST(QuickTest, CommittedIndexMatchesBruteForce) {
  std::mt19937_64 rng(20190521);
  for (int i = 0; i < 50000; ++i) {
    MajorityConfig c = RandomConfig(rng);
    MapAckIndexer l(RandomIdxMap(rng));
    ASSERT_EQ(c.CommittedIndex(l), AlternativeMajorityCommittedIndex(c, l))
        << "iteration " << i << " config " << c.String();
  }
}

TEST(QuickTest, JointCommittedIndexIsMinimumOfHalves) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    MajorityConfig c0 = RandomConfig(rng);
    MajorityConfig c1 = RandomConfig(rng);
    MapAckIndexer l(RandomIdxMap(rng));
    Index want = std::min(AlternativeMajorityCommittedIndex(c0, l),
                          AlternativeMajorityCommittedIndex(c1, l));
    ASSERT_EQ(JointConfig(c0, c1).CommittedIndex(l), want) << "iteration " << i;
    ASSERT_EQ(JointConfig(c1, c0).CommittedIndex(l), want) << "iteration " << i;
  }
}

// Vote results agree with counting: won iff a majority said yes, lost iff a
// majority can no longer say yes.
TEST(QuickTest, VoteResultMatchesCounting) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    MajorityConfig c = RandomConfig(rng);
    VoteMap votes;
    for (uint64_t id = 0; id < 20; ++id) {
      switch (rng() % 3) {
        case 0:
          votes[id] = true;
          break;
        case 1:
          votes[id] = false;
          break;
        default:
          break;
      }
    }
    size_t yes = 0, no = 0;
    for (uint64_t id : c) {
      auto it = votes.find(id);
      if (it != votes.end()) ++(it->second ? yes : no);
    }
    const size_t q = c.size() / 2 + 1;
    VoteResult want = c.empty() || yes >= q ? VoteResult::kVoteWon
                      : c.size() - no >= q  ? VoteResult::kVotePending
                                            : VoteResult::kVoteLost;
    ASSERT_EQ(c.GetVoteResult(votes), want) << "iteration " << i << " config " << c.String();
  }
}

}  // namespace
}  // namespace etcd::raft::quorum
