// Fuzz target: a byte stream decoded into interval-tree operations, run on the
// tree and on the brute-force model; any disagreement or broken invariant
// aborts.
//
// Encoding: each operation takes three bytes [op, a, b]; `op` picks the
// operation (low 3 bits) and the interval shape (next 2 bits), `a` and `b`
// pick keys from a small pool so intervals collide and nest.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pkg/adt/interval_tree.h"
#include "pkg/adt/interval_tree_model.h"

namespace {

using etcd::adt::Interval;
using etcd::adt::testing::Describe;
using etcd::adt::testing::Differential;
using etcd::adt::testing::Op;

const std::string kKeys[] = {"",
                             "a",
                             std::string("a\0", 2),
                             "aa",
                             "ab",
                             "b",
                             std::string("b\0", 2),
                             "ba",
                             "bb",
                             "c",
                             "ca",
                             "d",
                             "\x7f",
                             "\x80",
                             "\xff",
                             std::string("\xff\0", 2)};
constexpr size_t kKeyCount = sizeof(kKeys) / sizeof(kKeys[0]);

Interval Decode(uint8_t shape, uint8_t a, uint8_t b) {
  const std::string& begin = kKeys[a % kKeyCount];
  switch (shape) {
    case 0:
      return Interval::Point(begin);
    case 1:
      return Interval(begin, "");
    default:
      return Interval(begin, kKeys[b % kKeyCount]);  // may be empty or inverted
  }
}

void Fail(const std::string& what, size_t step) {
  std::fprintf(stderr, "interval tree fuzz: step %zu: %s\n", step, what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Longer inputs add little beyond a few hundred operations but cost
  // quadratic checking time.
  constexpr size_t kMaxOps = 300;
  Differential d;
  for (size_t i = 0, step = 0; i + 3 <= size && step < kMaxOps; i += 3, ++step) {
    const uint8_t code = data[i];
    Op op{static_cast<Op::Kind>(code & 7), Decode((code >> 3) & 3, data[i + 1], data[i + 2])};
    op.count = data[i + 2] & 3;
    // Keep self-unions from doubling the tree without bound.
    if (op.kind == Op::kUnionSelf && d.tree().Len() > 64) op.kind = Op::kStab;
    std::string diff = d.Apply(op);
    if (diff.empty()) diff = d.CheckAll();
    if (!diff.empty()) {
      Fail(diff + " (op " + std::to_string(op.kind) + " " + Describe(op.interval) + ")", step);
    }
  }
  return 0;
}
