#include "raft/confchange/raftpb_helpers.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace etcd::raft::confchange {
namespace {

std::vector<uint64_t> Sorted(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::vector<uint64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::string IdList(const google::protobuf::RepeatedField<uint64_t>& ids) {
  return absl::StrCat("[", absl::StrJoin(ids, " "), "]");
}

template <typename Range>
std::string ToString(const Range& ccs) {
  std::string out;
  bool first = true;
  for (const raftpb::ConfChangeSingle& cc : ccs) {
    if (!first) out.push_back(' ');
    first = false;
    switch (cc.type()) {
      case raftpb::ConfChangeAddNode:
        out.push_back('v');
        break;
      case raftpb::ConfChangeAddLearnerNode:
        out.push_back('l');
        break;
      case raftpb::ConfChangeRemoveNode:
        out.push_back('r');
        break;
      case raftpb::ConfChangeUpdateNode:
        out.push_back('u');
        break;
      default:
        out.append("unknown");
    }
    absl::StrAppend(&out, cc.node_id());
  }
  return out;
}

}  // namespace

raftpb::ConfChangeV2 AsV2(const raftpb::ConfChange& cc) {
  raftpb::ConfChangeV2 v2;
  raftpb::ConfChangeSingle* single = v2.add_changes();
  single->set_type(cc.type());
  single->set_node_id(cc.node_id());
  if (cc.has_context()) v2.set_context(cc.context());
  return v2;
}

bool EnterJoint(const raftpb::ConfChangeV2& cc, bool* auto_leave) {
  // More changes could qualify for the simple protocol depending on the
  // configuration they apply to; like etcd, use joint consensus liberally.
  if (cc.transition() == raftpb::ConfChangeTransitionAuto && cc.changes_size() <= 1) {
    if (auto_leave != nullptr) *auto_leave = false;
    return false;
  }
  bool leave = false;
  switch (cc.transition()) {
    case raftpb::ConfChangeTransitionAuto:
    case raftpb::ConfChangeTransitionJointImplicit:
      leave = true;
      break;
    case raftpb::ConfChangeTransitionJointExplicit:
      leave = false;
      break;
    default:
      std::fprintf(stderr, "raft: unknown conf change transition %d\n",
                   static_cast<int>(cc.transition()));
      std::abort();
  }
  if (auto_leave != nullptr) *auto_leave = leave;
  return true;
}

bool LeaveJoint(const raftpb::ConfChangeV2& cc) {
  return cc.transition() == raftpb::ConfChangeTransitionAuto && cc.changes_size() == 0;
}

absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ConfChangesFromString(absl::string_view s) {
  std::vector<raftpb::ConfChangeSingle> ccs;
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return ccs;
  for (absl::string_view tok : absl::StrSplit(s, ' ')) {
    if (tok.size() < 2) return absl::InvalidArgumentError(absl::StrCat("unknown token ", tok));
    raftpb::ConfChangeSingle cc;
    switch (tok[0]) {
      case 'v':
        cc.set_type(raftpb::ConfChangeAddNode);
        break;
      case 'l':
        cc.set_type(raftpb::ConfChangeAddLearnerNode);
        break;
      case 'r':
        cc.set_type(raftpb::ConfChangeRemoveNode);
        break;
      case 'u':
        cc.set_type(raftpb::ConfChangeUpdateNode);
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown input: ", tok));
    }
    uint64_t id = 0;
    if (!absl::SimpleAtoi(tok.substr(1), &id) || !absl::ascii_isdigit(tok[1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("strconv.ParseUint: parsing \"", tok.substr(1), "\": invalid syntax"));
    }
    cc.set_node_id(id);
    ccs.push_back(std::move(cc));
  }
  return ccs;
}

std::string ConfChangesToString(absl::Span<const raftpb::ConfChangeSingle> ccs) {
  return ToString(ccs);
}

std::string ConfChangesToString(
    const google::protobuf::RepeatedPtrField<raftpb::ConfChangeSingle>& ccs) {
  return ToString(ccs);
}

absl::Status Equivalent(const raftpb::ConfState& a, const raftpb::ConfState& b) {
  if (Sorted(a.voters()) == Sorted(b.voters()) && Sorted(a.learners()) == Sorted(b.learners()) &&
      Sorted(a.voters_outgoing()) == Sorted(b.voters_outgoing()) &&
      Sorted(a.learners_next()) == Sorted(b.learners_next()) && a.auto_leave() == b.auto_leave()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("ConfStates not equivalent after sorting:\n",
                                                 ConfStateString(a), "\n", ConfStateString(b)));
}

std::string ConfStateString(const raftpb::ConfState& cs) {
  return absl::StrCat(
      "Voters:", IdList(cs.voters()), " VotersOutgoing:", IdList(cs.voters_outgoing()),
      " Learners:", IdList(cs.learners()), " LearnersNext:", IdList(cs.learners_next()),
      " AutoLeave:", cs.auto_leave() ? "true" : "false");
}

}  // namespace etcd::raft::confchange
