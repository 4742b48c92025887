// Testing only: appends entries to a WAL until killed, printing "ack <index>"
// (flushed) after each Save that returned, so a test can SIGKILL it at any
// moment and check that every acknowledged entry survived.
//
//   crash_writer <wal-dir> [segment-bytes] [max-batch]
//
// On start it creates the log, or opens it, repairs a torn tail and reads it,
// then prints "ready <last-index>". Entry i holds EntryData(i) (see
// crash_test.cc), so the checker can tell every byte that should be there.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "wal/wal.h"

namespace {

std::string EntryData(uint64_t index) {
  std::string data = absl::StrCat("entry-", index, "-");
  const size_t size = 20 + (index * 7919) % 700;
  while (data.size() < size) data.push_back(static_cast<char>('a' + (data.size() + index) % 26));
  return data;
}

[[noreturn]] void Die(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "crash_writer: %s: %s\n", what.c_str(), status.ToString().c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <wal-dir> [segment-bytes] [max-batch]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  etcd::wal::Options options;
  int64_t segment = 0;
  if (argc > 2 && absl::SimpleAtoi(argv[2], &segment) && segment > 0) {
    options.segment_size_bytes = segment;
  }
  int max_batch = 8;
  if (argc > 3) absl::SimpleAtoi(argv[3], &max_batch);

  std::unique_ptr<etcd::wal::WAL> w;
  raftpb::HardState state;
  uint64_t last = 0;
  if (!etcd::wal::Exist(dir)) {
    absl::StatusOr<std::unique_ptr<etcd::wal::WAL>> created =
        etcd::wal::WAL::Create(dir, "crash-writer", options);
    if (!created.ok()) Die("create", created.status());
    w = *std::move(created);
  } else {
    absl::StatusOr<etcd::wal::ReadResult> read;
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<etcd::wal::WAL>> opened =
          etcd::wal::WAL::Open(dir, walpb::Snapshot(), options);
      if (!opened.ok()) Die("open", opened.status());
      w = *std::move(opened);
      read = w->ReadAll();
      if (read.ok() || attempt > 0 || !etcd::wal::IsUnexpectedEOF(read.status())) break;
      w.reset();
      absl::Status repaired = etcd::wal::Repair(dir, options);
      if (!repaired.ok()) Die("repair", repaired);
    }
    if (!read.ok()) Die("read", read.status());
    state = read->state;
    if (!read->entries.empty()) last = read->entries.back().index();
  }
  std::printf("ready %llu\n", static_cast<unsigned long long>(last));
  std::fflush(stdout);

  std::mt19937_64 rng(static_cast<uint64_t>(getpid()));
  state.set_term(state.term() + 1);  // a new term per run, like a restarted member
  state.set_vote(1);
  while (true) {
    const int n = 1 + static_cast<int>(rng() % static_cast<uint64_t>(max_batch));
    std::vector<raftpb::Entry> entries;
    for (int i = 0; i < n; ++i) {
      raftpb::Entry e;
      e.set_index(last + 1 + i);
      e.set_term(state.term());
      e.set_type(raftpb::EntryNormal);
      e.set_data(EntryData(e.index()));
      entries.push_back(std::move(e));
    }
    state.set_commit(last);
    absl::Status saved = w->Save(state, entries);
    if (!saved.ok()) Die("save", saved);
    last += n;
    std::printf("ack %llu\n", static_cast<unsigned long long>(last));
    std::fflush(stdout);
  }
}
