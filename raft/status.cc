#include "raft/status.h"

#include "absl/strings/str_format.h"
#include "raft/raft.h"

namespace etcd::raft {

BasicStatus GetBasicStatus(const Raft& r) {
  BasicStatus s;
  s.id = r.id();
  s.lead_transferee = r.lead_transferee();
  s.hard_state = r.GetHardState();
  s.soft_state = r.GetSoftState();
  s.applied = r.raft_log().applied();
  return s;
}

Status GetStatus(const Raft& r) {
  Status s;
  s.basic = GetBasicStatus(r);
  if (s.basic.soft_state.raft_state == StateType::kLeader) {
    r.prs().Visit([&s](uint64_t id, const tracker::Progress& pr) { s.progress.emplace(id, pr); });
  }
  s.config = r.prs().config;
  return s;
}

std::string Status::String() const {
  std::string j = absl::StrFormat(
      R"({"id":"%x","term":%d,"vote":"%x","commit":%d,"lead":"%x","raftState":"%s","applied":%d,"progress":{)",
      basic.id, basic.hard_state.term(), basic.hard_state.vote(), basic.hard_state.commit(),
      basic.soft_state.lead, StateTypeName(basic.soft_state.raft_state), basic.applied);
  bool first = true;
  for (const auto& [id, pr] : progress) {
    if (!first) j += ",";
    first = false;
    absl::StrAppendFormat(&j, R"("%x":{"match":%d,"next":%d,"state":"%s"})", id, pr.match, pr.next,
                          tracker::StateTypeString(pr.state));
  }
  absl::StrAppendFormat(&j, R"(},"leadtransferee":"%x"})", basic.lead_transferee);
  return j;
}

}  // namespace etcd::raft
