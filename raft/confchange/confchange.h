// Validated membership changes, simple and joint (etcd's raft/confchange).
//
//   confchange::Changer changer(prs, raft_log.LastIndex());
//   absl::StatusOr<confchange::ChangeResult> r;
//   bool auto_leave = false;
//   if (confchange::LeaveJoint(cc)) {
//     r = changer.LeaveJoint();
//   } else if (confchange::EnterJoint(cc, &auto_leave)) {
//     r = changer.EnterJoint(auto_leave, cc.changes());
//   } else {
//     r = changer.Simple(cc.changes());
//   }
//   if (!r.ok()) Fatal(r.status());   // etcd panics: the change was validated
//   prs.config = std::move(r->config);
//   prs.progress = std::move(r->progress);
//
// A Changer computes the configuration and progress map that result from
// applying changes to a tracker's current ones, without touching the tracker;
// invalid changes are refused with etcd's error texts (Status::message()), e.g.
// "more than one voter changed without entering joint config".
//
// Single-threaded: a Changer borrows its tracker, which must not change while
// the Changer is in use.

#ifndef ETCD_RAFT_CONFCHANGE_CONFCHANGE_H_
#define ETCD_RAFT_CONFCHANGE_CONFCHANGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "google/protobuf/repeated_field.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/tracker/tracker.h"

namespace etcd::raft::confchange {

// A new configuration and the progress map that goes with it.
struct ChangeResult {
  tracker::Config config;
  tracker::ProgressMap progress;
};

using ConfChanges = absl::Span<const raftpb::ConfChangeSingle>;
using ConfChangesField = google::protobuf::RepeatedPtrField<raftpb::ConfChangeSingle>;

// Applies configuration changes on top of a tracker's state (etcd's Changer).
//
// Within a change list, "vN" (ConfChangeAddNode) makes N a voter, adding or
// promoting it; "lN" (ConfChangeAddLearnerNode) makes N a learner, adding or
// demoting it (demoting a voter of the outgoing config is staged in
// learners_next until the joint state is left); "rN" (ConfChangeRemoveNode)
// removes N; "uN" (ConfChangeUpdateNode) changes nothing here. Changes with
// node ID 0 are skipped (etcd zeroes the ID of a change the application
// rejected). New nodes start with next = last_index, match = 0, active, and an
// Inflights window of the tracker's max_inflight.
//
// Errors: FailedPrecondition for a change that does not fit the current
// state (joint vs. not), InvalidArgument for a change list that is not
// acceptable (no voters left, several voters changed without joint
// consensus, unknown type), Internal for a broken invariant of the input.
class Changer {
 public:
  // Borrows `tracker`, which must outlive the Changer.
  Changer(const tracker::ProgressTracker& tracker, uint64_t last_index)
      : tracker_(&tracker), last_index_(last_index) {}

  // Enters a joint configuration: the current voters become the outgoing
  // half (C_old), `ccs` are applied to the incoming half (C_new), Raft thesis
  // section 4.3. Fails if already joint or if there are no voters.
  absl::StatusOr<ChangeResult> EnterJoint(bool auto_leave, ConfChanges ccs) const;
  absl::StatusOr<ChangeResult> EnterJoint(bool auto_leave, const ConfChangesField& ccs) const;

  // Leaves the joint configuration: drops the outgoing half (and the nodes
  // only it contained), turns learners_next into learners and clears
  // auto_leave. Fails if not joint.
  absl::StatusOr<ChangeResult> LeaveJoint() const;

  // Applies `ccs` directly, without joint consensus. Fails if joint, or if
  // in aggregate more than one voter would be added or removed.
  absl::StatusOr<ChangeResult> Simple(ConfChanges ccs) const;
  absl::StatusOr<ChangeResult> Simple(const ConfChangesField& ccs) const;

  const tracker::ProgressTracker& tracker() const { return *tracker_; }
  uint64_t last_index() const { return last_index_; }

 private:
  const tracker::ProgressTracker* tracker_;
  uint64_t last_index_;
};

// The changes as "ConfChangeAddNode(1) ConfChangeRemoveNode(2)".
std::string Describe(ConfChanges ccs);

}  // namespace etcd::raft::confchange

#endif  // ETCD_RAFT_CONFCHANGE_CONFCHANGE_H_
