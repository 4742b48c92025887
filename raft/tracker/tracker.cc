#include "raft/tracker/tracker.h"

#include "absl/strings/str_cat.h"

namespace etcd::raft::tracker {
namespace {

// Each voter's Progress::match as its acknowledged index.
class MatchAckIndexer : public quorum::AckedIndexer {
 public:
  explicit MatchAckIndexer(const ProgressMap& progress) : progress_(progress) {}

  std::optional<quorum::Index> AckedIndex(uint64_t voter_id) const override {
    auto it = progress_.find(voter_id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match;
  }

 private:
  const ProgressMap& progress_;
};

}  // namespace

std::string Config::String() const {
  std::string out = absl::StrCat("voters=", voters.String());
  if (!learners.empty()) absl::StrAppend(&out, " learners=", learners.String());
  if (!learners_next.empty()) absl::StrAppend(&out, " learners_next=", learners_next.String());
  if (auto_leave) absl::StrAppend(&out, " autoleave");
  return out;
}

std::ostream& operator<<(std::ostream& os, const Config& c) { return os << c.String(); }

raftpb::ConfState ProgressTracker::ConfState() const {
  raftpb::ConfState cs;
  for (uint64_t id : config.voters.incoming()) cs.add_voters(id);
  for (uint64_t id : config.learners) cs.add_learners(id);
  for (uint64_t id : config.voters.outgoing()) cs.add_voters_outgoing(id);
  for (uint64_t id : config.learners_next) cs.add_learners_next(id);
  cs.set_auto_leave(config.auto_leave);
  return cs;
}

bool ProgressTracker::IsSingleton() const {
  return config.voters.incoming().size() == 1 && config.voters.outgoing().empty();
}

uint64_t ProgressTracker::Committed() const {
  return config.voters.CommittedIndex(MatchAckIndexer(progress));
}

bool ProgressTracker::QuorumActive() const {
  quorum::VoteMap active;
  for (const auto& [id, pr] : progress) {
    if (!pr.is_learner) active[id] = pr.recent_active;
  }
  return config.voters.GetVoteResult(active) == quorum::VoteResult::kVoteWon;
}

std::vector<uint64_t> ProgressTracker::VoterNodes() const { return config.voters.IDs().Slice(); }

std::vector<uint64_t> ProgressTracker::LearnerNodes() const { return config.learners.Slice(); }

VoteTally ProgressTracker::TallyVotes() const {
  VoteTally tally;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++tally.granted;
    } else {
      ++tally.rejected;
    }
  }
  tally.result = config.voters.GetVoteResult(votes);
  return tally;
}

}  // namespace etcd::raft::tracker
