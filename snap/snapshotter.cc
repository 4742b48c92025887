#include "snap/snapshotter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "pkg/crc/crc.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/fileutil/purge.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"
#include "snap/snappb/snap.pb.h"

namespace etcd::snap {
namespace {

constexpr char kPayloadUrl[] = "type.etcd.io/etcd.snap.Error";
constexpr char kSnapSuffix[] = ".snap";
constexpr char kDBSuffix[] = ".snap.db";
constexpr char kTmpSuffix[] = ".snap.tmp";

absl::Status Error(absl::StatusCode code, absl::string_view kind, absl::string_view message,
                   absl::string_view detail) {
  absl::Status status(code,
                      detail.empty() ? std::string(message) : absl::StrCat(message, ": ", detail));
  status.SetPayload(kPayloadUrl, absl::Cord(kind));
  return status;
}

bool Is(const absl::Status& status, absl::string_view kind) {
  auto payload = status.GetPayload(kPayloadUrl);
  return payload.has_value() && *payload == kind;
}

absl::Status NoSnapshot(absl::string_view detail = "") {
  return Error(absl::StatusCode::kNotFound, "NoSnapshot", "snap: no available snapshot", detail);
}

absl::Status ErrnoStatus(int err, absl::string_view op, absl::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(op, " ", path, ": ", std::strerror(err)));
}

std::string Join(const std::string& dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string out;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes `data` to a new file at `path` and syncs it.
absl::Status WriteAndSyncFile(const std::string& path, absl::string_view data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  absl::Status status = WriteAll(fd, data, path);
  if (status.ok()) status = fileutil::Fsync(fd);
  if (close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", path);
  return status;
}

bool IsEmptySnap(const raftpb::Snapshot& snapshot) { return snapshot.metadata().index() == 0; }

}  // namespace

bool IsNoSnapshot(const absl::Status& s) { return Is(s, "NoSnapshot"); }
bool IsEmptySnapshot(const absl::Status& s) { return Is(s, "EmptySnapshot"); }
bool IsCRCMismatch(const absl::Status& s) { return Is(s, "CRCMismatch"); }
bool IsCorruptSnapshot(const absl::Status& s) { return Is(s, "CorruptSnapshot"); }
bool IsNoDBSnapshot(const absl::Status& s) { return Is(s, "NoDBSnapshot"); }

absl::StatusOr<size_t> FdReader::Read(char* buf, size_t n) {
  while (true) {
    ssize_t got = read(fd_, buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) return ErrnoStatus(errno, "read", absl::StrCat("fd ", fd_));
  }
}

std::string SnapName(uint64_t term, uint64_t index) {
  return absl::StrFormat("%016x-%016x%s", term, index, kSnapSuffix);
}

std::string Encode(const raftpb::Snapshot& snapshot) {
  // Every field etcd's gogoproto code always writes is present, zero or not,
  // so the bytes are the ones etcd would write.
  raftpb::Snapshot canonical = snapshot;
  raftpb::SnapshotMetadata* m = canonical.mutable_metadata();
  m->set_index(m->index());
  m->set_term(m->term());
  m->mutable_conf_state()->set_auto_leave(m->conf_state().auto_leave());
  const std::string data = canonical.SerializeAsString();
  snappb::snapshot file;
  file.set_crc(crc::Value(data.data(), data.size()));
  file.set_data(data);
  return file.SerializeAsString();
}

absl::StatusOr<raftpb::Snapshot> Decode(absl::string_view bytes, absl::string_view name) {
  if (bytes.empty()) {
    return Error(absl::StatusCode::kDataLoss, "EmptySnapshot", "snap: empty snapshot",
                 absl::StrCat(name, " is empty"));
  }
  snappb::snapshot file;
  if (!file.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Error(absl::StatusCode::kDataLoss, "CorruptSnapshot", "snap: corrupt snapshot file",
                 absl::StrCat(name, " is not a snappb.snapshot"));
  }
  if (file.data().empty() || file.crc() == 0) {
    return Error(absl::StatusCode::kDataLoss, "EmptySnapshot", "snap: empty snapshot",
                 absl::StrCat(name, " has no data or no crc"));
  }
  const uint32_t crc = crc::Value(file.data().data(), file.data().size());
  if (crc != file.crc()) {
    return Error(absl::StatusCode::kDataLoss, "CRCMismatch", "snap: crc mismatch",
                 absl::StrFormat("%s holds crc %08x, its data has %08x", name, file.crc(), crc));
  }
  raftpb::Snapshot snapshot;
  if (!snapshot.ParseFromString(file.data())) {
    return Error(absl::StatusCode::kDataLoss, "CorruptSnapshot", "snap: corrupt snapshot file",
                 absl::StrCat(name, " does not hold a raftpb.Snapshot"));
  }
  return snapshot;
}

absl::StatusOr<raftpb::Snapshot> Read(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) {
    log::Warn("failed to read a snap file", {{"path", path}, {"error", bytes.status()}});
    return bytes.status();
  }
  absl::StatusOr<raftpb::Snapshot> snapshot = Decode(*bytes, path);
  if (!snapshot.ok()) {
    log::Warn("failed to read a snap file", {{"path", path}, {"error", snapshot.status()}});
  }
  return snapshot;
}

Snapshotter::Snapshotter(std::string dir) : dir_(std::move(dir)) {}

absl::Status Snapshotter::SaveSnap(const raftpb::Snapshot& snapshot) {
  if (IsEmptySnap(snapshot)) return absl::OkStatus();
  const std::string name = SnapName(snapshot.metadata().term(), snapshot.metadata().index());
  const std::string path = Join(dir_, name);
  const std::string tmp = path + ".tmp";
  absl::Status status = WriteAndSyncFile(tmp, Encode(snapshot));
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename", tmp);
  }
  if (!status.ok()) {
    log::Warn("failed to write a snap file", {{"path", path}, {"error", status}});
    unlink(tmp.c_str());
    return status;
  }
  return fileutil::SyncDir(dir_);
}

absl::StatusOr<std::vector<std::string>> Snapshotter::SnapNames() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fileutil::ReadDir(dir_));
  std::vector<std::string> snaps;
  for (const std::string& name : names) {
    // Leftovers of an interrupted defragmentation or save.
    if (absl::StartsWith(name, "db.tmp") || absl::EndsWith(name, kTmpSuffix)) {
      log::Info("found orphaned temporary file; deleting", {{"path", Join(dir_, name)}});
      if (unlink(Join(dir_, name).c_str()) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, "remove orphaned file", Join(dir_, name));
      }
      continue;
    }
    if (absl::EndsWith(name, kSnapSuffix)) {
      snaps.push_back(name);
    } else if (name != "db" && !absl::EndsWith(name, kDBSuffix) &&
               !absl::EndsWith(name, ".broken")) {
      log::Warn("found unexpected non-snap file; skipping", {{"path", name}});
    }
  }
  if (snaps.empty()) return NoSnapshot(absl::StrCat("no .snap files in ", dir_));
  std::sort(snaps.rbegin(), snaps.rend());
  return snaps;
}

absl::StatusOr<raftpb::Snapshot> Snapshotter::Load() { return LoadNewestMatching({}); }

absl::StatusOr<raftpb::Snapshot> Snapshotter::LoadNewestMatching(absl::Span<const SnapshotId> ids) {
  const bool any = ids.empty();
  ASSIGN_OR_RETURN(std::vector<std::string> names, SnapNames());
  for (const std::string& name : names) {
    const std::string path = Join(dir_, name);
    absl::StatusOr<raftpb::Snapshot> snapshot = Read(path);
    if (!snapshot.ok()) {
      const std::string broken = path + ".broken";
      if (rename(path.c_str(), broken.c_str()) != 0) {
        log::Warn("failed to rename a broken snap file",
                  {{"path", path}, {"broken-path", broken}, {"error", std::strerror(errno)}});
      } else {
        log::Warn("renamed to a broken snap file", {{"path", path}, {"broken-path", broken}});
      }
      continue;
    }
    if (any) return snapshot;
    const raftpb::SnapshotMetadata& m = snapshot->metadata();
    for (const SnapshotId& id : ids) {
      if (id.term == m.term() && id.index == m.index()) return snapshot;
    }
  }
  return NoSnapshot(any ? "every .snap file is broken" : "no .snap file matches the WAL");
}

absl::StatusOr<std::vector<std::string>> Snapshotter::Purge(size_t max) {
  return fileutil::PurgeOnce(dir_, kSnapSuffix, max);
}

absl::StatusOr<int64_t> Snapshotter::SaveDBFrom(Reader& reader, uint64_t id) {
  std::string tmp = Join(dir_, "tmpXXXXXX");
  int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "create temporary file in", dir_);
  int64_t total = 0;
  absl::Status status;
  std::string buf(256 * 1024, '\0');
  while (status.ok()) {
    absl::StatusOr<size_t> n = reader.Read(buf.data(), buf.size());
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) break;
    status = WriteAll(fd, absl::string_view(buf.data(), *n), tmp);
    total += static_cast<int64_t>(*n);
  }
  if (status.ok()) status = fileutil::Fsync(fd);
  close(fd);
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  const std::string path = Join(dir_, absl::StrFormat("%016x%s", id, kDBSuffix));
  if (fileutil::Exist(path)) {
    unlink(tmp.c_str());
    return total;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename", tmp);
    unlink(tmp.c_str());
    return status;
  }
  RETURN_IF_ERROR(fileutil::SyncDir(dir_));
  log::Info("saved database snapshot to disk", {{"path", path}, {"bytes", total}});
  return total;
}

absl::StatusOr<std::string> Snapshotter::DBFilePath(uint64_t id) const {
  RETURN_IF_ERROR(fileutil::ReadDir(dir_).status());
  const std::string path = Join(dir_, absl::StrFormat("%016x%s", id, kDBSuffix));
  if (fileutil::Exist(path)) return path;
  return Error(absl::StatusCode::kNotFound, "NoDBSnapshot", "snap: snapshot file doesn't exist",
               path);
}

absl::Status Snapshotter::ReleaseSnapDBs(const raftpb::Snapshot& snapshot) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fileutil::ReadDir(dir_));
  for (const std::string& name : names) {
    absl::string_view hex = name;
    if (!absl::ConsumeSuffix(&hex, kDBSuffix)) continue;
    uint64_t index;
    if (!absl::SimpleHexAtoi(hex, &index)) {
      log::Warn("failed to parse index from filename", {{"path", name}});
      continue;
    }
    if (index < snapshot.metadata().index()) {
      log::Warn("found orphaned .snap.db file; deleting", {{"path", name}});
      if (unlink(Join(dir_, name).c_str()) != 0 && errno != ENOENT) {
        log::Warn("failed to remove orphaned .snap.db file",
                  {{"path", name}, {"error", std::strerror(errno)}});
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace etcd::snap
