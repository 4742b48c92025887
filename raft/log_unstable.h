// The unstable part of the raft log: entries and at most one snapshot that
// raft has accepted but the application has not yet persisted.
//
// Internal to the raft library (etcd's log_unstable.go). Entries at index
// i >= offset() are held here, entries[i - offset()]; a snapshot, if any, is
// older than all of them. Not thread-safe.

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

  // Copies of entries [lo, hi); aborts when out of bounds.
  std::vector<raftpb::Entry> Slice(uint64_t lo, uint64_t hi) const;

  const std::optional<raftpb::Snapshot>& snapshot() const { return snapshot_; }
  const std::vector<raftpb::Entry>& entries() const { return entries_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }

  // Aborts unless lo <= hi and [lo, hi) lies within the held entries.
  void MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

 private:
  std::optional<raftpb::Snapshot> snapshot_;
  std::vector<raftpb::Entry> entries_;
  uint64_t offset_ = 0;
  Logger* logger_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_LOG_UNSTABLE_H_
