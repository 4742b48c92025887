// Member and cluster identity, as etcd derives it, and the members a cluster
// is bootstrapped with.
//
//   uint64_t id = ComputeMemberId({"http://localhost:2380"}, "etcd-cluster");
//   // 0x8e9e05c52164694d, etcd's ID of a default member
//   uint64_t cid = ComputeClusterId({id});  // 0xcdf818194e3a8c32
//
// Pure functions; thread-safe.

#ifndef ETCD_SERVER_ETCDSERVER_MEMBERSHIP_H_
#define ETCD_SERVER_ETCDSERVER_MEMBERSHIP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/etcdserverpb/rpc.pb.h"

namespace etcd::etcdserver {

// etcd's computeMemberId: the first 8 bytes (big-endian) of the SHA-1 of the
// sorted peer URLs concatenated, followed by the cluster token.
uint64_t ComputeMemberId(std::vector<std::string> peer_urls, absl::string_view cluster_token);

// etcd's RaftCluster.genID: the first 8 bytes of the SHA-1 of the sorted
// member IDs, each 8 bytes big-endian.
uint64_t ComputeClusterId(std::vector<uint64_t> member_ids);

// The members of --initial-cluster ("name=url,name=url,..."), with IDs,
// sorted by ID. InvalidArgument for a malformed list.
absl::StatusOr<std::vector<etcdserverpb::Member>> InitialMembers(absl::string_view initial_cluster,
                                                                  absl::string_view cluster_token);

// A member as stored in the members bucket and in conf change contexts:
// protobuf's JSON mapping of etcdserverpb.Member. Parse fails with DataLoss.
std::string MemberToJson(const etcdserverpb::Member& member);
absl::StatusOr<etcdserverpb::Member> MemberFromJson(absl::string_view json);

// The members bucket key of `id`: lowercase hex, like etcd's.
std::string MemberKey(uint64_t id);

}  // namespace etcd::etcdserver

#endif  // ETCD_SERVER_ETCDSERVER_MEMBERSHIP_H_
