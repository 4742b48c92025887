// The active configuration of a raft group and what the leader knows about
// each member (etcd's tracker.ProgressTracker).
//
//   tracker::ProgressTracker prs(/*max_inflight=*/256);
//   // Usually filled in by confchange::Restore or a confchange::Changer.
//   prs.config.voters.incoming() = quorum::MajorityConfig{1, 2, 3};
//   for (uint64_t id : {1, 2, 3}) prs.progress[id].inflights = tracker::Inflights(256);
//   prs.progress[2].match = 7;
//   prs.progress[3].match = 5;
//   uint64_t commit = prs.Committed();      // 5: acknowledged by 2 of 3 voters
//   prs.RecordVote(1, true);
//   prs.RecordVote(2, true);
//   prs.TallyVotes().result;                // quorum::VoteResult::kVoteWon
//
// Single-threaded value types: owned and mutated by the raft state machine.

#ifndef ETCD_RAFT_TRACKER_TRACKER_H_
#define ETCD_RAFT_TRACKER_TRACKER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "raft/quorum/quorum.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/tracker/progress.h"

namespace etcd::raft::tracker {

// The membership of a raft group: who votes and who learns.
struct Config {
  // The voters: incoming() always, outgoing() too while in a joint
  // configuration (a decision then needs a majority of each).
  quorum::JointConfig voters;

  // True while joint if raft should leave the joint configuration by itself
  // (proposing the empty ConfChangeV2) as soon as it can; false means the
  // application leaves it explicitly. Always false when not joint.
  bool auto_leave = false;

  // The learners (a plain set of IDs; MajorityConfig for its sorted-set
  // operations only). Invariant: disjoint from both halves of `voters`, so
  // that a node's role never depends on which half one looks at.
  quorum::MajorityConfig learners;

  // Voters being demoted to learners by the current joint configuration.
  // Entering the joint state cannot make such a node a learner yet (it is
  // still a voter in outgoing(), and the invariant above forbids both), so it
  // waits here and moves to `learners` when the joint state is left. Only
  // non-empty while joint; every member is in outgoing().
  quorum::MajorityConfig learners_next;

  // etcd's format: "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3)
  // autoleave"; the parts after voters appear only when non-empty/true.
  std::string String() const;

  friend bool operator==(const Config& a, const Config& b) {
    return a.voters == b.voters && a.auto_leave == b.auto_leave && a.learners == b.learners &&
           a.learners_next == b.learners_next;
  }
  friend bool operator!=(const Config& a, const Config& b) { return !(a == b); }
};

std::ostream& operator<<(std::ostream& os, const Config& c);

// Votes counted so far in an election.
struct VoteTally {
  int granted = 0;
  int rejected = 0;
  quorum::VoteResult result = quorum::VoteResult::kVotePending;
};

// The configuration plus, per member, its Progress, and the votes of the
// current election. A struct, as in etcd: the raft state machine reads and
// replaces the fields directly (e.g. after a configuration change).
struct ProgressTracker {
  // An empty configuration; new followers get windows of `max_inflight`.
  explicit ProgressTracker(size_t max_inflight) : max_inflight(max_inflight) {}

  Config config;
  // Every voter and learner of `config` has an entry, and nothing else.
  ProgressMap progress;
  // Votes received in the current election, by voter ID.
  quorum::VoteMap votes;
  // The Inflights size for new Progress entries (Config.MaxInflightMsgs).
  size_t max_inflight = 0;

  // The configuration as a ConfState (IDs ascending; auto_leave always set).
  raftpb::ConfState ConfState() const;

  // Whether the only voter is a single node (and not joint).
  bool IsSingleton() const;

  // The highest index acknowledged (Progress::match) by a quorum of voters.
  uint64_t Committed() const;

  // Calls f(id, Progress&) for every tracked node, in ascending ID order.
  template <typename F>
  void Visit(F&& f) {
    for (auto& [id, pr] : progress) f(id, pr);
  }
  template <typename F>
  void Visit(F&& f) const {
    for (const auto& [id, pr] : progress) f(id, pr);
  }

  // Whether the voters that were recently active (Progress::recent_active)
  // form a quorum.
  bool QuorumActive() const;

  // All voters (both halves), ascending.
  std::vector<uint64_t> VoterNodes() const;

  // The learners, ascending.
  std::vector<uint64_t> LearnerNodes() const;

  // Forgets all votes, for a new election.
  void ResetVotes() { votes.clear(); }

  // Records `id`'s vote (granted or not); later votes from the same node are
  // ignored.
  void RecordVote(uint64_t id, bool granted) { votes.try_emplace(id, granted); }

  // The votes granted and rejected by current voters (informational), and
  // the outcome of the election under the current configuration.
  VoteTally TallyVotes() const;
};

}  // namespace etcd::raft::tracker

#endif  // ETCD_RAFT_TRACKER_TRACKER_H_
