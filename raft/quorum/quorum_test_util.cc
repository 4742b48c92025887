#include "raft/quorum/quorum_test_util.h"

#include <vector>

namespace etcd::raft::quorum {

Index AlternativeMajorityCommittedIndex(const MajorityConfig& c, const AckedIndexer& l) {
  if (c.empty()) return kInfinity;
  std::vector<Index> acked;
  for (uint64_t id : c) {
    if (std::optional<Index> idx = l.AckedIndex(id)) acked.push_back(*idx);
  }
  const size_t quorum = c.size() / 2 + 1;
  Index best = 0;
  for (Index candidate : acked) {
    size_t support = 0;
    for (Index idx : acked) {
      if (idx >= candidate) ++support;
    }
    if (support >= quorum && candidate > best) best = candidate;
  }
  return best;
}

}  // namespace etcd::raft::quorum
