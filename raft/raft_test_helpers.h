// Helpers for the raft state machine tests (raft_test.cc, raft_paper_test.cc,
// raft_snap_test.cc, raft_flow_control_test.cc, rawnode_test.cc).

#ifndef ETCD_RAFT_RAFT_TEST_HELPERS_H_
#define ETCD_RAFT_RAFT_TEST_HELPERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "raft/raft.h"
#include "raft/raft_test_util.h"
#include "raft/rafttest/network.h"
#include "raft/util.h"

namespace etcd::raft::testing {

using rafttest::BlackHolePeer;
using rafttest::EntsWithConfig;
using rafttest::Hup;
using rafttest::Msg;
using rafttest::Network;
using rafttest::NewTestConfig;
using rafttest::NewTestLearnerRaft;
using rafttest::NewTestRaft;
using rafttest::Peers;
using rafttest::PreVoteConfig;
using rafttest::Prop;
using rafttest::RaftPeer;
using rafttest::VotedWithConfig;

// Moves all unstable entries to `s`, then returns the entries to apply and
// marks them applied (etcd's nextEnts in raft_test.go).
inline std::vector<raftpb::Entry> NextEnts(Raft* r, MemoryStorage* s) {
  (void)s->Append(r->raft_log().UnstableEntries());
  r->raft_log().StableTo(r->raft_log().LastIndex(), r->raft_log().LastTerm());
  std::vector<raftpb::Entry> ents = r->raft_log().NextEnts();
  r->raft_log().AppliedTo(r->raft_log().committed());
  return ents;
}

inline void MustAppendEntry(Raft* r, std::vector<raftpb::Entry> ents) {
  if (!r->AppendEntry(std::move(ents))) {
    rafttest::TestLogger()->Panicf("entry unexpectedly dropped");
  }
}

inline std::string EntryString(const raftpb::Entry& e) {
  return absl::StrFormat("{Term:%d Index:%d Type:%s Data:%s}", e.term(), e.index(),
                         raftpb::EntryType_Name(e.type()), GoQuote(e.data()));
}

// A dump of a log's commit and applied indexes and all its entries, to
// compare logs (etcd's ltoa).
inline std::string LogString(uint64_t committed, uint64_t applied,
                             const std::vector<raftpb::Entry>& entries) {
  std::string s = absl::StrFormat("committed: %d\napplied:  %d\n", committed, applied);
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::StrAppendFormat(&s, "#%d: %s\n", i, EntryString(entries[i]));
  }
  return s;
}

inline std::string Ltoa(const RaftLog& l) {
  return LogString(l.committed(), l.applied(), l.AllEntries());
}

// An entry with data (or an empty normal entry).
inline raftpb::Entry DataEnt(uint64_t index, uint64_t term, const std::string& data) {
  raftpb::Entry e = Ent(index, term);
  e.set_data(data);
  return e;
}

// A message with entries.
inline raftpb::Message MsgWithEnts(uint64_t from, uint64_t to, raftpb::MessageType type,
                                   uint64_t term, std::vector<raftpb::Entry> ents) {
  raftpb::Message m = Msg(from, to, type, term);
  for (raftpb::Entry& e : ents) *m.add_entries() = std::move(e);
  return m;
}

// A MsgProp with one empty entry.
inline raftpb::Message EmptyProp(uint64_t id) {
  raftpb::Message m = Msg(id, id, raftpb::MsgProp);
  m.add_entries();
  return m;
}

inline raftpb::ConfChangeV2 CC(raftpb::ConfChangeType type, uint64_t node) {
  raftpb::ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(node);
  return AsV2(cc);
}

inline raftpb::Snapshot SnapWithConf(uint64_t index, uint64_t term, std::vector<uint64_t> voters,
                                     std::vector<uint64_t> learners = {}) {
  raftpb::Snapshot s;
  s.mutable_metadata()->set_index(index);
  s.mutable_metadata()->set_term(term);
  for (uint64_t v : voters) s.mutable_metadata()->mutable_conf_state()->add_voters(v);
  for (uint64_t l : learners) s.mutable_metadata()->mutable_conf_state()->add_learners(l);
  return s;
}

// Ticks `r` n times.
inline void TickN(Raft* r, int n) {
  for (int i = 0; i < n; ++i) r->Tick();
}

}  // namespace etcd::raft::testing

#endif  // ETCD_RAFT_RAFT_TEST_HELPERS_H_
