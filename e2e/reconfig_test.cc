// Membership changes and leadership changes under load, on clusters of the
// real etcd binary on loopback: --strict-reconfig-check, a learner that
// catches up through a snapshot before it may be promoted, and writes and
// reads in flight while the leader moves or dies (clean errors, every
// acknowledged write applied exactly once).

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "e2e/cluster_util.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "re2/re2.h"

namespace etcd::e2e {
namespace {

using ReconfigTest = ClusterTest;

std::string InitialClusterFrom(const CtlResult& add) {
  std::string initial;
  RE2::PartialMatch(add.out, R"re(ETCD_INITIAL_CLUSTER="([^"]*)")re", &initial);
  return initial;
}

std::string AddedId(const CtlResult& add) {
  std::string id;
  RE2::PartialMatch(add.out, R"re(Member\s+([0-9a-f]+)\s+added)re", &id);
  return id;
}

TEST_F(ReconfigTest, StrictReconfigCheckKeepsQuorum) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "k", "v")) << Logs();
  const int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  const int down = (leader + 1) % 3;
  const int other = (leader + 2) % 3;
  const std::string down_id = MemberId(*members_[leader], absl::StrCat("m", down + 1));
  const std::string other_id = MemberId(*members_[leader], absl::StrCat("m", other + 1));
  const std::string leader_id = MemberId(*members_[leader], absl::StrCat("m", leader + 1));
  ASSERT_FALSE(down_id.empty());
  ASSERT_FALSE(other_id.empty());
  ASSERT_FALSE(leader_id.empty());
  // Once every peer was connected for 5 s, changes are allowed: a learner
  // comes and goes.
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  CtlResult learner = MemberCtlEventually(
      *members_[other],
      {"member", "add", "l", "--learner", absl::StrCat("--peer-urls=http://127.0.0.1:", ports[0])});
  ASSERT_EQ(learner.code, 0) << learner.err;
  ASSERT_EQ(Ctl(*members_[other], {"member", "remove", AddedId(learner)}).code, 0);

  ASSERT_OK(members_[down]->Kill(SIGKILL));
  const std::string peer = absl::StrCat("--peer-urls=http://127.0.0.1:", ports[1]);
  for (int via : {leader, other}) {
    // Adding a member, voter or learner, needs every voter reachable.
    CtlResult add;
    EXPECT_TRUE(testutil::WaitUntil(
        [&] {
          add = Ctl(*members_[via], {"member", "add", "m4", peer});
          return absl::StrContains(add.err, "etcdserver: unhealthy cluster");
        },
        absl::Seconds(10)))
        << add.out << add.err;
    CtlResult add_learner = Ctl(*members_[via], {"member", "add", "m4", "--learner", peer});
    EXPECT_TRUE(absl::StrContains(add_learner.err, "etcdserver: unhealthy cluster"))
        << add_learner.out << add_learner.err;
    // Removing a live voter would leave one of two voters up.
    CtlResult remove =
        Ctl(*members_[via], {"member", "remove", via == leader ? other_id : leader_id});
    EXPECT_TRUE(absl::StrContains(remove.err, "etcdserver: unhealthy cluster"))
        << remove.out << remove.err;
  }
  // Nothing changed.
  EXPECT_EQ(Ctl(*members_[leader], {"member", "list"}).out.find(", m4,"), std::string::npos);
  // Removing the member that is down is allowed.
  CtlResult remove_down = Ctl(*members_[other], {"member", "remove", down_id});
  EXPECT_EQ(remove_down.code, 0) << remove_down.err;
  ASSERT_TRUE(PutEventually(*members_[other], "after", "x"));
  ExpectConverged(members_, {down});
}

TEST_F(ReconfigTest, StrictReconfigCheckCountsStartedMembers) {
  Start(1);
  ASSERT_TRUE(PutEventually(*members_[0], "k", "v")) << Logs();
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  // A second member that never starts: allowed (etcd's restore procedure),
  // and the cluster now waits for it.
  CtlResult add = Ctl(*members_[0], {"member", "add", "m2",
                                     absl::StrCat("--peer-urls=http://127.0.0.1:", ports[0])});
  ASSERT_EQ(add.code, 0) << add.err;
  // A third would leave 1 started of 3 voters.
  CtlResult third = Ctl(*members_[0], {"member", "add", "m3",
                                       absl::StrCat("--peer-urls=http://127.0.0.1:", ports[1])});
  EXPECT_NE(third.code, 0);
  EXPECT_TRUE(absl::StrContains(
      third.err, "etcdserver: re-configuration failed due to not enough started members"))
      << third.out << third.err;
}

TEST_F(ReconfigTest, LearnerCatchesUpThroughASnapshotAndIsPromoted) {
  // Snapshot every 50 entries, keep 10 behind: a new member cannot be
  // served from the log.
  Start(3, {"--snapshot-count=50", "--experimental-snapshot-catchup-entries=10"});
  ASSERT_TRUE(PutEventually(*members_[0], "first", "1")) << Logs();
  const int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(Ctl(*members_[leader], {"put", absl::StrCat("k", i), absl::StrCat("v", i)}).code,
              0);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  const std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
  CtlResult add = MemberCtlEventually(*members_[(leader + 1) % 3],
                                      {"member", "add", "m4", "--learner", "--peer-urls=" + peer});
  ASSERT_EQ(add.code, 0) << add.err;
  const std::string id = AddedId(add);
  ASSERT_FALSE(id.empty()) << add.out;
  CtlResult early = Ctl(*members_[leader], {"member", "promote", id});
  EXPECT_TRUE(absl::StrContains(
      early.err, "etcdserver: can only promote a learner member which is in sync with leader"))
      << early.out << early.err;

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> m4,
                       EtcdProcess::StartMember(OurEtcdBinary(), dir_->path(), "m4", ports[0],
                                                ports[1],
                                                {"--initial-cluster=" + InitialClusterFrom(add),
                                                 "--initial-cluster-state=existing"}));
  members_.push_back(std::move(m4));
  EtcdProcess& learner = *members_.back();
  // A learner serves serializable reads of its own data only.
  auto value = [&](const std::string& key) {
    return Ctl(learner, {"get", key, "--print-value-only", "--consistency=s"}).out;
  };
  EXPECT_TRUE(testutil::WaitUntil([&] { return value("k149") == "v149\n"; }, absl::Seconds(30)))
      << learner.Logs();
  EXPECT_TRUE(absl::StrContains(learner.Logs(), "applied snapshot")) << learner.Logs();
  EXPECT_TRUE(absl::StrContains(members_[leader]->Logs(), "sent database snapshot")) << Logs();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "k1"}, {"put", "k1", "x"}, {"member", "list"},
        {"lease", "grant", "10"}}) {
    CtlResult refused = Ctl(learner, args);
    EXPECT_TRUE(absl::StrContains(refused.err, "etcdserver: rpc not supported for learner"))
        << absl::StrJoin(args, " ") << ": " << refused.out << refused.err;
  }
  EXPECT_EQ(Ctl(learner, {"endpoint", "status"}).code, 0);

  // In sync now: promoted through a follower (which hands it to the leader).
  CtlResult promote = MemberCtlEventually(*members_[(leader + 2) % 3], {"member", "promote", id});
  ASSERT_EQ(promote.code, 0) << promote.err;
  EXPECT_TRUE(absl::StrContains(promote.out, "promoted")) << promote.out;
  EXPECT_TRUE(absl::StrContains(Ctl(*members_[leader], {"member", "list"}).out,
                                absl::StrCat(peer, ", http://", learner.endpoint(), ", false")));
  ASSERT_TRUE(PutEventually(learner, "from-m4", "4"));
  EXPECT_EQ(Get(*members_[leader], "from-m4"), "4\n");
  ExpectConverged(members_);
}

// Disaster recovery: two of three members are lost for good; the third
// restarts with --force-new-cluster as a one-member cluster with all the
// data, and grows again with a fresh member.
TEST_F(ReconfigTest, ForceNewClusterRecoversFromQuorumLoss) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "k", "before")) << Logs();
  ASSERT_TRUE(PutEventually(*members_[1], "k2", "before")) << Logs();
  EXPECT_EQ(Get(*members_[0], "k2"), "before\n");
  ASSERT_OK(members_[1]->Kill(SIGKILL));
  ASSERT_OK(members_[2]->Kill(SIGKILL));
  CtlOptions quick;
  quick.timeout = absl::Seconds(20);
  CtlResult stuck =
      RunEtcdctl(members_[0]->endpoint(), {"--command-timeout=3s", "put", "k", "lost"}, quick);
  EXPECT_NE(stuck.code, 0) << stuck.out;
  ASSERT_OK(members_[0]->Stop().status());

  ASSERT_OK(members_[0]->RestartWith({"--force-new-cluster"})) << members_[0]->Logs();
  EXPECT_TRUE(absl::StrContains(members_[0]->Logs(), "forcing restart of member"));
  ASSERT_TRUE(PutEventually(*members_[0], "after", "1")) << members_[0]->Logs();
  EXPECT_EQ(Get(*members_[0], "k"), "before\n");
  EXPECT_EQ(Get(*members_[0], "k2"), "before\n");
  CtlResult list = Ctl(*members_[0], {"member", "list"});
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, ", started, m1, ")) << list.out;

  // Grows again: a new member with a fresh data dir.
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  const std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
  CtlResult add = MemberCtlEventually(*members_[0], {"member", "add", "m4", "--peer-urls=" + peer});
  ASSERT_EQ(add.code, 0) << add.err;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> m4,
                       EtcdProcess::StartMember(OurEtcdBinary(), dir_->path(), "m4", ports[0],
                                                ports[1],
                                                {"--initial-cluster=" + InitialClusterFrom(add),
                                                 "--initial-cluster-state=existing"}));
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*m4, "after") == "1\n"; }, absl::Seconds(30)))
      << m4->Logs();
  ASSERT_TRUE(PutEventually(*m4, "from-m4", "4"));
  EXPECT_EQ(Get(*members_[0], "from-m4"), "4\n");
  // It restarts normally afterwards (the flag is for one start).
  ASSERT_OK(members_[0]->Stop().status());
  ASSERT_OK(members_[0]->Restart()) << members_[0]->Logs();
  ASSERT_TRUE(PutEventually(*members_[0], "again", "x"));
  EXPECT_EQ(Get(*m4, "again"), "x\n");
  (void)m4->Stop();
}

// What the writers and readers below saw.
struct Outcome {
  absl::Mutex mu;
  std::set<std::string> acked ABSL_GUARDED_BY(mu);
  std::map<std::string, int> errors ABSL_GUARDED_BY(mu);
  int reads_ok ABSL_GUARDED_BY(mu) = 0;
};

// The errors a client may see while the leader changes or a member dies:
// etcd's own, and gRPC's for a member that is gone.
bool ExpectedDuringLeaderChange(const std::string& error) {
  for (const char* text :
       {"etcdserver: leader changed", "etcdserver: request timed out",
        "etcdserver: no leader", "etcdserver: not leader", "etcdserver: server stopped",
        "etcdserver: request timed out, possibly due to previous leader failure",
        "etcdserver: request timed out, possibly due to connection lost",
        "failed to connect", "Connection refused", "Socket closed", "Connection reset",
        "Deadline Exceeded", "connections to all backends failing", "GOAWAY", "Broken pipe",
        "Cancelling all calls"}) {
    if (absl::StrContains(error, text)) return true;
  }
  return false;
}

TEST_F(ReconfigTest, WritesAndReadsAcrossLeaderChanges) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "start", "1")) << Logs();
  std::vector<std::string> endpoints;
  for (const auto& m : members_) endpoints.push_back(m->endpoint());

  Outcome outcome;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  constexpr int kWriters = 6;
  for (int t = 0; t < kWriters + 3; ++t) {
    clients.emplace_back([&, t] {
      auto channel = grpc::CreateChannel(endpoints[t % endpoints.size()],
                                         grpc::InsecureChannelCredentials());
      auto kv = etcdserverpb::KV::NewStub(channel);
      for (int i = 0; !stop.load(); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(8)));
        grpc::Status status;
        std::string key;
        if (t < kWriters) {
          key = absl::StrCat("w/", t, "/", i);
          etcdserverpb::PutRequest put;
          put.set_key(key);
          put.set_value("v");
          etcdserverpb::PutResponse resp;
          status = kv->Put(&ctx, put, &resp);
        } else {
          etcdserverpb::RangeRequest get;
          get.set_key("start");
          etcdserverpb::RangeResponse resp;
          status = kv->Range(&ctx, get, &resp);
        }
        // Paced, so that the cluster keeps some of the 2 cores CI has for
        // the tests running next to this one.
        absl::SleepFor(absl::Milliseconds(status.ok() ? 10 : 30));
        absl::MutexLock l(&outcome.mu);
        if (status.ok()) {
          if (t < kWriters) {
            outcome.acked.insert(key);
          } else {
            ++outcome.reads_ok;
          }
        } else {
          ++outcome.errors[status.error_message()];
        }
      }
    });
  }
  auto acked = [&] {
    absl::MutexLock l(&outcome.mu);
    return outcome.acked.size();
  };
  // Leadership moves twice, then the leader is killed and comes back.
  for (int round = 0; round < 2; ++round) {
    absl::SleepFor(absl::Seconds(2));
    const int leader = Leader(members_);
    ASSERT_GE(leader, 0);
    absl::StatusOr<Status> target = EndpointStatus(*members_[(leader + 1) % 3]);
    ASSERT_OK(target.status());
    CtlResult move = RunEtcdctl(absl::StrJoin(endpoints, ","),
                                {"move-leader", absl::StrFormat("%x", target->member_id)});
    EXPECT_EQ(move.code, 0) << move.err;
  }
  absl::SleepFor(absl::Seconds(2));
  const int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  const size_t before_kill = acked();
  ASSERT_OK(members_[leader]->Kill(SIGKILL));
  absl::SleepFor(absl::Seconds(3));
  ASSERT_OK(members_[leader]->Restart()) << Logs();
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  for (std::thread& c : clients) c.join();

  absl::MutexLock l(&outcome.mu);
  EXPECT_GT(outcome.acked.size(), before_kill) << "no writes after the leader died";
  EXPECT_GT(outcome.acked.size(), 100u);
  EXPECT_GT(outcome.reads_ok, 0);
  for (const auto& [error, count] : outcome.errors) {
    EXPECT_TRUE(ExpectedDuringLeaderChange(error)) << count << " x " << error;
  }
  std::string summary;
  for (const auto& [error, count] : outcome.errors) {
    absl::StrAppend(&summary, count, " x ", error, "\n");
  }
  // Every acknowledged write is there, and no write was applied twice
  // (each key was put once, so its version is 1).
  auto channel = grpc::CreateChannel(members_[(leader + 1) % 3]->endpoint(),
                                     grpc::InsecureChannelCredentials());
  auto kv = etcdserverpb::KV::NewStub(channel);
  etcdserverpb::RangeResponse all;
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
        etcdserverpb::RangeRequest get;
        get.set_key("w/");
        get.set_range_end("w0");
        return kv->Range(&ctx, get, &all).ok();
      },
      absl::Seconds(30)));
  std::set<std::string> stored;
  for (const mvccpb::KeyValue& kv : all.kvs()) {
    stored.insert(kv.key());
    EXPECT_EQ(kv.version(), 1) << kv.key() << " applied more than once";
    EXPECT_EQ(kv.create_revision(), kv.mod_revision()) << kv.key();
  }
  for (const std::string& key : outcome.acked) {
    EXPECT_EQ(stored.count(key), 1u) << "acknowledged write lost: " << key;
  }
  std::cerr << outcome.acked.size() << " acknowledged writes, " << stored.size()
            << " stored, " << outcome.reads_ok << " reads; errors:\n"
            << summary;
  ExpectConverged(members_);
}

}  // namespace
}  // namespace etcd::e2e
