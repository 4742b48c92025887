// The process the crash test kills: applies the crash workload to a store,
// one consistent index per operation, and reports progress on stdout:
//
//   durable <index>   after Commit() returned: everything up to <index> is on disk
//   compact <index>   operation <index> schedules a compaction
//   defrag-start / defrag-end
//   done              the workload ended (the test normally kills it first)
//
// Usage: kvstore_crash_child <dir> <seed> [max-ops]

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "mvcc/backend/backend.h"
#include "mvcc/crash_workload.h"
#include "mvcc/kv_model.h"
#include "mvcc/kvstore.h"

namespace {

void Say(const char* format, unsigned long long n) {
  std::printf(format, n);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etcd::mvcc;  // NOLINT: a small test program
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <dir> <seed> [max-ops]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const uint64_t max_ops = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1000000;

  backend::BackendOptions bopts;
  bopts.path = dir + "/db";
  bopts.batch_limit = 40;
  bopts.batch_interval = absl::Milliseconds(5);
  bopts.initial_map_size = 1 << 20;  // grows while the test runs
  absl::StatusOr<std::unique_ptr<backend::Backend>> be = backend::Backend::Open(bopts);
  if (!be.ok()) {
    std::fprintf(stderr, "open backend: %s\n", be.status().ToString().c_str());
    return 1;
  }
  StoreOptions sopts;
  sopts.compaction_batch_limit = 50;
  sopts.compaction_sleep_interval = absl::Milliseconds(1);
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(be->get(), sopts);
  if (!store.ok()) {
    std::fprintf(stderr, "open store: %s\n", store.status().ToString().c_str());
    return 1;
  }

  Workload workload(seed);
  KvModel model;
  std::mt19937_64 side(seed ^ 0x5eedULL);
  for (uint64_t i = 1; i <= max_ops; ++i) {
    const WorkloadOp op = workload.Next(model);
    ApplyToModel(op, &model);
    (*store)->SetConsistentIndex(i);
    if (op.compact_rev > 0) Say("compact %llu\n", i);
    ApplyToStore(op, store->get());
    if (side() % 50 == 0) {
      (*store)->Commit();
      Say("durable %llu\n", i);
    }
    if (side() % 500 == 0) {
      Say("defrag-start %llu\n", i);
      absl::Status status = (*be)->Defrag();
      if (!status.ok()) {
        std::fprintf(stderr, "defrag: %s\n", status.ToString().c_str());
        return 1;
      }
      Say("defrag-end %llu\n", i);
    }
  }
  (*store)->Commit();
  Say("durable %llu\n", max_ops);
  std::printf("done\n");
  return 0;
}
