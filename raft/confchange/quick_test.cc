// Randomized properties of configuration changes (etcd's restore_test.go and
// quick_test.go): Restore of a ConfState round-trips through the tracker, and
// applying changes one at a time agrees with applying them through a joint
// configuration.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "raft/confchange/confchange.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/confchange/restore.h"
#include "raft/tracker/tracker.h"

namespace etcd::raft::confchange {
namespace {

std::vector<uint64_t> SortedIds(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::vector<uint64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  return out;
}

// Restores `cs` into an empty tracker and checks that the tracker's
// ConfState is `cs` up to order.
void ExpectRestoreRoundTrips(const raftpb::ConfState& cs) {
  tracker::ProgressTracker empty(20);
  absl::StatusOr<ChangeResult> r = Restore(Changer(empty, 10), cs);
  ASSERT_TRUE(r.ok()) << r.status() << " restoring " << ConfStateString(cs);
  tracker::ProgressTracker tr(20);
  tr.config = r->config;
  tr.progress = r->progress;
  raftpb::ConfState cs2 = tr.ConfState();
  EXPECT_EQ(SortedIds(cs.voters()), SortedIds(cs2.voters())) << ConfStateString(cs);
  EXPECT_EQ(SortedIds(cs.learners()), SortedIds(cs2.learners())) << ConfStateString(cs);
  EXPECT_EQ(SortedIds(cs.voters_outgoing()), SortedIds(cs2.voters_outgoing()))
      << ConfStateString(cs);
  EXPECT_EQ(SortedIds(cs.learners_next()), SortedIds(cs2.learners_next())) << ConfStateString(cs);
  EXPECT_EQ(cs.auto_leave(), cs2.auto_leave()) << ConfStateString(cs);
  EXPECT_TRUE(Equivalent(cs, cs2).ok());
  EXPECT_TRUE(Equivalent(cs2, cs).ok());
  // Every member has a Progress, learners are marked.
  for (uint64_t id : tr.VoterNodes()) EXPECT_FALSE(tr.progress.at(id).is_learner);
  for (uint64_t id : cs.learners()) EXPECT_TRUE(tr.progress.at(id).is_learner);
  for (uint64_t id : cs.learners_next()) EXPECT_FALSE(tr.progress.at(id).is_learner);
}

raftpb::ConfState MakeConfState(std::vector<uint64_t> voters, std::vector<uint64_t> learners,
                                std::vector<uint64_t> outgoing, std::vector<uint64_t> learners_next,
                                bool auto_leave) {
  raftpb::ConfState cs;
  for (uint64_t id : voters) cs.add_voters(id);
  for (uint64_t id : learners) cs.add_learners(id);
  for (uint64_t id : outgoing) cs.add_voters_outgoing(id);
  for (uint64_t id : learners_next) cs.add_learners_next(id);
  cs.set_auto_leave(auto_leave);
  return cs;
}

TEST(RestoreTest, Examples) {
  ExpectRestoreRoundTrips(raftpb::ConfState());
  ExpectRestoreRoundTrips(MakeConfState({1, 2, 3}, {}, {}, {}, false));
  ExpectRestoreRoundTrips(MakeConfState({1, 2, 3}, {4, 5, 6}, {}, {}, false));
  ExpectRestoreRoundTrips(MakeConfState({1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, false));
  ExpectRestoreRoundTrips(MakeConfState({3, 1}, {}, {2}, {}, true));
}

TEST(RestoreTest, JointExampleConfig) {
  tracker::ProgressTracker empty(20);
  absl::StatusOr<ChangeResult> r =
      Restore(Changer(empty, 10), MakeConfState({1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, true));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.String(),
            "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave");
}

TEST(RestoreTest, LearnersWithoutVotersFail) {
  tracker::ProgressTracker empty(20);
  absl::StatusOr<ChangeResult> r =
      Restore(Changer(empty, 10), MakeConfState({}, {1}, {}, {}, false));
  EXPECT_EQ(r.status().message(), "removed all voters");
}

// A random valid ConfState, never the empty one (etcd's rndConfChange):
// disjoint voters, learners and removed voters; some incoming voters retained
// in the outgoing config; some removed voters staged as learners_next.
raftpb::ConfState RandomConfState(std::mt19937_64& rng) {
  auto uniform = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const int n_voters = 1 + uniform(5);
  const int n_learners = uniform(5);
  const int n_removed = uniform(3);
  std::vector<uint64_t> ids(2 * (n_voters + n_learners + n_removed));
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), rng);

  auto take = [&ids](int n) {
    std::vector<uint64_t> out(ids.begin(), ids.begin() + n);
    ids.erase(ids.begin(), ids.begin() + n);
    return out;
  };
  std::vector<uint64_t> voters = take(n_voters);
  std::vector<uint64_t> learners = take(n_learners);
  const int n_retained = uniform(n_voters + 1);
  std::vector<uint64_t> outgoing(voters.begin(), voters.begin() + n_retained);
  std::vector<uint64_t> learners_next;
  if (n_retained > 0 || n_removed > 0) {
    outgoing.insert(outgoing.end(), ids.begin(), ids.begin() + n_removed);
  }
  if (n_removed > 0) {
    learners_next.assign(ids.begin(), ids.begin() + uniform(n_removed + 1));
  }
  const bool auto_leave = !outgoing.empty() && uniform(2) == 1;
  return MakeConfState(voters, learners, outgoing, learners_next, auto_leave);
}

TEST(RestoreTest, RandomConfStatesRoundTrip) {
  std::mt19937_64 rng(1000);
  for (int i = 0; i < 1000; ++i) {
    SCOPED_TRACE(i);
    ExpectRestoreRoundTrips(RandomConfState(rng));
    if (::testing::Test::HasFailure()) break;
  }
}

raftpb::ConfChangeSingle Change(raftpb::ConfChangeType type, uint64_t id) {
  raftpb::ConfChangeSingle cc;
  cc.set_type(type);
  cc.set_node_id(id);
  return cc;
}

void Adopt(tracker::ProgressTracker& tr, const ChangeResult& r) {
  tr.config = r.config;
  tr.progress = r.progress;
}

absl::Status RunWithSimple(tracker::ProgressTracker& tr, uint64_t last_index,
                           const std::vector<raftpb::ConfChangeSingle>& ccs) {
  for (const raftpb::ConfChangeSingle& cc : ccs) {
    absl::StatusOr<ChangeResult> r = Changer(tr, last_index).Simple({cc});
    if (!r.ok()) return r.status();
    Adopt(tr, *r);
  }
  return absl::OkStatus();
}

// Enters and leaves a joint configuration, checking on the way that
// auto_leave changes nothing but itself.
void RunWithJoint(tracker::ProgressTracker& tr, uint64_t last_index,
                  const std::vector<raftpb::ConfChangeSingle>& ccs) {
  absl::StatusOr<ChangeResult> joint = Changer(tr, last_index).EnterJoint(false, ccs);
  ASSERT_TRUE(joint.ok()) << joint.status();
  absl::StatusOr<ChangeResult> joint_auto = Changer(tr, last_index).EnterJoint(true, ccs);
  ASSERT_TRUE(joint_auto.ok()) << joint_auto.status();
  EXPECT_TRUE(joint_auto->config.auto_leave);
  joint_auto->config.auto_leave = false;
  EXPECT_EQ(joint->config, joint_auto->config);
  EXPECT_EQ(joint->progress, joint_auto->progress);

  Adopt(tr, *joint_auto);
  tr.config.auto_leave = true;
  absl::StatusOr<ChangeResult> left_auto = Changer(tr, last_index).LeaveJoint();
  ASSERT_TRUE(left_auto.ok()) << left_auto.status();
  Adopt(tr, *joint);
  absl::StatusOr<ChangeResult> left = Changer(tr, last_index).LeaveJoint();
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(left->config, left_auto->config);
  EXPECT_EQ(left->progress, left_auto->progress);
  Adopt(tr, *left);
}

// Applying a list of changes one by one ends in the same configuration and
// progress as applying it through a joint configuration. Node 1 is always a
// voter and never touched, so the simple path never runs out of voters.
TEST(ConfChangeQuickTest, SimpleAndJointAgree) {
  std::mt19937_64 rng(2019);
  auto uniform = [&rng](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int i = 0; i < 1000; ++i) {
    std::vector<raftpb::ConfChangeSingle> setup{Change(raftpb::ConfChangeAddNode, 1)};
    for (int n = 1 + uniform(5), k = 0; k < n; ++k) {
      setup.push_back(Change(raftpb::ConfChangeAddNode, 1 + uniform(5)));
    }
    std::vector<raftpb::ConfChangeSingle> ccs;
    for (int n = 1 + uniform(9), k = 0; k < n; ++k) {
      auto type = static_cast<raftpb::ConfChangeType>(uniform(4));
      ccs.push_back(Change(type, 2 + uniform(9)));
    }
    SCOPED_TRACE(testing::Message()
                 << "setup: " << Describe(setup) << "\nchanges: " << Describe(ccs));

    tracker::ProgressTracker simple(10);
    ASSERT_TRUE(RunWithSimple(simple, 10, setup).ok());
    tracker::ProgressTracker joint = simple;
    absl::Status s = RunWithSimple(simple, 10, ccs);
    ASSERT_TRUE(s.ok()) << s;
    RunWithJoint(joint, 10, ccs);
    ASSERT_EQ(simple.config, joint.config);
    ASSERT_EQ(simple.progress, joint.progress);
  }
}

}  // namespace
}  // namespace etcd::raft::confchange
