// Fuzz target: the input chooses writes, compactions, watchers, cancels,
// drains and progress requests on a watchable store; every watcher's output
// must match the model (watch_checker.h).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "mvcc/watch_checker.h"
#include "pkg/testutil/temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace etcd::mvcc;  // NOLINT: a fuzz target
  absl::StatusOr<etcd::testutil::TempDir> dir = etcd::testutil::TempDir::Create("watch_fuzz");
  if (!dir.ok()) {
    std::fprintf(stderr, "temp dir: %s\n", dir.status().ToString().c_str());
    std::abort();
  }
  absl::StatusOr<std::unique_ptr<WatchChecker>> checker = WatchChecker::Create(dir->path());
  if (!checker.ok()) {
    std::fprintf(stderr, "open: %s\n", checker.status().ToString().c_str());
    std::abort();
  }
  BytesChoices choices(data, size);
  for (int step = 0; step < 300 && !choices.Exhausted(); ++step) {
    absl::Status status = (*checker)->Step(choices);
    if (!status.ok()) {
      std::fprintf(stderr, "step %d: %s\n%s\n", step, status.ToString().c_str(),
                   (*checker)->Trace().c_str());
      std::abort();
    }
  }
  absl::Status status = (*checker)->Finish();
  if (!status.ok()) {
    std::fprintf(stderr, "final check: %s\n%s\n", status.ToString().c_str(),
                 (*checker)->Trace().c_str());
    std::abort();
  }
  return 0;
}
