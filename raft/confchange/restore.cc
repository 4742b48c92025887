#include "raft/confchange/restore.h"

#include <utility>
#include <vector>

namespace etcd::raft::confchange {
namespace {

raftpb::ConfChangeSingle Change(raftpb::ConfChangeType type, uint64_t id) {
  raftpb::ConfChangeSingle cc;
  cc.set_type(type);
  cc.set_node_id(id);
  return cc;
}

}  // namespace

absl::StatusOr<ChangeResult> Restore(const Changer& changer, const raftpb::ConfState& cs) {
  // Example: voters=(1 2 3) learners=(5) voters_outgoing=(1 2 4 6)
  // learners_next=(4). `outgoing` builds (1 2 4 6) one voter at a time;
  // `incoming` then enters the joint state by removing those, adding 1 2 3,
  // and adding 5 and 4 as learners (4 is staged in learners_next because it
  // is still an outgoing voter).
  std::vector<raftpb::ConfChangeSingle> outgoing;
  std::vector<raftpb::ConfChangeSingle> incoming;
  for (uint64_t id : cs.voters_outgoing()) {
    outgoing.push_back(Change(raftpb::ConfChangeAddNode, id));
  }
  for (uint64_t id : cs.voters_outgoing()) {
    incoming.push_back(Change(raftpb::ConfChangeRemoveNode, id));
  }
  for (uint64_t id : cs.voters()) incoming.push_back(Change(raftpb::ConfChangeAddNode, id));
  for (uint64_t id : cs.learners()) {
    incoming.push_back(Change(raftpb::ConfChangeAddLearnerNode, id));
  }
  for (uint64_t id : cs.learners_next()) {
    incoming.push_back(Change(raftpb::ConfChangeAddLearnerNode, id));
  }

  tracker::ProgressTracker tr = changer.tracker();
  auto adopt = [&tr](absl::StatusOr<ChangeResult> r) -> absl::Status {
    if (!r.ok()) return r.status();
    tr.config = std::move(r->config);
    tr.progress = std::move(r->progress);
    return absl::OkStatus();
  };
  if (outgoing.empty()) {
    for (const raftpb::ConfChangeSingle& cc : incoming) {
      absl::Status s = adopt(Changer(tr, changer.last_index()).Simple(ConfChanges(&cc, 1)));
      if (!s.ok()) return s;
    }
  } else {
    for (const raftpb::ConfChangeSingle& cc : outgoing) {
      absl::Status s = adopt(Changer(tr, changer.last_index()).Simple(ConfChanges(&cc, 1)));
      if (!s.ok()) return s;
    }
    absl::Status s = adopt(Changer(tr, changer.last_index()).EnterJoint(cs.auto_leave(), incoming));
    if (!s.ok()) return s;
  }
  return ChangeResult{std::move(tr.config), std::move(tr.progress)};
}

}  // namespace etcd::raft::confchange
