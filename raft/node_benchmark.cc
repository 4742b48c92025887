// Benchmarks of the Node and RawNode proposal paths.
//
// BM_OneNode is etcd's BenchmarkOneNode (raft/node_bench_test.go, 3.4): one
// voter, proposals from another thread, and a driver loop that appends each
// Ready's entries to a MemoryStorage and sleeps 1 ms for the disk sync
// before Advance. It ends when the driver sees the commit of the last
// proposal. The time per op is wall time per proposal, setup included, as in
// Go. Compare with
//
//   cd /usr/share/gocode/src/go.etcd.io/etcd/raft
//   GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=/tmp/gocache
//     go test -run XXX -bench BenchmarkOneNode -benchtime 3s .
//   bazel run -c opt //raft:node_benchmark -- --benchmark_filter=OneNode
//
// Debian's Abseil keeps absl::Mutex deadlock detection on (see main); set
// RAFT_BENCH_DEADLOCK_DETECTION=1 to measure with it.
//
// BM_RawNodePropose is the single-threaded core of the same loop, without
// the sleep: Propose, GetReady, Append, Advance.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "raft/logger.h"
#include "raft/node.h"
#include "raft/rawnode.h"
#include "raft/storage.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

// etcd's newTestConfig(1, []uint64{1}, 10, 1, s).
Config OneVoterConfig(MemoryStorage* s) {
  Config c;
  c.id = 1;
  c.peers = {1};
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.storage = s;
  c.max_size_per_msg = kNoLimit;
  c.max_inflight_msgs = 256;
  c.logger = DiscardLoggerInstance();
  return c;
}

void BM_OneNode(benchmark::State& state) {
  const int64_t n = static_cast<int64_t>(state.max_iterations);
  while (state.KeepRunningBatch(n)) {
    MemoryStorage s;
    absl::StatusOr<std::unique_ptr<Node>> node = RestartNode(OneVoterConfig(&s));
    if (!node.ok()) {
      state.SkipWithError("cannot create the node");
      return;
    }
    (void)(*node)->Campaign();
    std::thread proposer([&] {
      for (int64_t i = 0; i < n; ++i) (void)(*node)->Propose("foo");
    });
    for (;;) {
      std::optional<Ready> rd = (*node)->WaitReady(absl::InfiniteFuture());
      if (!rd.has_value()) break;
      (void)s.Append(rd->entries);
      // A reasonable disk sync latency.
      absl::SleepFor(absl::Milliseconds(1));
      (*node)->Advance();
      if (rd->hard_state.commit() == static_cast<uint64_t>(n + 1)) break;
    }
    proposer.join();
    (*node)->Stop();
  }
}
BENCHMARK(BM_OneNode)->UseRealTime()->MinTime(3.0);

void BM_RawNodePropose(benchmark::State& state) {
  MemoryStorage s;
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(OneVoterConfig(&s));
  if (!rn.ok()) {
    state.SkipWithError("cannot create the node");
    return;
  }
  RawNode& node = **rn;
  (void)node.Campaign();
  while (node.HasReady()) {
    Ready rd = node.GetReady();
    (void)s.Append(rd.entries);
    node.Advance(rd);
  }
  for (auto _ : state) {
    (void)node.Propose("foo");
    Ready rd = node.GetReady();
    (void)s.Append(rd.entries);
    if (!IsEmptyHardState(rd.hard_state)) (void)s.SetHardState(rd.hard_state);
    node.Advance(rd);
  }
}
BENCHMARK(BM_RawNodePropose);

}  // namespace
}  // namespace etcd::raft

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock
  // detection on: every Lock then updates a process-wide lock graph. Release
  // builds of Abseil have it off, and so do this project's servers.
  const char* keep = std::getenv("RAFT_BENCH_DEADLOCK_DETECTION");
  if (keep == nullptr || std::string(keep) != "1") {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
