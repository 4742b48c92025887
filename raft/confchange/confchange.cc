#include "raft/confchange/confchange.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::raft::confchange {
namespace {

using quorum::MajorityConfig;
using tracker::Config;
using tracker::Progress;
using tracker::ProgressMap;

bool Joint(const Config& cfg) { return !cfg.voters.outgoing().empty(); }

// Checks that `cfg` and `prs` fit together: every member has a Progress,
// learners_next only holds outgoing voters not yet marked learners, learners
// are disjoint from the voters and marked, and a non-joint config has no
// learners_next and no auto_leave. The empty config is allowed (bootstrap).
absl::Status CheckInvariants(const Config& cfg, const ProgressMap& prs) {
  for (const MajorityConfig* ids :
       {&cfg.voters.incoming(), &cfg.voters.outgoing(), &cfg.learners, &cfg.learners_next}) {
    for (uint64_t id : *ids) {
      if (prs.find(id) == prs.end())
        return absl::InternalError(absl::StrCat("no progress for ", id));
    }
  }
  for (uint64_t id : cfg.learners_next) {
    if (!cfg.voters.outgoing().Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in LearnersNext, but not Voters[1]"));
    }
    if (prs.at(id).is_learner) {
      return absl::InternalError(
          absl::StrCat(id, " is in LearnersNext, but is already marked as learner"));
    }
  }
  for (uint64_t id : cfg.learners) {
    if (cfg.voters.outgoing().Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in Learners and Voters[1]"));
    }
    if (cfg.voters.incoming().Contains(id)) {
      return absl::InternalError(absl::StrCat(id, " is in Learners and Voters[0]"));
    }
    if (!prs.at(id).is_learner) {
      return absl::InternalError(absl::StrCat(id, " is in Learners, but is not marked as learner"));
    }
  }
  if (!Joint(cfg)) {
    if (!cfg.learners_next.empty()) {
      return absl::InternalError("LearnersNext must be nil when not joint");
    }
    if (cfg.auto_leave) return absl::InternalError("AutoLeave must be false when not joint");
  }
  return absl::OkStatus();
}

absl::StatusOr<ChangeResult> CheckAndReturn(ChangeResult r) {
  if (absl::Status s = CheckInvariants(r.config, r.progress); !s.ok()) return s;
  return r;
}

// The number of IDs in exactly one of `a` and `b`.
size_t SymDiff(const MajorityConfig& a, const MajorityConfig& b) {
  size_t n = 0;
  for (uint64_t id : a) n += b.Contains(id) ? 0 : 1;
  for (uint64_t id : b) n += a.Contains(id) ? 0 : 1;
  return n;
}

// The mutations of one change list, applied to a copy of the tracker state.
class Applier {
 public:
  Applier(const tracker::ProgressTracker& tr, uint64_t last_index)
      : max_inflight_(tr.max_inflight), last_index_(last_index) {}

  // Changes to voters always go to the incoming config; the outgoing one is
  // empty or preserves the previous voters while joint.
  absl::Status Apply(ChangeResult& r, ConfChanges ccs) const {
    for (const raftpb::ConfChangeSingle& cc : ccs) {
      if (cc.node_id() == 0) continue;  // rejected by the application
      switch (cc.type()) {
        case raftpb::ConfChangeAddNode:
          MakeVoter(r, cc.node_id());
          break;
        case raftpb::ConfChangeAddLearnerNode:
          MakeLearner(r, cc.node_id());
          break;
        case raftpb::ConfChangeRemoveNode:
          Remove(r, cc.node_id());
          break;
        case raftpb::ConfChangeUpdateNode:
          break;
        default:
          return absl::InvalidArgumentError(
              absl::StrCat("unexpected conf type ", static_cast<int>(cc.type())));
      }
    }
    if (r.config.voters.incoming().empty()) return absl::InvalidArgumentError("removed all voters");
    return absl::OkStatus();
  }

 private:
  void MakeVoter(ChangeResult& r, uint64_t id) const {
    auto it = r.progress.find(id);
    if (it == r.progress.end()) {
      InitProgress(r, id, /*is_learner=*/false);
      return;
    }
    it->second.is_learner = false;
    r.config.learners.Erase(id);
    r.config.learners_next.Erase(id);
    r.config.voters.incoming().Insert(id);
  }

  // A node that is still a voter in the outgoing config cannot be a learner
  // at the same time; its demotion is staged in learners_next.
  void MakeLearner(ChangeResult& r, uint64_t id) const {
    auto it = r.progress.find(id);
    if (it == r.progress.end()) {
      InitProgress(r, id, /*is_learner=*/true);
      return;
    }
    if (it->second.is_learner) return;
    Progress saved = it->second;
    Remove(r, id);
    Progress& pr = r.progress[id] = std::move(saved);
    if (r.config.voters.outgoing().Contains(id)) {
      r.config.learners_next.Insert(id);
    } else {
      pr.is_learner = true;
      r.config.learners.Insert(id);
    }
  }

  // Removes `id` from the incoming config and the learners; its Progress
  // stays while it is an outgoing voter.
  void Remove(ChangeResult& r, uint64_t id) const {
    if (r.progress.find(id) == r.progress.end()) return;
    r.config.voters.incoming().Erase(id);
    r.config.learners.Erase(id);
    r.config.learners_next.Erase(id);
    if (!r.config.voters.outgoing().Contains(id)) r.progress.erase(id);
  }

  void InitProgress(ChangeResult& r, uint64_t id, bool is_learner) const {
    if (is_learner) {
      r.config.learners.Insert(id);
    } else {
      r.config.voters.incoming().Insert(id);
    }
    Progress pr;
    // Probing starts at the last index; a node that was just added is
    // active so that CheckQuorum does not count it against the leader
    // before it had a chance to respond.
    pr.next = last_index_;
    pr.match = 0;
    pr.inflights = tracker::Inflights(max_inflight_);
    pr.is_learner = is_learner;
    pr.recent_active = true;
    r.progress[id] = std::move(pr);
  }

  size_t max_inflight_;
  uint64_t last_index_;
};

absl::StatusOr<ChangeResult> CheckAndCopy(const tracker::ProgressTracker& tr) {
  return CheckAndReturn(ChangeResult{tr.config, tr.progress});
}

std::vector<raftpb::ConfChangeSingle> ToVector(const ConfChangesField& ccs) {
  return std::vector<raftpb::ConfChangeSingle>(ccs.begin(), ccs.end());
}

}  // namespace

absl::StatusOr<ChangeResult> Changer::EnterJoint(bool auto_leave, ConfChanges ccs) const {
  absl::StatusOr<ChangeResult> r = CheckAndCopy(*tracker_);
  if (!r.ok()) return r.status();
  if (Joint(r->config)) return absl::FailedPreconditionError("config is already joint");
  if (r->config.voters.incoming().empty()) {
    // Adding voters to an empty config is fine (bootstrap), entering a joint
    // state from it is not.
    return absl::FailedPreconditionError("can't make a zero-voter config joint");
  }
  r->config.voters.outgoing() = r->config.voters.incoming();
  if (absl::Status s = Applier(*tracker_, last_index_).Apply(*r, ccs); !s.ok()) return s;
  r->config.auto_leave = auto_leave;
  return CheckAndReturn(*std::move(r));
}

absl::StatusOr<ChangeResult> Changer::EnterJoint(bool auto_leave,
                                                 const ConfChangesField& ccs) const {
  return EnterJoint(auto_leave, ToVector(ccs));
}

absl::StatusOr<ChangeResult> Changer::LeaveJoint() const {
  absl::StatusOr<ChangeResult> r = CheckAndCopy(*tracker_);
  if (!r.ok()) return r.status();
  Config& cfg = r->config;
  if (!Joint(cfg)) return absl::FailedPreconditionError("can't leave a non-joint config");
  for (uint64_t id : cfg.learners_next) {
    cfg.learners.Insert(id);
    r->progress.at(id).is_learner = true;
  }
  cfg.learners_next.Clear();
  for (uint64_t id : cfg.voters.outgoing()) {
    if (!cfg.voters.incoming().Contains(id) && !cfg.learners.Contains(id)) {
      r->progress.erase(id);
    }
  }
  cfg.voters.outgoing().Clear();
  cfg.auto_leave = false;
  return CheckAndReturn(*std::move(r));
}

absl::StatusOr<ChangeResult> Changer::Simple(ConfChanges ccs) const {
  absl::StatusOr<ChangeResult> r = CheckAndCopy(*tracker_);
  if (!r.ok()) return r.status();
  if (Joint(r->config)) {
    return absl::FailedPreconditionError("can't apply simple config change in joint config");
  }
  if (absl::Status s = Applier(*tracker_, last_index_).Apply(*r, ccs); !s.ok()) return s;
  if (SymDiff(tracker_->config.voters.incoming(), r->config.voters.incoming()) > 1) {
    return absl::InvalidArgumentError("more than one voter changed without entering joint config");
  }
  return CheckAndReturn(*std::move(r));
}

absl::StatusOr<ChangeResult> Changer::Simple(const ConfChangesField& ccs) const {
  return Simple(ToVector(ccs));
}

std::string Describe(ConfChanges ccs) {
  std::string out;
  for (const raftpb::ConfChangeSingle& cc : ccs) {
    if (!out.empty()) out.push_back(' ');
    const std::string& name = raftpb::ConfChangeType_Name(cc.type());
    absl::StrAppend(&out, name.empty() ? absl::StrCat(static_cast<int>(cc.type())) : name, "(",
                    cc.node_id(), ")");
  }
  return out;
}

}  // namespace etcd::raft::confchange
