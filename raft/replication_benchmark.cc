// Replication throughput of a 3-node cluster of RawNodes in memory: the
// leader proposes a batch of entries, and every node runs its Ready loop
// (append to MemoryStorage, hand messages straight to the peer's Step,
// apply, Advance) until all three applied the batch. No I/O, no threads:
// this measures the library's own cost per replicated entry.
//
//   bazel run -c opt //raft:replication_benchmark
//
// Counters: items_per_second is entries committed and applied on all three
// nodes per second; allocs_per_entry counts calls to operator new (replaced
// in this binary) across the three nodes and the driver, per entry.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "raft/logger.h"
#include "raft/rawnode.h"
#include "raft/storage.h"
#include "raft/util.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

void* CountedAlloc(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort();
  return p;
}

void* CountedAlignedAlloc(size_t n, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  size_t a = static_cast<size_t>(align);
  void* p = std::aligned_alloc(a, (n + a - 1) / a * a);
  if (p == nullptr) std::abort();
  return p;
}

}  // namespace

void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new(size_t n, std::align_val_t a) { return CountedAlignedAlloc(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return CountedAlignedAlloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace etcd::raft {
namespace {

constexpr int kNodes = 3;
// Entries kept in each storage behind the applied index.
constexpr uint64_t kRetained = 1024;

class Cluster {
 public:
  Cluster() {
    std::vector<Peer> peers;
    for (uint64_t id = 1; id <= kNodes; ++id) peers.push_back(Peer{id, ""});
    for (uint64_t id = 1; id <= kNodes; ++id) {
      Member& m = members_[id - 1];
      m.storage = std::make_unique<MemoryStorage>();
      Config c;
      c.id = id;
      c.election_tick = 10;
      c.heartbeat_tick = 1;
      c.storage = m.storage.get();
      c.max_size_per_msg = 1 << 20;
      c.max_inflight_msgs = 256;
      c.logger = DiscardLoggerInstance();
      c.random_seed = id;
      m.node = *RawNode::New(c);
      (void)m.node->Bootstrap(peers);
    }
    Settle();
    (void)members_[0].node->Campaign();
    Settle();
  }

  RawNode& leader() { return *members_[0].node; }

  // Runs Ready loops and delivers messages until nothing is left.
  void Settle() {
    for (bool busy = true; busy;) {
      busy = false;
      for (Member& m : members_) {
        while (m.node->HasReady()) {
          busy = true;
          Process(m);
        }
      }
      while (!queue_.empty()) {
        busy = true;
        raftpb::Message msg = std::move(queue_.front());
        queue_.pop_front();
        (void)members_[msg.to() - 1].node->Step(std::move(msg));
      }
    }
  }

  // The smallest applied index over the nodes.
  uint64_t MinApplied() const {
    uint64_t min = members_[0].applied;
    for (const Member& m : members_) min = std::min(min, m.applied);
    return min;
  }

 private:
  struct Member {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> node;
    uint64_t applied = 0;
    uint64_t applied_bytes = 0;
  };

  void Process(Member& m) {
    Ready rd = m.node->GetReady();
    if (!IsEmptySnap(rd.snapshot)) (void)m.storage->ApplySnapshot(rd.snapshot);
    (void)m.storage->Append(rd.entries);
    if (!IsEmptyHardState(rd.hard_state)) (void)m.storage->SetHardState(rd.hard_state);
    for (raftpb::Message& msg : rd.messages) queue_.push_back(std::move(msg));
    for (const raftpb::Entry& e : rd.committed_entries) {
      if (e.type() == raftpb::EntryConfChange) {
        raftpb::ConfChange cc;
        cc.ParseFromString(e.data());
        m.node->ApplyConfChange(cc);
      }
      m.applied_bytes += e.data().size();
      m.applied = e.index();
    }
    m.node->Advance(rd);
    if (m.applied > 2 * kRetained && m.applied % kRetained == 0) {
      (void)m.storage->Compact(m.applied - kRetained);
    }
  }

  Member members_[kNodes];
  std::deque<raftpb::Message> queue_;
};

void BM_Replicate3(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const int64_t batch = state.range(1);
  Cluster cluster;
  if (cluster.leader().raft().state() != StateType::kLeader) {
    state.SkipWithError("node 1 did not become leader");
    return;
  }
  const std::string payload(size, 'x');
  const uint64_t allocs_before = g_allocations.load(std::memory_order_relaxed);
  const uint64_t applied_before = cluster.MinApplied();
  for (auto _ : state) {
    for (int64_t i = 0; i < batch; ++i) (void)cluster.leader().Propose(payload);
    cluster.Settle();
  }
  const uint64_t allocs = g_allocations.load(std::memory_order_relaxed) - allocs_before;
  const uint64_t entries = cluster.MinApplied() - applied_before;
  if (entries != static_cast<uint64_t>(state.iterations() * batch)) {
    state.SkipWithError("not every proposal was applied on every node");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(entries));
  state.SetBytesProcessed(static_cast<int64_t>(entries * size));
  state.counters["allocs_per_entry"] =
      static_cast<double>(allocs) / static_cast<double>(entries == 0 ? 1 : entries);
}

BENCHMARK(BM_Replicate3)
    ->ArgNames({"bytes", "batch"})
    ->Args({128, 1})
    ->Args({128, 64})
    ->Args({1024, 1})
    ->Args({1024, 64});

}  // namespace
}  // namespace etcd::raft
