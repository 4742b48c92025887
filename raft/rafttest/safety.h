// Checks of the Raft paper's safety properties (Figure 3 of
// https://raft.github.io/raft.pdf) over what a cluster shows from outside:
// each node's role, term, commit index and log, and the entries its
// application applies.
//
//   rafttest::SafetyChecker checker;
//   for (;;) {
//     ... one step of a cluster (see sim.h) ...
//     absl::Status s = checker.CheckAll(sim.Views());
//     if (!s.ok()) FAIL() << s;   // "election safety: term 3 has two leaders, 1 and 2"
//   }
//
// One check per claim:
//   - election safety: at most one leader per term;
//   - leader append-only: a leader never overwrites or deletes entries of
//     its log (within its term);
//   - log matching: if two logs have an entry with the same index and term,
//     they are identical up to that index;
//   - leader completeness: an entry committed by term T is in the log of
//     every leader of a term >= T;
//   - state machine safety: no two nodes apply different entries at the same
//     index (checked at each apply, with a digest of the applied state so
//     that gaps and restores from snapshots are covered too).
// Election safety, leader append-only and leader completeness remember what
// earlier calls saw, so a checker must see a cluster's views at every step
// of its history. A failure is a FailedPrecondition status whose message
// starts with the property's name.
//
// Not thread-safe. Test-only.

#ifndef ETCD_RAFT_RAFTTEST_SAFETY_H_
#define ETCD_RAFT_RAFTTEST_SAFETY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/ready.h"

namespace etcd::raft::rafttest {

// A digest of an entry's term, type and data (FNV-1a based, stable across
// runs): equal entries have equal digests.
uint64_t EntryDigest(const raftpb::Entry& entry);

// The digest of a replicated state machine that was in state `state` after
// it applies `entry` (a hash chain over index and digest).
uint64_t NextStateDigest(uint64_t state, uint64_t index, uint64_t entry_digest);

// What the checks need of an entry.
struct EntryView {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t digest = 0;

  friend bool operator==(const EntryView& a, const EntryView& b) {
    return a.index == b.index && a.term == b.term && a.digest == b.digest;
  }
  friend bool operator!=(const EntryView& a, const EntryView& b) { return !(a == b); }
};

EntryView ViewOf(const raftpb::Entry& entry);

// One node at one instant.
struct NodeView {
  uint64_t id = 0;
  // A node that is down shows its durable state: a follower with the term
  // and commit index of its stored HardState and its stored log.
  bool up = true;
  StateType state = StateType::kFollower;
  uint64_t term = 0;
  uint64_t committed = 0;
  // The log holds entries snapshot_index+1 .. LastIndex(); the ones before
  // were compacted into a snapshot, the last of which had snapshot_term.
  uint64_t snapshot_index = 0;
  uint64_t snapshot_term = 0;
  // entries[k].index == snapshot_index + 1 + k.
  std::vector<EntryView> entries;

  uint64_t LastIndex() const { return snapshot_index + entries.size(); }
  // The entry at `index`, or null if it is not in the log.
  const EntryView* EntryAt(uint64_t index) const;
  // The term at `index` for index in [snapshot_index, LastIndex()].
  std::optional<uint64_t> TermAt(uint64_t index) const;
  // "1 (leader, term 3, commit 5, log 2/[3:2 4:3 5:3])".
  std::string DebugString() const;
};

class SafetyChecker {
 public:
  // All view checks below, in that order; the first violation.
  absl::Status CheckAll(absl::Span<const NodeView> nodes);

  // At most one leader per term, over every view seen so far.
  absl::Status CheckElectionSafety(absl::Span<const NodeView> nodes);

  // Each leader's log extends the log it had when last seen as leader of the
  // same term: no entry was changed or removed (compaction aside).
  absl::Status CheckLeaderAppendOnly(absl::Span<const NodeView> nodes);

  // Any two logs that hold an entry with the same index and term are
  // identical up to it (on the indexes both still hold). Stateless.
  absl::Status CheckLogMatching(absl::Span<const NodeView> nodes) const;

  // Records the committed prefix of every log (and fails if a node's
  // committed entry differs from one recorded earlier, or its commit index
  // passes its log), then checks that every leader holds every entry
  // committed by its term.
  absl::Status CheckLeaderCompleteness(absl::Span<const NodeView> nodes);

  // State machine safety, for each entry a node applies: `state` is the
  // node's state digest after applying it (NextStateDigest). Fails if
  // another node applied a different entry at that index or reached another
  // state there.
  absl::Status CheckApply(uint64_t node, const EntryView& entry, uint64_t state);
  // A node restored its state machine from a snapshot at `index` whose state
  // digest is `state`; fails if it differs from what nodes that applied up
  // to `index` reached.
  absl::Status CheckRestore(uint64_t node, uint64_t index, uint64_t state);

  // The number of distinct committed indexes recorded.
  size_t committed_count() const { return committed_.size(); }

 private:
  struct LeaderLog {
    uint64_t term = 0;
    uint64_t snapshot_index = 0;
    std::vector<EntryView> entries;
  };
  struct CommittedEntry {
    EntryView entry;
    // The lowest term a node had when it was seen holding it committed.
    uint64_t term = 0;
    uint64_t node = 0;
  };
  struct AppliedEntry {
    bool has_entry = false;  // false if only a snapshot's state is known
    EntryView entry;
    uint64_t state = 0;
    uint64_t node = 0;
  };

  std::map<uint64_t, uint64_t> leader_of_term_;
  std::map<uint64_t, LeaderLog> leader_logs_;           // by node ID
  std::map<uint64_t, CommittedEntry> committed_;        // by index
  std::unordered_map<uint64_t, AppliedEntry> applied_;  // by index
};

}  // namespace etcd::raft::rafttest

#endif  // ETCD_RAFT_RAFTTEST_SAFETY_H_
