#include "wal/wal.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"
#include "wal/decoder.h"
#include "wal/encoder.h"
#include "wal/file_pipeline.h"
#include "wal/names.h"
#include "wal/record.h"

namespace etcd::wal {
namespace {

using internal::Decoder;
using internal::Encoder;
using internal::FilePipeline;
using internal::Record;

// An fdatasync slower than this is logged.
constexpr absl::Duration kWarnSyncDuration = absl::Seconds(1);

FileSystem* FsOf(const Options& options) {
  return options.fs != nullptr ? options.fs : FileSystem::Default();
}

absl::Status CorruptData(absl::string_view what, const Decoder& decoder) {
  return MakeError(ErrorKind::kCorruptRecord,
                   absl::StrFormat("cannot parse the %s record ending at offset %d of %s", what,
                                   decoder.last_offset(), decoder.current_path()));
}

// Checks a crc record against the decoder's chain and restarts the chain
// from it. A decoder at 0 has just started (Repair, or the first segment).
absl::Status HandleCrcRecord(const Record& record, Decoder* decoder) {
  const uint32_t running = decoder->crc();
  if (running != 0 && record.crc != running) {
    return MakeError(
        ErrorKind::kCRCMismatch,
        absl::StrFormat("crc record ending at offset %d of %s holds %08x, the "
                        "previous segment ended with %08x",
                        decoder->last_offset(), decoder->current_path(), record.crc, running));
  }
  decoder->UpdateCRC(record.crc);
  return absl::OkStatus();
}

struct OpenedFiles {
  std::vector<Decoder::Segment> segments;
  std::vector<std::unique_ptr<File>> files;
  std::vector<std::string> names;
};

// Opens the segments of `names` from `first` on, locked when `write`.
absl::StatusOr<OpenedFiles> OpenSegments(FileSystem* fs, const std::string& dir,
                                         const std::vector<std::string>& names, size_t first,
                                         bool write) {
  OpenedFiles opened;
  for (size_t i = first; i < names.size(); ++i) {
    const std::string path = JoinPath(dir, names[i]);
    std::unique_ptr<File> file;
    if (write) {
      ASSIGN_OR_RETURN(file, fs->OpenLocked(path, OpenOptions()));
    } else {
      ASSIGN_OR_RETURN(file, fs->OpenForRead(path));
    }
    opened.segments.push_back({file.get(), path});
    opened.files.push_back(std::move(file));
    opened.names.push_back(names[i]);
  }
  return opened;
}

// The segment names to read for `snapshot` and the position of the first.
absl::StatusOr<std::pair<std::vector<std::string>, size_t>> SelectSegments(
    FileSystem* fs, const std::string& dir, const walpb::Snapshot& snapshot) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ReadWalNames(fs, dir));
  std::optional<size_t> first = internal::SearchIndex(names, snapshot.index());
  if (!first.has_value()) {
    return MakeError(ErrorKind::kFileNotFound,
                     absl::StrFormat("no segment in %s starts at or before index %d (first is %s)",
                                     dir, snapshot.index(), names.front()));
  }
  if (!internal::IsValidSeq(absl::MakeConstSpan(names).subspan(*first))) {
    return MakeError(ErrorKind::kFileNotFound, absl::StrCat("segment sequence numbers in ", dir,
                                                            " have a gap after ", names[*first]));
  }
  return std::make_pair(std::move(names), *first);
}

// Whether the decoder stopped at a place a reader may accept as the end.
bool IsReadableEnd(const absl::Status& status) { return status.ok() || IsUnexpectedEOF(status); }

}  // namespace

WAL::WAL(FileSystem* fs, std::string dir, const Options& options, bool read_only)
    : fs_(fs), dir_(std::move(dir)), options_(options), read_only_(read_only) {}

WAL::~WAL() { Close().IgnoreError(); }

bool Exist(const std::string& dir, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  absl::StatusOr<std::vector<std::string>> names = fs->ReadDir(dir);
  if (!names.ok()) return false;
  // Like etcd, any ".wal" file counts, well-named or not.
  for (const std::string& name : *names) {
    if (absl::EndsWith(name, ".wal")) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<WAL>> WAL::Create(const std::string& dir_path,
                                                 absl::string_view metadata,
                                                 const Options& options) {
  FileSystem* fs = FsOf(options);
  const std::string dir = CleanPath(dir_path);
  if (Exist(dir, fs)) return MakeError(ErrorKind::kExist, dir);

  // Build the log beside its final place, so it appears whole or not at all.
  const std::string tmp_dir = dir + ".tmp";
  if (fs->Exists(tmp_dir)) RETURN_IF_ERROR(fs->RemoveAll(tmp_dir));
  RETURN_IF_ERROR(fs->CreateDirAll(tmp_dir));

  const std::string first_name = internal::WalName(0, 0);
  OpenOptions open_options;
  open_options.create = true;
  open_options.truncate = true;
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   fs->OpenLocked(JoinPath(tmp_dir, first_name), open_options));
  RETURN_IF_ERROR(file->Preallocate(options.segment_size_bytes));

  std::unique_ptr<WAL> w(new WAL(fs, dir, options, /*read_only=*/false));
  {
    absl::MutexLock lock(&w->mu_);
    w->metadata_ = std::string(metadata);
    w->encoder_ = std::make_unique<Encoder>(file.get(), 0, 0);
    w->locks_.push_back({first_name, std::move(file)});
    RETURN_IF_ERROR(w->encoder_->Encode(internal::kCrcType, ""));
    RETURN_IF_ERROR(w->encoder_->Encode(internal::kMetadataType, metadata));
  }
  RETURN_IF_ERROR(w->SaveSnapshot(walpb::Snapshot()));
  // etcd skips this: without it the new file's name may not be durable
  // inside the renamed directory.
  RETURN_IF_ERROR(fs->SyncDir(tmp_dir));

  RETURN_IF_ERROR(fs->RemoveAll(dir));
  // The locks are kept across the rename (they belong to the open files).
  RETURN_IF_ERROR(fs->Rename(tmp_dir, dir));
  absl::Status synced = fs->SyncDir(DirName(dir));
  if (!synced.ok()) {
    // Keep the evidence but out of the way, as etcd does.
    w->Close().IgnoreError();
    const std::string broken = absl::StrCat(
        dir, ".broken.", absl::FormatTime("%Y%m%d.%H%M%E6S", absl::Now(), absl::LocalTimeZone()));
    fs->Rename(dir, broken).IgnoreError();
    return synced;
  }
  {
    absl::MutexLock lock(&w->mu_);
    w->pipeline_ = std::make_unique<FilePipeline>(fs, dir, options.segment_size_bytes);
  }
  return w;
}

absl::StatusOr<std::unique_ptr<WAL>> WAL::Open(const std::string& dir,
                                               const walpb::Snapshot& snapshot,
                                               const Options& options) {
  return OpenAt(dir, snapshot, options, /*write=*/true);
}

absl::StatusOr<std::unique_ptr<WAL>> WAL::OpenForRead(const std::string& dir,
                                                      const walpb::Snapshot& snapshot,
                                                      const Options& options) {
  return OpenAt(dir, snapshot, options, /*write=*/false);
}

absl::StatusOr<std::unique_ptr<WAL>> WAL::OpenAt(const std::string& dir_path,
                                                 const walpb::Snapshot& snapshot,
                                                 const Options& options, bool write) {
  FileSystem* fs = FsOf(options);
  const std::string dir = CleanPath(dir_path);
  ASSIGN_OR_RETURN(auto selected, SelectSegments(fs, dir, snapshot));
  ASSIGN_OR_RETURN(OpenedFiles opened,
                   OpenSegments(fs, dir, selected.first, selected.second, write));

  std::unique_ptr<WAL> w(new WAL(fs, dir, options, /*read_only=*/!write));
  absl::MutexLock lock(&w->mu_);
  w->start_ = snapshot;
  w->decoder_ = std::make_unique<Decoder>(std::move(opened.segments));
  if (write) {
    for (size_t i = 0; i < opened.files.size(); ++i) {
      w->locks_.push_back({std::move(opened.names[i]), std::move(opened.files[i])});
    }
    w->pipeline_ = std::make_unique<FilePipeline>(fs, dir, options.segment_size_bytes);
  } else {
    w->read_files_ = std::move(opened.files);
  }
  return w;
}

absl::StatusOr<ReadResult> WAL::ReadAll(SnapshotCheck check) {
  absl::MutexLock lock(&mu_);
  if (decoder_ == nullptr) {
    return MakeError(ErrorKind::kDecoderNotFound,
                     closed_ ? "the WAL is closed" : "ReadAll needs a freshly opened WAL");
  }
  std::unique_ptr<Decoder> decoder = std::move(decoder_);
  const bool write = !read_only_;

  ReadResult result;
  bool have_metadata = false;
  bool match = false;
  Record record;
  absl::Status end;
  while (true) {
    absl::StatusOr<bool> more = decoder->Next(&record);
    if (!more.ok()) {
      end = more.status();
      break;
    }
    if (!*more) break;
    switch (record.type) {
      case internal::kEntryType: {
        raftpb::Entry entry;
        if (!entry.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
          return CorruptData("entry", *decoder);
        }
        const uint64_t index = entry.index();
        if (index > start_.index()) {
          const uint64_t up = entry.index() - start_.index() - 1;
          if (up > result.entries.size()) {
            return MakeError(
                ErrorKind::kSliceOutOfRange,
                absl::StrFormat("entry %d in %s leaves a gap after %d entries from index %d", index,
                                decoder->current_path(), result.entries.size(),
                                start_.index() + 1));
          }
          // A later term's entry replaces this index and everything after.
          result.entries.resize(up);
          result.entries.push_back(std::move(entry));
        }
        enti_ = index;
        break;
      }
      case internal::kStateType:
        if (!result.state.ParseFromArray(record.data.data(),
                                         static_cast<int>(record.data.size()))) {
          return CorruptData("hard state", *decoder);
        }
        break;
      case internal::kMetadataType:
        if (have_metadata && result.metadata != record.data) {
          return MakeError(ErrorKind::kMetadataConflict,
                           absl::StrCat("segment ", decoder->current_path(),
                                        " holds different metadata than the one before"));
        }
        if (record.has_data) {
          have_metadata = true;
          result.metadata = std::string(record.data);
        }
        break;
      case internal::kCrcType:
        RETURN_IF_ERROR(HandleCrcRecord(record, decoder.get()));
        break;
      case internal::kSnapshotType: {
        walpb::Snapshot snapshot;
        if (!snapshot.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
          return CorruptData("snapshot", *decoder);
        }
        if (snapshot.index() == start_.index()) {
          if (snapshot.term() != start_.term()) {
            return MakeError(ErrorKind::kSnapshotMismatch,
                             absl::StrFormat("the log has index %d at term %d, not term %d",
                                             snapshot.index(), snapshot.term(), start_.term()));
          }
          match = true;
        }
        break;
      }
      default:
        return MakeError(
            ErrorKind::kCorruptRecord,
            absl::StrFormat("unexpected block type %d ending at offset %d of %s", record.type,
                            decoder->last_offset(), decoder->current_path()));
    }
  }

  if (!write) {
    // A reader may stop at a torn tail.
    if (!IsReadableEnd(end)) return end;
  } else {
    if (!end.ok()) return end;
    // Zero everything after the last record: a torn write can leave stale
    // non-zero bytes there, which new records would only partly cover.
    File* last = tail();
    const int64_t offset = decoder->last_offset();
    ASSIGN_OR_RETURN(int64_t size, last->Size());
    if (offset < size) {
      RETURN_IF_ERROR(last->Truncate(offset));
      RETURN_IF_ERROR(last->Preallocate(size));
    }
  }

  result.snapshot_found = match;
  if (!match && check == SnapshotCheck::kRequire) {
    return MakeError(ErrorKind::kSnapshotNotFound,
                     absl::StrFormat("no snapshot record for index %d term %d in %s",
                                     start_.index(), start_.term(), dir_));
  }

  for (std::unique_ptr<File>& file : read_files_) file->Close().IgnoreError();
  read_files_.clear();
  start_ = walpb::Snapshot();
  metadata_ = result.metadata;
  state_ = result.state;
  if (write) {
    encoder_ = std::make_unique<Encoder>(tail(), decoder->last_offset(), decoder->crc());
  }
  return result;
}

File* WAL::tail() const {
  if (locks_.empty()) return nullptr;
  return locks_.back().file.get();
}

uint64_t WAL::seq() const {
  if (locks_.empty()) return 0;
  uint64_t seq = 0, index = 0;
  internal::ParseWalName(locks_.back().name, &seq, &index);
  return seq;
}

absl::Status WAL::CheckWritable() const {
  if (closed_) return MakeError(ErrorKind::kBadState, "the WAL is closed");
  if (!failure_.ok()) return failure_;
  if (encoder_ == nullptr) {
    return MakeError(ErrorKind::kBadState, locks_.empty()
                                               ? "the WAL was opened for reading only"
                                               : "ReadAll must read the log before appending");
  }
  return absl::OkStatus();
}

absl::Status WAL::Fail(absl::Status status) {
  if (!status.ok() && failure_.ok()) failure_ = status;
  return status;
}

absl::Status WAL::SaveEntry(const raftpb::Entry& entry) {
  entry_scratch_.clear();
  internal::AppendEntry(entry, &entry_scratch_);
  RETURN_IF_ERROR(encoder_->Encode(internal::kEntryType, entry_scratch_));
  enti_ = entry.index();
  return absl::OkStatus();
}

absl::Status WAL::SaveState(const raftpb::HardState& state) {
  if (internal::IsEmptyHardState(state)) return absl::OkStatus();
  state_ = state;
  return encoder_->Encode(internal::kStateType, internal::MarshalHardState(state));
}

absl::Status WAL::Save(const raftpb::HardState& state, absl::Span<const raftpb::Entry> entries) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckWritable());
  if (internal::IsEmptyHardState(state) && entries.empty()) return absl::OkStatus();

  const bool must_sync = internal::MustSync(state, state_, entries.size());
  for (const raftpb::Entry& entry : entries) RETURN_IF_ERROR(Fail(SaveEntry(entry)));
  RETURN_IF_ERROR(Fail(SaveState(state)));

  // Like etcd, compare the bytes already in the file (this call's records
  // are usually still buffered), so segments end where etcd's would.
  if (encoder_->flushed_offset() < options_.segment_size_bytes) {
    if (must_sync) return SyncLocked();
    return absl::OkStatus();
  }
  return CutLocked();
}

absl::Status WAL::SaveSnapshot(const walpb::Snapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckWritable());
  RETURN_IF_ERROR(
      Fail(encoder_->Encode(internal::kSnapshotType, internal::MarshalSnapshot(snapshot))));
  if (enti_ < snapshot.index()) enti_ = snapshot.index();
  return SyncLocked();
}

absl::Status WAL::Sync() {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckWritable());
  return SyncLocked();
}

absl::Status WAL::SyncLocked() {
  RETURN_IF_ERROR(Fail(encoder_->Flush()));
  if (options_.unsafe_no_fsync) return absl::OkStatus();
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(Fail(tail()->Sync()));
  const absl::Duration took = absl::Now() - start;
  if (took > kWarnSyncDuration) {
    log::Warn("slow fdatasync", {{"took", took}, {"expected-duration", kWarnSyncDuration}});
  }
  return absl::OkStatus();
}

absl::Status WAL::Cut() {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckWritable());
  return CutLocked();
}

absl::Status WAL::CutLocked() {
  // Finish the current segment: drop its preallocated tail and sync.
  const int64_t end = encoder_->offset();
  RETURN_IF_ERROR(Fail(encoder_->Flush()));
  RETURN_IF_ERROR(Fail(tail()->Truncate(end)));
  RETURN_IF_ERROR(SyncLocked());

  const std::string name = internal::WalName(seq() + 1, enti_ + 1);
  const std::string path = JoinPath(dir_, name);
  if (pipeline_ == nullptr) {
    return Fail(MakeError(ErrorKind::kBadState, "no file pipeline to cut a segment from"));
  }
  absl::StatusOr<FilePipeline::PreparedFile> prepared = pipeline_->Open();
  RETURN_IF_ERROR(Fail(prepared.status()));

  // Write the head of the new segment under its temporary name, make it
  // durable, then give it its real name.
  const uint32_t prev_crc = encoder_->crc();
  encoder_ = std::make_unique<Encoder>(prepared->file.get(), 0, prev_crc);
  locks_.push_back({name, std::move(prepared->file)});
  RETURN_IF_ERROR(Fail(encoder_->Encode(internal::kCrcType, "")));
  RETURN_IF_ERROR(Fail(encoder_->Encode(internal::kMetadataType, metadata_)));
  RETURN_IF_ERROR(Fail(SaveState(state_)));
  RETURN_IF_ERROR(SyncLocked());
  RETURN_IF_ERROR(Fail(fs_->Rename(prepared->path, path)));
  RETURN_IF_ERROR(Fail(fs_->SyncDir(dir_)));
  log::Info("created a new WAL segment", {{"path", path}});
  return absl::OkStatus();
}

absl::Status WAL::ReleaseLockTo(uint64_t index) {
  absl::MutexLock lock(&mu_);
  if (locks_.empty()) return absl::OkStatus();
  size_t smaller = locks_.size() - 1;
  for (size_t i = 0; i < locks_.size(); ++i) {
    uint64_t seq, first;
    if (!internal::ParseWalName(locks_[i].name, &seq, &first)) {
      return absl::InternalError(absl::StrCat("wal: bad segment name ", locks_[i].name));
    }
    if (first >= index) {
      if (i == 0) return absl::OkStatus();
      smaller = i - 1;
      break;
    }
  }
  if (smaller == 0) return absl::OkStatus();
  for (size_t i = 0; i < smaller; ++i) locks_[i].file->Close().IgnoreError();
  locks_.erase(locks_.begin(), locks_.begin() + static_cast<ptrdiff_t>(smaller));
  return absl::OkStatus();
}

absl::Status WAL::Close() {
  absl::MutexLock lock(&mu_);
  return CloseLocked();
}

absl::Status WAL::CloseLocked() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status status;
  if (pipeline_ != nullptr) {
    pipeline_->Close().IgnoreError();
    pipeline_.reset();
  }
  if (encoder_ != nullptr && failure_.ok()) status = SyncLocked();
  encoder_.reset();
  decoder_.reset();
  for (LockedSegment& segment : locks_) {
    absl::Status closed = segment.file->Close();
    if (!closed.ok()) log::Warn("failed to close WAL", {{"error", closed}});
  }
  locks_.clear();
  for (std::unique_ptr<File>& file : read_files_) file->Close().IgnoreError();
  read_files_.clear();
  return status;
}

absl::Status Verify(const std::string& dir_path, const walpb::Snapshot& snapshot,
                    const Options& options) {
  FileSystem* fs = FsOf(options);
  const std::string dir = CleanPath(dir_path);
  ASSIGN_OR_RETURN(auto selected, SelectSegments(fs, dir, snapshot));
  ASSIGN_OR_RETURN(OpenedFiles opened,
                   OpenSegments(fs, dir, selected.first, selected.second, /*write=*/false));
  Decoder decoder(std::move(opened.segments));
  bool have_metadata = false;
  std::string metadata;
  bool match = false;
  Record record;
  absl::Status end;
  while (true) {
    absl::StatusOr<bool> more = decoder.Next(&record);
    if (!more.ok()) {
      end = more.status();
      break;
    }
    if (!*more) break;
    switch (record.type) {
      case internal::kMetadataType:
        if (have_metadata && metadata != record.data) {
          return MakeError(ErrorKind::kMetadataConflict,
                           absl::StrCat("segment ", decoder.current_path(),
                                        " holds different metadata than the one before"));
        }
        if (record.has_data) {
          have_metadata = true;
          metadata = std::string(record.data);
        }
        break;
      case internal::kCrcType:
        RETURN_IF_ERROR(HandleCrcRecord(record, &decoder));
        break;
      case internal::kSnapshotType: {
        walpb::Snapshot loaded;
        if (!loaded.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
          return CorruptData("snapshot", decoder);
        }
        if (loaded.index() == snapshot.index()) {
          if (loaded.term() != snapshot.term()) {
            return MakeError(ErrorKind::kSnapshotMismatch,
                             absl::StrFormat("the log has index %d at term %d, not term %d",
                                             loaded.index(), loaded.term(), snapshot.term()));
          }
          match = true;
        }
        break;
      }
      case internal::kEntryType:
      case internal::kStateType:
        break;
      default:
        return MakeError(
            ErrorKind::kCorruptRecord,
            absl::StrFormat("unexpected block type %d ending at offset %d of %s", record.type,
                            decoder.last_offset(), decoder.current_path()));
    }
  }
  if (!IsReadableEnd(end)) return end;
  if (!match) {
    return MakeError(ErrorKind::kSnapshotNotFound,
                     absl::StrFormat("no snapshot record for index %d term %d in %s",
                                     snapshot.index(), snapshot.term(), dir));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<walpb::Snapshot>> ValidSnapshotEntries(const std::string& dir_path,
                                                                  const Options& options) {
  FileSystem* fs = FsOf(options);
  const std::string dir = CleanPath(dir_path);
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ReadWalNames(fs, dir));
  ASSIGN_OR_RETURN(OpenedFiles opened, OpenSegments(fs, dir, names, 0, /*write=*/false));
  Decoder decoder(std::move(opened.segments));
  std::vector<walpb::Snapshot> snapshots;
  raftpb::HardState state;
  Record record;
  absl::Status end;
  while (true) {
    absl::StatusOr<bool> more = decoder.Next(&record);
    if (!more.ok()) {
      end = more.status();
      break;
    }
    if (!*more) break;
    switch (record.type) {
      case internal::kSnapshotType: {
        walpb::Snapshot loaded;
        if (!loaded.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
          return CorruptData("snapshot", decoder);
        }
        snapshots.push_back(std::move(loaded));
        break;
      }
      case internal::kStateType:
        if (!state.ParseFromArray(record.data.data(), static_cast<int>(record.data.size()))) {
          return CorruptData("hard state", decoder);
        }
        break;
      case internal::kCrcType:
        RETURN_IF_ERROR(HandleCrcRecord(record, &decoder));
        break;
      default:
        break;
    }
  }
  if (!IsReadableEnd(end)) return end;
  std::vector<walpb::Snapshot> valid;
  for (walpb::Snapshot& snapshot : snapshots) {
    if (snapshot.index() <= state.commit()) valid.push_back(std::move(snapshot));
  }
  return valid;
}

absl::Status Repair(const std::string& dir_path, const Options& options) {
  FileSystem* fs = FsOf(options);
  const std::string dir = CleanPath(dir_path);
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ReadWalNames(fs, dir));
  const std::string path = JoinPath(dir, names.back());
  OpenOptions open_options;
  open_options.wait_for_lock = true;
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs->OpenLocked(path, open_options));
  log::Info("repairing", {{"path", path}});

  Decoder decoder({{file.get(), path}});
  Record record;
  while (true) {
    const int64_t last_offset = decoder.last_offset();
    absl::StatusOr<bool> more = decoder.Next(&record);
    if (more.ok()) {
      if (!*more) {
        log::Info("repaired", {{"path", path}, {"error", "EOF"}});
        return absl::OkStatus();
      }
      if (record.type == internal::kCrcType) RETURN_IF_ERROR(HandleCrcRecord(record, &decoder));
      continue;
    }
    if (!IsUnexpectedEOF(more.status())) {
      log::Warn("failed to repair", {{"path", path}, {"error", more.status()}});
      return more.status();
    }
    // Keep a copy of the damaged segment, then cut it after the last whole
    // record.
    const std::string broken_path = path + ".broken";
    OpenOptions broken_options;
    broken_options.create = true;
    broken_options.truncate = true;
    ASSIGN_OR_RETURN(std::unique_ptr<File> broken, fs->OpenLocked(broken_path, broken_options));
    ASSIGN_OR_RETURN(int64_t size, file->Size());
    std::string buffer(static_cast<size_t>(std::min<int64_t>(size, 1 << 20)), '\0');
    for (int64_t offset = 0; offset < size;) {
      ASSIGN_OR_RETURN(size_t got, file->ReadAt(offset, buffer.data(), buffer.size()));
      if (got == 0) break;
      RETURN_IF_ERROR(broken->WriteAt(offset, absl::string_view(buffer.data(), got)));
      offset += static_cast<int64_t>(got);
    }
    RETURN_IF_ERROR(broken->Sync());
    RETURN_IF_ERROR(broken->Close());
    RETURN_IF_ERROR(file->Truncate(last_offset));
    RETURN_IF_ERROR(file->Sync());
    log::Info("repaired", {{"path", path}, {"error", more.status()}, {"offset", last_offset}});
    return file->Close();
  }
}

}  // namespace etcd::wal
