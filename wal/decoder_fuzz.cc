// Fuzz target: arbitrary bytes as WAL segment files. Reading, verifying and
// listing snapshots give records or a named error, never a crash; a torn
// tail that Repair cuts off stays cut off; and a log that reads cleanly
// takes a new entry and gives it back.
//
// Input: the bytes of one segment, or, when the first byte is 0xff, two
// segments split at 16 * the second byte.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "pkg/log/log.h"
#include "wal/fault_file_system.h"
#include "wal/wal.h"

namespace {

using etcd::wal::FaultFileSystem;
using etcd::wal::ReadResult;
using etcd::wal::SnapshotCheck;
using etcd::wal::WAL;

constexpr char kDir[] = "/w";

void Check(bool ok, const char* what, const absl::Status& status = absl::OkStatus()) {
  if (ok) return;
  std::fprintf(stderr, "wal fuzz: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

// Our errors are named; the in-memory file system never fails.
void CheckNamed(const absl::Status& status, const char* what) {
  Check(status.ok() || etcd::wal::GetErrorKind(status).has_value(), what, status);
}

void CheckEntries(const ReadResult& read) {
  for (size_t i = 0; i < read.entries.size(); ++i) {
    Check(read.entries[i].index() == i + 1, "entries are not contiguous from index 1");
  }
}

void Put(FaultFileSystem* fs, const std::string& name, absl::string_view bytes) {
  etcd::wal::OpenOptions create;
  create.create = true;
  std::unique_ptr<etcd::wal::File> f =
      fs->OpenLocked(std::string(kDir) + "/" + name, create).value();
  Check(f->WriteAt(0, bytes).ok(), "write");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Repairs and cuts log a line each; keep the fuzzer's output readable.
  etcd::log::LoggerOptions options;
  options.level = etcd::log::Level::kError;
  etcd::log::SetDefault(std::make_unique<etcd::log::Logger>(
      options, std::vector<std::shared_ptr<etcd::log::Sink>>()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  FaultFileSystem fs;
  fs.MakeDurableDir(kDir);
  if (size >= 2 && data[0] == 0xff) {
    const size_t split = std::min<size_t>(size - 2, size_t{16} * data[1]);
    Put(&fs, "0000000000000000-0000000000000000.wal", input.substr(2, split));
    Put(&fs, "0000000000000001-0000000000000001.wal", input.substr(2 + split));
  } else {
    Put(&fs, "0000000000000000-0000000000000000.wal", input);
  }
  etcd::wal::Options options;
  options.fs = &fs;
  options.segment_size_bytes = 4096;

  {
    absl::StatusOr<std::unique_ptr<WAL>> r = WAL::OpenForRead(kDir, walpb::Snapshot(), options);
    Check(r.ok(), "OpenForRead", r.status());
    absl::StatusOr<ReadResult> read = (*r)->ReadAll(SnapshotCheck::kAllowMissing);
    CheckNamed(read.status(), "OpenForRead + ReadAll");
    if (read.ok()) CheckEntries(*read);
  }
  CheckNamed(etcd::wal::Verify(kDir, walpb::Snapshot(), options), "Verify");
  CheckNamed(etcd::wal::ValidSnapshotEntries(kDir, options).status(), "ValidSnapshotEntries");

  absl::StatusOr<ReadResult> read;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(kDir, walpb::Snapshot(), options);
    Check(w.ok(), "Open", w.status());
    read = (*w)->ReadAll(SnapshotCheck::kAllowMissing);
    CheckNamed(read.status(), "Open + ReadAll");
    if (!etcd::wal::IsUnexpectedEOF(read.status())) break;
    Check(attempt == 0, "still torn after Repair", read.status());
    w->reset();
    absl::Status repaired = etcd::wal::Repair(kDir, options);
    Check(repaired.ok(), "Repair of a torn tail", repaired);
  }
  if (!read.ok()) return 0;
  CheckEntries(*read);

  raftpb::HardState state = read->state;
  state.set_term(state.term() + 1);
  raftpb::Entry extra;
  extra.set_index(read->entries.size() + 1);
  extra.set_term(state.term());
  extra.set_data("appended");
  {
    absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(kDir, walpb::Snapshot(), options);
    Check(w.ok(), "reopen", w.status());
    absl::StatusOr<ReadResult> again = (*w)->ReadAll(SnapshotCheck::kAllowMissing);
    Check(again.ok(), "second read", again.status());
    absl::Status saved = (*w)->Save(state, {extra});
    Check(saved.ok(), "append", saved);
  }
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(kDir, walpb::Snapshot(), options);
  Check(w.ok(), "reopen after append", w.status());
  absl::StatusOr<ReadResult> after = (*w)->ReadAll(SnapshotCheck::kAllowMissing);
  Check(after.ok(), "read after append", after.status());
  Check(after->entries.size() == read->entries.size() + 1, "appended entry missing");
  Check(after->entries.back().data() == "appended", "appended entry changed");
  Check(after->state.term() == state.term(), "appended state missing");
  return 0;
}
