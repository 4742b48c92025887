// Decodes an operation sequence from the input and runs it against the
// lessor and its reference model (see lessor_model.h); any disagreement
// aborts.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "lease/lessor_model.h"
#include "pkg/testutil/temp_dir.h"

namespace {

const std::string& Dir() {
  static std::optional<etcd::testutil::TempDir>* dir = [] {
    auto* d = new std::optional<etcd::testutil::TempDir>();
    absl::StatusOr<etcd::testutil::TempDir> created =
        etcd::testutil::TempDir::Create("lessor_fuzz");
    if (!created.ok()) {
      std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
      std::abort();
    }
    d->emplace(std::move(created).value());
    return d;
  }();
  return (*dir)->path();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int kMaxSteps = 400;
  etcd::lease::BytesChoices choices(data, size);
  etcd::lease::CheckerOptions options;
  options.dir = Dir();
  const uint32_t variant = choices.Next(4);
  options.checkpointing = (variant & 1) != 0;
  options.revoke_rate = (variant & 2) != 0 ? 4 : 1000;
  options.max_id = (variant & 2) != 0 ? 12 : 8;
  options.max_checkpoint_batch = 1 + static_cast<int>(choices.Next(3));
  absl::StatusOr<std::unique_ptr<etcd::lease::LessorChecker>> checker =
      etcd::lease::LessorChecker::Create(options);
  if (!checker.ok()) {
    std::fprintf(stderr, "cannot create the checker: %s\n", checker.status().ToString().c_str());
    std::abort();
  }
  for (int i = 0; i < kMaxSteps && !choices.Exhausted(); ++i) {
    absl::Status status = (*checker)->Step(choices);
    if (!status.ok()) {
      std::fprintf(stderr, "step %d: %s\n%s\n", i, status.ToString().c_str(),
                   (*checker)->Trace().c_str());
      std::abort();
    }
  }
  return 0;
}
