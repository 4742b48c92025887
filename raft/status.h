// A snapshot of a raft node's state, for monitoring and tests
// (etcd's status.go).
//
//   etcd::raft::Status st = node.GetStatus();
//   if (st.basic.soft_state.raft_state == etcd::raft::StateType::kLeader) {
//     for (const auto& [id, pr] : st.progress) ...   // leaders only
//   }
//   std::cout << st.String();   // {"id":"1","term":2,...}
//
// Plain values; copy freely.

#ifndef ETCD_RAFT_STATUS_H_
#define ETCD_RAFT_STATUS_H_

#include <cstdint>
#include <map>
#include <string>

#include "raft/raftpb/raft.pb.h"
#include "raft/ready.h"
#include "raft/tracker/progress.h"
#include "raft/tracker/tracker.h"

namespace etcd::raft {

class Raft;

// The state that is cheap to copy.
struct BasicStatus {
  uint64_t id = 0;
  raftpb::HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  // The target of a leader transfer in progress, or kNone.
  uint64_t lead_transferee = kNone;
};

struct Status {
  BasicStatus basic;
  // The active configuration.
  tracker::Config config;
  // Replication progress of every node; only filled on the leader.
  std::map<uint64_t, tracker::Progress> progress;

  // etcd's JSON rendering: {"id":"1","term":2,"vote":"1","commit":3,
  // "lead":"1","raftState":"StateLeader","applied":3,"progress":{"1":{"match":3,
  // "next":4,"state":"StateReplicate"}},"leadtransferee":"0"}; IDs in hex,
  // progress in ascending ID order.
  std::string String() const;
};

BasicStatus GetBasicStatus(const Raft& r);
// Includes copies of the progress (with their inflight windows) on a leader.
Status GetStatus(const Raft& r);

}  // namespace etcd::raft

#endif  // ETCD_RAFT_STATUS_H_
