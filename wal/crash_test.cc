// A writer process is SIGKILLed at random moments while it saves; every
// entry whose Save returned (the writer printed "ack" after it) must be
// there after reopening, with the right bytes, and the log must reopen for
// writing every time (repairing a torn tail if the kill left one).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"
#include "wal/wal.h"

namespace etcd::wal {
namespace {

// Must match crash_writer.cc.
std::string EntryData(uint64_t index) {
  std::string data = absl::StrCat("entry-", index, "-");
  const size_t size = 20 + (index * 7919) % 700;
  while (data.size() < size) data.push_back(static_cast<char>('a' + (data.size() + index) % 26));
  return data;
}

struct WriterOutput {
  bool ready = false;
  uint64_t start = 0;  // last index when it started
  uint64_t acked = 0;  // last acknowledged index
};

// Only complete lines count: the writer prints each line with one write.
WriterOutput Parse(const std::string& out) {
  WriterOutput parsed;
  const size_t end = out.rfind('\n');
  if (end == std::string::npos) return parsed;
  for (absl::string_view line : absl::StrSplit(absl::string_view(out).substr(0, end), '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    uint64_t value;
    if (words.size() != 2 || !absl::SimpleAtoi(words[1], &value)) continue;
    if (words[0] == "ready") {
      parsed.ready = true;
      parsed.start = value;
    } else if (words[0] == "ack") {
      parsed.acked = value;
    }
  }
  return parsed;
}

TEST(CrashTest, AcknowledgedEntriesSurviveSigkill) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir tmp, testutil::TempDir::Create("crash"));
  const std::string dir = tmp.Join("wal");
  const std::string writer = testutil::RunfilePath("wal/crash_writer");
  const uint32_t seed = static_cast<uint32_t>(absl::ToUnixNanos(absl::Now()));
  std::mt19937 rng(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));

  const absl::Time deadline = absl::Now() + absl::Seconds(12);
  uint64_t acked = 0;
  int rounds = 0;
  int killed_mid_run = 0;
  while (absl::Now() < deadline || rounds < 5) {
    ++rounds;
    testutil::SubprocessOptions options;
    // 256 KiB segments: kills land in cuts too.
    options.argv = {writer, dir, "262144", "16"};
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> p,
                         testutil::Subprocess::Start(options));
    ASSERT_TRUE(testutil::WaitUntil([&] { return Parse(p->ReadStdout()).ready || !p->Alive(); },
                                    absl::Seconds(20)))
        << p->ReadStderr();
    ASSERT_TRUE(Parse(p->ReadStdout()).ready) << "round " << rounds << ": " << p->ReadStderr();
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(1, 150)(rng)));
    if (p->Alive()) ++killed_mid_run;
    ASSERT_OK(p->Kill(SIGKILL));
    ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, p->Wait(absl::Seconds(20)));
    ASSERT_EQ(status.signal, SIGKILL) << p->ReadStderr();

    const WriterOutput out = Parse(p->ReadStdout());
    // The writer starts from what survived the previous kill, which holds
    // at least everything acknowledged before.
    ASSERT_GE(out.start, acked) << "round " << rounds;
    acked = std::max(acked, out.acked);

    // Reopen as a restarting member would, and check every entry.
    absl::StatusOr<ReadResult> read;
    for (int attempt = 0;; ++attempt) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<WAL> w, WAL::Open(dir, walpb::Snapshot()));
      read = w->ReadAll();
      if (read.ok() || attempt > 0 || !IsUnexpectedEOF(read.status())) break;
      w.reset();
      ASSERT_OK(Repair(dir));
    }
    ASSERT_OK(read.status()) << "round " << rounds;
    ASSERT_GE(read->entries.size(), acked) << "round " << rounds << ": acknowledged entries lost";
    for (size_t i = 0; i < read->entries.size(); ++i) {
      const raftpb::Entry& e = read->entries[i];
      ASSERT_EQ(e.index(), i + 1) << "round " << rounds;
      ASSERT_EQ(e.data(), EntryData(e.index())) << "round " << rounds << ", entry " << e.index();
    }
  }
  std::printf("rounds: %d (%d killed while saving), last acknowledged index: %llu\n", rounds,
              killed_mid_run, static_cast<unsigned long long>(acked));
  EXPECT_GT(acked, 0u);
}

}  // namespace
}  // namespace etcd::wal
