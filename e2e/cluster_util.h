// Helpers for e2e tests of multi-member clusters of the real etcd binary,
// driven by Debian's etcdctl:
//
//   class MyTest : public ClusterTest {};
//   TEST_F(MyTest, X) {
//     Start(3);
//     ASSERT_TRUE(PutEventually(*members_[0], "k", "v"));
//     int leader = Leader(members_);
//     ExpectConverged(members_);
//   }

#ifndef ETCD_E2E_CLUSTER_UTIL_H_
#define ETCD_E2E_CLUSTER_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::e2e {

using Members = std::vector<std::unique_ptr<EtcdProcess>>;

// etcdctl against one member.
CtlResult Ctl(const EtcdProcess& m, const std::vector<std::string>& args);

// Retries a write until it succeeds (elections take up to a few seconds).
bool PutEventually(const EtcdProcess& m, const std::string& key, const std::string& value);

// The value of `key` read linearizably through `m`, or the error.
std::string Get(const EtcdProcess& m, const std::string& key);

// Retries a membership command while the cluster refuses it for now
// (--strict-reconfig-check: peers connected for less than 5 s; a learner
// not yet in sync), up to `timeout`; the last result.
CtlResult MemberCtlEventually(const EtcdProcess& m, const std::vector<std::string>& args,
                              absl::Duration timeout = absl::Seconds(30));

// What `endpoint status` says of a member.
struct Status {
  uint64_t member_id = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
};
absl::StatusOr<Status> EndpointStatus(const EtcdProcess& m);

// The index of the member every live member agrees is the leader, or -1.
int Leader(const Members& members, const std::set<int>& down = {});

// Every live member reports the same HashKV at the same revision.
void ExpectConverged(const Members& members, const std::set<int>& down = {});

// The hex ID of the started member `name` as `via` lists it, or "".
std::string MemberId(const EtcdProcess& via, const std::string& name);

// Starts a cluster of our binary in a temporary directory; stops what is
// left at the end.
class ClusterTest : public ::testing::Test {
 protected:
  void Start(int n, std::vector<std::string> extra_args = {});
  void TearDown() override;
  // Every member's log, for failure messages.
  std::string Logs();
  std::unique_ptr<testutil::TempDir> dir_;
  Members members_;
};

}  // namespace etcd::e2e

#endif  // ETCD_E2E_CLUSTER_UTIL_H_
