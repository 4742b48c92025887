#include "raft/rawnode.h"

#include <limits>
#include <utility>

#include "raft/confchange/confchange.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/confchange/restore.h"
#include "raft/errors.h"
#include "raft/tracker/tracker.h"
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

// Whether `cs` is a configuration raft can restore from a snapshot (Restore
// aborts on one it cannot).
bool RestorableConfState(const raftpb::ConfState& cs) {
  tracker::ProgressTracker prs(1);
  absl::StatusOr<confchange::ChangeResult> r = confchange::Restore(confchange::Changer(prs, 0), cs);
  if (!r.ok()) return false;
  prs.config = std::move(r->config);
  prs.progress = std::move(r->progress);
  return confchange::Equivalent(cs, prs.ConfState()).ok();
}

// Why `m`, received from a peer, must not be stepped, or null if it may be.
// Each rule refuses a message that no correct peer sends and that would make
// the state machine abort (as etcd panics) or corrupt its log; see
// RawNode::Step. Reads the state only; logs nothing.
const char* InvalidPeerMessage(const Raft& r, const raftpb::Message& m) {
  const RaftLog& log = r.raft_log();
  const raftpb::MessageType t = m.type();
  // Proposals and read requests are forwarded without a term; everything
  // else a peer sends carries the sender's term (a term-0 message would be
  // taken as local and could move this node's term back).
  if (t == raftpb::MsgProp || t == raftpb::MsgReadIndex) {
    if (m.term() != 0) return "a forwarded request carries a term";
  } else if (m.term() == 0) {
    return "a message from a peer carries no term";
  }
  // Campaigns add one to the term: keep far from overflow (no cluster holds
  // 2^63 elections).
  if (m.term() > (uint64_t{1} << 63)) return "a term no election reaches";
  // A stale message is ignored, or answered with our term.
  if (m.term() != 0 && m.term() < r.term()) return nullptr;
  // Whether the message reaches a follower's (or candidate's) handlers.
  const bool as_follower = r.state() != StateType::kLeader || m.term() > r.term();
  switch (t) {
    case raftpb::MsgProp:
      if (m.entries_size() == 0) return "an empty proposal";
      for (const raftpb::Entry& e : m.entries()) {
        if (e.type() == raftpb::EntryConfChange) {
          raftpb::ConfChange cc;
          if (!cc.ParseFromString(e.data())) return "a proposed ConfChange does not parse";
        } else if (e.type() == raftpb::EntryConfChangeV2) {
          raftpb::ConfChangeV2 cc;
          if (!cc.ParseFromString(e.data())) return "a proposed ConfChangeV2 does not parse";
        }
      }
      return nullptr;
    case raftpb::MsgReadIndex:
      return m.entries_size() == 1 ? nullptr : "a read request without exactly one entry";
    case raftpb::MsgTransferLeader:
      // A follower would forward it to its leader with the term still set.
      if (r.state() == StateType::kFollower && r.lead() != kNone && m.term() == r.term()) {
        return "a leader transfer request sent to a follower";
      }
      return nullptr;
    case raftpb::MsgApp: {
      if (!as_follower) return nullptr;
      const uint64_t n = static_cast<uint64_t>(m.entries_size());
      if (m.index() > std::numeric_limits<uint64_t>::max() - n) return "entry indexes overflow";
      for (uint64_t k = 0; k < n; ++k) {
        const raftpb::Entry& e = m.entries(static_cast<int>(k));
        if (e.index() != m.index() + 1 + k) return "entries do not follow the message's index";
        // Past the last index the log reports term 0: such an entry would
        // look present, and the next one would be appended after a gap.
        if (e.term() == 0) return "an entry without a term";
      }
      // (Below the commit index raft only answers; above it, entries start
      // past the commit index, so none that is committed is overwritten.)
      if (m.index() < log.committed() || !log.MatchTerm(m.index(), m.logterm())) return nullptr;
      // Entries past the end have no term: only a zero log term "matches".
      if (m.index() > log.LastIndex()) return "an append after an entry this node does not have";
      return nullptr;
    }
    case raftpb::MsgHeartbeat:
      if (as_follower && m.commit() > log.LastIndex()) {
        return "a heartbeat committing entries this node does not have";
      }
      return nullptr;
    case raftpb::MsgSnap: {
      const raftpb::SnapshotMetadata& md = m.snapshot().metadata();
      if (!as_follower || md.index() <= log.committed()) return nullptr;
      if (md.term() == 0) return "a snapshot without a term";
      if (!RestorableConfState(md.conf_state())) return "a snapshot with an invalid ConfState";
      return nullptr;
    }
    case raftpb::MsgAppResp:
      // A follower acknowledges only entries this leader sent it.
      if (!as_follower && !m.reject() && m.index() > log.LastIndex()) {
        return "an acknowledgement of entries this leader does not have";
      }
      return nullptr;
    default:
      return nullptr;
  }
}

// Why `m`, from a local storage thread, must not be stepped, or null if it
// may be: only the answers of asynchronous writes, about work raft handed
// out.
const char* InvalidStorageResponse(const Raft& r, const raftpb::Message& m) {
  if (!r.async_storage_writes()) return "asynchronous storage writes are off";
  const RaftLog& log = r.raft_log();
  switch (m.type()) {
    case raftpb::MsgStorageAppendResp:
      if (m.from() != kLocalAppendThread) return "not from the append thread";
      if (m.snapshot().metadata().index() > log.committed()) return "a snapshot never handed out";
      return nullptr;
    case raftpb::MsgStorageApplyResp:
      if (m.from() != kLocalApplyThread) return "not from the apply thread";
      if (m.entries_size() > 0 && m.entries(m.entries_size() - 1).index() > log.applying()) {
        return "entries never handed out for applying";
      }
      return nullptr;
    default:
      return "not a storage response";
  }
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

absl::Status RawNode::CheckConfChange(const raftpb::ConfChangeV2& cc) const {
  confchange::Changer changer(raft_->prs(), raft_->raft_log().LastIndex());
  absl::StatusOr<confchange::ChangeResult> result;
  bool auto_leave = false;
  if (confchange::LeaveJoint(cc)) {
    result = changer.LeaveJoint();
  } else if (confchange::EnterJoint(cc, &auto_leave)) {
    result = changer.EnterJoint(auto_leave, cc.changes());
  } else {
    result = changer.Simple(cc.changes());
  }
  return result.status();
}

absl::Status RawNode::Step(raftpb::Message m) {
  // The local storage threads of asynchronous writes answer with local
  // messages (and only they may send them).
  if (IsLocalMsgTarget(m.from())) {
    if (const char* why = InvalidStorageResponse(*raft_, m)) {
      raft_->logger()->Warningf("%x rejected %s from a storage thread: %s", raft_->id(),
                                MessageTypeName(m.type()), why);
      return ErrStepLocalMsg();
    }
    return raft_->Step(std::move(m));
  }
  // Local messages must not come from the network.
  if (IsLocalMsg(m.type())) return ErrStepLocalMsg();
  if (raft_->prs().progress.count(m.from()) == 0 && IsResponseMsg(m.type())) {
    return ErrStepPeerNotFound();
  }
  if (const char* why = InvalidPeerMessage(*raft_, m)) {
    raft_->logger()->Warningf("%x rejected %s from %x [term: %d]: %s", raft_->id(),
                              MessageTypeName(m.type()), m.from(), m.term(), why);
    return ErrStepInvalidMsg();
  }
  return raft_->Step(std::move(m));
}

Ready RawNode::GetReadyAsync() {
  Raft& r = *raft_;
  RaftLog& log = r.raft_log();
  Ready rd;
  absl::Span<const raftpb::Entry> unstable = log.NextUnstableEnts();
  rd.entries.assign(unstable.begin(), unstable.end());
  rd.committed_entries = log.NextCommittedEnts(/*allow_unstable=*/false);
  rd.messages = r.ReadMessages();
  SoftState soft = r.GetSoftState();
  if (soft != prev_soft_state_) {
    rd.soft_state = soft;
    prev_soft_state_ = soft;
  }
  raftpb::HardState hard = r.GetHardState();
  if (!IsHardStateEqual(hard, prev_hard_state_)) rd.hard_state = hard;
  if (const raftpb::Snapshot* snap = log.NextUnstableSnapshot()) rd.snapshot = *snap;
  if (!r.read_states().empty()) rd.read_states.swap(r.read_states());
  rd.must_sync = MustSync(hard, prev_hard_state_, rd.entries.size());

  // The work for the append thread: write the entries, HardState and
  // snapshot, then deliver the answers that waited for them and tell raft
  // what is stable now.
  std::vector<raftpb::Message>& after_append = r.msgs_after_append();
  if (!rd.entries.empty() || !IsEmptyHardState(rd.hard_state) || !IsEmptySnap(rd.snapshot) ||
      !after_append.empty()) {
    raftpb::Message& m = rd.messages.emplace_back();
    m.set_type(raftpb::MsgStorageAppend);
    m.set_to(kLocalAppendThread);
    m.set_from(r.id());
    m.mutable_entries()->Add(rd.entries.begin(), rd.entries.end());
    if (!IsEmptyHardState(rd.hard_state)) {
      m.set_term(rd.hard_state.term());
      m.set_vote(rd.hard_state.vote());
      m.set_commit(rd.hard_state.commit());
    }
    if (!IsEmptySnap(rd.snapshot)) *m.mutable_snapshot() = rd.snapshot;
    for (raftpb::Message& resp : after_append) *m.add_responses() = std::move(resp);
    after_append.clear();
    if (log.HasNextOrInProgressUnstableEnts() || !IsEmptySnap(rd.snapshot)) {
      raftpb::Message* stable = m.add_responses();
      stable->set_type(raftpb::MsgStorageAppendResp);
      stable->set_to(r.id());
      stable->set_from(kLocalAppendThread);
      // Ignored if the term changed meanwhile: the entries may have been
      // replaced in the unstable log by then.
      stable->set_term(r.term());
      if (log.HasNextOrInProgressUnstableEnts()) {
        // The whole unstable log, not just these entries: an earlier
        // response may have been ignored after a term change.
        stable->set_index(log.LastIndex());
        stable->set_logterm(log.LastTerm());
      }
      if (!IsEmptySnap(rd.snapshot)) *stable->mutable_snapshot() = rd.snapshot;
    }
  }
  // The work for the apply thread.
  if (!rd.committed_entries.empty()) {
    raftpb::Message& m = rd.messages.emplace_back();
    m.set_type(raftpb::MsgStorageApply);
    m.set_to(kLocalApplyThread);
    m.set_from(r.id());
    m.mutable_entries()->Add(rd.committed_entries.begin(), rd.committed_entries.end());
    raftpb::Message* applied = m.add_responses();
    applied->set_type(raftpb::MsgStorageApplyResp);
    applied->set_to(r.id());
    applied->set_from(kLocalApplyThread);
    *applied->mutable_entries() = m.entries();
  }

  // Everything in this Ready is now being written or applied.
  if (!IsEmptyHardState(rd.hard_state)) prev_hard_state_ = rd.hard_state;
  log.AcceptUnstable();
  if (!rd.committed_entries.empty()) log.AcceptApplying(rd.committed_entries.back().index());
  return rd;
}

Ready RawNode::GetReady() {
  if (raft_->async_storage_writes()) return GetReadyAsync();
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
  if (r.async_storage_writes()) {
    const RaftLog& log = r.raft_log();
    return log.NextUnstableSnapshot() != nullptr || !r.msgs().empty() ||
           !r.msgs_after_append().empty() || log.HasNextUnstableEnts() ||
           log.HasNextCommittedEnts(/*allow_unstable=*/false) || !r.read_states().empty();
  }
  const std::optional<raftpb::Snapshot>& snap = r.raft_log().unstable().snapshot();
  if (snap.has_value() && !IsEmptySnap(*snap)) return true;
  if (!r.msgs().empty() || !r.raft_log().UnstableEntries().empty() || r.raft_log().HasNextEnts()) {
    return true;
  }
  return !r.read_states().empty();
}

void RawNode::Advance(const ReadySummary& rd) {
  if (raft_->async_storage_writes()) {
    raft_->logger()->Panicf("Advance must not be called when using AsyncStorageWrites");
  }
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
