// Testing only: builders and comparisons for WAL tests.
//
//   std::vector<raftpb::Entry> ents = {Entry(1, 1, "a"), Entry(2, 1, "b")};
//   EXPECT_THAT(read->entries, EntriesAre(ents));
//
// Functions only; thread-safe.

#ifndef ETCD_WAL_WAL_TEST_UTIL_H_
#define ETCD_WAL_WAL_TEST_UTIL_H_

#include <gmock/gmock.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "raft/raftpb/raft.pb.h"
#include "wal/walpb/record.pb.h"

namespace etcd::wal::testing {

inline raftpb::Entry Entry(uint64_t index, uint64_t term = 0, const std::string& data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_type(raftpb::EntryNormal);
  if (!data.empty()) e.set_data(data);
  return e;
}

inline raftpb::HardState HardState(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState s;
  s.set_term(term);
  s.set_vote(vote);
  s.set_commit(commit);
  return s;
}

inline walpb::Snapshot Snap(uint64_t index, uint64_t term) {
  walpb::Snapshot s;
  s.set_index(index);
  s.set_term(term);
  return s;
}

inline std::string Describe(const raftpb::Entry& e) {
  return absl::StrFormat("{index=%d term=%d type=%d data=%d bytes}", e.index(), e.term(),
                         static_cast<int>(e.type()), e.data().size());
}

inline bool SameEntry(const raftpb::Entry& a, const raftpb::Entry& b) {
  return a.index() == b.index() && a.term() == b.term() && a.type() == b.type() &&
         a.data() == b.data();
}

inline bool SameState(const raftpb::HardState& a, const raftpb::HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

MATCHER_P(EntriesAre, expected, "") {
  const std::vector<raftpb::Entry>& got = arg;
  if (got.size() != expected.size()) {
    *result_listener << "has " << got.size() << " entries, want " << expected.size();
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!SameEntry(got[i], expected[i])) {
      *result_listener << "entry #" << i << " is " << Describe(got[i]) << ", want "
                       << Describe(expected[i]);
      return false;
    }
  }
  return true;
}

MATCHER_P(StateIs, expected, "") {
  const raftpb::HardState& got = arg;
  if (SameState(got, expected)) return true;
  *result_listener << absl::StrFormat("is {term=%d vote=%d commit=%d}", got.term(), got.vote(),
                                      got.commit());
  return false;
}

}  // namespace etcd::wal::testing

#endif  // ETCD_WAL_WAL_TEST_UTIL_H_
