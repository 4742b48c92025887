// Test helpers for //raft/quorum: a deliberately naive CommittedIndex against
// which the optimized one is checked.
//
//   EXPECT_EQ(c.CommittedIndex(l), AlternativeMajorityCommittedIndex(c, l));
//
// Stateless; thread-safe.

#ifndef ETCD_RAFT_QUORUM_QUORUM_TEST_UTIL_H_
#define ETCD_RAFT_QUORUM_QUORUM_TEST_UTIL_H_

#include "raft/quorum/quorum.h"

namespace etcd::raft::quorum {

// The largest index that at least a majority of `c` has acknowledged,
// computed by counting, for every acknowledged index, the voters at or above
// it. kInfinity for the empty config.
Index AlternativeMajorityCommittedIndex(const MajorityConfig& c, const AckedIndexer& l);

}  // namespace etcd::raft::quorum

#endif  // ETCD_RAFT_QUORUM_QUORUM_TEST_UTIL_H_
