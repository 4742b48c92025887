#include "mvcc/crash_workload.h"

#include "absl/strings/str_format.h"

namespace etcd::mvcc {

WorkloadOp Workload::Next(const KvModel& model) {
  WorkloadOp op;
  auto key = [&] { return absl::StrFormat("key%03d", rng_() % 60); };
  auto value = [&] {
    // Mostly small values, some large enough to span LMDB overflow pages.
    const size_t n = rng_() % 10 == 0 ? 4000 + rng_() % 12000 : 10 + rng_() % 600;
    return std::string(n, static_cast<char>('a' + rng_() % 26));
  };
  const uint64_t kind = rng_() % 100;
  if (kind < 4 && model.current_rev() > model.compact_rev() + 1) {
    const int64_t low = std::max<int64_t>(model.compact_rev() + 1, 1);
    op.compact_rev = low + static_cast<int64_t>(rng_() % (model.current_rev() - low + 1));
    return op;
  }
  const int n = kind < 70 ? 1 : 2 + static_cast<int>(rng_() % 3);
  for (int i = 0; i < n; ++i) {
    WorkloadOp::Change change;
    change.key = key();
    if (rng_() % 5 == 0) {
      change.del = true;
      if (rng_() % 2 == 0) {
        change.end = change.key;
        change.end.back() += 1 + rng_() % 5;  // a few keys
      }
    } else {
      change.value = value();
    }
    op.changes.push_back(std::move(change));
  }
  return op;
}

void ApplyToModel(const WorkloadOp& op, KvModel* model) {
  if (op.compact_rev > 0) {
    model->Compact(op.compact_rev).IgnoreError();
    return;
  }
  KvModel::Txn txn = model->Begin();
  for (const WorkloadOp::Change& c : op.changes) {
    if (c.del) {
      txn.DeleteRange(c.key, c.end);
    } else {
      txn.Put(c.key, c.value, kNoLease);
    }
  }
}

void ApplyToStore(const WorkloadOp& op, Store* store) {
  if (op.compact_rev > 0) {
    store->Compact(op.compact_rev).status().IgnoreError();
    return;
  }
  std::unique_ptr<TxnWrite> txn = store->Write();
  for (const WorkloadOp::Change& c : op.changes) {
    if (c.del) {
      txn->DeleteRange(c.key, c.end);
    } else {
      txn->Put(c.key, c.value, kNoLease);
    }
  }
  txn->End();
}

}  // namespace etcd::mvcc
