// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum etcd's
// WAL and snapshot files carry.
//
//   uint32_t crc = etcd::crc::Value(header.data(), header.size());
//   crc = etcd::crc::Update(crc, payload.data(), payload.size());
//   // crc == Value(header + payload)
//
// The values are the finished checksums Go's crc32.Update(crc, castagnoli, p)
// returns: `Update(0, p, n) == Value(p, n)` and a checksum can be extended
// with more bytes at any time, which is how the WAL chains records.
//
// `Update` uses the SSE4.2 crc32 instruction when the CPU has it (detected at
// run time, so the build needs no -msse4.2) and a portable slicing-by-8 table
// otherwise. Both paths are exposed so tests can compare them.
//
// All functions are pure and thread-safe.

#ifndef ETCD_PKG_CRC_CRC_H_
#define ETCD_PKG_CRC_CRC_H_

#include <cstddef>
#include <cstdint>

namespace etcd::crc {

// Extends the finished checksum `crc` (0 for none) with `n` bytes at `data`.
// `data` may be null when `n` is 0.
uint32_t Update(uint32_t crc, const void* data, size_t n);

// The checksum of `n` bytes at `data`; equal to `Update(0, data, n)`.
inline uint32_t Value(const void* data, size_t n) { return Update(0, data, n); }

// Update with the table-driven implementation; runs on every CPU.
uint32_t UpdatePortable(uint32_t crc, const void* data, size_t n);

// Whether this CPU can run UpdateHardware (x86-64 with SSE4.2).
bool HardwareAvailable();

// Update with the SSE4.2 crc32 instruction, 8 bytes at a time. Requires
// HardwareAvailable(); on other architectures it is UpdatePortable.
uint32_t UpdateHardware(uint32_t crc, const void* data, size_t n);

}  // namespace etcd::crc

#endif  // ETCD_PKG_CRC_CRC_H_
