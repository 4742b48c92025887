#include "raft/tracker/progress.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace etcd::raft::tracker {

const char* StateTypeString(StateType s) {
  switch (s) {
    case StateType::kProbe:
      return "StateProbe";
    case StateType::kReplicate:
      return "StateReplicate";
    case StateType::kSnapshot:
      return "StateSnapshot";
  }
  return "StateUnknown";
}

std::ostream& operator<<(std::ostream& os, StateType s) { return os << StateTypeString(s); }

void Progress::ResetState(StateType new_state) {
  probe_sent = false;
  pending_snapshot = 0;
  state = new_state;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  if (state == StateType::kSnapshot) {
    // The snapshot was delivered (or abandoned, with pending_snapshot 0):
    // probe from whichever is further.
    uint64_t snapshot = pending_snapshot;
    ResetState(StateType::kProbe);
    next = std::max(match + 1, snapshot + 1);
  } else {
    ResetState(StateType::kProbe);
    next = match + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(StateType::kReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(StateType::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    ProbeAcked();
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t last) {
  if (state == StateType::kReplicate) {
    if (rejected <= match) return false;  // stale
    next = match + 1;
    return true;
  }
  // Outside kReplicate only next-1 is ever probed; anything else is stale.
  if (next - 1 != rejected) return false;
  next = std::max<uint64_t>(std::min(rejected, last + 1), 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case StateType::kProbe:
      return probe_sent;
    case StateType::kReplicate:
      return inflights.Full();
    case StateType::kSnapshot:
      return true;
  }
  std::fprintf(stderr, "raft: unexpected progress state %d\n", static_cast<int>(state));
  std::abort();
}

std::string Progress::String() const {
  std::string out = absl::StrCat(StateTypeString(state), " match=", match, " next=", next);
  if (is_learner) absl::StrAppend(&out, " learner");
  if (IsPaused()) absl::StrAppend(&out, " paused");
  if (pending_snapshot > 0) absl::StrAppend(&out, " pendingSnap=", pending_snapshot);
  if (!recent_active) absl::StrAppend(&out, " inactive");
  if (size_t n = inflights.Count(); n > 0) {
    absl::StrAppend(&out, " inflight=", n);
    if (inflights.Full()) absl::StrAppend(&out, "[full]");
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Progress& pr) { return os << pr.String(); }

std::string ProgressMapString(const ProgressMap& m) {
  std::string out;
  for (const auto& [id, pr] : m) absl::StrAppend(&out, id, ": ", pr.String(), "\n");
  return out;
}

}  // namespace etcd::raft::tracker
