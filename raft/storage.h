// Where raft reads its persisted log from, and an in-memory implementation.
//
//   etcd::raft::MemoryStorage storage;
//   etcd::raft::Config config;
//   config.storage = &storage;            // borrowed: must outlive the node
//   ...
//   // for each Ready: storage.Append(rd.entries); storage.SetHardState(...)
//
// Raft reads through the `Storage` interface; the application writes (with
// MemoryStorage: Append, SetHardState, ApplySnapshot) after each Ready, and
// compacts (CreateSnapshot, Compact) when it likes.

#ifndef ETCD_RAFT_STORAGE_H_
#define ETCD_RAFT_STORAGE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "raft/errors.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft {

// What raft restores on start: the persisted HardState and configuration.
struct InitialStateResult {
  raftpb::HardState hard_state;
  raftpb::ConfState conf_state;
};

// Read access to the stable log. A method that fails makes the raft instance
// stop working (raft aborts, like etcd panics), except for the documented
// sentinel errors (errors.h), which raft handles.
//
// Thread-safety is up to the implementation; raft calls it only from the
// thread that drives the node.
class Storage {
 public:
  virtual ~Storage() = default;

  // The saved HardState and ConfState.
  virtual absl::StatusOr<InitialStateResult> InitialState() = 0;

  // Entries [lo, hi), at most `max_size` bytes in total (EntrySize) but at
  // least one entry if any is in range. ErrCompacted if lo is compacted,
  // ErrUnavailable if the log holds no entries at all in range.
  virtual absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                             uint64_t max_size) = 0;

  // The term of entry i, which must be in [FirstIndex()-1, LastIndex()]: the
  // term of the entry before FirstIndex is kept for matching even though the
  // entry itself is not. ErrCompacted below, ErrUnavailable above.
  virtual absl::StatusOr<uint64_t> Term(uint64_t i) = 0;

  // The index of the last entry.
  virtual absl::StatusOr<uint64_t> LastIndex() = 0;

  // The index of the first entry that may be available through Entries
  // (older entries were compacted into the latest snapshot).
  virtual absl::StatusOr<uint64_t> FirstIndex() = 0;

  // The most recent snapshot. ErrSnapshotTemporarilyUnavailable tells raft
  // that one is being made and to try again later.
  virtual absl::StatusOr<raftpb::Snapshot> Snapshot() = 0;
};

// A Storage backed by memory. Thread-safe: every method locks an internal
// mutex, so the application may write while raft reads.
class MemoryStorage : public Storage {
 public:
  MemoryStorage();

  absl::StatusOr<InitialStateResult> InitialState() override;
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size) override;
  absl::StatusOr<uint64_t> Term(uint64_t i) override;
  absl::StatusOr<uint64_t> LastIndex() override;
  absl::StatusOr<uint64_t> FirstIndex() override;
  absl::StatusOr<raftpb::Snapshot> Snapshot() override;

  // Saves the current HardState.
  absl::Status SetHardState(const raftpb::HardState& state);

  // Replaces the contents with `snapshot`: the log restarts after its index.
  // ErrSnapOutOfDate if it is not newer than the snapshot held.
  absl::Status ApplySnapshot(const raftpb::Snapshot& snapshot);

  // Makes a snapshot at index i (which must not be above LastIndex) with the
  // given configuration (kept unchanged when null) and application data, and
  // returns it; the log is not compacted (see Compact). ErrSnapOutOfDate if i
  // is not above the current snapshot's index. Aborts if i > LastIndex().
  absl::StatusOr<raftpb::Snapshot> CreateSnapshot(uint64_t i, const raftpb::ConfState* cs,
                                                  std::string data);

  // Discards the entries before `compact_index`, which must not be above
  // LastIndex (aborts otherwise). The entry at compact_index becomes the
  // dummy entry that remembers the term before the first available entry.
  // ErrCompacted if that index is already compacted.
  absl::Status Compact(uint64_t compact_index);

  // Appends entries, which must be contiguous with (or overlap) the log;
  // entries that overlap replace the existing ones from that index on, and
  // entries before FirstIndex are ignored. Aborts when they would leave a gap.
  absl::Status Append(absl::Span<const raftpb::Entry> entries);

 private:
  uint64_t FirstIndexLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  uint64_t LastIndexLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  raftpb::HardState hard_state_ ABSL_GUARDED_BY(mu_);
  raftpb::Snapshot snapshot_ ABSL_GUARDED_BY(mu_);
  // ents_[0] is a dummy entry holding the index and term of the last
  // compacted (or snapshotted) entry; real entries follow it. Never empty.
  // A deque: growing it never moves the entries already held.
  std::deque<raftpb::Entry> ents_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_STORAGE_H_
