// Real raftexample processes on loopback: writes through one member are
// read back from all of them, across SIGKILLs and restarts of a follower,
// of the leader and of the whole cluster, with a member brought back by a
// snapshot because it fell too far behind; and a fourth member joins and
// is removed again.

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"
#include "raft/example/http.h"

namespace etcd::raftexample {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(60);
// Small, so that a member down for a few dozen writes needs a snapshot.
constexpr int kSnapshotCount = 20;
constexpr int kCatchupEntries = 5;

// A cluster of raftexample processes; member i is process i (from 1).
class Cluster {
 public:
  static absl::StatusOr<std::unique_ptr<Cluster>> Create(int max_members) {
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("raftexample");
    if (!dir.ok()) return dir.status();
    absl::StatusOr<std::vector<int>> ports = testutil::FreePorts(2 * max_members);
    if (!ports.ok()) return ports.status();
    auto c = std::unique_ptr<Cluster>(new Cluster(*std::move(dir)));
    for (int i = 0; i < max_members; ++i) {
      c->peer_ports_.push_back((*ports)[2 * i]);
      c->http_ports_.push_back((*ports)[2 * i + 1]);
    }
    c->procs_.resize(max_members + 1);
    c->starts_.resize(max_members + 1);
    return c;
  }

  std::string PeerUrl(int id) const {
    return absl::StrCat("http://127.0.0.1:", peer_ports_[id - 1]);
  }

  // Starts member `id` of a cluster of members 1..cluster_size.
  void Start(int id, int cluster_size, bool join = false) {
    std::vector<std::string> urls;
    for (int i = 1; i <= cluster_size; ++i) urls.push_back(PeerUrl(i));
    testutil::SubprocessOptions options;
    options.argv = {testutil::RunfilePath("raft/example/raftexample"),
                    absl::StrCat("--id=", id),
                    absl::StrCat("--cluster=", absl::StrJoin(urls, ",")),
                    absl::StrCat("--port=", http_ports_[id - 1]),
                    absl::StrCat("--data_dir=", dir_.Join(absl::StrCat("member", id))),
                    absl::StrCat("--snapshot_count=", kSnapshotCount),
                    absl::StrCat("--snapshot_catchup_entries=", kCatchupEntries)};
    if (join) options.argv.push_back("--join");
    options.stderr_path = dir_.Join(absl::StrCat("member", id, ".", ++starts_[id], ".log"));
    absl::StatusOr<std::unique_ptr<testutil::Subprocess>> p = testutil::Subprocess::Start(options);
    ASSERT_OK(p.status());
    procs_[id] = *std::move(p);
  }

  // SIGKILL. With `may_have_exited`, the member may also have ended by
  // itself (cleanly) before.
  void Kill(int id, bool may_have_exited = false) {
    ASSERT_NE(procs_[id], nullptr);
    ASSERT_OK(procs_[id]->Kill(SIGKILL));
    ASSERT_OK_AND_ASSIGN(testutil::ExitStatus st, procs_[id]->Wait(absl::Seconds(20)));
    if (!(may_have_exited && st.success())) {
      EXPECT_EQ(st.signal, SIGKILL) << Stderr(id);
    }
    dead_procs_.push_back(std::move(procs_[id]));
  }

  // SIGTERM: a clean shutdown (under sanitizers, also a leak check).
  void Stop(int id) {
    ASSERT_NE(procs_[id], nullptr);
    ASSERT_OK_AND_ASSIGN(testutil::ExitStatus st, procs_[id]->Stop(absl::Seconds(30)));
    EXPECT_TRUE(st.success()) << "member " << id << ": " << st.ToString() << "\n" << Stderr(id);
    dead_procs_.push_back(std::move(procs_[id]));
  }

  testutil::Subprocess* proc(int id) { return procs_[id].get(); }
  std::string Stderr(int id) const {
    return procs_[id] ? procs_[id]->ReadStderr() : "(not running)";
  }

  absl::StatusOr<HttpResponse> RawCall(int id, absl::string_view raw) {
    return HttpRoundTrip("127.0.0.1", http_ports_[id - 1], raw);
  }

  absl::StatusOr<HttpResponse> Call(int id, absl::string_view method, absl::string_view target,
                                    absl::string_view body = "") {
    return HttpRoundTrip("127.0.0.1", http_ports_[id - 1], FormatHttpRequest(method, target, body));
  }

  // Puts through member `id` until it answers 204 (retrying drops while
  // there is no leader and timeouts while a leader dies).
  bool Put(int id, const std::string& key, const std::string& value) {
    const absl::Time deadline = absl::Now() + kTimeout;
    std::string last;
    while (absl::Now() < deadline) {
      absl::StatusOr<HttpResponse> r = Call(id, "PUT", "/" + key, value);
      if (r.ok() && r->status == 204) return true;
      last = r.ok() ? absl::StrCat(r->status, " ", r->body) : r.status().ToString();
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "PUT " << key << " via member " << id << " never succeeded: " << last;
    return false;
  }

  // A field of GET /-/status; -1 if unavailable.
  int64_t StatusField(int id, absl::string_view field) {
    absl::StatusOr<HttpResponse> r = Call(id, "GET", "/-/status");
    if (!r.ok() || r->status != 200) return -1;
    const std::string needle = absl::StrCat("\"", field, "\":");
    const size_t at = r->body.find(needle);
    if (at == std::string::npos) return -1;
    size_t end = at + needle.size();
    while (end < r->body.size() && absl::ascii_isdigit(r->body[end])) ++end;
    int64_t v = -1;
    if (!absl::SimpleAtoi(r->body.substr(at + needle.size(), end - at - needle.size()), &v)) {
      return -1;
    }
    return v;
  }

  // Waits until every member of `ids` names the same leader, one of `ids`.
  int WaitForLeader(const std::vector<int>& ids) {
    int leader = 0;
    const bool ok = testutil::WaitUntil(
        [&] {
          int64_t first = StatusField(ids[0], "leader");
          for (int id : ids) {
            if (StatusField(id, "leader") != first) return false;
          }
          for (int id : ids) {
            if (id == first) {
              leader = id;
              return true;
            }
          }
          return false;
        },
        kTimeout, absl::Milliseconds(50));
    EXPECT_TRUE(ok) << "no common leader among " << absl::StrJoin(ids, ",");
    return leader;
  }

  // Waits until member `id` holds exactly `want`.
  void ExpectHolds(int id, const std::map<std::string, std::string>& want) {
    ASSERT_TRUE(testutil::WaitUntil(
        [&] { return StatusField(id, "keys") == static_cast<int64_t>(want.size()); }, kTimeout,
        absl::Milliseconds(50)))
        << "member " << id << " has " << StatusField(id, "keys") << " keys, want " << want.size()
        << "\n"
        << Stderr(id);
    for (const auto& [key, value] : want) {
      absl::StatusOr<HttpResponse> r = Call(id, "GET", "/" + key);
      ASSERT_OK(r.status());
      ASSERT_EQ(r->status, 200) << "member " << id << ", key " << key;
      ASSERT_EQ(r->body, value) << "member " << id << ", key " << key;
    }
  }

 private:
  explicit Cluster(testutil::TempDir dir) : dir_(std::move(dir)) {}

  testutil::TempDir dir_;
  std::vector<int> peer_ports_;
  std::vector<int> http_ports_;
  std::vector<std::unique_ptr<testutil::Subprocess>> procs_;  // by member ID
  std::vector<std::unique_ptr<testutil::Subprocess>> dead_procs_;
  std::vector<int> starts_;  // by member ID: how often started
};

// Writes `n` keys "<prefix><i>" through member `via` and records them.
void WriteKeys(Cluster& c, int via, const std::string& prefix, int n,
               std::map<std::string, std::string>* want) {
  for (int i = 0; i < n; ++i) {
    const std::string key = absl::StrCat(prefix, i);
    const std::string value = absl::StrCat("value-of-", key, "-via-", via);
    ASSERT_TRUE(c.Put(via, key, value));
    (*want)[key] = value;
  }
}

int OtherThan(const std::vector<int>& ids, int not_this) {
  for (int id : ids) {
    if (id != not_this) return id;
  }
  return 0;
}

TEST(RaftExampleTest, ReplicatesAcrossKillsAndRestarts) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Cluster> c, Cluster::Create(3));
  const std::vector<int> all = {1, 2, 3};
  for (int id : all) c->Start(id, 3);
  const int first_leader = c->WaitForLeader(all);
  ASSERT_NE(first_leader, 0);

  // Written through one member, readable on every member.
  std::map<std::string, std::string> want;
  WriteKeys(*c, 1, "a", 10, &want);
  for (int id : all) c->ExpectHolds(id, want);

  // A follower misses more writes than a snapshot interval plus the entries
  // kept after it: it can only catch up from a snapshot.
  const int follower = OtherThan(all, first_leader);
  c->Kill(follower);
  WriteKeys(*c, OtherThan(all, follower), "b", 2 * kSnapshotCount + kCatchupEntries, &want);
  for (int id : all) {
    if (id != follower) c->ExpectHolds(id, want);
  }
  c->Start(follower, 3);
  c->ExpectHolds(follower, want);
  EXPECT_TRUE(absl::StrContains(c->Stderr(follower), "applied snapshot from the leader"))
      << c->Stderr(follower);

  // The leader dies; the others elect a new one and keep taking writes.
  const int leader = c->WaitForLeader(all);
  ASSERT_NE(leader, 0);
  c->Kill(leader);
  std::vector<int> survivors;
  for (int id : all) {
    if (id != leader) survivors.push_back(id);
  }
  WriteKeys(*c, survivors[0], "c", kSnapshotCount + 7, &want);
  const int new_leader = c->WaitForLeader(survivors);
  EXPECT_NE(new_leader, leader);
  for (int id : survivors) c->ExpectHolds(id, want);
  c->Start(leader, 3);
  WriteKeys(*c, leader, "d", 5, &want);  // through the restarted member
  for (int id : all) c->ExpectHolds(id, want);
  EXPECT_TRUE(absl::StrContains(c->Stderr(leader), "restarting from snapshot at index"))
      << c->Stderr(leader);

  // Everyone dies at once; the data comes back from snapshots and WALs.
  for (int id : all) c->Kill(id);
  for (int id : all) c->Start(id, 3);
  ASSERT_NE(c->WaitForLeader(all), 0);
  for (int id : all) c->ExpectHolds(id, want);
  WriteKeys(*c, 2, "e", 3, &want);
  for (int id : all) c->ExpectHolds(id, want);
  for (int id : all) c->Stop(id);
}

TEST(RaftExampleTest, MemberJoinsAndIsRemoved) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Cluster> c, Cluster::Create(4));
  for (int id : {1, 2, 3}) c->Start(id, 3);
  ASSERT_NE(c->WaitForLeader({1, 2, 3}), 0);
  std::map<std::string, std::string> want;
  // Enough for a compacted log: the new member starts from a snapshot.
  WriteKeys(*c, 2, "before", kSnapshotCount + kCatchupEntries + 5, &want);

  ASSERT_OK_AND_ASSIGN(HttpResponse added, c->Call(1, "POST", "/4", c->PeerUrl(4)));
  ASSERT_EQ(added.status, 204) << added.body;
  c->Start(4, 4, /*join=*/true);
  c->ExpectHolds(4, want);
  EXPECT_TRUE(absl::StrContains(c->Stderr(4), "applied snapshot from the leader")) << c->Stderr(4);
  WriteKeys(*c, 4, "after", 5, &want);
  for (int id : {1, 2, 3, 4}) c->ExpectHolds(id, want);

  // Bad requests get 400 and change nothing.
  ASSERT_OK_AND_ASSIGN(HttpResponse bad, c->Call(1, "POST", "/not-a-number", c->PeerUrl(4)));
  EXPECT_EQ(bad.status, 400);
  ASSERT_OK_AND_ASSIGN(HttpResponse bad_url, c->Call(1, "POST", "/5", "ftp://x"));
  EXPECT_EQ(bad_url.status, 400);
  ASSERT_OK_AND_ASSIGN(HttpResponse garbage, c->RawCall(1, "\x16\x03\x01 not http\r\n\r\n"));
  EXPECT_EQ(garbage.status, 400);
  EXPECT_TRUE(c->proc(1)->Alive());

  // After member 4 is removed, members 1 and 2 are a quorum on their own:
  // with 4 and 3 gone, writes still commit.
  ASSERT_OK_AND_ASSIGN(HttpResponse removed, c->Call(1, "DELETE", "/4"));
  ASSERT_EQ(removed.status, 204) << removed.body;
  // (Member 4 stops by itself if it learns that the removal committed.)
  c->Kill(4, /*may_have_exited=*/true);
  c->Kill(3);
  WriteKeys(*c, 1, "quorum-of-two", 3, &want);
  for (int id : {1, 2}) c->ExpectHolds(id, want);
  for (int id : {1, 2}) c->Stop(id);
}

}  // namespace
}  // namespace etcd::raftexample
