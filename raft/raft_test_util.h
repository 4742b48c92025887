// Shared helpers for the raft library's unit tests: compact constructors for
// entries and snapshots, and equality/printing of raftpb messages so that
// gtest assertions can compare them (by value, unset fields as defaults).

#ifndef ETCD_RAFT_RAFT_TEST_UTIL_H_
#define ETCD_RAFT_RAFT_TEST_UTIL_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/storage.h"

namespace raftpb {

// Value equality for the raftpb messages used in assertions (lets
// EXPECT_EQ compare them and vectors of them).
#define ETCD_RAFT_TEST_PROTO_EQ(Type)                                        \
  inline bool operator==(const Type& a, const Type& b) {                     \
    return google::protobuf::util::MessageDifferencer::Equivalent(a, b);     \
  }                                                                          \
  inline bool operator!=(const Type& a, const Type& b) { return !(a == b); } \
  inline void PrintTo(const Type& m, std::ostream* os) {                     \
    *os << "{" << m.ShortDebugString() << "}";                               \
  }

ETCD_RAFT_TEST_PROTO_EQ(Entry)
ETCD_RAFT_TEST_PROTO_EQ(Message)
ETCD_RAFT_TEST_PROTO_EQ(HardState)
ETCD_RAFT_TEST_PROTO_EQ(ConfState)
ETCD_RAFT_TEST_PROTO_EQ(Snapshot)
ETCD_RAFT_TEST_PROTO_EQ(SnapshotMetadata)
ETCD_RAFT_TEST_PROTO_EQ(ConfChange)
ETCD_RAFT_TEST_PROTO_EQ(ConfChangeV2)

#undef ETCD_RAFT_TEST_PROTO_EQ

}  // namespace raftpb

namespace etcd::raft::testing {

// An entry with the given index and term (and data when non-empty).
inline raftpb::Entry Ent(uint64_t index, uint64_t term, const std::string& data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  if (!data.empty()) e.set_data(data);
  return e;
}

// Entries from {index, term} pairs.
inline std::vector<raftpb::Entry> Ents(
    std::initializer_list<std::pair<uint64_t, uint64_t>> index_terms) {
  std::vector<raftpb::Entry> out;
  for (const auto& [index, term] : index_terms) out.push_back(Ent(index, term));
  return out;
}

// Entries with indexes 1, 2, ... and the given terms.
inline std::vector<raftpb::Entry> EntsWithTerms(std::initializer_list<uint64_t> terms) {
  std::vector<raftpb::Entry> out;
  uint64_t i = 1;
  for (uint64_t t : terms) out.push_back(Ent(i++, t));
  return out;
}

// A snapshot with metadata (index, term) and the given voters.
inline raftpb::Snapshot Snap(uint64_t index, uint64_t term,
                             std::initializer_list<uint64_t> voters = {}) {
  raftpb::Snapshot s;
  s.mutable_metadata()->set_index(index);
  s.mutable_metadata()->set_term(term);
  for (uint64_t v : voters) s.mutable_metadata()->mutable_conf_state()->add_voters(v);
  return s;
}

inline raftpb::HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

inline raftpb::ConfState CS(std::initializer_list<uint64_t> voters,
                            std::initializer_list<uint64_t> learners = {}) {
  raftpb::ConfState cs;
  for (uint64_t v : voters) cs.add_voters(v);
  for (uint64_t l : learners) cs.add_learners(l);
  return cs;
}

// A MemoryStorage whose log starts after (index, term), holding `ents`
// (which must follow it), like etcd's tests that set MemoryStorage.ents.
inline std::unique_ptr<MemoryStorage> StorageWith(uint64_t index, uint64_t term,
                                                  const std::vector<raftpb::Entry>& ents) {
  auto s = std::make_unique<MemoryStorage>();
  if (index > 0) (void)s->ApplySnapshot(Snap(index, term));
  (void)s->Append(ents);
  return s;
}

}  // namespace etcd::raft::testing

#endif  // ETCD_RAFT_RAFT_TEST_UTIL_H_
