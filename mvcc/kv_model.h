// A plain reference model of the MVCC store for tests: every version of every
// key in a map, revisions counted the way etcd counts them, no index, no
// backend, no compaction of data (only of what may be read).
//
//   KvModel model;
//   KvModel::Txn txn = model.Begin();
//   txn.Put("a", "1", kNoLease);
//   txn.End();                                      // revision 2
//   absl::StatusOr<RangeResult> r = model.Range("a", "", {.rev = 2});
//
// Results have the same shape as the store's, so tests compare them with ==.
//
// Thread-compatible (tests drive it from one thread).

#ifndef ETCD_MVCC_KV_MODEL_H_
#define ETCD_MVCC_KV_MODEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mvcc/kv.h"

namespace etcd::mvcc {

class KvModel {
 public:
  struct Version {
    int64_t main = 0;
    int64_t sub = 0;
    bool deleted = false;
    mvccpb::KeyValue kv;  // for a put
  };

  // A write transaction; End() (or destruction) commits its revision.
  class Txn {
   public:
    Txn(Txn&& other) noexcept;
    Txn& operator=(Txn&&) = delete;
    ~Txn();

    int64_t Rev() const { return begin_rev_; }
    int64_t Put(absl::string_view key, absl::string_view value, int64_t lease);
    DeleteResult DeleteRange(absl::string_view key, absl::string_view end);
    absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                      const RangeOptions& options) const;
    const std::vector<mvccpb::KeyValue>& Changes() const { return changes_; }
    void End();

   private:
    friend class KvModel;
    explicit Txn(KvModel* model);

    KvModel* model_;
    int64_t begin_rev_;
    std::vector<mvccpb::KeyValue> changes_;
    bool ended_ = false;
  };

  Txn Begin() { return Txn(this); }

  int64_t Put(absl::string_view key, absl::string_view value, int64_t lease);
  DeleteResult DeleteRange(absl::string_view key, absl::string_view end);
  absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                    const RangeOptions& options) const;
  // Same checks as the store's Compact.
  absl::Status Compact(int64_t rev);

  int64_t current_rev() const { return current_rev_; }
  int64_t compact_rev() const { return compact_rev_; }

  // The live key-value of `key` at `rev`, if any.
  const mvccpb::KeyValue* Get(absl::string_view key, int64_t rev) const;
  // Every live key and its lease at the current revision (leases != 0).
  std::map<std::string, int64_t> Leases() const;
  // Keys with any history.
  std::vector<std::string> Keys() const;
  // Every version of every key, in revision order per key.
  const std::map<std::string, std::vector<Version>, std::less<>>& history() const {
    return history_;
  }

 private:
  absl::StatusOr<RangeResult> RangeAt(absl::string_view key, absl::string_view end,
                                      const RangeOptions& options, int64_t cur_rev) const;

  std::map<std::string, std::vector<Version>, std::less<>> history_;
  int64_t current_rev_ = 1;
  int64_t compact_rev_ = -1;
};

// Whether two range results are equal; a description of the first
// difference otherwise (empty when equal).
std::string DiffRangeResults(const absl::StatusOr<RangeResult>& got,
                             const absl::StatusOr<RangeResult>& want);

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_KV_MODEL_H_
