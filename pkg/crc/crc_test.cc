#include "pkg/crc/crc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace etcd::crc {
namespace {

using UpdateFn = uint32_t (*)(uint32_t, const void*, size_t);

struct Vector {
  std::vector<uint8_t> bytes;
  uint32_t crc;
};

// RFC 3720 (iSCSI) appendix B.4 and the customary "123456789" check value.
std::vector<Vector> PublishedVectors() {
  std::vector<Vector> v;
  v.push_back({std::vector<uint8_t>(32, 0x00), 0x8A9136AA});
  v.push_back({std::vector<uint8_t>(32, 0xFF), 0x62A8AB43});
  std::vector<uint8_t> ascending(32), descending(32);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<uint8_t>(i);
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  v.push_back({ascending, 0x46DD794E});
  v.push_back({descending, 0x113FDB5C});
  std::string digits = "123456789";
  v.push_back({std::vector<uint8_t>(digits.begin(), digits.end()), 0xE3069283});
  v.push_back({{}, 0});
  return v;
}

class CrcImplTest : public ::testing::TestWithParam<UpdateFn> {
 protected:
  void SetUp() override {
    if (GetParam() == &UpdateHardware && !HardwareAvailable()) {
      GTEST_SKIP() << "no SSE4.2 on this CPU";
    }
  }
};

TEST_P(CrcImplTest, MatchesPublishedVectors) {
  UpdateFn update = GetParam();
  for (const Vector& v : PublishedVectors()) {
    EXPECT_EQ(update(0, v.bytes.data(), v.bytes.size()), v.crc) << "length " << v.bytes.size();
  }
}

TEST_P(CrcImplTest, ChainsAtEverySplit) {
  UpdateFn update = GetParam();
  std::string data = "The quick brown fox jumps over the lazy dog, twice over.";
  const uint32_t whole = update(0, data.data(), data.size());
  EXPECT_EQ(whole, UpdatePortable(0, data.data(), data.size()));
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t crc = update(0, data.data(), split);
    crc = update(crc, data.data() + split, data.size() - split);
    EXPECT_EQ(crc, whole) << "split at " << split;
  }
}

TEST_P(CrcImplTest, EveryAlignmentAndTailLength) {
  UpdateFn update = GetParam();
  std::vector<uint8_t> buffer(64 + 16);
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t length = 0; length <= 64; ++length) {
      // Reference: one byte per call, which never takes an 8-byte path.
      uint32_t reference = 0;
      for (size_t i = 0; i < length; ++i)
        reference = UpdatePortable(reference, &buffer[offset + i], 1);
      EXPECT_EQ(update(0, &buffer[offset], length), reference)
          << "offset " << offset << " length " << length;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, CrcImplTest,
                         ::testing::Values(&UpdatePortable, &UpdateHardware, &Update),
                         [](const ::testing::TestParamInfo<UpdateFn>& info) {
                           if (info.param == &UpdatePortable) return std::string("Portable");
                           if (info.param == &UpdateHardware) return std::string("Hardware");
                           return std::string("Dispatch");
                         });

TEST(CrcTest, ValueIsUpdateFromZero) {
  const char data[] = "etcd";
  EXPECT_EQ(Value(data, 4), Update(0, data, 4));
  EXPECT_NE(Value(data, 4), Value(data, 3));
}

TEST(CrcTest, DetectsSingleBitFlips) {
  std::vector<uint8_t> data(100, 0x5A);
  const uint32_t clean = Value(data.data(), data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_NE(Value(data.data(), data.size()), clean) << "byte " << i << " bit " << bit;
      data[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

TEST(CrcTest, HardwareMatchesPortableOnRandomData) {
  if (!HardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(20240601);
  std::vector<uint8_t> buffer(70000);
  for (uint8_t& b : buffer) b = static_cast<uint8_t>(rng());
  for (int round = 0; round < 2000; ++round) {
    size_t offset = rng() % 64;
    size_t length = (round % 4 == 0) ? rng() % (buffer.size() - offset) : rng() % 300;
    uint32_t seed = (round % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
    ASSERT_EQ(UpdateHardware(seed, &buffer[offset], length),
              UpdatePortable(seed, &buffer[offset], length))
        << "round " << round << " offset " << offset << " length " << length << " seed " << seed;
  }
}

TEST(CrcTest, NullDataWithZeroLength) {
  EXPECT_EQ(Update(0x12345678, nullptr, 0), 0x12345678u);
  EXPECT_EQ(UpdatePortable(0x12345678, nullptr, 0), 0x12345678u);
}

}  // namespace
}  // namespace etcd::crc
