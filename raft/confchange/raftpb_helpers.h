// Helpers on the raftpb conf-change messages that raft and its tests need
// (etcd's raftpb/confchange.go and confstate.go).
//
//   raftpb::ConfChangeV2 cc = confchange::AsV2(v1);       // one change
//   bool auto_leave = false;
//   if (confchange::EnterJoint(cc, &auto_leave)) { ... }  // joint consensus?
//   if (confchange::LeaveJoint(cc)) { ... }               // the empty change
//
//   ASSIGN_OR_RETURN(std::vector<raftpb::ConfChangeSingle> ccs,
//                    confchange::ConfChangesFromString("v1 l2 r3 u4"));
//   confchange::ConfChangesToString(ccs);                 // "v1 l2 r3 u4"
//
// Pure functions; thread-safe.

#ifndef ETCD_RAFT_CONFCHANGE_RAFTPB_HELPERS_H_
#define ETCD_RAFT_CONFCHANGE_RAFTPB_HELPERS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft::confchange {

// The ConfChangeV2 that carries out the same change as `cc`: one change of
// cc's type and node, cc's context, the automatic transition.
raftpb::ConfChangeV2 AsV2(const raftpb::ConfChange& cc);

// Whether applying `cc` uses joint consensus: it has more than one change or
// asks for a joint transition explicitly. If so, `*auto_leave` (may be null)
// tells whether raft leaves the joint state by itself (transitions Auto and
// JointImplicit) or waits for the application (JointExplicit). Aborts on a
// transition value outside the enum.
bool EnterJoint(const raftpb::ConfChangeV2& cc, bool* auto_leave);

// Whether `cc` is the change that leaves a joint configuration: no changes
// and the automatic transition (the context does not matter).
bool LeaveJoint(const raftpb::ConfChangeV2& cc);

// Parses space-separated operations: "vN" voter, "lN" learner, "rN" remove,
// "uN" update. Surrounding whitespace is ignored; "" gives no changes.
// Errors: "unknown token X" (shorter than two characters), "unknown input: X"
// (bad operation letter), or a bad number.
absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ConfChangesFromString(absl::string_view s);

// The inverse of ConfChangesFromString ("unknown" for a type outside the
// enum).
std::string ConfChangesToString(absl::Span<const raftpb::ConfChangeSingle> ccs);
std::string ConfChangesToString(
    const google::protobuf::RepeatedPtrField<raftpb::ConfChangeSingle>& ccs);

// OK if `a` and `b` describe the same configuration: equal auto_leave and the
// same voters, learners, voters_outgoing and learners_next up to order.
// Otherwise an InvalidArgument error showing both.
absl::Status Equivalent(const raftpb::ConfState& a, const raftpb::ConfState& b);

// "Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[] AutoLeave:true",
// the way etcd's raft.DescribeConfState prints it (lists in stored order).
std::string ConfStateString(const raftpb::ConfState& cs);

}  // namespace etcd::raft::confchange

#endif  // ETCD_RAFT_CONFCHANGE_RAFTPB_HELPERS_H_
