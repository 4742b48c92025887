// Sources of decisions for randomized model tests and fuzz targets: the same
// checker runs from a seeded generator (tests) or from fuzzer bytes.
//
//   etcd::testutil::RandomChoices choices(seed);
//   for (int i = 0; i < 1000; ++i) ASSERT_OK(checker->Step(choices));
//
// Thread-compatible.

#ifndef ETCD_PKG_TESTUTIL_CHOICES_H_
#define ETCD_PKG_TESTUTIL_CHOICES_H_

#include <cstddef>
#include <cstdint>
#include <random>

namespace etcd::testutil {

// Where a checker's operations come from.
class Choices {
 public:
  virtual ~Choices() = default;
  // A number in [0, n); n >= 1.
  virtual uint32_t Next(uint32_t n) = 0;
  // No more input (fuzzing): the caller should stop.
  virtual bool Exhausted() const { return false; }
};

// Seeded pseudo-random choices; the same seed gives the same run.
class RandomChoices : public Choices {
 public:
  explicit RandomChoices(uint64_t seed) : rng_(seed) {}
  uint32_t Next(uint32_t n) override { return static_cast<uint32_t>(rng_() % n); }

 private:
  std::mt19937_64 rng_;
};

// Reads choices from fuzzer bytes (two bytes when n > 256); zeros once they
// run out. The bytes must outlive this object.
class BytesChoices : public Choices {
 public:
  BytesChoices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint32_t Next(uint32_t n) override {
    if (pos_ >= size_) return 0;
    uint32_t v = data_[pos_++];
    if (n > 256 && pos_ < size_) v = (v << 8) | data_[pos_++];
    return v % n;
  }
  bool Exhausted() const override { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_CHOICES_H_
