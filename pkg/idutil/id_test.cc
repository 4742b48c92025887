#include "pkg/idutil/id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"

namespace etcd::idutil {
namespace {

absl::Time AtMillis(int64_t ms) { return absl::FromUnixMillis(ms); }

TEST(GeneratorTest, LayoutForFixedTime) {
  // Member 0xbeef, 0x0123456789 ms after the epoch: the first ID is the seed
  // (time << 8) plus one.
  Generator ids(0xbeef, AtMillis(0x0123456789));
  EXPECT_EQ(ids.Next(), uint64_t{0xbeef'0123456789'01});
  EXPECT_EQ(ids.Next(), uint64_t{0xbeef'0123456789'02});
}

TEST(GeneratorTest, OnlyLow16BitsOfMemberIdFormThePrefix) {
  Generator ids(0x8e3f'2c1a'0000'7a5b, AtMillis(0x42));
  EXPECT_EQ(ids.prefix(), uint64_t{0x7a5b} << 48);
  EXPECT_EQ(ids.Next(), uint64_t{0x7a5b'0000000042'01});
}

TEST(GeneratorTest, TimestampKeepsLow40Bits) {
  // 2^40 + 5 ms wraps to 5.
  Generator ids(1, AtMillis((int64_t{1} << 40) + 5));
  EXPECT_EQ(ids.Next(), uint64_t{0x0001'0000000005'01});
}

TEST(GeneratorTest, CounterCarriesIntoTimestampAndPrefixIsPreserved) {
  Generator ids(0x12, AtMillis(0x3456));
  uint64_t previous = 0;
  for (int i = 1; i <= 1000; ++i) {
    const uint64_t id = ids.Next();
    EXPECT_EQ(id, (uint64_t{0x12} << 48) + (uint64_t{0x3456} << 8) + i);
    EXPECT_EQ(id >> 48, 0x12u);
    EXPECT_GT(id, previous);
    previous = id;
  }
}

TEST(GeneratorTest, SuffixWrapsWithoutTouchingPrefix) {
  // The largest timestamp: 255 IDs later the 48-bit suffix wraps to zero.
  Generator ids(0xffff, AtMillis((int64_t{1} << 40) - 1));
  uint64_t last = 0;
  for (int i = 0; i < 256; ++i) last = ids.Next();
  EXPECT_EQ(last, uint64_t{0xffff'0000000000'00});
  EXPECT_EQ(ids.Next(), uint64_t{0xffff'0000000000'01});
}

TEST(GeneratorTest, DifferentMembersOrRestartsGiveDifferentIds) {
  const absl::Time t0 = AtMillis(1'700'000'000'000);
  Generator a(1, t0);
  Generator b(2, t0);
  Generator a_restarted(1, t0 + absl::Milliseconds(1));
  const uint64_t first = a.Next();
  EXPECT_NE(first, b.Next());
  EXPECT_NE(first, a_restarted.Next());
}

TEST(GeneratorTest, UniqueAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  Generator ids(0xabc, AtMillis(1'700'000'000'000));
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, &out = got[t]] {
      out.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) out.push_back(ids.Next());
    });
  }
  for (std::thread& t : threads) t.join();

  absl::flat_hash_set<uint64_t> seen;
  for (const std::vector<uint64_t>& ids_of_thread : got) {
    // Each thread sees its own IDs strictly increasing.
    EXPECT_TRUE(std::is_sorted(ids_of_thread.begin(), ids_of_thread.end()));
    for (uint64_t id : ids_of_thread) {
      EXPECT_EQ(id >> 48, 0xabcu);
      seen.insert(id);
    }
  }
  EXPECT_EQ(seen.size(), size_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace etcd::idutil
