// Crash consistency of the WAL, in the spirit of LevelDB's
// fault_injection_test: a workload runs on an in-memory file system that
// dies after N operations, for every N; then every way the crash could have
// left the unsynced bytes (all dropped, all kept, a prefix of them kept, one
// 512-byte sector of them lost) is recovered with Open + ReadAll (+ Repair)
// and must give back exactly a state the log passed through, no older than
// the last acknowledged sync and never anything that was not written; and
// the recovered log must take a new entry and keep it.
//
// The disk model is etcd's (and the zeroed-sector rule's): a 512-byte
// sector is written whole or not at all, so inside space the file already
// had, unsynced bytes survive in whole sectors; a file's size, where it
// grew, may end at any byte.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"
#include "pkg/testutil/status_matchers.h"
#include "wal/fault_file_system.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace etcd::wal {
namespace {

using ::etcd::wal::testing::Entry;
using ::etcd::wal::testing::HardState;
using ::etcd::wal::testing::SameEntry;
using ::etcd::wal::testing::SameState;
using ::etcd::wal::testing::Snap;

constexpr char kDir[] = "/data/wal";
constexpr char kMetadata[] = "node=1 cluster=7";

// What the log holds after some prefix of the records written.
struct LogState {
  std::vector<raftpb::Entry> entries;
  raftpb::HardState state;
};

std::string Describe(const LogState& s) {
  std::string out = absl::StrFormat("state{term=%d vote=%d commit=%d} entries[", s.state.term(),
                                    s.state.vote(), s.state.commit());
  for (const raftpb::Entry& e : s.entries) {
    absl::StrAppend(&out, " ", e.index(), "/", e.term(), "/", e.data().size());
  }
  return out + " ]";
}

bool Same(const LogState& a, const LogState& b) {
  if (!SameState(a.state, b.state) || a.entries.size() != b.entries.size()) return false;
  for (size_t i = 0; i < a.entries.size(); ++i) {
    if (!SameEntry(a.entries[i], b.entries[i])) return false;
  }
  return true;
}

// The record-by-record history of a workload run.
struct History {
  // states[r]: the log after the first r entry/state records.
  std::vector<LogState> states = {LogState()};
  // Whether Create returned OK.
  bool created = false;
  // The number of records acknowledged as durable (a syncing call returned
  // OK after they were written).
  size_t durable = 0;
  // The number of records some call tried to write.
  size_t written = 0;

  void Append(const raftpb::Entry& e) {
    LogState next = states.back();
    next.entries.resize(e.index() - 1);
    next.entries.push_back(e);
    states.push_back(std::move(next));
  }
  void SetState(const raftpb::HardState& s) {
    if (s.term() == 0 && s.vote() == 0 && s.commit() == 0) return;
    LogState next = states.back();
    next.state = s;
    states.push_back(std::move(next));
  }
};

Options MakeOptions(FileSystem* fs) {
  Options options;
  options.fs = fs;
  options.segment_size_bytes = 2048;  // cut often
  return options;
}

// Runs a deterministic workload for `seed` until it ends or a call fails.
// Returns how many calls succeeded.
int RunWorkload(FaultFileSystem* fs, uint32_t seed, int steps, History* history) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  absl::StatusOr<std::unique_ptr<WAL>> created = WAL::Create(kDir, kMetadata, MakeOptions(fs));
  if (!created.ok()) return 0;
  std::unique_ptr<WAL> w = *std::move(created);
  history->created = true;

  raftpb::HardState state;
  uint64_t last = 0;
  int done = 1;
  for (int step = 0; step < steps; ++step) {
    const int kind = uniform(0, 99);
    absl::Status status;
    if (kind < 60 || last < 3) {
      // Append 1-3 entries, sometimes with a new term that overwrites a few.
      raftpb::HardState next = state;
      uint64_t first = last + 1;
      if (kind < 10 && last >= 3) {
        next.set_term(next.term() + 1);
        first = last - static_cast<uint64_t>(uniform(0, 2));
      }
      if (next.term() == 0) next.set_term(1);
      next.set_vote(1);
      std::vector<raftpb::Entry> entries;
      const int n = uniform(1, 3);
      for (int i = 0; i < n; ++i) {
        std::string data(static_cast<size_t>(uniform(0, 300)), '\0');
        for (char& c : data) c = static_cast<char>(uniform(0, 255));
        entries.push_back(Entry(first + i, next.term(), data));
      }
      for (const raftpb::Entry& e : entries) history->Append(e);
      history->SetState(next);
      history->written = history->states.size() - 1;
      status = w->Save(next, entries);
      if (status.ok()) {
        history->durable = history->written;
        state = next;
        last = entries.back().index();
      }
    } else if (kind < 80) {
      // A new commit index alone: written, not synced.
      raftpb::HardState next = state;
      next.set_commit(std::min<uint64_t>(last, next.commit() + 1 + uniform(0, 2)));
      history->SetState(next);
      history->written = history->states.size() - 1;
      status = w->Save(next, {});
      if (status.ok()) state = next;
    } else if (kind < 92 && state.commit() > 0) {
      status = w->SaveSnapshot(Snap(state.commit(), state.term()));
      if (status.ok()) history->durable = history->written;
    } else {
      status = w->ReleaseLockTo(state.commit());
    }
    if (!status.ok()) return done;
    ++done;
  }
  return done;
}

// Reads the log back the way a restarting member does.
absl::StatusOr<ReadResult> Recover(FaultFileSystem* fs) {
  {
    ASSIGN_OR_RETURN(std::unique_ptr<WAL> w, WAL::Open(kDir, walpb::Snapshot(), MakeOptions(fs)));
    absl::StatusOr<ReadResult> read = w->ReadAll();
    if (!IsUnexpectedEOF(read.status())) return read;
  }
  RETURN_IF_ERROR(Repair(kDir, MakeOptions(fs)));
  ASSIGN_OR_RETURN(std::unique_ptr<WAL> w, WAL::Open(kDir, walpb::Snapshot(), MakeOptions(fs)));
  return w->ReadAll();
}

// Recovers `fs` and checks the result against `history`; then checks the
// recovered log takes a new entry. Returns a description of what is wrong,
// or "".
std::string CheckRecovery(FaultFileSystem* fs, const History& history, bool append) {
  if (!Exist(kDir, fs)) {
    if (history.created) return "Create returned OK but the log is gone";
    return "";
  }
  absl::StatusOr<ReadResult> read = Recover(fs);
  if (!read.ok()) return absl::StrCat("recovery failed: ", read.status().ToString());
  if (read->metadata != kMetadata) return absl::StrCat("metadata is '", read->metadata, "'");
  LogState got{read->entries, read->state};
  bool matched = false;
  for (size_t r = history.durable; r <= history.written && r < history.states.size(); ++r) {
    if (Same(got, history.states[r])) {
      matched = true;
      break;
    }
  }
  if (!matched) {
    std::string why = absl::StrFormat(
        "recovered %s, which is not a state between record %d (acknowledged) and %d (written); "
        "acknowledged state: %s",
        Describe(got), history.durable, history.written, Describe(history.states[history.durable]));
    return why;
  }
  if (!append) return "";

  // The recovered log must take new records and keep them.
  const uint64_t next_index = got.entries.empty() ? 1 : got.entries.back().index() + 1;
  raftpb::HardState state = got.state;
  state.set_term(std::max<uint64_t>(state.term(), 1) + 1);
  const raftpb::Entry extra = Entry(next_index, state.term(), "after the crash");
  {
    absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(kDir, walpb::Snapshot(), MakeOptions(fs));
    if (!w.ok()) return absl::StrCat("reopen: ", w.status().ToString());
    absl::StatusOr<ReadResult> again = (*w)->ReadAll();
    if (!again.ok()) return absl::StrCat("second read: ", again.status().ToString());
    absl::Status saved = (*w)->Save(state, {extra});
    if (!saved.ok()) return absl::StrCat("append after recovery: ", saved.ToString());
  }
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Open(kDir, walpb::Snapshot(), MakeOptions(fs));
  if (!w.ok()) return absl::StrCat("reopen after append: ", w.status().ToString());
  absl::StatusOr<ReadResult> after = (*w)->ReadAll();
  if (!after.ok()) return absl::StrCat("read after append: ", after.status().ToString());
  LogState want = got;
  want.entries.push_back(extra);
  want.state = state;
  LogState have{after->entries, after->state};
  if (!Same(have, want)) {
    return absl::StrCat("after appending, read ", Describe(have), ", want ", Describe(want));
  }
  return "";
}

struct Totals {
  int crash_points = 0;
  int recoveries = 0;
};

void CrashAtEveryPoint(uint32_t seed, int steps, Totals* totals) {
  for (int64_t crash_at = 0;; ++crash_at) {
    FaultFileSystem fs;
    fs.MakeDurableDir("/data");
    fs.CrashAfter(crash_at);
    History history;
    const int done = RunWorkload(&fs, seed, steps, &history);
    if (!fs.crashed()) {
      ASSERT_EQ(done, steps + 1) << "a call failed without a crash";
      break;
    }
    ++totals->crash_points;
    const std::string where = absl::StrFormat("seed %d, crash after %d operations", seed, crash_at);

    // Everything unsynced lost, and everything kept.
    auto check = [&](const FaultFileSystem::CrashPolicy& policy, const std::string& variant,
                     bool append) {
      std::unique_ptr<FaultFileSystem> after = fs.CloneAfterCrash(policy);
      ++totals->recoveries;
      const std::string problem = CheckRecovery(after.get(), history, append);
      ASSERT_EQ(problem, "") << where << ", " << variant;
    };
    ASSERT_NO_FATAL_FAILURE(
        check(&FaultFileSystem::KeepDurable, "all unsynced bytes dropped", true));
    ASSERT_NO_FATAL_FAILURE(check(
        [](const std::string&, const std::string&, const std::string& current) { return current; },
        "all unsynced bytes kept", true));

    for (const FaultFileSystem::UnsyncedFile& file : fs.UnsyncedFiles()) {
      // The pipeline's spare files are never read.
      if (absl::EndsWith(file.path, ".tmp")) continue;
      // A prefix of the unsynced bytes of this file survives, the other
      // files' unsynced bytes are dropped. Where the file already had its
      // space (preallocated), a crash keeps whole 512-byte sectors, so the
      // prefix ends at every sector boundary; where the file grew, its size
      // may end up anywhere, so the prefix ends at every byte.
      std::unique_ptr<FaultFileSystem> probe = fs.CloneAfterCrash(&FaultFileSystem::KeepDurable);
      const int64_t durable_size =
          static_cast<int64_t>(probe->ReadFile(file.path).value_or("").size());
      for (int64_t keep = file.first_diff + 1; keep < file.end_diff; ++keep) {
        if (keep <= durable_size && keep % 512 != 0) continue;
        ASSERT_NO_FATAL_FAILURE(check(
            [&](const std::string& path, const std::string& durable, const std::string& current) {
              return path == file.path ? FaultFileSystem::KeepPrefix(durable, current, keep)
                                       : durable;
            },
            absl::StrCat(file.path, " keeps ", keep - file.first_diff, " unsynced bytes"),
            /*append=*/keep % 512 == 0 || keep % 61 == 0));
      }
      // Each sector of them lost, everything else kept.
      for (int64_t sector = file.first_diff / 512; sector * 512 < file.end_diff; ++sector) {
        ASSERT_NO_FATAL_FAILURE(check(
            [&](const std::string& path, const std::string& durable, const std::string& current) {
              return path == file.path ? FaultFileSystem::LoseSector(durable, current, sector)
                                       : current;
            },
            absl::StrCat(file.path, " loses sector ", sector), true));
      }
    }
  }
}

// Recoveries log a few lines each; thousands of them would drown the output.
void QuietLogs() {
  log::LoggerOptions options;
  options.level = log::Level::kError;
  log::SetDefault(
      std::make_unique<log::Logger>(options, std::vector<std::shared_ptr<log::Sink>>()));
}

TEST(FaultInjectionTest, EveryCrashPointAndTear) {
  QuietLogs();
  Totals totals;
  for (uint32_t seed : {1u, 2u, 3u}) {
    ASSERT_NO_FATAL_FAILURE(CrashAtEveryPoint(seed, 40, &totals));
  }
  std::printf("crash points: %d, recoveries checked: %d\n", totals.crash_points, totals.recoveries);
  EXPECT_GT(totals.crash_points, 100);
}

// The checker itself: a "recovery" that loses an acknowledged entry, or
// returns one never written, is caught.
TEST(FaultInjectionTest, CheckerCatchesLossAndGarbage) {
  FaultFileSystem fs;
  fs.MakeDurableDir("/data");
  History history;
  ASSERT_GT(RunWorkload(&fs, 7, 10, &history), 10);
  ASSERT_EQ(CheckRecovery(&fs, history, false), "");

  // Pretend one more entry had been acknowledged: the real log lacks it.
  History lost = history;
  for (size_t r = lost.durable; r <= lost.written; ++r) {
    lost.states[r].entries.push_back(Entry(10000, 99, "acknowledged"));
  }
  EXPECT_THAT(CheckRecovery(&fs, lost, false), ::testing::HasSubstr("not a state between"));

  // Pretend different bytes had been written: the real log is "garbage".
  History garbage = history;
  for (size_t r = garbage.durable; r <= garbage.written; ++r) {
    ASSERT_FALSE(garbage.states[r].entries.empty());
    garbage.states[r].entries.back().set_data("other bytes");
  }
  EXPECT_THAT(CheckRecovery(&fs, garbage, false), ::testing::HasSubstr("not a state between"));
}

}  // namespace
}  // namespace etcd::wal
