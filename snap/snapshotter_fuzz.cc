// Fuzz target: arbitrary bytes as a .snap file decode to a snapshot or to a
// named error, never a crash; a snapshot that decodes re-encodes to bytes
// that decode to the same snapshot.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "snap/snapshotter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<raftpb::Snapshot> snapshot = etcd::snap::Decode(bytes, "fuzz.snap");
  if (!snapshot.ok()) {
    const absl::Status& s = snapshot.status();
    if (!etcd::snap::IsEmptySnapshot(s) && !etcd::snap::IsCRCMismatch(s) &&
        !etcd::snap::IsCorruptSnapshot(s)) {
      std::fprintf(stderr, "unnamed error: %s\n", s.ToString().c_str());
      std::abort();
    }
    return 0;
  }
  absl::StatusOr<raftpb::Snapshot> again =
      etcd::snap::Decode(etcd::snap::Encode(*snapshot), "re-encoded");
  if (!again.ok() || etcd::snap::Encode(*again) != etcd::snap::Encode(*snapshot)) {
    std::fprintf(stderr, "re-encoding changed the snapshot\n");
    std::abort();
  }
  return 0;
}
