// Differential tests: the same etcdctl (Debian's 3.4) command sequences
// against Debian's etcd 3.4 and against this project's member, with the
// same output required modulo member/lease IDs, ports, timings, versions
// and database sizes. Skipped when Debian's etcd is not installed.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "re2/re2.h"

namespace etcd::e2e {
namespace {

struct Step {
  std::string name;
  std::string output;  // normalized: exit code, stdout, stderr
};

// What varies legitimately between two members run the same way.
std::string Normalize(std::string text) {
  RE2::GlobalReplace(&text, R"re(127\.0\.0\.1:\d+)re", "<ADDR>");
  RE2::GlobalReplace(&text, R"re(\b[0-9a-f]{10,16}\b)re", "<ID>");
  // etcdctl pads IDs to 16 columns (%16x): an ID with leading zero nibbles
  // gets spaces instead.
  RE2::GlobalReplace(&text, R"re(  +<ID>)re", " <ID>");
  RE2::GlobalReplace(&text, R"re("(cluster_id|member_id|ID|id)":\d+)re", "\"\\1\":<N>");
  RE2::GlobalReplace(&text, R"re("raft_term":\d+)re", "\"raft_term\":<N>");
  RE2::GlobalReplace(&text, R"re("(ClusterID|MemberID)" : \d+)re", "\"\\1\" : <N>");
  RE2::GlobalReplace(&text, R"re(took = [^\n]*)re", "took = <T>");
  RE2::GlobalReplace(&text, R"re(remaining\(\d+s\))re", "remaining(<N>s)");
  RE2::GlobalReplace(&text, R"re(\b3\.[45]\.\d+\b)re", "<VERSION>");
  // etcdctl's own diagnostics (timestamps, client warnings) are not output.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::string l(line);
    if (RE2::PartialMatch(l, R"re(^\{"level":)re") ||
        RE2::PartialMatch(l, R"re(^\d{4}-\d\d-\d\d)re")) {
      continue;
    }
    lines.emplace_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

class Session {
 public:
  explicit Session(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  CtlResult Run(const std::string& name, const std::vector<std::string>& args,
                const std::string& stdin_text = "", bool record = true) {
    CtlOptions options;
    options.stdin_text = stdin_text;
    CtlResult r = RunEtcdctl(endpoint_, args, options);
    if (record) {
      steps_.push_back(
          {name, Normalize(absl::StrCat("exit ", r.code, "\n", r.out, "--\n", r.err))});
    }
    return r;
  }

  void Record(const std::string& name, std::string output) {
    steps_.push_back({name, Normalize(std::move(output))});
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::string endpoint_;
  std::vector<Step> steps_;
};

std::string LeaseId(const CtlResult& r) {
  std::string id;
  RE2::PartialMatch(r.out, R"re(lease ([0-9a-f]+) granted)re", &id);
  return id;
}

int64_t Revision(Session& s) {
  CtlResult r = s.Run("", {"get", "nothing-here", "-w", "json"}, "", false);
  int64_t rev = 0;
  RE2::PartialMatch(r.out, R"re("revision":(\d+))re", &rev);
  return rev;
}

// Waits until the background etcdctl `p` has printed `lines` lines (at most
// 15 s) and returns what it printed.
std::string WaitForLines(testutil::Subprocess& p, size_t lines) {
  testutil::WaitUntil(
      [&] {
        std::string out = p.ReadStdout();
        return static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >= lines;
      },
      absl::Seconds(15), absl::Milliseconds(50));
  return p.ReadStdout();
}

// Reads a background watch until `lines` lines arrived (or 15 s passed).
std::string WatchOutput(Session& s, const std::vector<std::string>& args,
                        const std::function<void()>& writes, size_t lines) {
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> watch = StartEtcdctl(s.endpoint(), args);
  if (!watch.ok()) return watch.status().ToString();
  writes();
  std::string out = WaitForLines(**watch, lines);
  (void)(*watch)->Stop(absl::Seconds(2));
  return out;
}

void KvScenario(Session& s) {
  s.Run("put foo", {"put", "foo", "bar"});
  s.Run("put foo2", {"put", "foo2", "bar2"});
  s.Run("put foo3", {"put", "foo3", "bar3"});
  s.Run("put zoo", {"put", "zoo", "z"});
  s.Run("put foo again", {"put", "foo", "bar1"});
  s.Run("get foo", {"get", "foo"});
  s.Run("get missing", {"get", "missing"});
  s.Run("get --prefix", {"get", "foo", "--prefix"});
  s.Run("get --keys-only", {"get", "foo", "--prefix", "--keys-only"});
  s.Run("get --print-value-only", {"get", "foo", "--print-value-only"});
  s.Run("get --limit", {"get", "foo", "--prefix", "--limit", "2"});
  s.Run("get --rev", {"get", "foo", "--rev", "2"});
  s.Run("get range", {"get", "foo", "zoo"});
  s.Run("get --from-key", {"get", "foo2", "--from-key"});
  s.Run("get --sort", {"get", "foo", "--prefix", "--order", "DESCEND", "--sort-by", "VALUE"});
  s.Run("get --count-only", {"get", "foo", "--prefix", "--count-only", "-w", "json"});
  s.Run("get -w json", {"get", "foo", "-w", "json"});
  s.Run("get -w fields", {"get", "foo", "-w", "fields"});
  s.Run("put --prev-kv", {"put", "foo", "bar2", "--prev-kv"});
  s.Run("put --ignore-value", {"put", "foo2", "--ignore-value"});
  s.Run("get after ignore-value", {"get", "foo2", "-w", "json"});
  s.Run("put --ignore-value missing", {"put", "nokey", "--ignore-value"});
  s.Run("put from stdin", {"put", "stdin-key"}, "from stdin");
  s.Run("put too large", {"put", "big"}, std::string(1600 * 1024, 'b'));
  s.Run("get --consistency=s", {"get", "foo", "--consistency=s"});
  s.Run("get --sort-by=CREATE", {"get", "foo", "--prefix", "--sort-by=CREATE"});
  s.Run("get --sort-by=MODIFY DESCEND",
        {"get", "foo", "--prefix", "--sort-by=MODIFY", "--order=DESCEND"});
  s.Run("get --sort-by=VERSION", {"get", "foo", "--prefix", "--sort-by=VERSION"});
  s.Run("get all keys", {"get", "", "--from-key", "--keys-only"});
  s.Run("get --rev 0", {"get", "foo", "--rev", "0"});
  s.Run("put empty key", {"put", "", "x"});
  s.Run("del foo3", {"del", "foo3"});
  s.Run("del missing", {"del", "missing"});
  s.Run("del --prefix --prev-kv", {"del", "foo", "--prefix", "--prev-kv"});
  s.Run("get after del", {"get", "foo", "--prefix"});
  s.Run("del --from-key", {"del", "stdin-key", "--from-key"});
  s.Run("get everything", {"get", "", "--from-key"});
  s.Run("put zoo back", {"put", "zoo", "z"});
  s.Run("txn success", {"txn"},
        "value(\"zoo\") = \"z\"\n\nput zoo z2\nget zoo\n\nput zoo failed\n\n");
  s.Run("txn failure", {"txn"}, "value(\"zoo\") = \"nope\"\n\nput zoo z3\n\nget zoo\n\n");
  s.Run("txn mod", {"txn", "-w", "json"}, "mod(\"zoo\") > \"0\"\n\ndel zoo\n\n\n");
  s.Run("compaction", {"compaction", "3"});
  s.Run("get compacted rev", {"get", "foo", "--rev", "2"});
  s.Run("compaction again", {"compaction", "2"});
  s.Run("compaction --physical", {"compaction", "4", "--physical"});
  s.Run("get future rev", {"get", "foo", "--rev", "1000"});
}

void LeaseScenario(Session& s) {
  CtlResult grant = s.Run("lease grant", {"lease", "grant", "100"});
  std::string id = LeaseId(grant);
  ASSERT_FALSE(id.empty()) << grant.out << grant.err;
  s.Run("put with lease", {"put", "leased", "v", "--lease=" + id});
  s.Run("lease timetolive", {"lease", "timetolive", id});
  s.Run("lease timetolive --keys", {"lease", "timetolive", id, "--keys"});
  s.Run("lease list", {"lease", "list"});
  s.Run("lease keep-alive --once", {"lease", "keep-alive", "--once", id});
  s.Run("lease revoke", {"lease", "revoke", id});
  s.Run("get leased key", {"get", "leased"});
  s.Run("lease timetolive revoked", {"lease", "timetolive", id});
  s.Run("lease revoke again", {"lease", "revoke", id});
  s.Run("put with missing lease", {"put", "x", "v", "--lease=1234abcd"});
  s.Run("lease keep-alive missing", {"lease", "keep-alive", "--once", "1234abcd"});
  s.Run("lease list empty", {"lease", "list"});
}

void MaintenanceScenario(Session& s) {
  s.Run("put", {"put", "m", "1"});
  s.Run("defrag", {"defrag"});
  s.Run("endpoint health", {"endpoint", "health"});
  CtlResult status = s.Run("", {"endpoint", "status"}, "", false);
  // Sizes and raft indexes differ between implementations: compare shape.
  std::string shape = status.out;
  RE2::GlobalReplace(&shape, R"re(\d+(\.\d+)? ?[kMG]?B)re", "<SIZE>");
  RE2::GlobalReplace(&shape, R"re(, \d+, \d+, \d+, )re", ", <TERM>, <INDEX>, <APPLIED>, ");
  s.Record("endpoint status", absl::StrCat("exit ", status.code, "\n", shape));
  s.Run("member list", {"member", "list"});
  s.Run("alarm list", {"alarm", "list"});
  s.Run("alarm disarm", {"alarm", "disarm"});
  CtlResult members = s.Run("", {"member", "list"}, "", false);
  std::string self = members.out.substr(0, members.out.find(','));
  s.Run("move-leader to self", {"move-leader", self});
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string snapshot_path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/snap.", self, ".db");
  CtlResult saved = s.Run("", {"snapshot", "save", snapshot_path}, "", false);
  s.Record("snapshot save", absl::StrCat("exit ", saved.code, "\n",
                                         absl::StrContains(saved.out, "Snapshot saved at")));
  s.Run("endpoint hashkv", {"endpoint", "hashkv", "-w", "json"}, "", false);
}

void AuthScenario(Session& s) {
  s.Run("auth enable without root", {"auth", "enable"});
  s.Run("user add root", {"user", "add", "root", "--new-user-password=rootpw"});
  s.Run("user grant root", {"user", "grant-role", "root", "root"});
  s.Run("role add", {"role", "add", "reader"});
  s.Run("role grant-permission",
        {"role", "grant-permission", "reader", "read", "pub/", "--prefix=true"});
  s.Run("user add alice", {"user", "add", "alice", "--new-user-password=pw"});
  s.Run("user grant alice", {"user", "grant-role", "alice", "reader"});
  s.Run("put pub", {"put", "pub/a", "1"});
  s.Run("auth enable", {"auth", "enable"});
  s.Run("get without user", {"get", "pub/a"});
  s.Run("get as alice", {"get", "pub/a", "--user=alice:pw"});
  s.Run("put as alice", {"put", "pub/a", "2", "--user=alice:pw"});
  s.Run("get other as alice", {"get", "secret", "--user=alice:pw"});
  s.Run("wrong password", {"get", "pub/a", "--user=alice:nope"});
  s.Run("user list", {"user", "list", "--user=root:rootpw"});
  s.Run("user get", {"user", "get", "alice", "--user=root:rootpw"});
  s.Run("role get", {"role", "get", "reader", "--user=root:rootpw"});
  s.Run("role list", {"role", "list", "--user=root:rootpw"});
  s.Run("role revoke-permission",
        {"role", "revoke-permission", "reader", "pub/", "--prefix=true", "--user=root:rootpw"});
  s.Run("user revoke-role", {"user", "revoke-role", "alice", "reader", "--user=root:rootpw"});
  s.Run("user delete", {"user", "delete", "alice", "--user=root:rootpw"});
  s.Run("role delete", {"role", "delete", "reader", "--user=root:rootpw"});
  s.Run("auth disable", {"auth", "disable", "--user=root:rootpw"});
  s.Run("get after disable", {"get", "pub/a"});
}

void WatchScenario(Session& s) {
  int64_t rev = Revision(s);
  s.Record("watch --prefix --prev-kv",
           WatchOutput(
               s, {"watch", "w/", "--prefix", "--prev-kv", "--rev", absl::StrCat(rev + 1)},
               [&] {
                 s.Run("", {"put", "w/a", "1"}, "", false);
                 s.Run("", {"put", "w/a", "2"}, "", false);
                 s.Run("", {"put", "other", "x"}, "", false);
                 s.Run("", {"del", "w/a"}, "", false);
               },
               // PUT w/a 1 (3 lines), PUT w/a 2 with prev (5), DELETE with prev (4).
               12));
  s.Record("watch --rev history",
           WatchOutput(
               s, {"watch", "w/a", "--rev", absl::StrCat(rev + 1)}, [] {}, 7));
  s.Record("watch range", WatchOutput(
                              s, {"watch", "r1", "r3", "--rev", absl::StrCat(rev + 5)},
                              [&] {
                                s.Run("", {"put", "r0", "x"}, "", false);
                                s.Run("", {"put", "r1", "x"}, "", false);
                                s.Run("", {"put", "r2", "y"}, "", false);
                                s.Run("", {"put", "r3", "z"}, "", false);
                              },
                              6));
}

// etcdctl 3.4's lock and elect are client-side recipes (clientv3/concurrency)
// over KV, Watch and Lease: a holder, a waiter that must not get in until
// the holder lets go, an observer, and the keys they leave behind.
void LockElectScenario(Session& s) {
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> holder =
      StartEtcdctl(s.endpoint(), {"lock", "mylock"});
  ASSERT_TRUE(holder.ok()) << holder.status();
  s.Record("lock holder", WaitForLines(**holder, 1));
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> waiter =
      StartEtcdctl(s.endpoint(), {"lock", "mylock", "echo", "waiter got the lock"});
  ASSERT_TRUE(waiter.ok()) << waiter.status();
  absl::SleepFor(absl::Seconds(1));
  s.Record("waiter blocked", absl::StrCat("output while held: [", (*waiter)->ReadStdout(), "]"));
  s.Run("lock keys while held", {"get", "mylock", "--prefix", "--keys-only"});
  // SIGTERM: etcdctl unlocks and closes its session.
  (void)(*holder)->Stop(absl::Seconds(5));
  s.Record("waiter after release", WaitForLines(**waiter, 1));
  absl::StatusOr<testutil::ExitStatus> waited = (*waiter)->Wait(absl::Seconds(10));
  s.Record("waiter exit", waited.ok() ? waited->ToString() : waited.status().ToString());
  s.Run("lock keys after", {"get", "mylock", "--prefix", "--keys-only"});

  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> candidate =
      StartEtcdctl(s.endpoint(), {"elect", "myelection", "first"});
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  // The leader key and the proclaimed value.
  s.Record("elect leader", WaitForLines(**candidate, 2));
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> second =
      StartEtcdctl(s.endpoint(), {"elect", "myelection", "second"});
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<std::unique_ptr<testutil::Subprocess>> observer =
      StartEtcdctl(s.endpoint(), {"elect", "--listen", "myelection"});
  ASSERT_TRUE(observer.ok()) << observer.status();
  s.Record("observe first leader", WaitForLines(**observer, 2));
  s.Record("second waits", absl::StrCat("[", (*second)->ReadStdout(), "]"));
  (void)(*candidate)->Stop(absl::Seconds(5));
  s.Record("second elected", WaitForLines(**second, 2));
  s.Record("observe second leader", WaitForLines(**observer, 4));
  (void)(*second)->Stop(absl::Seconds(5));
  (void)(*observer)->Stop(absl::Seconds(5));
  s.Run("election keys after", {"get", "myelection", "--prefix", "--keys-only"});
}

// Membership output whose order follows member IDs (which differ between
// the two clusters because their ports do): lines and ETCD_INITIAL_CLUSTER
// entries are compared sorted.
std::string Sorted(const CtlResult& r) {
  std::string out = r.out;
  std::string initial;
  if (RE2::PartialMatch(out, R"re(ETCD_INITIAL_CLUSTER="([^"]*)")re", &initial)) {
    std::vector<std::string> parts = absl::StrSplit(initial, ',');
    std::sort(parts.begin(), parts.end());
    RE2::Replace(&out, R"re(ETCD_INITIAL_CLUSTER="[^"]*")re",
                 absl::StrCat("ETCD_INITIAL_CLUSTER=\"", absl::StrJoin(parts, ","), "\""));
  }
  std::vector<std::string> lines = absl::StrSplit(Normalize(out), '\n');
  std::sort(lines.begin(), lines.end());
  return absl::StrCat("exit ", r.code, "\n", absl::StrJoin(lines, "\n"), "--\n",
                      Normalize(r.err));
}

// A 3-member cluster: etcdctl's membership commands and move-leader, run
// through all three endpoints.
void ClusterScenario(Session& s) {
  s.Record("member list", Sorted(s.Run("", {"member", "list"}, "", false)));
  // --strict-reconfig-check refuses changes until the members have been
  // connected for 5 s ("etcdserver: unhealthy cluster"): wait it out.
  absl::SleepFor(absl::Seconds(6));
  // A peer URL a member already has (etcd checks quorum health first, so
  // this comes before the cluster has an unstarted member).
  std::string taken;
  RE2::PartialMatch(s.Run("", {"member", "list"}, "", false).out,
                    R"re(, started, m1, (http://[^,]+),)re", &taken);
  s.Record("member add same peer URL",
           Sorted(s.Run("", {"member", "add", "m5", "--peer-urls=" + taken}, "", false)));
  s.Record("member add", Sorted(s.Run("", {"member", "add", "m4",
                                            "--peer-urls=http://127.0.0.1:1"},
                                      "", false)));
  CtlResult list = s.Run("", {"member", "list"}, "", false);
  s.Record("member list with unstarted", Sorted(list));
  std::string added;
  RE2::PartialMatch(list.out, R"re((?m)^([0-9a-f]+), unstarted, )re", &added);
  // With a member that never connects, --strict-reconfig-check refuses
  // another, voter or learner.
  s.Record("member add while one is unreachable",
           Sorted(s.Run("", {"member", "add", "m6", "--peer-urls=http://127.0.0.1:3"}, "",
                        false)));
  s.Record("learner add while one is unreachable",
           Sorted(s.Run("", {"member", "add", "m6", "--learner",
                             "--peer-urls=http://127.0.0.1:3"},
                        "", false)));
  s.Record("member update",
           Sorted(s.Run("", {"member", "update", added, "--peer-urls=http://127.0.0.1:2"}, "",
                        false)));
  s.Record("member remove", Sorted(s.Run("", {"member", "remove", added}, "", false)));
  s.Record("member remove again", Sorted(s.Run("", {"member", "remove", added}, "", false)));
  s.Record("member list after", Sorted(s.Run("", {"member", "list"}, "", false)));
  // A learner that never started is not in sync: no promotion (whichever
  // member etcdctl asks, the leader decides); a learner goes at any time.
  CtlResult learner = s.Run("", {"member", "add", "l1", "--learner",
                                 "--peer-urls=http://127.0.0.1:4"},
                            "", false);
  s.Record("learner add", Sorted(learner));
  std::string learner_id;
  RE2::PartialMatch(learner.out, R"re(Member\s+([0-9a-f]+)\s+added)re", &learner_id);
  EXPECT_FALSE(learner_id.empty()) << learner.out << learner.err;
  s.Record("promote a learner not in sync",
           Sorted(s.Run("", {"member", "promote", learner_id}, "", false)));
  std::string voter;
  RE2::PartialMatch(s.Run("", {"member", "list"}, "", false).out,
                    R"re((?m)^([0-9a-f]+), started, )re", &voter);
  EXPECT_FALSE(voter.empty());
  s.Record("promote a voter", Sorted(s.Run("", {"member", "promote", voter}, "", false)));
  s.Record("learner remove", Sorted(s.Run("", {"member", "remove", learner_id}, "", false)));
  // Hand leadership to a follower: find the leader from endpoint status.
  CtlResult status = s.Run("", {"endpoint", "status", "-w", "json"}, "", false);
  std::vector<std::string> ids;
  std::string leader;
  {
    re2::StringPiece in(status.out);
    std::string id;
    while (RE2::FindAndConsume(&in, R"re("member_id":(\d+))re", &id)) ids.push_back(id);
    RE2::PartialMatch(status.out, R"re("leader":(\d+))re", &leader);
  }
  std::string target;
  for (const std::string& id : ids) {
    if (id != leader) target = id;
  }
  s.Record("move-leader",
           Sorted(s.Run("", {"move-leader", absl::StrFormat("%x", std::stoull(target))}, "",
                        false)));
  s.Record("put after move", Sorted(s.Run("", {"put", "k", "v"}, "", false)));
}

using Scenario = void (*)(Session&);

class InteropTest : public ::testing::Test {
 protected:
  void Compare(Scenario scenario) {
    if (!DebianEtcdAvailable()) {
      GTEST_SKIP() << "Debian's etcd/etcdctl (/usr/bin/etcd, /usr/bin/etcdctl) are not "
                      "installed; the differential interop test needs them as the reference";
    }
    ASSERT_OK_AND_ASSIGN(testutil::TempDir ref_dir, testutil::TempDir::Create("ref"));
    ASSERT_OK_AND_ASSIGN(testutil::TempDir our_dir, testutil::TempDir::Create("our"));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> ref,
                         EtcdProcess::Start(kDebianEtcd, ref_dir.path()));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<EtcdProcess> ours,
                         EtcdProcess::Start(OurEtcdBinary(), our_dir.path()));
    Session ref_session(ref->endpoint());
    Session our_session(ours->endpoint());
    scenario(ref_session);
    scenario(our_session);
    ASSERT_EQ(ref_session.steps().size(), our_session.steps().size());
    for (size_t i = 0; i < ref_session.steps().size(); ++i) {
      EXPECT_EQ(our_session.steps()[i].output, ref_session.steps()[i].output)
          << "step: " << ref_session.steps()[i].name;
    }
    EXPECT_TRUE(ours->process()->Alive()) << ours->Logs();
    absl::StatusOr<testutil::ExitStatus> stopped = ours->Stop();
    ASSERT_OK(stopped);
    EXPECT_EQ(stopped->signal, SIGTERM) << stopped->ToString() << "\n" << ours->Logs();
    (void)ref->Stop();
  }
};

TEST_F(InteropTest, KeyValue) { Compare(&KvScenario); }
TEST_F(InteropTest, Lease) { Compare(&LeaseScenario); }
TEST_F(InteropTest, Maintenance) { Compare(&MaintenanceScenario); }
TEST_F(InteropTest, Auth) { Compare(&AuthScenario); }
TEST_F(InteropTest, Watch) { Compare(&WatchScenario); }
TEST_F(InteropTest, LockAndElect) { Compare(&LockElectScenario); }

TEST_F(InteropTest, ThreeMemberClusterMembership) {
  if (!DebianEtcdAvailable()) GTEST_SKIP() << "Debian's etcd/etcdctl are not installed";
  ASSERT_OK_AND_ASSIGN(testutil::TempDir ref_dir, testutil::TempDir::Create("refc"));
  ASSERT_OK_AND_ASSIGN(testutil::TempDir our_dir, testutil::TempDir::Create("ourc"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::unique_ptr<EtcdProcess>> ref,
                       EtcdProcess::StartCluster(kDebianEtcd, ref_dir.path(), 3));
  ASSERT_OK_AND_ASSIGN(std::vector<std::unique_ptr<EtcdProcess>> ours,
                       EtcdProcess::StartCluster(OurEtcdBinary(), our_dir.path(), 3));
  auto endpoints = [](const std::vector<std::unique_ptr<EtcdProcess>>& members) {
    std::vector<std::string> all;
    for (const auto& m : members) all.push_back(m->endpoint());
    return absl::StrJoin(all, ",");
  };
  Session ref_session(endpoints(ref));
  Session our_session(endpoints(ours));
  ClusterScenario(ref_session);
  ClusterScenario(our_session);
  ASSERT_EQ(ref_session.steps().size(), our_session.steps().size());
  for (size_t i = 0; i < ref_session.steps().size(); ++i) {
    EXPECT_EQ(our_session.steps()[i].output, ref_session.steps()[i].output)
        << "step: " << ref_session.steps()[i].name;
  }
  for (auto& m : ours) (void)m->Stop();
  for (auto& m : ref) (void)m->Stop();
}

}  // namespace
}  // namespace etcd::e2e
