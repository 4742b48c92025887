// A leader's view of one follower's replication progress (etcd's
// tracker.Progress), and the map of them by node ID.
//
//   tracker::Progress pr;
//   pr.next = last_index + 1;
//   pr.inflights = tracker::Inflights(max_inflight);
//   ...
//   if (pr.MaybeUpdate(resp.index())) {        // MsgAppResp accepted
//     if (pr.state == tracker::StateType::kProbe) pr.BecomeReplicate();
//     pr.inflights.FreeLE(resp.index());
//   }
//   std::cout << pr.String();                  // "StateReplicate match=5 next=6"
//
// Progress is a single-threaded value type; its transitions are driven by the
// raft state machine that owns it.

#ifndef ETCD_RAFT_TRACKER_PROGRESS_H_
#define ETCD_RAFT_TRACKER_PROGRESS_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "raft/tracker/inflights.h"

namespace etcd::raft::tracker {

// How the leader talks to a follower.
enum class StateType : uint8_t {
  // The follower's last index is unknown: send at most one append per
  // heartbeat interval and narrow down where the logs agree.
  kProbe = 0,
  // Steady state: append optimistically, pipelining up to the Inflights
  // window.
  kReplicate = 1,
  // The follower needs entries the leader no longer has: a snapshot is in
  // flight and appends are paused until it is reported.
  kSnapshot = 2,
};

// "StateProbe", "StateReplicate", "StateSnapshot" (etcd's names).
const char* StateTypeString(StateType s);
std::ostream& operator<<(std::ostream& os, StateType s);

// A follower's progress as seen by the leader. A struct, as in etcd: the raft
// state machine reads and writes the fields directly; the methods implement
// the transitions that keep them consistent.
struct Progress {
  // The highest index known to be replicated on the follower.
  uint64_t match = 0;
  // The index of the next entry to send.
  uint64_t next = 0;

  StateType state = StateType::kProbe;

  // In kSnapshot: the index of the snapshot in flight; appends stay paused
  // until it is reported (successful or failed).
  uint64_t pending_snapshot = 0;

  // Whether the follower was heard from recently; any message from it sets
  // this, and CheckQuorum clears it once per election timeout.
  bool recent_active = false;

  // In kProbe: an append was sent and no answer arrived yet; further appends
  // wait until ProbeAcked() (or a heartbeat response) clears it.
  bool probe_sent = false;

  // In kReplicate: the appends in flight (each by its last index). Must be
  // sized (Inflights(max_inflight)) before use; a zero-size window is always
  // full.
  Inflights inflights;

  // Whether the follower is a learner (receives the log but does not vote).
  bool is_learner = false;

  // Moves to `state`, clearing probe_sent, pending_snapshot and inflights.
  void ResetState(StateType state);

  // The follower accepted an append: stop waiting before sending the next.
  void ProbeAcked() { probe_sent = false; }

  // To kProbe; next becomes match+1, or past the pending snapshot if that was
  // further (leaving kSnapshot after the snapshot was applied).
  void BecomeProbe();

  // To kReplicate; next becomes match+1.
  void BecomeReplicate();

  // To kSnapshot with the snapshot at `snapshot_index` in flight.
  void BecomeSnapshot(uint64_t snapshot_index);

  // A MsgAppResp acknowledged index `n`. Raises match (returning true) and
  // next as needed; returns false when `n` is stale (not above match).
  bool MaybeUpdate(uint64_t n);

  // Appends up to and including `n` are in flight: next becomes n+1.
  void OptimisticUpdate(uint64_t n) { next = n + 1; }

  // The follower rejected an append at index `rejected`; its last index is
  // `last`. Returns false, changing nothing, if the rejection is stale
  // (kReplicate: rejected <= match; otherwise: rejected != next-1).
  // Otherwise lowers next (to match+1 in kReplicate, else to
  // min(rejected, last+1) but at least 1), clears probe_sent and returns true.
  bool MaybeDecrTo(uint64_t rejected, uint64_t last);

  // Whether sending appends is throttled: kProbe with a probe outstanding,
  // kReplicate with a full window, or kSnapshot.
  bool IsPaused() const;

  // etcd's format, e.g.
  // "StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive
  // inflight=1[full]"; the optional parts appear only when they apply.
  std::string String() const;

  // Field-wise equality (the inflight window included).
  friend bool operator==(const Progress& a, const Progress& b) {
    return a.match == b.match && a.next == b.next && a.state == b.state &&
           a.pending_snapshot == b.pending_snapshot && a.recent_active == b.recent_active &&
           a.probe_sent == b.probe_sent && a.inflights == b.inflights &&
           a.is_learner == b.is_learner;
  }
  friend bool operator!=(const Progress& a, const Progress& b) { return !(a == b); }
};

std::ostream& operator<<(std::ostream& os, const Progress& pr);

// The tracked followers (and the leader itself) by node ID, iterated in
// ascending ID order.
using ProgressMap = std::map<uint64_t, Progress>;

// One line "id: progress" per entry, in ID order, each ending in '\n'.
std::string ProgressMapString(const ProgressMap& m);

}  // namespace etcd::raft::tracker

#endif  // ETCD_RAFT_TRACKER_PROGRESS_H_
