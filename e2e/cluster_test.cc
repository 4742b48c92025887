// Multi-member clusters of the real etcd binary on loopback, driven by
// Debian's etcdctl: writes through every member, linearizable reads from
// every member, leader and follower failures, minority and majority loss,
// a paused member, and convergence (HashKV) after each scenario.

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "e2e/cluster_util.h"
#include "e2e/etcd_process.h"
#include "e2e/http_client.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "re2/re2.h"

namespace etcd::e2e {
namespace {

TEST_F(ClusterTest, ThreeMembersServeFromEveryMember) {
  Start(3);
  for (size_t i = 0; i < members_.size(); ++i) {
    ASSERT_TRUE(PutEventually(*members_[i], absl::StrCat("k", i), absl::StrCat("v", i))) << Logs();
  }
  for (const auto& m : members_) {
    for (size_t i = 0; i < members_.size(); ++i) {
      EXPECT_EQ(Get(*m, absl::StrCat("k", i)), absl::StrCat("v", i, "\n")) << m->endpoint();
    }
  }
  // Every member lists all three with names and client URLs.
  for (const auto& m : members_) {
    CtlResult list = Ctl(*m, {"member", "list"});
    ASSERT_EQ(list.code, 0) << list.err;
    for (const auto& other : members_) {
      EXPECT_TRUE(absl::StrContains(list.out, absl::StrCat("http://", other->endpoint())))
          << list.out;
    }
    EXPECT_TRUE(absl::StrContains(list.out, ", started, m1, ")) << list.out;
    EXPECT_TRUE(absl::StrContains(list.out, ", started, m3, ")) << list.out;
  }
  EXPECT_GE(Leader(members_), 0);
  // etcd's peer metrics: every member is connected to the two others.
  for (const auto& m : members_) {
    HttpResult metrics = HttpRequest(m->endpoint(), "GET", "/metrics", "");
    ASSERT_EQ(metrics.status, 200);
    int active = 0;
    re2::StringPiece in(metrics.body);
    const char* const kActive =
        R"re(etcd_network_active_peers\{Local="[0-9a-f]+",Remote="[0-9a-f]+"\} 1\n)re";
    while (RE2::FindAndConsume(&in, kActive)) ++active;
    EXPECT_EQ(active, 2) << metrics.body;
    EXPECT_TRUE(RE2::PartialMatch(
        metrics.body, R"re(etcd_network_peer_sent_bytes_total\{To="[0-9a-f]+"\} [1-9])re"))
        << metrics.body;
    // The writes above were committed to every member's backend.
    EXPECT_TRUE(RE2::PartialMatch(metrics.body,
                                  R"re(etcd_disk_backend_commit_duration_seconds_count [1-9])re"))
        << metrics.body;
  }
  // A watch on one member sees a write made through another. It starts
  // at the next revision, so it sees the write however late it connects.
  CtlResult head = Ctl(*members_[0], {"get", "w", "-w", "json"});
  int64_t rev = 0;
  ASSERT_TRUE(RE2::PartialMatch(head.out, R"re("revision":(\d+))re", &rev)) << head.out;
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> watch =
      StartEtcdctl(members_[0]->endpoint(), {"watch", "w", "--rev", absl::StrCat(rev + 1)});
  ASSERT_OK(watch.status());
  ASSERT_TRUE(PutEventually(*members_[2], "w", "seen"));
  EXPECT_TRUE(testutil::WaitUntil(
      [&] { return absl::StrContains((*watch)->ReadStdout(), "PUT\nw\nseen\n"); },
      absl::Seconds(10)))
      << (*watch)->ReadStdout();
  (void)(*watch)->Stop();
  ExpectConverged(members_);

  // move-leader: etcdctl finds the leader among the endpoints and asks it.
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  int target = (leader + 1) % 3;
  absl::StatusOr<Status> target_status = EndpointStatus(*members_[target]);
  ASSERT_OK(target_status.status());
  std::string target_hex = absl::StrFormat("%x", target_status->member_id);
  std::vector<std::string> all;
  for (const auto& m : members_) all.push_back(m->endpoint());
  CtlResult moved = RunEtcdctl(absl::StrJoin(all, ","), {"move-leader", target_hex});
  EXPECT_EQ(moved.code, 0) << moved.err;
  EXPECT_TRUE(absl::StrContains(moved.out, absl::StrCat("Leadership transferred from ")))
      << moved.out;
  EXPECT_EQ(Leader(members_), target);
  ASSERT_TRUE(PutEventually(*members_[leader], "after-move", "ok"));
}

TEST_F(ClusterTest, LeasesWorkThroughFollowers) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "warmup", "1")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  const EtcdProcess& follower = *members_[(leader + 1) % 3];
  CtlResult grant = Ctl(follower, {"lease", "grant", "60"});
  ASSERT_EQ(grant.code, 0) << grant.err;
  std::string id;
  ASSERT_TRUE(RE2::PartialMatch(grant.out, R"re(lease ([0-9a-f]+) granted)re", &id)) << grant.out;
  ASSERT_EQ(Ctl(follower, {"put", "leased", "v", "--lease=" + id}).code, 0);
  // Renewal and time-to-live are the leader's: the follower forwards them.
  CtlResult keep = Ctl(follower, {"lease", "keep-alive", "--once", id});
  EXPECT_EQ(keep.code, 0) << keep.err;
  EXPECT_TRUE(absl::StrContains(keep.out, absl::StrCat("lease ", id, " keepalived with TTL(60)")))
      << keep.out;
  CtlResult ttl = Ctl(follower, {"lease", "timetolive", id, "--keys"});
  EXPECT_EQ(ttl.code, 0) << ttl.err;
  EXPECT_TRUE(absl::StrContains(ttl.out, "granted with TTL(60s)")) << ttl.out;
  EXPECT_TRUE(absl::StrContains(ttl.out, "attached keys([leased])")) << ttl.out;
  CtlResult missing = Ctl(follower, {"lease", "keep-alive", "--once", "1234abcd"});
  EXPECT_NE(missing.code, 0);
  EXPECT_TRUE(absl::StrContains(missing.err, "requested lease not found")) << missing.err;
  ASSERT_EQ(Ctl(follower, {"lease", "revoke", id}).code, 0);
  for (const auto& m : members_) EXPECT_EQ(Get(*m, "leased"), "");
}

TEST_F(ClusterTest, AddRemoveReplaceAndPromoteMembers) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "k", "before")) << Logs();
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(6));

  // Add m4 as etcdctl tells an operator to, then start it with what it printed.
  std::string peer4 = absl::StrCat("http://127.0.0.1:", ports[1]);
  // (--strict-reconfig-check: refused until the peers were connected 5 s.)
  CtlResult add = MemberCtlEventually(*members_[0], {"member", "add", "m4", "--peer-urls=" + peer4});
  ASSERT_EQ(add.code, 0) << add.err << Logs();
  EXPECT_TRUE(absl::StrContains(add.out, "ETCD_INITIAL_CLUSTER_STATE=\"existing\"")) << add.out;
  std::string initial;
  ASSERT_TRUE(RE2::PartialMatch(add.out, R"re(ETCD_INITIAL_CLUSTER="([^"]*)")re", &initial))
      << add.out;
  EXPECT_TRUE(absl::StrContains(initial, "m4=" + peer4)) << initial;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> m4,
                       EtcdProcess::StartMember(OurEtcdBinary(), dir_->path(), "m4", ports[0],
                                                ports[1],
                                                {"--initial-cluster=" + initial,
                                                 "--initial-cluster-state=existing"}));
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*m4, "k") == "before\n"; }, absl::Seconds(30)))
      << m4->Logs();
  ASSERT_TRUE(PutEventually(*m4, "from-m4", "4"));
  EXPECT_EQ(Get(*members_[1], "from-m4"), "4\n");
  EXPECT_FALSE(MemberId(*members_[2], "m4").empty()) << Ctl(*members_[2], {"member", "list"}).out;

  // Remove m1: it stops, the rest carry on, and it cannot come back with its data.
  std::string m1 = MemberId(*members_[1], "m1");
  ASSERT_FALSE(m1.empty());
  CtlResult removed = MemberCtlEventually(*members_[1], {"member", "remove", m1});
  ASSERT_EQ(removed.code, 0) << removed.err;
  // (etcdctl pads IDs to 16 columns with spaces.)
  EXPECT_TRUE(RE2::PartialMatch(removed.out, absl::StrCat(R"re(Member\s+)re", m1,
                                                          R"re( removed from cluster)re")))
      << removed.out;
  EXPECT_TRUE(testutil::WaitUntil([&] { return !members_[0]->process()->Alive(); },
                                  absl::Seconds(30)))
      << members_[0]->Logs();
  ASSERT_TRUE(PutEventually(*members_[2], "after-remove", "x")) << Logs() << "---- m4\n"
                                                                 << m4->Logs();
  EXPECT_EQ(Get(*m4, "after-remove"), "x\n");
  EXPECT_FALSE(members_[0]->Restart(absl::Seconds(10)).ok());
  EXPECT_TRUE(testutil::WaitUntil([&] { return !members_[0]->process()->Alive(); },
                                  absl::Seconds(30)));
  EXPECT_TRUE(absl::StrContains(members_[0]->Logs(), "permanently removed from the cluster"))
      << members_[0]->Logs();

  // Replace it: a new member with a fresh data dir, added as a learner first
  // and then promoted.
  std::string peer5 = absl::StrCat("http://127.0.0.1:", ports[3]);
  CtlResult learner = MemberCtlEventually(
      *members_[1], {"member", "add", "m5", "--learner", "--peer-urls=" + peer5});
  ASSERT_EQ(learner.code, 0) << learner.err;
  ASSERT_TRUE(RE2::PartialMatch(learner.out, R"re(ETCD_INITIAL_CLUSTER="([^"]*)")re", &initial));
  std::string m5_added;
  ASSERT_TRUE(RE2::PartialMatch(learner.out, R"re(Member\s+([0-9a-f]+)\s+added)re", &m5_added));
  // Not started, so not in sync: no promotion yet (asked of a follower and
  // of the leader alike; a follower hands it to the leader).
  for (const auto& m : {members_[1].get(), members_[2].get(), m4.get()}) {
    CtlResult early = Ctl(*m, {"member", "promote", m5_added});
    EXPECT_NE(early.code, 0);
    EXPECT_TRUE(absl::StrContains(
        early.err, "can only promote a learner member which is in sync with leader"))
        << early.err;
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> m5,
                       EtcdProcess::StartMember(OurEtcdBinary(), dir_->path(), "m5", ports[2],
                                                ports[3],
                                                {"--initial-cluster=" + initial,
                                                 "--initial-cluster-state=existing"}));
  std::string m5_id = MemberId(*members_[1], "m5");
  ASSERT_FALSE(m5_id.empty()) << Ctl(*members_[1], {"member", "list"}).out;
  EXPECT_TRUE(absl::StrContains(Ctl(*members_[1], {"member", "list"}).out,
                                absl::StrCat(peer5, ", ", "http://", m5->endpoint(), ", true")));
  CtlResult promote = MemberCtlEventually(*members_[1], {"member", "promote", m5_id});
  EXPECT_EQ(promote.code, 0) << promote.err;
  EXPECT_TRUE(absl::StrContains(Ctl(*members_[1], {"member", "list"}).out,
                                absl::StrCat(peer5, ", ", "http://", m5->endpoint(), ", false")));
  ASSERT_TRUE(PutEventually(*m5, "from-m5", "5"));
  EXPECT_EQ(Get(*members_[2], "from-m5"), "5\n");
  // Errors as etcd words them.
  CtlResult again = Ctl(*members_[1], {"member", "add", "dup", "--peer-urls=" + peer5});
  EXPECT_TRUE(absl::StrContains(again.err, "Peer URLs already exists")) << again.err;
  CtlResult gone = Ctl(*members_[1], {"member", "remove", m1});
  EXPECT_TRUE(absl::StrContains(gone.err, "member not found")) << gone.err;

  std::vector<std::string> live = {members_[1]->endpoint(), members_[2]->endpoint(),
                                   m4->endpoint(), m5->endpoint()};
  CtlResult hashes = RunEtcdctl(absl::StrJoin(live, ","), {"endpoint", "hashkv"});
  std::set<std::string> distinct;
  for (absl::string_view line : absl::StrSplit(hashes.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, ", ");
    if (parts.size() == 2) distinct.insert(parts[1]);
  }
  EXPECT_EQ(distinct.size(), 1u) << hashes.out;
  (void)m4->Stop();
  (void)m5->Stop();
}

TEST_F(ClusterTest, LaggingMemberCatchesUpThroughASnapshot) {
  // Snapshot every 50 entries and keep only 10 behind it: a member that
  // misses more than that must get the leader's database.
  Start(3, {"--snapshot-count=50", "--experimental-snapshot-catchup-entries=10"});
  ASSERT_TRUE(PutEventually(*members_[0], "first", "1")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  const int lagging = (leader + 1) % 3;
  ASSERT_OK(members_[lagging]->Kill(SIGKILL));
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(Ctl(*members_[leader], {"put", absl::StrCat("k", i), absl::StrCat("v", i)}).code, 0);
  }
  ASSERT_OK(Ctl(*members_[leader], {"del", "k7"}).code == 0 ? absl::OkStatus()
                                                                 : absl::InternalError("del"));
  ASSERT_OK(members_[lagging]->Restart()) << Logs();
  // Its own data (serializable reads are served locally).
  auto count = [&] {
    CtlResult r = Ctl(*members_[lagging],
                      {"get", "k", "--prefix", "--keys-only", "--consistency=s", "-w", "json"});
    int64_t n = -1;
    RE2::PartialMatch(r.out, R"re("count":(\d+))re", &n);
    return n;
  };
  EXPECT_TRUE(testutil::WaitUntil([&] { return count() == 149; }, absl::Seconds(30)))
      << count() << Logs();
  EXPECT_EQ(Get(*members_[lagging], "k149"), "v149\n");
  EXPECT_EQ(Get(*members_[lagging], "k7"), "");
  EXPECT_TRUE(absl::StrContains(members_[lagging]->Logs(), "applied snapshot")) << Logs();
  EXPECT_TRUE(absl::StrContains(members_[leader]->Logs(), "sent database snapshot")) << Logs();
  ExpectConverged(members_);
  // It restarts from the installed snapshot, and keeps up afterwards.
  ASSERT_OK(members_[lagging]->Kill(SIGKILL));
  ASSERT_OK(members_[lagging]->Restart()) << Logs();
  ASSERT_TRUE(PutEventually(*members_[lagging], "after", "x"));
  EXPECT_EQ(count(), 149);
  ExpectConverged(members_);
}

TEST_F(ClusterTest, OneMemberGrowsToTwo) {
  Start(1);
  ASSERT_TRUE(PutEventually(*members_[0], "solo", "1")) << Logs();
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
  std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
  CtlResult add = Ctl(*members_[0], {"member", "add", "m2", "--peer-urls=" + peer});
  ASSERT_EQ(add.code, 0) << add.err;
  std::string initial;
  ASSERT_TRUE(RE2::PartialMatch(add.out, R"re(ETCD_INITIAL_CLUSTER="([^"]*)")re", &initial));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> m2,
                       EtcdProcess::StartMember(OurEtcdBinary(), dir_->path(), "m2", ports[0],
                                                ports[1],
                                                {"--initial-cluster=" + initial,
                                                 "--initial-cluster-state=existing"}));
  EXPECT_EQ(Get(*m2, "solo"), "1\n") << m2->Logs();
  ASSERT_TRUE(PutEventually(*m2, "duo", "2"));
  EXPECT_EQ(Get(*members_[0], "duo"), "2\n");
  (void)m2->Stop();
}

TEST_F(ClusterTest, PartitionedLeaderIsReplacedAndRejoinsAfterHealing) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("cluster"));
  dir_ = std::make_unique<testutil::TempDir>(std::move(dir));
  std::vector<std::unique_ptr<testutil::TcpProxy>> proxies;
  ASSERT_OK_AND_ASSIGN(members_, EtcdProcess::StartClusterBehindProxies(
                                     OurEtcdBinary(), dir_->path(), 3, &proxies));
  ASSERT_TRUE(PutEventually(*members_[0], "before", "1")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  // Blackhole everything sent to the leader: it hears no acks, steps down
  // (CheckQuorum), and the other two elect a leader of their own.
  proxies[leader]->SetMode(testutil::TcpProxy::Mode::kBlackhole);
  int other = (leader + 1) % 3;
  ASSERT_TRUE(PutEventually(*members_[other], "during", "2")) << Logs();
  int new_leader = Leader(members_, {leader});
  EXPECT_GE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
  // The cut-off member cannot serve linearizable reads (no quorum).
  CtlResult stale = RunEtcdctl(members_[leader]->endpoint(),
                               {"get", "during", "--command-timeout=2s"});
  EXPECT_NE(stale.out, "during\n2\n");
  // Slow, then heal: it catches up.
  proxies[leader]->SetMode(testutil::TcpProxy::Mode::kPass);
  proxies[leader]->SetDelay(absl::Milliseconds(20));
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*members_[leader], "during") == "2\n"; },
                                  absl::Seconds(40)))
      << Logs();
  proxies[leader]->SetDelay(absl::ZeroDuration());
  ASSERT_TRUE(PutEventually(*members_[leader], "after", "3"));
  ExpectConverged(members_);
  // A reset (refused connections) on a follower: the rest carry on.
  int follower = (Leader(members_) + 1) % 3;
  proxies[follower]->SetMode(testutil::TcpProxy::Mode::kReset);
  ASSERT_TRUE(PutEventually(*members_[(follower + 1) % 3], "reset", "4"));
  proxies[follower]->SetMode(testutil::TcpProxy::Mode::kPass);
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*members_[follower], "reset") == "4\n"; },
                                  absl::Seconds(40)));
  ExpectConverged(members_);
  members_.clear();  // stop the members before their proxies go
}

TEST_F(ClusterTest, CorruptionChecksCatchADivergedMember) {
  Start(3, {"--experimental-corrupt-check-time=1s"});
  ASSERT_TRUE(PutEventually(*members_[0], "a", "1")) << Logs();  // revision 2
  ASSERT_TRUE(PutEventually(*members_[0], "b", "2")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  const int victim = (leader + 1) % 3;
  absl::StatusOr<Status> victim_status = EndpointStatus(*members_[victim]);
  ASSERT_OK(victim_status.status());
  ASSERT_OK(members_[victim]->Kill(SIGKILL));
  testutil::SubprocessOptions tool;
  tool.argv = {testutil::RunfilePath("e2e/corrupt_db"),
               members_[victim]->data_dir() + "/member/snap/db", "2", "flipped"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> corrupt,
                       testutil::Subprocess::Start(tool));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus done, corrupt->Wait(absl::Seconds(30)));
  ASSERT_EQ(done.code, 0) << corrupt->ReadStderr();

  // Restarted without the initial check: the leader's periodic check finds
  // it and raises CORRUPT for it; writes are then refused everywhere.
  ASSERT_OK(members_[victim]->Restart()) << Logs();
  std::string alarm = absl::StrFormat("memberID:%d alarm:CORRUPT", victim_status->member_id);
  EXPECT_TRUE(testutil::WaitUntil(
      [&] { return absl::StrContains(Ctl(*members_[leader], {"alarm", "list"}).out, alarm); },
      absl::Seconds(30)))
      << Ctl(*members_[leader], {"alarm", "list"}).out << Logs();
  CtlResult refused = Ctl(*members_[leader], {"put", "c", "3"});
  EXPECT_NE(refused.code, 0);
  EXPECT_TRUE(absl::StrContains(refused.err, "etcdserver: corrupt cluster")) << refused.err;
  EXPECT_EQ(Get(*members_[leader], "b"), "2\n");  // reads are still served

  // With the initial check, the diverged member refuses to start.
  ASSERT_OK(members_[victim]->Kill(SIGKILL));
  ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(1));
  absl::StatusOr<std::unique_ptr<EtcdProcess>> checked = EtcdProcess::StartMember(
      OurEtcdBinary(), dir_->path(), absl::StrCat("m", victim + 1), ports[0],
      [&] {
        std::string peer;
        RE2::PartialMatch(Ctl(*members_[leader], {"member", "list"}).out,
                          absl::StrCat(R"re(, m)re", victim + 1, R"re(, http://127\.0\.0\.1:(\d+))re"),
                          &peer);
        return std::atoi(peer.c_str());
      }(),
      {"--experimental-initial-corrupt-check=true"}, absl::Seconds(15));
  ASSERT_FALSE(checked.ok());
  EXPECT_TRUE(absl::StrContains(checked.status().message(), "found data inconsistency with peers"))
      << checked.status();
}

TEST_F(ClusterTest, LeaderFailureElectsANewLeaderAndTheOldOneCatchesUp) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "before", "1")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0) << Logs();
  ASSERT_OK(members_[leader]->Kill(SIGKILL));
  int survivor = (leader + 1) % 3;
  ASSERT_TRUE(PutEventually(*members_[survivor], "during", "2")) << Logs();
  int new_leader = Leader(members_, {leader});
  EXPECT_GE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
  EXPECT_EQ(Get(*members_[(leader + 2) % 3], "during"), "2\n");

  ASSERT_OK(members_[leader]->Restart()) << Logs();
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*members_[leader], "during") == "2\n"; },
                                  absl::Seconds(30)))
      << Logs();
  EXPECT_EQ(Get(*members_[leader], "before"), "1\n");
  ExpectConverged(members_);
}

TEST_F(ClusterTest, MajorityLossStopsWritesUntilAMemberReturns) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "a", "1")) << Logs();
  // A follower down: the other two still commit.
  ASSERT_OK(members_[1]->Kill(SIGKILL));
  ASSERT_TRUE(PutEventually(*members_[0], "b", "2")) << Logs();
  // Two down: no quorum, writes fail (and are not acknowledged).
  ASSERT_OK(members_[2]->Kill(SIGKILL));
  CtlResult r = RunEtcdctl(members_[0]->endpoint(), {"put", "c", "3", "--command-timeout=3s"});
  EXPECT_NE(r.code, 0) << r.out;
  ASSERT_OK(members_[1]->Restart()) << Logs();
  ASSERT_TRUE(PutEventually(*members_[1], "d", "4")) << Logs();
  EXPECT_EQ(Get(*members_[0], "b"), "2\n");
  EXPECT_EQ(Get(*members_[1], "b"), "2\n");
  ASSERT_OK(members_[2]->Restart()) << Logs();
  EXPECT_TRUE(testutil::WaitUntil([&] { return Get(*members_[2], "d") == "4\n"; },
                                  absl::Seconds(30)));
  ExpectConverged(members_);
}

TEST_F(ClusterTest, PausedMemberRejoins) {
  Start(3);
  ASSERT_TRUE(PutEventually(*members_[0], "a", "1")) << Logs();
  int leader = Leader(members_);
  ASSERT_GE(leader, 0);
  // Pause the leader well past the election timeout (1 s by default).
  ASSERT_OK(members_[leader]->Kill(SIGSTOP));
  int other = (leader + 1) % 3;
  ASSERT_TRUE(PutEventually(*members_[other], "while-paused", "x")) << Logs();
  absl::SleepFor(absl::Seconds(3));
  ASSERT_OK(members_[leader]->Kill(SIGCONT));
  EXPECT_TRUE(testutil::WaitUntil(
      [&] { return Get(*members_[leader], "while-paused") == "x\n"; }, absl::Seconds(30)))
      << Logs();
  ASSERT_TRUE(PutEventually(*members_[leader], "after", "y"));
  ExpectConverged(members_);
}

TEST_F(ClusterTest, FiveMembersSurviveTwoFailures) {
  Start(5);
  ASSERT_TRUE(PutEventually(*members_[4], "five", "5")) << Logs();
  ASSERT_OK(members_[0]->Kill(SIGKILL));
  ASSERT_OK(members_[1]->Kill(SIGKILL));
  ASSERT_TRUE(PutEventually(*members_[2], "three-left", "3")) << Logs();
  for (int i = 2; i < 5; ++i) EXPECT_EQ(Get(*members_[i], "three-left"), "3\n");
  ExpectConverged(members_, {0, 1});
}

}  // namespace
}  // namespace etcd::e2e
