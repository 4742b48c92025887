#include "raft/util.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace etcd::raft {
namespace {

uint64_t VarintSize(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Length of the UTF-8 sequence starting at data[i] if it is valid, else 0.
size_t Utf8Length(absl::string_view data, size_t i) {
  unsigned char c = static_cast<unsigned char>(data[i]);
  size_t n;
  uint32_t min;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > data.size()) return 0;
  uint32_t rune = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(data[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    rune = (rune << 6) | (cc & 0x3f);
  }
  if (rune < min || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return 0;
  return n;
}

std::string ConfChangeTypeName(raftpb::ConfChangeType type) {
  if (raftpb::ConfChangeType_IsValid(type)) return raftpb::ConfChangeType_Name(type);
  return absl::StrCat(static_cast<int>(type));
}

std::string EntryTypeName(raftpb::EntryType type) {
  if (raftpb::EntryType_IsValid(type)) return raftpb::EntryType_Name(type);
  return absl::StrCat(static_cast<int>(type));
}

}  // namespace

bool IsLocalMsg(raftpb::MessageType type) {
  return type == raftpb::MsgHup || type == raftpb::MsgBeat || type == raftpb::MsgUnreachable ||
         type == raftpb::MsgSnapStatus || type == raftpb::MsgCheckQuorum ||
         type == raftpb::MsgStorageAppend || type == raftpb::MsgStorageAppendResp ||
         type == raftpb::MsgStorageApply || type == raftpb::MsgStorageApplyResp;
}

bool IsResponseMsg(raftpb::MessageType type) {
  return type == raftpb::MsgAppResp || type == raftpb::MsgVoteResp ||
         type == raftpb::MsgHeartbeatResp || type == raftpb::MsgUnreachable ||
         type == raftpb::MsgPreVoteResp || type == raftpb::MsgStorageAppendResp ||
         type == raftpb::MsgStorageApplyResp;
}

raftpb::MessageType VoteRespMsgType(raftpb::MessageType type) {
  switch (type) {
    case raftpb::MsgVote:
      return raftpb::MsgVoteResp;
    case raftpb::MsgPreVote:
      return raftpb::MsgPreVoteResp;
    default:
      absl::FPrintF(stderr, "not a vote message: %s\n", MessageTypeName(type));
      std::abort();
  }
}

std::string MessageTypeName(raftpb::MessageType type) {
  if (raftpb::MessageType_IsValid(type)) return raftpb::MessageType_Name(type);
  return absl::StrCat(static_cast<int>(type));
}

uint64_t PayloadSize(const raftpb::Entry& entry) { return entry.data().size(); }

uint64_t EntrySize(const raftpb::Entry& entry) {
  uint64_t n = 3 + VarintSize(static_cast<uint64_t>(static_cast<int64_t>(entry.type()))) +
               VarintSize(entry.term()) + VarintSize(entry.index());
  if (entry.has_data()) {
    uint64_t l = entry.data().size();
    n += 1 + l + VarintSize(l);
  }
  return n;
}

void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size) {
  if (entries->empty()) return;
  uint64_t size = EntrySize((*entries)[0]);
  size_t limit = 1;
  for (; limit < entries->size(); ++limit) {
    size += EntrySize((*entries)[limit]);
    if (size > max_size) break;
  }
  entries->resize(limit);
}

std::string GoQuote(absl::string_view data) {
  std::string out = "\"";
  for (size_t i = 0; i < data.size();) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            absl::StrAppendFormat(&out, "\\x%02x", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = Utf8Length(data, i);
    if (n == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
      ++i;
    } else {
      out.append(data.data() + i, n);
      i += n;
    }
  }
  out += "\"";
  return out;
}

std::string GoBytes(absl::string_view data) {
  std::string out = "[";
  for (size_t i = 0; i < data.size(); ++i) {
    if (i > 0) out += " ";
    absl::StrAppend(&out, static_cast<unsigned char>(data[i]));
  }
  out += "]";
  return out;
}

std::string GoUint64s(absl::Span<const uint64_t> values) {
  return absl::StrCat("[", absl::StrJoin(values, " "), "]");
}

std::string DescribeHardState(const raftpb::HardState& state) {
  std::string out = absl::StrCat("Term:", state.term());
  if (state.vote() != 0) absl::StrAppend(&out, " Vote:", state.vote());
  absl::StrAppend(&out, " Commit:", state.commit());
  return out;
}

std::string DescribeSoftState(const SoftState& state) {
  return absl::StrCat("Lead:", state.lead, " State:", StateTypeName(state.raft_state));
}

std::string DescribeConfState(const raftpb::ConfState& state) {
  return absl::StrCat(
      "Voters:", GoUint64s(state.voters()), " VotersOutgoing:", GoUint64s(state.voters_outgoing()),
      " Learners:", GoUint64s(state.learners()), " LearnersNext:", GoUint64s(state.learners_next()),
      " AutoLeave:", state.auto_leave() ? "true" : "false");
}

std::string DescribeSnapshot(const raftpb::Snapshot& snapshot) {
  const raftpb::SnapshotMetadata& m = snapshot.metadata();
  return absl::StrCat("Index:", m.index(), " Term:", m.term(),
                      " ConfState:", DescribeConfState(m.conf_state()));
}

std::string DescribeEntry(const raftpb::Entry& entry, const EntryFormatter& formatter) {
  std::string formatted;
  switch (entry.type()) {
    case raftpb::EntryNormal:
      formatted = formatter ? formatter(entry.data()) : GoQuote(entry.data());
      break;
    case raftpb::EntryConfChange: {
      raftpb::ConfChange cc;
      if (!cc.ParseFromString(entry.data())) {
        formatted = "unable to unmarshal ConfChange";
      } else {
        raftpb::ConfChangeV2 v2 = AsV2(cc);
        formatted = ConfChangesToString(v2.changes());
      }
      break;
    }
    case raftpb::EntryConfChangeV2: {
      raftpb::ConfChangeV2 cc;
      if (!cc.ParseFromString(entry.data())) {
        formatted = "unable to unmarshal ConfChangeV2";
      } else {
        formatted = ConfChangesToString(cc.changes());
      }
      break;
    }
  }
  if (!formatted.empty()) formatted = " " + formatted;
  return absl::StrCat(entry.term(), "/", entry.index(), " ", EntryTypeName(entry.type()),
                      formatted);
}

std::string DescribeEntries(absl::Span<const raftpb::Entry> entries,
                            const EntryFormatter& formatter) {
  std::string out;
  for (const raftpb::Entry& e : entries) absl::StrAppend(&out, DescribeEntry(e, formatter), "\n");
  return out;
}

namespace {

// A node ID in a message description; the local storage threads by name.
std::string DescribeTarget(uint64_t id) {
  if (id == kLocalAppendThread) return "AppendThread";
  if (id == kLocalApplyThread) return "ApplyThread";
  return absl::StrFormat("%x", id);
}

std::string DescribeMessageIndented(const std::string& indent, const raftpb::Message& m,
                                    const EntryFormatter& formatter) {
  std::string out = absl::StrFormat("%s%s->%s %s Term:%d Log:%d/%d", indent,
                                    DescribeTarget(m.from()), DescribeTarget(m.to()),
                                    MessageTypeName(m.type()), m.term(), m.logterm(), m.index());
  if (m.reject()) absl::StrAppend(&out, " Rejected (Hint: ", m.rejecthint(), ")");
  if (m.commit() != 0) absl::StrAppend(&out, " Commit:", m.commit());
  if (m.vote() != 0) absl::StrAppend(&out, " Vote:", m.vote());
  if (m.entries_size() > 0) {
    out += " Entries:[";
    for (int i = 0; i < m.entries_size(); ++i) {
      if (i != 0) out += ", ";
      out += DescribeEntry(m.entries(i), formatter);
    }
    out += "]";
  }
  if (!IsEmptySnap(m.snapshot())) {
    absl::StrAppend(&out, " Snapshot: ", DescribeSnapshot(m.snapshot()));
  }
  if (m.responses_size() > 0) {
    // One response per line, indented (etcd-io/raft 3.6's format).
    out += " Responses:[";
    for (const raftpb::Message& r : m.responses()) {
      absl::StrAppend(&out, "\n", DescribeMessageIndented(indent + "  ", r, formatter));
    }
    absl::StrAppend(&out, "\n", indent, "]");
  }
  return out;
}

}  // namespace

std::string DescribeMessage(const raftpb::Message& m, const EntryFormatter& formatter) {
  return DescribeMessageIndented("", m, formatter);
}

std::string DescribeReady(const Ready& rd, const EntryFormatter& formatter) {
  std::string out;
  if (rd.soft_state.has_value()) absl::StrAppend(&out, DescribeSoftState(*rd.soft_state), "\n");
  if (!IsEmptyHardState(rd.hard_state)) {
    absl::StrAppend(&out, "HardState ", DescribeHardState(rd.hard_state), "\n");
  }
  if (!rd.read_states.empty()) {
    out += "ReadStates [";
    for (size_t i = 0; i < rd.read_states.size(); ++i) {
      if (i > 0) out += " ";
      absl::StrAppend(&out, "{", rd.read_states[i].index, " ",
                      GoBytes(rd.read_states[i].request_ctx), "}");
    }
    out += "]\n";
  }
  if (!rd.entries.empty()) {
    absl::StrAppend(&out, "Entries:\n", DescribeEntries(rd.entries, formatter));
  }
  if (!IsEmptySnap(rd.snapshot)) {
    absl::StrAppend(&out, "Snapshot ", DescribeSnapshot(rd.snapshot), "\n");
  }
  if (!rd.committed_entries.empty()) {
    absl::StrAppend(&out, "CommittedEntries:\n", DescribeEntries(rd.committed_entries, formatter));
  }
  if (!rd.messages.empty()) {
    out += "Messages:\n";
    for (const raftpb::Message& m : rd.messages) {
      absl::StrAppend(&out, DescribeMessage(m, formatter), "\n");
    }
  }
  if (!out.empty()) {
    return absl::StrCat("Ready MustSync=", rd.must_sync ? "true" : "false", ":\n", out);
  }
  return "<empty Ready>";
}

std::string MarshalConfChange(const raftpb::ConfChange& cc) {
  raftpb::ConfChange out = cc;
  out.set_id(cc.id());
  out.set_type(cc.type());
  out.set_node_id(cc.node_id());
  return out.SerializeAsString();
}

std::string MarshalConfChange(const raftpb::ConfChangeV2& cc) {
  raftpb::ConfChangeV2 out = cc;
  out.set_transition(cc.transition());
  for (raftpb::ConfChangeSingle& c : *out.mutable_changes()) {
    c.set_type(c.type());
    c.set_node_id(c.node_id());
  }
  return out.SerializeAsString();
}

std::string GoFormat(const raftpb::ConfChange& cc) {
  return absl::StrCat("{", cc.id(), " ", ConfChangeTypeName(cc.type()), " ", cc.node_id(), " ",
                      GoBytes(cc.context()), " []}");
}

std::string GoFormat(const raftpb::ConfChangeV2& cc) {
  std::string changes;
  for (int i = 0; i < cc.changes_size(); ++i) {
    if (i > 0) changes += " ";
    absl::StrAppend(&changes, "{", ConfChangeTypeName(cc.changes(i).type()), " ",
                    cc.changes(i).node_id(), " []}");
  }
  std::string transition = raftpb::ConfChangeTransition_IsValid(cc.transition())
                               ? raftpb::ConfChangeTransition_Name(cc.transition())
                               : absl::StrCat(static_cast<int>(cc.transition()));
  return absl::StrCat("{", transition, " [", changes, "] ", GoBytes(cc.context()), " []}");
}

}  // namespace etcd::raft
