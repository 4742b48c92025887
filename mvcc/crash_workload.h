// A deterministic stream of store operations for the crash test: the child
// process applies it to a real store, the parent replays it on a KvModel up to
// the consistent index found after the crash.
//
//   Workload workload(seed);
//   KvModel model;
//   for (uint64_t i = 1; i <= n; ++i) ApplyToModel(workload.Next(model), &model);
//
// Operation i depends only on the seed and on the model state after
// operations 1..i-1, never on what a store returned.
//
// Thread-compatible.

#ifndef ETCD_MVCC_CRASH_WORKLOAD_H_
#define ETCD_MVCC_CRASH_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mvcc/kv_model.h"
#include "mvcc/kvstore.h"

namespace etcd::mvcc {

struct WorkloadOp {
  struct Change {
    bool del = false;
    std::string key;
    std::string end;    // for deletions
    std::string value;  // for puts
  };
  // Empty for a compaction.
  std::vector<Change> changes;
  // > 0: a compaction at this revision.
  int64_t compact_rev = 0;
};

class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}
  WorkloadOp Next(const KvModel& model);

 private:
  std::mt19937_64 rng_;
};

void ApplyToModel(const WorkloadOp& op, KvModel* model);
// Compactions are scheduled, not waited for.
void ApplyToStore(const WorkloadOp& op, Store* store);

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_CRASH_WORKLOAD_H_
