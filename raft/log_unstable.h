// The unstable part of the raft log: entries and at most one snapshot that
// raft has accepted but the application has not yet persisted.
//
// Internal to the raft library (etcd's log_unstable.go). Entries at index
// i >= offset() are held here, entries[i - offset()]; a snapshot, if any, is
// older than all of them. Not thread-safe.
//
// With asynchronous storage writes (Config::async_storage_writes) several
// writes may be under way at once: entries below offset_in_progress() (and
// the snapshot, when snapshot_in_progress()) were already handed to the
// application for writing and are not handed out again. Invariant:
// offset() <= offset_in_progress() <= last index + 1. Synchronous use never
// moves offset_in_progress() past offset().

#ifndef ETCD_RAFT_LOG_UNSTABLE_H_
#define ETCD_RAFT_LOG_UNSTABLE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "raft/logger.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::raft {

class Unstable {
 public:
  // `logger` is borrowed and must outlive this object.
  explicit Unstable(Logger* logger) : logger_(logger) {}
  // For tests: a given state.
  Unstable(std::optional<raftpb::Snapshot> snapshot, std::vector<raftpb::Entry> entries,
           uint64_t offset, Logger* logger)
      : snapshot_(std::move(snapshot)),
        entries_(std::move(entries)),
        offset_(offset),
        offset_in_progress_(offset),
        logger_(logger) {}

  // The first index of the log if a snapshot is held (snapshot index + 1).
  std::optional<uint64_t> MaybeFirstIndex() const;
  // The last index held here (last entry, else the snapshot's index).
  std::optional<uint64_t> MaybeLastIndex() const;
  // The term of entry i if this part of the log knows it.
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;

  // The application persisted entries up to i (with term t): drop them. A
  // mismatching term means the entry was replaced since, and is ignored.
  void StableTo(uint64_t i, uint64_t t);
  // The application persisted the snapshot at index i: drop it.
  void StableSnapTo(uint64_t i);

  // Replaces everything with `snapshot`.
  void Restore(const raftpb::Snapshot& snapshot);

  // Appends `entries`, first truncating any held entries they overlap.
  void TruncateAndAppend(absl::Span<const raftpb::Entry> entries);
  // The same, taking the entries over (no copy in the common case).
  void TruncateAndAppendMoved(std::vector<raftpb::Entry>&& entries);

  // Entries and snapshot not yet handed out for writing.
  absl::Span<const raftpb::Entry> NextEntries() const;
  bool HasNextEntries() const { return offset_in_progress_ < offset_ + entries_.size(); }
  const raftpb::Snapshot* NextSnapshot() const {
    return snapshot_.has_value() && !snapshot_in_progress_ ? &*snapshot_ : nullptr;
  }
  // Everything held was handed out for writing.
  void AcceptInProgress();

  // Copies of entries [lo, hi); aborts when out of bounds.
  std::vector<raftpb::Entry> Slice(uint64_t lo, uint64_t hi) const;

  const std::optional<raftpb::Snapshot>& snapshot() const { return snapshot_; }
  const std::vector<raftpb::Entry>& entries() const { return entries_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset_in_progress_ = offset; }
  uint64_t offset_in_progress() const { return offset_in_progress_; }
  bool snapshot_in_progress() const { return snapshot_in_progress_; }

  // Aborts unless lo <= hi and [lo, hi) lies within the held entries.
  void MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

 private:
  std::optional<raftpb::Snapshot> snapshot_;
  std::vector<raftpb::Entry> entries_;
  uint64_t offset_ = 0;
  uint64_t offset_in_progress_ = 0;
  bool snapshot_in_progress_ = false;
  Logger* logger_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_LOG_UNSTABLE_H_
