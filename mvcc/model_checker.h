// Drives a real Store (on a real backend in a directory) and a KvModel with the
// same random operations and compares them after every step: puts, deletes,
// multi-op transactions with reads inside, ranges at any revision (future and
// compacted ones included), compactions (waited for or not), restarts (store
// and backend closed and reopened, possibly in the middle of a compaction),
// leases (a fake lessor must agree with the model), and etcd's HashKV, which
// the model computes independently from its own history.
//
//   RandomChoices choices(seed);
//   ASSERT_OK_AND_ASSIGN(auto checker, ModelChecker::Create({.dir = dir.path()}));
//   for (int i = 0; i < 1000; ++i) ASSERT_OK(checker->Step(choices)) << checker->Trace();
//
// Used by the randomized test and the fuzz target. Thread-compatible.

#ifndef ETCD_MVCC_MODEL_CHECKER_H_
#define ETCD_MVCC_MODEL_CHECKER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/choices.h"
#include "mvcc/kv_model.h"
#include "mvcc/kvstore.h"

namespace etcd::mvcc {

using testutil::BytesChoices;
using testutil::Choices;
using testutil::RandomChoices;

// A lessor that records attachments and checks detaches.
class FakeLessor : public LeaseAttacher {
 public:
  int64_t GetLease(absl::string_view key) override;
  absl::Status Attach(int64_t lease, absl::string_view key) override;
  absl::Status Detach(int64_t lease, absl::string_view key) override;
  std::map<std::string, int64_t> leases() const { return {leases_.begin(), leases_.end()}; }

 private:
  std::map<std::string, int64_t, std::less<>> leases_;
};

class ModelChecker {
 public:
  struct Options {
    // Directory for the database; must exist.
    std::string dir;
    // Distinct keys operations pick from (small: more overwrites).
    int key_space = 10;
    // Allow restarts.
    bool restarts = true;
    // Backend batch limit (small: many commits).
    int batch_limit = 7;
    // Store compaction batch limit (small: many compaction batches).
    int compaction_batch_limit = 3;
  };

  static absl::StatusOr<std::unique_ptr<ModelChecker>> Create(Options options);
  ~ModelChecker();

  // Runs one random operation and the checks after it.
  absl::Status Step(Choices& choices);
  // Compares the whole visible state (every retained revision).
  absl::Status CheckAll();
  // The last operations, for failure messages.
  std::string Trace() const;

  const KvModel& model() const { return model_; }
  Store& store() { return *store_; }

 private:
  explicit ModelChecker(Options options) : options_(std::move(options)) {}

  absl::Status Open();
  void Close();
  absl::Status Restart();

  std::string PickKey(Choices& c);
  std::pair<std::string, std::string> PickRange(Choices& c);
  int64_t PickRev(Choices& c);
  RangeOptions PickRangeOptions(Choices& c);

  absl::Status DoPut(Choices& c);
  absl::Status DoDelete(Choices& c);
  absl::Status DoTxn(Choices& c);
  absl::Status DoRange(Choices& c);
  absl::Status DoCompact(Choices& c);
  absl::Status DoHash(Choices& c);
  absl::Status CheckLeases();
  absl::Status CompareRange(const std::string& what, const std::string& key, const std::string& end,
                            const RangeOptions& options);
  // The HashKV the model expects at `rev`; nullopt when etcd's definition
  // depends on how far the physical compaction got.
  std::optional<uint32_t> ModelHash(int64_t rev) const;

  void Note(std::string op);

  const Options options_;
  KvModel model_;
  FakeLessor lessor_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<Store> store_;
  int64_t step_ = 0;
  std::deque<std::string> trace_;
};

}  // namespace etcd::mvcc

#endif  // ETCD_MVCC_MODEL_CHECKER_H_
