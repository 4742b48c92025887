// Helpers over raft messages and entries, and the one-line descriptions used
// in logs and test transcripts.
//
//   std::string line = etcd::raft::DescribeMessage(msg, nullptr);
//   // "1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[1/3 EntryNormal \"\"]"
//
// The Describe* formats are exactly those of etcd's raft (util.go), because
// data-driven test transcripts made of them are compared with etcd's. All
// functions are thread-safe.

#ifndef ETCD_RAFT_UTIL_H_
#define ETCD_RAFT_UTIL_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/ready.h"

namespace etcd::raft {

// "No limit" for the size limits of Config.
inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// The local "threads" that MsgStorageAppend and MsgStorageApply go to with
// asynchronous storage writes (etcd-io/raft's LocalAppendThread and
// LocalApplyThread), and whether an ID is one of them.
inline constexpr uint64_t kLocalAppendThread = std::numeric_limits<uint64_t>::max();
inline constexpr uint64_t kLocalApplyThread = std::numeric_limits<uint64_t>::max() - 1;
inline bool IsLocalMsgTarget(uint64_t id) {
  return id == kLocalAppendThread || id == kLocalApplyThread;
}

// Message types that raft generates for itself and never sends to peers.
bool IsLocalMsg(raftpb::MessageType type);
// Message types that answer a request (and so need a known sender).
bool IsResponseMsg(raftpb::MessageType type);
// MsgVoteResp for MsgVote, MsgPreVoteResp for MsgPreVote; aborts otherwise.
raftpb::MessageType VoteRespMsgType(raftpb::MessageType type);

// The name of a message type ("MsgApp"), or its number if unknown.
std::string MessageTypeName(raftpb::MessageType type);

// The size of an entry's payload (its data), as counted against
// Config::max_uncommitted_entries_size.
uint64_t PayloadSize(const raftpb::Entry& entry);

// The encoded size of an entry as etcd computes it (type, term and index are
// always counted; data when present), used by the per-message and per-Ready
// size limits.
uint64_t EntrySize(const raftpb::Entry& entry);

// Truncates `entries` to the longest prefix whose total EntrySize is at most
// `max_size`, but always keeps at least one entry.
void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size);

// Formats an entry's data for Describe*. Null means Go's %q quoting.
using EntryFormatter = std::function<std::string(absl::string_view data)>;

// "Term:1 Vote:1 Commit:2" (Vote omitted when zero).
std::string DescribeHardState(const raftpb::HardState& state);
// "Lead:1 State:StateLeader".
std::string DescribeSoftState(const SoftState& state);
// "Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false".
std::string DescribeConfState(const raftpb::ConfState& state);
// "Index:4 Term:1 ConfState:...".
std::string DescribeSnapshot(const raftpb::Snapshot& snapshot);
// "1/3 EntryNormal \"data\"" or "1/4 EntryConfChangeV2 v2 v3".
std::string DescribeEntry(const raftpb::Entry& entry, const EntryFormatter& formatter);
// One DescribeEntry per line, each followed by a newline.
std::string DescribeEntries(absl::Span<const raftpb::Entry> entries,
                            const EntryFormatter& formatter);
// "1->2 MsgApp Term:1 Log:1/2 Commit:2 Entries:[...]".
std::string DescribeMessage(const raftpb::Message& message, const EntryFormatter& formatter);
// A multi-line description of a Ready, or "<empty Ready>".
std::string DescribeReady(const Ready& ready, const EntryFormatter& formatter);

// Go's %q of a byte string (strconv.Quote), e.g. "\"a\\nb\"".
std::string GoQuote(absl::string_view data);
// Go's %v of a []byte or []uint64: "[1 2 3]".
std::string GoBytes(absl::string_view data);
std::string GoUint64s(absl::Span<const uint64_t> values);

// Conf change helpers (etcd's raftpb/confchange.go and confstate.go), from
// //raft/confchange, available here for users of //raft.
using confchange::AsV2;
using confchange::ConfChangesFromString;
using confchange::ConfChangesToString;
using confchange::LeaveJoint;

// Encodes a conf change for an entry's data exactly as etcd does: gogoproto
// writes the non-nullable fields (all but the contexts) even when zero, so
// they are set explicitly before serializing.
std::string MarshalConfChange(const raftpb::ConfChange& cc);
std::string MarshalConfChange(const raftpb::ConfChangeV2& cc);

// Go's %v of the conf change structs, as etcd logs them.
std::string GoFormat(const raftpb::ConfChange& cc);
std::string GoFormat(const raftpb::ConfChangeV2& cc);

}  // namespace etcd::raft

#endif  // ETCD_RAFT_UTIL_H_
