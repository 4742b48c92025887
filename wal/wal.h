// The raft write-ahead log, in etcd's on-disk format: a directory of
// 64 MB segment files "<seq>-<index>.wal" holding CRC-chained, 8-byte-aligned
// records (metadata, entries, hard states, snapshot markers). A data
// directory written by etcd can be read with this library and vice versa.
//
// A new member creates the log, then appends for every raft Ready:
//
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::wal::WAL> w,
//                    etcd::wal::WAL::Create(wal_dir, metadata));
//   RETURN_IF_ERROR(w->Save(ready.hard_state, ready.entries));  // durable on return
//
// A restarting member opens it at its newest snapshot and reads it back
// before appending again; a torn tail left by a crash is repaired once:
//
//   walpb::Snapshot at;  // index and term of the snapshot loaded, or zeros
//   std::unique_ptr<etcd::wal::WAL> w;
//   absl::StatusOr<etcd::wal::ReadResult> read;
//   for (int attempt = 0;; ++attempt) {
//     ASSIGN_OR_RETURN(w, etcd::wal::WAL::Open(wal_dir, at));
//     read = w->ReadAll();
//     if (read.ok() || attempt > 0 || !etcd::wal::IsUnexpectedEOF(read.status())) break;
//     w.reset();
//     RETURN_IF_ERROR(etcd::wal::Repair(wal_dir));
//   }
//   RETURN_IF_ERROR(read.status());
//   // read->metadata, read->state, read->entries (those after `at`); w appends
//
// Guarantees. When Save returns OK for a call that includes entries or
// changes the term or vote, those records are on disk (one fdatasync per
// call) and survive a crash; a Save of only a new commit index is written
// but not synced, as etcd does (raft can recover the commit index). Records
// after the last sync may be lost or torn by a crash; reading back then
// yields a prefix of what was written, never a corrupted record: damage that
// a torn write can explain ends the log at the last whole record (repairable),
// anything else is an error naming the file and offset.
//
// Modes: a created WAL appends; an opened WAL reads first (ReadAll) and then
// appends; a WAL opened with OpenForRead only reads and takes no locks. An
// appending WAL holds exclusive locks on the segments it may still need, so
// a second process cannot open it for writing and a purger leaves them
// alone; ReleaseLockTo lets go of segments a snapshot made unnecessary.
//
// A failed write or sync puts the WAL in a failed state: that error is
// returned by every later Save, SaveSnapshot and Sync, because after a failed
// fdatasync the kernel may have dropped the data and retrying it could
// report a success that never happened.
//
// Thread safety: a WAL is thread-safe; calls are serialized by an internal
// mutex. The free functions are thread-safe but must not run on a directory
// a WAL in this process is appending to, except Verify,
// ValidSnapshotEntries and OpenForRead, which only read.

#ifndef ETCD_WAL_WAL_H_
#define ETCD_WAL_WAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "raft/raftpb/raft.pb.h"
#include "wal/errors.h"
#include "wal/file_system.h"
#include "wal/walpb/record.pb.h"

namespace etcd::wal {

namespace internal {
class Decoder;
class Encoder;
class FilePipeline;
}  // namespace internal

// etcd's segment size: each segment is preallocated to this many bytes and
// the log moves to a new segment once a Save takes it past this size.
inline constexpr int64_t kSegmentSizeBytes = 64 * 1000 * 1000;

struct Options {
  // Where the files live; FileSystem::Default() (the disk) when null.
  // Borrowed: must outlive the WAL.
  FileSystem* fs = nullptr;
  // Size of new segments (tests make it small to exercise cutting).
  int64_t segment_size_bytes = kSegmentSizeBytes;
  // Skip every fdatasync (etcd's --unsafe-no-fsync): a crash can lose
  // anything. For tests and benchmarks of everything but the disk.
  bool unsafe_no_fsync = false;
};

// What ReadAll returns.
struct ReadResult {
  // The metadata given to Create (etcd stores etcdserverpb.Metadata).
  std::string metadata;
  // The last hard state saved; all zeros if none.
  raftpb::HardState state;
  // The entries after the snapshot the WAL was opened at, in index order,
  // with entries that a later term overwrote already replaced.
  std::vector<raftpb::Entry> entries;
  // Whether a snapshot record matching the one given to Open was found
  // (always true when ReadAll succeeds with SnapshotCheck::kRequire).
  bool snapshot_found = false;
};

// What ReadAll does when no snapshot record matches the one given to Open.
enum class SnapshotCheck {
  // Fail with a SnapshotNotFound error (etcd's behaviour).
  kRequire,
  // Return what was read, with ReadResult::snapshot_found false (what
  // etcd-dump-logs does with --start-index).
  kAllowMissing,
};

class WAL {
 public:
  // Creates a log in `dir`, which must not hold one already (AlreadyExists).
  // The first segment is written with `metadata` and an empty snapshot
  // record in "<dir>.tmp", synced, and renamed to `dir`, so a crash leaves
  // either no log or a complete one. The result is ready to append.
  static absl::StatusOr<std::unique_ptr<WAL>> Create(const std::string& dir,
                                                     absl::string_view metadata,
                                                     const Options& options = {});

  // Opens the log in `dir` for appending, positioned to read the records
  // from the segment that holds `snapshot.index()` on. `snapshot` should be
  // one SaveSnapshot recorded (or zeros for a log without snapshots), else
  // ReadAll fails. Locks every segment it opens; fails with a status for
  // which fileutil::IsLocked is true if another WAL holds one. FileNotFound
  // when there are no segments, none old enough, or a gap in their sequence.
  static absl::StatusOr<std::unique_ptr<WAL>> Open(const std::string& dir,
                                                   const walpb::Snapshot& snapshot,
                                                   const Options& options = {});

  // Like Open, but only for reading: takes no locks, tolerates a torn tail
  // (ReadAll returns what precedes it), and cannot append.
  static absl::StatusOr<std::unique_ptr<WAL>> OpenForRead(const std::string& dir,
                                                          const walpb::Snapshot& snapshot,
                                                          const Options& options = {});

  WAL(const WAL&) = delete;
  WAL& operator=(const WAL&) = delete;
  // Close(), ignoring its error.
  ~WAL();

  // Reads every record after the open position. Callable once, on an
  // opened WAL (DecoderNotFound otherwise). Checks the CRC chain and that
  // the metadata of every segment agrees, and finds the snapshot record.
  // In append mode the whole log must read cleanly (a torn tail is an
  // UnexpectedEOF error; see Repair); the space after the last record is
  // then zeroed, so stale bytes from a torn write can never be mistaken for
  // records, and the WAL is ready to append. After an error the WAL can only
  // be closed.
  absl::StatusOr<ReadResult> ReadAll(SnapshotCheck check = SnapshotCheck::kRequire);

  // Appends `entries` (in order, each with the next index or one that
  // overwrites earlier ones) and then `state` unless it is all zeros. Syncs
  // when raft requires it (entries, or a new term or vote); starts a new
  // segment when this one has reached the segment size. A call with
  // neither entries nor a state does nothing.
  absl::Status Save(const raftpb::HardState& state, absl::Span<const raftpb::Entry> entries);

  // Records that a snapshot at `snapshot` exists, and syncs. Write it after
  // the snapshot file itself is durable.
  absl::Status SaveSnapshot(const walpb::Snapshot& snapshot);

  // Closes the current segment (truncated to its records) and continues in
  // a new one. Save does this by itself at the segment size.
  absl::Status Cut();

  // Writes buffered records and syncs (unless unsafe_no_fsync).
  absl::Status Sync();

  // Releases the locks of segments holding only entries below `index`,
  // keeping the newest segment that starts at or below it (it may hold
  // `index` itself). With segments starting at 1, 2, 3, 4, 5, 6,
  // ReleaseLockTo(4) releases 1 and 2 and keeps 3.
  absl::Status ReleaseLockTo(uint64_t index);

  // Syncs, releases every lock and stops the background preallocation.
  // Later calls other than Close fail with BadState. Idempotent.
  absl::Status Close();

  const std::string& dir() const { return dir_; }

 private:
  struct LockedSegment {
    std::string name;  // file name in dir_
    std::unique_ptr<File> file;
  };

  WAL(FileSystem* fs, std::string dir, const Options& options, bool read_only);

  static absl::StatusOr<std::unique_ptr<WAL>> OpenAt(const std::string& dir,
                                                     const walpb::Snapshot& snapshot,
                                                     const Options& options, bool write);

  absl::Status CheckWritable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns `status` after entering the failed state if it is an error.
  absl::Status Fail(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SaveEntry(const raftpb::Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SaveState(const raftpb::HardState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CutLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  File* tail() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t seq() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FileSystem* const fs_;
  const std::string dir_;
  const Options options_;
  // Opened with OpenForRead: never appends, holds no locks.
  const bool read_only_;

  mutable absl::Mutex mu_;
  // Metadata written at the head of every segment.
  std::string metadata_ ABSL_GUARDED_BY(mu_);
  // The last non-empty hard state saved (or read); written at the head of
  // every new segment.
  raftpb::HardState state_ ABSL_GUARDED_BY(mu_);
  // Where reading starts (open mode, until ReadAll).
  walpb::Snapshot start_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<internal::Decoder> decoder_ ABSL_GUARDED_BY(mu_);
  // Files the decoder reads in read-only mode (no locks).
  std::vector<std::unique_ptr<File>> read_files_ ABSL_GUARDED_BY(mu_);
  // Index of the last entry saved (or of a newer snapshot).
  uint64_t enti_ ABSL_GUARDED_BY(mu_) = 0;
  // Appends to the tail segment; null until the WAL may append.
  std::unique_ptr<internal::Encoder> encoder_ ABSL_GUARDED_BY(mu_);
  // The segments this WAL holds locked, oldest first; the last is the tail.
  std::vector<LockedSegment> locks_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<internal::FilePipeline> pipeline_ ABSL_GUARDED_BY(mu_);
  // Reused to marshal entries.
  std::string entry_scratch_ ABSL_GUARDED_BY(mu_);
  // The first write or sync error; sticky.
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Whether `dir` holds any ".wal" file (well-named or not, as etcd checks).
bool Exist(const std::string& dir, FileSystem* fs = nullptr);

// Reads the whole log from the segment holding `snapshot.index()` on and
// checks it: CRC chain, metadata agreement, and a snapshot record matching
// `snapshot` (SnapshotNotFound, SnapshotMismatch). A torn tail is
// tolerated. Takes no locks, so it can run beside an appending WAL.
absl::Status Verify(const std::string& dir, const walpb::Snapshot& snapshot,
                    const Options& options = {});

// Cuts a torn tail off the last segment: when that segment ends in an
// incomplete record (ReadAll's UnexpectedEOF), copies it to
// "<segment>.broken", truncates it after its last whole record and syncs.
// OK when there was nothing to repair. Fails, changing nothing, when the
// damage is corruption rather than a torn write. Waits for the segment's
// lock.
absl::Status Repair(const std::string& dir, const Options& options = {});

// The snapshot records of the whole log whose index is at most the commit
// index of the last hard state: the snapshots a member may restart from
// (etcd 3.5's ValidSnapshotEntries). Takes no locks.
absl::StatusOr<std::vector<walpb::Snapshot>> ValidSnapshotEntries(const std::string& dir,
                                                                  const Options& options = {});

}  // namespace etcd::wal

#endif  // ETCD_WAL_WAL_H_
