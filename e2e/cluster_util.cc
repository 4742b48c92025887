#include "e2e/cluster_util.h"

#include <signal.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "re2/re2.h"

namespace etcd::e2e {

CtlResult Ctl(const EtcdProcess& m, const std::vector<std::string>& args) {
  return RunEtcdctl(m.endpoint(), args);
}

// Retries a write until it succeeds (elections take up to a few seconds).
bool PutEventually(const EtcdProcess& m, const std::string& key, const std::string& value) {
  return testutil::WaitUntil(
      [&] {
        CtlOptions options;
        options.timeout = absl::Seconds(10);
        CtlResult r = RunEtcdctl(m.endpoint(), {"put", key, value}, options);
        return r.code == 0 && r.out == "OK\n";
      },
      absl::Seconds(30), absl::Milliseconds(200));
}

// The value of `key` read linearizably through `m`, or the error.
std::string Get(const EtcdProcess& m, const std::string& key) {
  CtlResult r = Ctl(m, {"get", key, "--print-value-only"});
  if (r.code != 0) return absl::StrCat("error: ", r.err);
  return r.out;
}

absl::StatusOr<Status> EndpointStatus(const EtcdProcess& m) {
  CtlResult r = Ctl(m, {"endpoint", "status", "-w", "json"});
  Status s;
  if (r.code != 0 ||
      !RE2::PartialMatch(r.out, R"re("member_id":(\d+))re", &s.member_id) ||
      !RE2::PartialMatch(r.out, R"re("leader":(\d+))re", &s.leader)) {
    return absl::UnavailableError(absl::StrCat("endpoint status: ", r.out, r.err));
  }
  RE2::PartialMatch(r.out, R"re("raft_index":(\d+))re", &s.raft_index);
  return s;
}

// The index of the member every live member agrees is the leader, or -1.
int Leader(const Members& members, const std::set<int>& down) {
  int leader = -1;
  testutil::WaitUntil(
      [&] {
        std::vector<Status> statuses;
        for (size_t i = 0; i < members.size(); ++i) {
          if (down.count(static_cast<int>(i)) > 0) continue;
          absl::StatusOr<Status> s = EndpointStatus(*members[i]);
          if (!s.ok() || s->leader == 0) return false;
          statuses.push_back(*s);
        }
        for (const Status& s : statuses) {
          if (s.leader != statuses[0].leader) return false;
        }
        for (size_t i = 0; i < members.size(); ++i) {
          if (down.count(static_cast<int>(i)) > 0) continue;
          absl::StatusOr<Status> s = EndpointStatus(*members[i]);
          if (s.ok() && s->member_id == statuses[0].leader) leader = static_cast<int>(i);
        }
        return leader >= 0;
      },
      absl::Seconds(30), absl::Milliseconds(200));
  return leader;
}

// Every live member reports the same HashKV at the same revision.
void ExpectConverged(const Members& members, const std::set<int>& down) {
  std::vector<std::string> live;
  for (size_t i = 0; i < members.size(); ++i) {
    if (down.count(static_cast<int>(i)) == 0) live.push_back(members[i]->endpoint());
  }
  std::string last;
  bool same = testutil::WaitUntil(
      [&] {
        CtlResult r = RunEtcdctl(absl::StrJoin(live, ","), {"endpoint", "hashkv"});
        last = r.out + r.err;
        if (r.code != 0) return false;
        std::set<std::string> hashes;
        for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
          std::vector<std::string> parts = absl::StrSplit(line, ", ");
          if (parts.size() == 2) hashes.insert(parts[1]);
        }
        return hashes.size() == 1;
      },
      absl::Seconds(30), absl::Milliseconds(200));
  EXPECT_TRUE(same) << last;
}

CtlResult MemberCtlEventually(const EtcdProcess& m, const std::vector<std::string>& args,
                              absl::Duration timeout) {
  CtlResult r;
  testutil::WaitUntil(
      [&] {
        r = Ctl(m, args);
        return !(absl::StrContains(r.err, "unhealthy cluster") ||
                 absl::StrContains(r.err, "not enough started members") ||
                 absl::StrContains(r.err, "in sync with leader"));
      },
      timeout, absl::Milliseconds(500));
  return r;
}

std::string MemberId(const EtcdProcess& via, const std::string& name) {
  CtlResult list = Ctl(via, {"member", "list"});
  std::string id;
  RE2::PartialMatch(list.out, absl::StrCat(R"re((?m)^([0-9a-f]+), started, )re", name, ", "), &id);
  return id;
}

void ClusterTest::Start(int n, std::vector<std::string> extra_args) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("cluster"));
  dir_ = std::make_unique<testutil::TempDir>(std::move(dir));
  ASSERT_OK_AND_ASSIGN(members_, EtcdProcess::StartCluster(OurEtcdBinary(), dir_->path(), n,
                                                           std::move(extra_args)));
}

void ClusterTest::TearDown() {
  for (auto& m : members_) {
    if (m->process()->Alive()) {
      (void)m->Kill(SIGCONT);
      (void)m->Stop();
    }
  }
}

std::string ClusterTest::Logs() {
  std::string out;
  for (auto& m : members_) absl::StrAppend(&out, "---- ", m->endpoint(), "\n", m->Logs());
  return out;
}

}  // namespace etcd::e2e
