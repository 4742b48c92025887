// The raft log: the stable part in Storage followed by the unstable part
// held in memory until the application persists it.
//
// Internal to the raft library (etcd's log.go). Indexes: storage holds
// [FirstIndex, unstable.offset), unstable holds the rest up to LastIndex;
// applied <= committed <= LastIndex. Not thread-safe.

#ifndef ETCD_RAFT_LOG_H_
#define ETCD_RAFT_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "raft/log_unstable.h"
#include "raft/logger.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/storage.h"
#include "raft/util.h"

namespace etcd::raft {

class RaftLog {
 public:
  // `storage` and `logger` are borrowed and must outlive the log.
  // `max_next_ents_size` caps the bytes NextEnts returns at once. Aborts if
  // the storage cannot report its first and last index.
  RaftLog(Storage* storage, Logger* logger, uint64_t max_next_ents_size = kNoLimit);

  // "committed=1, applied=1, unstable.offset=2, len(unstable.Entries)=0".
  std::string String() const;

  // Appends `entries` (which follow the entry at `index` with `log_term`) if
  // that entry matches, truncating conflicting entries, and commits up to
  // min(committed, last new index). Returns the last new index, or nullopt
  // when the entry at `index` does not match.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                      absl::Span<const raftpb::Entry> entries);
  std::optional<uint64_t> MaybeAppend(
      uint64_t index, uint64_t log_term, uint64_t committed,
      const google::protobuf::RepeatedPtrField<raftpb::Entry>& entries);

  // Appends entries (truncating the unstable part as needed); returns the
  // last index. Aborts if they would overwrite committed entries.
  uint64_t Append(absl::Span<const raftpb::Entry> entries);
  // The same, taking the entries over.
  uint64_t AppendMoved(std::vector<raftpb::Entry>&& entries);

  // The index of the first of `entries` that is new or conflicts with the
  // log (same index, other term), or 0 if all are already present.
  uint64_t FindConflict(absl::Span<const raftpb::Entry> entries) const;
  uint64_t FindConflict(const google::protobuf::RepeatedPtrField<raftpb::Entry>& entries) const;

  // Entries not yet persisted.
  const std::vector<raftpb::Entry>& UnstableEntries() const { return unstable_.entries(); }

  // Committed entries not yet applied, up to max_next_ents_size bytes.
  std::vector<raftpb::Entry> NextEnts() const;
  // Whether NextEnts would return anything (cheap).
  bool HasNextEnts() const;

  // --- For asynchronous storage writes (etcd-io/raft 3.6), where several
  // Readies may be out at once. ---
  // Unstable entries and snapshot not yet handed out for writing.
  absl::Span<const raftpb::Entry> NextUnstableEnts() const { return unstable_.NextEntries(); }
  bool HasNextUnstableEnts() const { return unstable_.HasNextEntries(); }
  const raftpb::Snapshot* NextUnstableSnapshot() const { return unstable_.NextSnapshot(); }
  // Whether any entries are unstable, handed out or not.
  bool HasNextOrInProgressUnstableEnts() const { return !unstable_.entries().empty(); }
  // Marks the unstable entries and snapshot as handed out.
  void AcceptUnstable() { unstable_.AcceptInProgress(); }
  // Committed entries above `applying` (the highest index handed out for
  // applying), up to max_next_ents_size bytes; with allow_unstable false
  // only entries already persisted. None while a snapshot is unstable.
  std::vector<raftpb::Entry> NextCommittedEnts(bool allow_unstable) const;
  bool HasNextCommittedEnts(bool allow_unstable) const;
  // Entries up to i were handed out for applying.
  void AcceptApplying(uint64_t i);
  uint64_t applying() const { return applying_; }

  // The unstable snapshot if any, else the storage's.
  absl::StatusOr<raftpb::Snapshot> Snapshot() const;

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  uint64_t LastTerm() const;

  // Raises the commit index (never lowers it); aborts beyond LastIndex.
  void CommitTo(uint64_t to_commit);
  // Records that entries up to i were applied (and so handed out); aborts if
  // i is not within [applied, committed]. 0 is ignored.
  void AppliedTo(uint64_t i);
  void StableTo(uint64_t i, uint64_t t) { unstable_.StableTo(i, t); }
  void StableSnapTo(uint64_t i) { unstable_.StableSnapTo(i); }

  // The term of entry i: 0 when i is outside [FirstIndex-1, LastIndex];
  // ErrCompacted or ErrUnavailable from storage are returned.
  absl::StatusOr<uint64_t> Term(uint64_t i) const;

  // Entries from i to the end, limited to max_size bytes.
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t i, uint64_t max_size) const;
  // Every entry of the log.
  std::vector<raftpb::Entry> AllEntries() const;

  // Whether a log ending at (lasti, term) is at least as up to date as ours.
  bool IsUpToDate(uint64_t lasti, uint64_t term) const;
  // Whether entry i has term `term`.
  bool MatchTerm(uint64_t i, uint64_t term) const;
  // Commits up to max_index if that entry is from `term`; returns whether the
  // commit index moved.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  // Resets the log to the snapshot (committed becomes its index).
  void Restore(const raftpb::Snapshot& snapshot);

  // Entries [lo, hi) limited to max_size bytes; ErrCompacted if lo is
  // compacted. Aborts if out of bounds.
  absl::StatusOr<std::vector<raftpb::Entry>> Slice(uint64_t lo, uint64_t hi,
                                                   uint64_t max_size) const;

  // The term, or 0 if the error is ErrCompacted; aborts on other errors.
  uint64_t ZeroTermOnErrCompacted(const absl::StatusOr<uint64_t>& term) const;

  // ErrCompacted if lo is compacted; aborts if [lo, hi) is otherwise not
  // within the log.
  absl::Status MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  // Direct access for the state machine (loading a HardState) and tests.
  void set_committed(uint64_t committed) { committed_ = committed; }
  void set_applied(uint64_t applied) { applied_ = applying_ = applied; }
  const Unstable& unstable() const { return unstable_; }
  Unstable& mutable_unstable() { return unstable_; }
  Storage* storage() const { return storage_; }

 private:
  template <typename Range>
  uint64_t FindConflictIn(const Range& entries) const;
  template <typename Range>
  std::optional<uint64_t> MaybeAppendFrom(uint64_t index, uint64_t log_term, uint64_t committed,
                                          const Range& entries);

  Storage* storage_;
  Unstable unstable_;
  // The highest index known to be committed on a quorum.
  uint64_t committed_ = 0;
  // The highest index the application has applied; applied <= committed.
  uint64_t applied_ = 0;
  // The highest index handed out for applying (asynchronous writes);
  // applied <= applying <= committed.
  uint64_t applying_ = 0;
  // The highest index committed entries may be handed out up to.
  uint64_t MaxAppliableIndex(bool allow_unstable) const;
  Logger* logger_;
  uint64_t max_next_ents_size_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_LOG_H_
