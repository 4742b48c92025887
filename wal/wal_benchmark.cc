// Save throughput with one fdatasync per Save, next to the raw fdatasync
// rate of the same disk: the physical limit a WAL can approach.
//
//   bazel run -c opt //wal:wal_benchmark -- [--bench_dir=/tmp] [benchmark flags]
//
// BM_RawFdatasync/N: write N bytes at the end of a preallocated file, then
// fdatasync, as the WAL does for a batch of N bytes of records.
// BM_Save/fsync/B: WAL::Save of B entries of 256 bytes and a hard state (etcd's
// shape of a raft Ready), synced each time; BM_Save/no_fsync/B without the
// fdatasync (the CPU part).
// BM_SaveVsRawFdatasync/B: both alternated, with median latencies and their
// ratio; the fair comparison when the disk is shared.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pkg/fileutil/fileutil.h"
#include "wal/wal.h"

namespace etcd::wal {
namespace {

std::string g_bench_dir = "/tmp";

std::string ScratchDir(const std::string& name) {
  std::string pattern = absl::StrCat(g_bench_dir, "/", name, ".XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

void RemoveTree(const std::string& path) { FileSystem::Default()->RemoveAll(path).IgnoreError(); }

void BM_RawFdatasync(benchmark::State& state) {
  const std::string dir = ScratchDir("rawsync");
  const std::string path = dir + "/file";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    state.SkipWithError("open failed");
    return;
  }
  constexpr int64_t kFileSize = 64 * 1000 * 1000;
  if (!fileutil::Preallocate(fd, kFileSize, true).ok() || !fileutil::Fsync(fd).ok()) {
    state.SkipWithError("preallocate failed");
    return;
  }
  const std::string block(static_cast<size_t>(state.range(0)), 'x');
  int64_t offset = 0;
  for (auto _ : state) {
    if (offset + static_cast<int64_t>(block.size()) > kFileSize) offset = 0;
    if (pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()) ||
        fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    offset += static_cast<int64_t>(block.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  close(fd);
  RemoveTree(dir);
}
BENCHMARK(BM_RawFdatasync)->Arg(256)->Arg(2560)->Arg(25600)->Arg(256000)->UseRealTime();

void BM_Save(benchmark::State& state, bool sync) {
  const std::string dir = ScratchDir("save");
  Options options;
  options.unsafe_no_fsync = !sync;
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Create(dir + "/wal", "benchmark", options);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  const std::string data(256, 'd');
  std::vector<raftpb::Entry> entries(static_cast<size_t>(batch));
  raftpb::HardState hs;
  hs.set_term(1);
  hs.set_vote(1);
  for (raftpb::Entry& e : entries) {
    e.set_term(1);
    e.set_data(data);
  }
  uint64_t index = 0;
  for (auto _ : state) {
    for (raftpb::Entry& e : entries) e.set_index(++index);
    hs.set_commit(index - 1);
    absl::Status saved = (*w)->Save(hs, entries);
    if (!saved.ok()) {
      state.SkipWithError(saved.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * batch * 256);
  (*w)->Close().IgnoreError();
  w->reset();
  RemoveTree(dir);
}
BENCHMARK_CAPTURE(BM_Save, fsync, true)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();
// The same without fdatasync: the CPU cost of encoding and writing.
BENCHMARK_CAPTURE(BM_Save, no_fsync, false)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

// Save and a raw write + fdatasync of the same number of bytes, alternated
// in every iteration so both see the same disk conditions (the disk may be
// shared with other work). Reports the median latency of each and their
// ratio; the iteration time is the sum.
void BM_SaveVsRawFdatasync(benchmark::State& state) {
  const std::string dir = ScratchDir("paired");
  absl::StatusOr<std::unique_ptr<WAL>> w = WAL::Create(dir + "/wal", "benchmark");
  const std::string raw_path = dir + "/raw";
  int fd = open(raw_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  constexpr int64_t kFileSize = 64 * 1000 * 1000;
  if (!w.ok() || fd < 0 || !fileutil::Preallocate(fd, kFileSize, true).ok() ||
      !fileutil::Fsync(fd).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  const std::string data(256, 'd');
  std::vector<raftpb::Entry> entries(static_cast<size_t>(batch));
  raftpb::HardState hs;
  hs.set_term(1);
  hs.set_vote(1);
  // What one Save writes: each entry's frame (8 + ~16 record + ~10 entry
  // header + 256 data, padded) and the hard state's (24).
  const std::string block(static_cast<size_t>(batch) * 296 + 24, 'x');
  uint64_t index = 0;
  int64_t offset = 0;
  std::vector<double> raw_us, save_us;
  for (raftpb::Entry& e : entries) {
    e.set_term(1);
    e.set_data(data);
  }
  for (auto _ : state) {
    for (raftpb::Entry& e : entries) e.set_index(++index);
    hs.set_commit(index - 1);
    const absl::Time t0 = absl::Now();
    if (offset + static_cast<int64_t>(block.size()) > kFileSize) offset = 0;
    if (pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()) ||
        fdatasync(fd) != 0) {
      state.SkipWithError("raw write failed");
      break;
    }
    offset += static_cast<int64_t>(block.size());
    const absl::Time t1 = absl::Now();
    if (!(*w)->Save(hs, entries).ok()) {
      state.SkipWithError("Save failed");
      break;
    }
    const absl::Time t2 = absl::Now();
    raw_us.push_back(absl::ToDoubleMicroseconds(t1 - t0));
    save_us.push_back(absl::ToDoubleMicroseconds(t2 - t1));
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const double raw = median(raw_us), save = median(save_us);
  state.counters["raw_p50_us"] = raw;
  state.counters["save_p50_us"] = save;
  state.counters["save/raw"] = raw > 0 ? save / raw : 0;
  state.counters["entries/s"] = save > 0 ? batch * 1e6 / save : 0;
  close(fd);
  (*w)->Close().IgnoreError();
  w->reset();
  RemoveTree(dir);
}
BENCHMARK(BM_SaveVsRawFdatasync)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

}  // namespace
}  // namespace etcd::wal

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--bench_dir=")) {
      etcd::wal::g_bench_dir = std::string(arg);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::fprintf(stderr, "bench dir: %s\n", etcd::wal::g_bench_dir.c_str());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
