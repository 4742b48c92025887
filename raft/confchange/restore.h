// Rebuilds a tracker configuration from a ConfState (from a snapshot or the
// storage's initial state), joint configurations included.
//
//   tracker::ProgressTracker prs(max_inflight);           // empty config
//   ASSIGN_OR_RETURN(confchange::ChangeResult r,
//                    confchange::Restore(confchange::Changer(prs, last_index), cs));
//   prs.config = std::move(r.config);
//   prs.progress = std::move(r.progress);
//   // prs.ConfState() is now equivalent to cs.
//
// Stateless; thread-safe as long as the Changer's tracker is not modified
// concurrently.

#ifndef ETCD_RAFT_CONFCHANGE_RESTORE_H_
#define ETCD_RAFT_CONFCHANGE_RESTORE_H_

#include "absl/status/statusor.h"
#include "raft/confchange/confchange.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft::confchange {

// Replays `cs` as a sequence of changes on top of the changer's tracker,
// which must hold the empty configuration: for a joint ConfState the
// outgoing voters are added one by one, then the joint state is entered with
// the incoming voters, learners and learners_next; otherwise voters and
// learners are added one by one. Fails like the Changer on an inconsistent
// ConfState (e.g. learners without voters).
absl::StatusOr<ChangeResult> Restore(const Changer& changer, const raftpb::ConfState& cs);

}  // namespace etcd::raft::confchange

#endif  // ETCD_RAFT_CONFCHANGE_RESTORE_H_
