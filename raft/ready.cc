#include "raft/ready.h"

namespace etcd::raft {

absl::string_view StateTypeName(StateType state) {
  switch (state) {
    case StateType::kFollower:
      return "StateFollower";
    case StateType::kCandidate:
      return "StateCandidate";
    case StateType::kLeader:
      return "StateLeader";
    case StateType::kPreCandidate:
      return "StatePreCandidate";
  }
  return "StateUnknown";
}

std::ostream& operator<<(std::ostream& os, StateType state) { return os << StateTypeName(state); }

bool Ready::ContainsUpdates() const {
  return soft_state.has_value() || !IsEmptyHardState(hard_state) || !IsEmptySnap(snapshot) ||
         !entries.empty() || !committed_entries.empty() || !messages.empty() ||
         !read_states.empty();
}

uint64_t Ready::AppliedCursor() const {
  if (!committed_entries.empty()) return committed_entries.back().index();
  return snapshot.metadata().index();
}

ReadySummary ReadySummary::Of(const Ready& rd) {
  ReadySummary s;
  s.applied_cursor = rd.AppliedCursor();
  // PayloadSize (util.h) is the data size; ready.h does not depend on util.h.
  for (const raftpb::Entry& e : rd.committed_entries) s.committed_payload += e.data().size();
  if (!rd.entries.empty()) {
    s.last_entry_index = rd.entries.back().index();
    s.last_entry_term = rd.entries.back().term();
  }
  s.snapshot_index = rd.snapshot.metadata().index();
  s.hard_state = rd.hard_state;
  return s;
}

bool IsHardStateEqual(const raftpb::HardState& a, const raftpb::HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

bool IsEmptyHardState(const raftpb::HardState& state) {
  return state.term() == 0 && state.vote() == 0 && state.commit() == 0;
}

bool IsEmptySnap(const raftpb::Snapshot& snapshot) { return snapshot.metadata().index() == 0; }

bool MustSync(const raftpb::HardState& state, const raftpb::HardState& prev, size_t num_entries) {
  return num_entries != 0 || state.vote() != prev.vote() || state.term() != prev.term();
}

}  // namespace etcd::raft
