// Raft snapshot files in etcd's format: "<term>-<index>.snap" files (both
// %016x) holding a snappb.snapshot{crc, data}, where data is a marshaled
// raftpb.Snapshot and crc its CRC-32C; and the backend database a member
// receives from its leader, "<index>.snap.db" (%016x).
//
//   etcd::snap::Snapshotter snapshotter(data_dir + "/member/snap");
//   RETURN_IF_ERROR(snapshotter.SaveSnap(snapshot));          // durable on return
//   ...
//   // On restart: the newest snapshot the WAL knows about.
//   ASSIGN_OR_RETURN(std::vector<walpb::Snapshot> wal_snaps,
//                    etcd::wal::ValidSnapshotEntries(wal_dir));
//   absl::StatusOr<raftpb::Snapshot> snapshot = snapshotter.LoadNewestAvailable(wal_snaps);
//   if (etcd::snap::IsNoSnapshot(snapshot.status())) { /* start from an empty state */ }
//
// Loading tries files newest first; a file that cannot be read (empty,
// unparsable, CRC mismatch) is renamed "<name>.broken" and the next one is
// tried, as etcd does.
//
// Differences from etcd, all on the side of durability: a snapshot is
// written to "<name>.tmp", synced, renamed and the directory synced (etcd
// writes the final name directly and never syncs the directory), and
// SaveDBFrom syncs the directory after its rename. Leftover "*.snap.tmp"
// files are removed by the next load.
//
// Thread safety: a Snapshotter is thread-compatible for different files
// (etcd saves and loads from one goroutine); the free functions are
// thread-safe.

#ifndef ETCD_SNAP_SNAPSHOTTER_H_
#define ETCD_SNAP_SNAPSHOTTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "raft/raftpb/raft.pb.h"

namespace etcd::snap {

// Errors, with etcd's messages ("snap: ...") and named predicates.
bool IsNoSnapshot(const absl::Status& status);       // no (matching, readable) snapshot
bool IsEmptySnapshot(const absl::Status& status);    // empty file, or no data or crc
bool IsCRCMismatch(const absl::Status& status);      // the data does not match its crc
bool IsCorruptSnapshot(const absl::Status& status);  // the bytes do not parse
bool IsNoDBSnapshot(const absl::Status& status);     // no "<index>.snap.db" file

// The term and index of a snapshot, as a WAL snapshot record holds them.
struct SnapshotId {
  uint64_t term = 0;
  uint64_t index = 0;
};

// A byte stream SaveDBFrom copies from.
class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `n` bytes into `buf`; 0 at the end of the stream.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Reads from a file descriptor (a file, pipe or socket) it does not own.
class FdReader : public Reader {
 public:
  explicit FdReader(int fd) : fd_(fd) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override;

 private:
  int fd_;
};

class Snapshotter {
 public:
  // Files live in `dir`, which must exist.
  explicit Snapshotter(std::string dir);

  // Writes `snapshot` to "<term>-<index>.snap" durably. An empty snapshot
  // (index 0) is not written.
  absl::Status SaveSnap(const raftpb::Snapshot& snapshot);

  // The newest readable snapshot; NoSnapshot if none.
  absl::StatusOr<raftpb::Snapshot> Load();

  // The newest readable snapshot whose term and index match one of
  // `wal_snapshots` (any range of objects with index() and term(), such as
  // the walpb::Snapshot records wal::ValidSnapshotEntries returns).
  template <typename Range>
  absl::StatusOr<raftpb::Snapshot> LoadNewestAvailable(const Range& wal_snapshots) {
    std::vector<SnapshotId> ids;
    for (const auto& s : wal_snapshots) ids.push_back({s.term(), s.index()});
    return LoadNewestMatching(ids);
  }
  absl::StatusOr<raftpb::Snapshot> LoadNewestMatching(absl::Span<const SnapshotId> ids);

  // Keeps the newest `max` .snap files and removes older ones (etcd's
  // --max-snapshots); returns the names removed.
  absl::StatusOr<std::vector<std::string>> Purge(size_t max);

  // Copies `reader` to "<id>.snap.db" through a temporary file, synced and
  // renamed into place; returns the bytes copied. If the file already
  // exists it is kept and the copy discarded (etcd's behaviour).
  absl::StatusOr<int64_t> SaveDBFrom(Reader& reader, uint64_t id);

  // The path of "<id>.snap.db"; NoDBSnapshot if it does not exist.
  absl::StatusOr<std::string> DBFilePath(uint64_t id) const;

  // Removes "*.snap.db" files older than `snapshot`'s index.
  absl::Status ReleaseSnapDBs(const raftpb::Snapshot& snapshot);

  const std::string& dir() const { return dir_; }

 private:
  // The .snap names, newest first, after removing leftovers.
  absl::StatusOr<std::vector<std::string>> SnapNames();

  std::string dir_;
};

// "<term>-<index>.snap" with both as %016x.
std::string SnapName(uint64_t term, uint64_t index);

// Reads and checks the .snap file at `path`.
absl::StatusOr<raftpb::Snapshot> Read(const std::string& path);

// Checks and parses the bytes of a .snap file; `name` is for messages.
absl::StatusOr<raftpb::Snapshot> Decode(absl::string_view bytes, absl::string_view name);

// The bytes of a .snap file for `snapshot`.
std::string Encode(const raftpb::Snapshot& snapshot);

}  // namespace etcd::snap

#endif  // ETCD_SNAP_SNAPSHOTTER_H_
