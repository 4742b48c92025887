#include "raft/rawnode.h"

#include <utility>

#include "raft/confchange/raftpb_helpers.h"
#include "raft/errors.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

raftpb::Message ConfChangeMessage(raftpb::EntryType type, std::string data) {
  raftpb::Message m;
  m.set_type(raftpb::MsgProp);
  raftpb::Entry* e = m.add_entries();
  e->set_type(type);
  e->set_data(std::move(data));
  return m;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::New(Config config) {
  absl::StatusOr<std::unique_ptr<Raft>> r = Raft::New(std::move(config));
  if (!r.ok()) return r.status();
  return std::unique_ptr<RawNode>(new RawNode(*std::move(r)));
}

RawNode::RawNode(std::unique_ptr<Raft> raft)
    : raft_(std::move(raft)),
      prev_soft_state_(raft_->GetSoftState()),
      prev_hard_state_(raft_->GetHardState()) {}

absl::Status RawNode::Bootstrap(absl::Span<const Peer> peers) {
  if (peers.empty()) {
    return absl::InvalidArgumentError("must provide at least one peer to Bootstrap");
  }
  absl::StatusOr<uint64_t> last = raft_->raft_log().storage()->LastIndex();
  if (!last.ok()) return last.status();
  if (*last != 0) return absl::FailedPreconditionError("can't bootstrap a nonempty Storage");

  // The HardState must be persisted in the first Ready even though the
  // in-memory one will be unchanged.
  prev_hard_state_ = raftpb::HardState();

  // Bootstrapping means "as if these entries were committed by a leader":
  // append them, mark them committed and apply the configuration.
  raft_->BecomeFollower(1, kNone);
  std::vector<raftpb::Entry> ents;
  ents.reserve(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    raftpb::ConfChange cc;
    cc.set_type(raftpb::ConfChangeAddNode);
    cc.set_node_id(peers[i].id);
    if (!peers[i].context.empty()) cc.set_context(peers[i].context);
    raftpb::Entry& e = ents.emplace_back();
    e.set_type(raftpb::EntryConfChange);
    e.set_term(1);
    e.set_index(i + 1);
    e.set_data(MarshalConfChange(cc));
  }
  raft_->raft_log().Append(ents);
  // Not CommitTo: the log's last index may be checked against storage.
  raft_->raft_log().set_committed(ents.size());
  for (const Peer& peer : peers) {
    raftpb::ConfChange cc;
    cc.set_type(raftpb::ConfChangeAddNode);
    cc.set_node_id(peer.id);
    raft_->ApplyConfChange(confchange::AsV2(cc));
  }
  return absl::OkStatus();
}

void RawNode::Tick() { raft_->Tick(); }

void RawNode::TickQuiesced() { raft_->set_election_elapsed(raft_->election_elapsed() + 1); }

absl::Status RawNode::Campaign() {
  raftpb::Message m;
  m.set_type(raftpb::MsgHup);
  return raft_->Step(std::move(m));
}

absl::Status RawNode::Propose(std::string data) {
  raftpb::Message m;
  m.set_type(raftpb::MsgProp);
  m.set_from(raft_->id());
  m.add_entries()->set_data(std::move(data));
  return raft_->Step(std::move(m));
}

absl::Status RawNode::ProposeConfChange(const raftpb::ConfChange& cc) {
  return raft_->Step(ConfChangeMessage(raftpb::EntryConfChange, MarshalConfChange(cc)));
}

absl::Status RawNode::ProposeConfChange(const raftpb::ConfChangeV2& cc) {
  return raft_->Step(ConfChangeMessage(raftpb::EntryConfChangeV2, MarshalConfChange(cc)));
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChange& cc) {
  return raft_->ApplyConfChange(confchange::AsV2(cc));
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  return raft_->ApplyConfChange(cc);
}

absl::Status RawNode::Step(raftpb::Message m) {
  // Local messages must not come from the network.
  if (IsLocalMsg(m.type())) return ErrStepLocalMsg();
  if (raft_->prs().progress.count(m.from()) > 0 || !IsResponseMsg(m.type())) {
    return raft_->Step(std::move(m));
  }
  return ErrStepPeerNotFound();
}

Ready RawNode::GetReady() {
  Raft& r = *raft_;
  Ready rd;
  rd.entries = r.raft_log().UnstableEntries();
  rd.committed_entries = r.raft_log().NextEnts();
  rd.messages = r.ReadMessages();
  SoftState soft = r.GetSoftState();
  if (soft != prev_soft_state_) {
    rd.soft_state = soft;
    prev_soft_state_ = soft;
  }
  raftpb::HardState hard = r.GetHardState();
  if (!IsHardStateEqual(hard, prev_hard_state_)) rd.hard_state = hard;
  if (r.raft_log().unstable().snapshot().has_value()) {
    rd.snapshot = *r.raft_log().unstable().snapshot();
  }
  if (!r.read_states().empty()) rd.read_states.swap(r.read_states());
  rd.must_sync = MustSync(hard, prev_hard_state_, rd.entries.size());
  return rd;
}

bool RawNode::HasReady() const {
  const Raft& r = *raft_;
  if (r.GetSoftState() != prev_soft_state_) return true;
  raftpb::HardState hard = r.GetHardState();
  if (!IsEmptyHardState(hard) && !IsHardStateEqual(hard, prev_hard_state_)) return true;
  const std::optional<raftpb::Snapshot>& snap = r.raft_log().unstable().snapshot();
  if (snap.has_value() && !IsEmptySnap(*snap)) return true;
  if (!r.msgs().empty() || !r.raft_log().UnstableEntries().empty() || r.raft_log().HasNextEnts()) {
    return true;
  }
  return !r.read_states().empty();
}

void RawNode::Advance(const Ready& rd) {
  if (!IsEmptyHardState(rd.hard_state)) prev_hard_state_ = rd.hard_state;
  raft_->Advance(rd);
}

Status RawNode::GetStatus() const { return raft::GetStatus(*raft_); }

BasicStatus RawNode::GetBasicStatus() const { return raft::GetBasicStatus(*raft_); }

void RawNode::WithProgress(const std::function<void(uint64_t id, ProgressType type,
                                                    const tracker::Progress& pr)>& visitor) const {
  raft_->prs().Visit([&visitor](uint64_t id, const tracker::Progress& pr) {
    visitor(id, pr.is_learner ? ProgressType::kLearner : ProgressType::kPeer, pr);
  });
}

void RawNode::ReportUnreachable(uint64_t id) {
  raftpb::Message m;
  m.set_type(raftpb::MsgUnreachable);
  m.set_from(id);
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportSnapshot(uint64_t id, SnapshotStatus status) {
  raftpb::Message m;
  m.set_type(raftpb::MsgSnapStatus);
  m.set_from(id);
  m.set_reject(status == SnapshotStatus::kFailure);
  (void)raft_->Step(std::move(m));
}

void RawNode::TransferLeader(uint64_t transferee) {
  raftpb::Message m;
  m.set_type(raftpb::MsgTransferLeader);
  m.set_from(transferee);
  (void)raft_->Step(std::move(m));
}

void RawNode::ReadIndex(std::string rctx) {
  raftpb::Message m;
  m.set_type(raftpb::MsgReadIndex);
  m.add_entries()->set_data(std::move(rctx));
  (void)raft_->Step(std::move(m));
}

}  // namespace etcd::raft
