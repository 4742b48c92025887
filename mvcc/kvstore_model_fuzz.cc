// Fuzz target: the input chooses a sequence of store operations (puts,
// deletes, transactions, ranges at any revision, compactions, HashKV,
// restarts); the store must agree with the reference model after each one
// (model_checker.h).

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "mvcc/model_checker.h"
#include "pkg/testutil/temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace etcd::mvcc;  // NOLINT: a fuzz target
  absl::StatusOr<etcd::testutil::TempDir> dir = etcd::testutil::TempDir::Create("mvcc_fuzz");
  if (!dir.ok()) {
    std::fprintf(stderr, "temp dir: %s\n", dir.status().ToString().c_str());
    std::abort();
  }
  ModelChecker::Options options;
  options.dir = dir->path();
  options.key_space = 6;
  options.batch_limit = 3;
  options.compaction_batch_limit = 2;
  absl::StatusOr<std::unique_ptr<ModelChecker>> checker = ModelChecker::Create(options);
  if (!checker.ok()) {
    std::fprintf(stderr, "open: %s\n", checker.status().ToString().c_str());
    std::abort();
  }
  BytesChoices choices(data, size);
  for (int step = 0; step < 300 && !choices.Exhausted(); ++step) {
    absl::Status status = (*checker)->Step(choices);
    if (!status.ok()) {
      std::fprintf(stderr, "store and model disagree at step %d: %s\n%s\n", step,
                   status.ToString().c_str(), (*checker)->Trace().c_str());
      std::abort();
    }
  }
  absl::Status status = (*checker)->CheckAll();
  if (!status.ok()) {
    std::fprintf(stderr, "final check: %s\n%s\n", status.ToString().c_str(),
                 (*checker)->Trace().c_str());
    std::abort();
  }
  return 0;
}
