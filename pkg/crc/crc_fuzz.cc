// Fuzz target: the SSE4.2 and portable paths agree on every input and every
// alignment, and chaining at any split point equals the whole checksum.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pkg/crc/crc.h"

namespace {

void Check(bool ok, const char* what, size_t n, size_t at) {
  if (ok) return;
  std::fprintf(stderr, "crc fuzz: %s (length %zu, at %zu)\n", what, n, at);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using etcd::crc::HardwareAvailable;
  using etcd::crc::Update;
  using etcd::crc::UpdateHardware;
  using etcd::crc::UpdatePortable;

  // The first byte seeds the incoming checksum, so non-zero seeds are covered.
  uint32_t seed = 0;
  if (size > 0 && (data[0] & 1)) seed = 0x9E3779B9u * data[0];

  const uint32_t whole = UpdatePortable(seed, data, size);
  const bool hardware = HardwareAvailable();
  if (hardware) Check(UpdateHardware(seed, data, size) == whole, "hardware != portable", size, 0);
  Check(Update(seed, data, size) == whole, "Update != portable", size, 0);

  // Every misalignment of the same bytes.
  std::vector<uint8_t> shifted(size + 8);
  for (size_t offset = 1; offset < 8; ++offset) {
    if (size > 0) std::memcpy(shifted.data() + offset, data, size);
    Check(UpdatePortable(seed, shifted.data() + offset, size) == whole, "portable misaligned", size,
          offset);
    if (hardware) {
      Check(UpdateHardware(seed, shifted.data() + offset, size) == whole, "hardware misaligned",
            size, offset);
    }
  }

  // Chaining at every split point (bounded so long inputs stay fast).
  const size_t limit = size < 2048 ? size : 2048;
  for (size_t split = 0; split <= limit; ++split) {
    uint32_t head = Update(seed, data, split);
    Check(Update(head, data + split, size - split) == whole, "chained != whole", size, split);
    uint32_t head_portable = UpdatePortable(seed, data, split);
    Check(head_portable == head, "prefix hardware != portable", size, split);
  }
  return 0;
}
