#include "raft/node.h"

#include <algorithm>
#include <utility>

#include "raft/confchange/raftpb_helpers.h"
#include "raft/errors.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

constexpr absl::string_view kStoppedMessage = "raft: stopped";

raftpb::Message ConfChangeProposal(raftpb::EntryType type, std::string data) {
  raftpb::Message m;
  m.set_type(raftpb::MsgProp);
  raftpb::Entry* e = m.add_entries();
  e->set_type(type);
  e->set_data(std::move(data));
  return m;
}

bool Contains(const google::protobuf::RepeatedField<uint64_t>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

absl::Status ErrStopped() { return absl::CancelledError(kStoppedMessage); }

bool IsStopped(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled && status.message() == kStoppedMessage;
}

namespace {

absl::Status CheckNodeConfig(const Config& config) {
  if (config.async_storage_writes) {
    return absl::InvalidArgumentError(
        "Node does not support async_storage_writes; use RawNode for them");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> StartNode(Config config, absl::Span<const Peer> peers) {
  if (absl::Status s = CheckNodeConfig(config); !s.ok()) return s;
  if (peers.empty()) {
    return absl::InvalidArgumentError("no peers given; use RestartNode instead");
  }
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(std::move(config));
  if (!rn.ok()) return rn.status();
  if (absl::Status s = (*rn)->Bootstrap(peers); !s.ok()) return s;
  return std::unique_ptr<Node>(new Node(*std::move(rn)));
}

absl::StatusOr<std::unique_ptr<Node>> RestartNode(Config config) {
  if (absl::Status s = CheckNodeConfig(config); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(std::move(config));
  if (!rn.ok()) return rn.status();
  return std::unique_ptr<Node>(new Node(*std::move(rn)));
}

Node::Node(std::unique_ptr<RawNode> rn)
    : id_(rn->raft().id()), logger_(rn->raft().logger()), rn_(std::move(rn)) {
  thread_ = std::thread([this] { Run(); });
}

Node::~Node() { Stop(); }

void Node::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    work_cv_.Signal();
  }
  absl::MutexLock j(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

bool Node::HasWorkLocked() const { return stop_ || ticks_ > 0 || !received_.empty(); }

void Node::AfterRaftChangedLocked() {
  const Raft& r = rn_->raft();
  if (lead_ != r.lead()) {
    if (r.lead() != kNone) {
      if (lead_ == kNone) {
        logger_->Infof("raft.node: %x elected leader %x at term %d", r.id(), r.lead(), r.term());
      } else {
        logger_->Infof("raft.node: %x changed leader from %x to %x at term %d", r.id(), lead_,
                       r.lead(), r.term());
      }
      accept_proposals_ = true;
      leader_cv_.SignalAll();
    } else {
      logger_->Infof("raft.node: %x lost leader %x at term %d", r.id(), lead_, r.term());
      accept_proposals_ = false;
    }
    lead_ = r.lead();
  }
  if (!awaiting_advance_ && rn_->HasReady()) {
    Ready rd = rn_->GetReady();
    pending_ = ReadySummary::Of(rd);
    ready_ = std::move(rd);
    awaiting_advance_ = true;
    ready_cv_.Signal();
  }
}

void Node::Run() {
  absl::MutexLock l(&mu_);
  std::vector<raftpb::Message> recv;
  for (;;) {
    AfterRaftChangedLocked();
    drained_cv_.SignalAll();
    while (!HasWorkLocked()) work_cv_.Wait(&mu_);
    if (stop_) {
      // Waiting callers see done_ and give up with ErrStopped.
      done_ = true;
      received_.clear();
      ready_.reset();
      ready_cv_.SignalAll();
      leader_cv_.SignalAll();
      room_cv_.SignalAll();
      drained_cv_.SignalAll();
      return;
    }
    Raft& r = rn_->raft();
    recv.swap(received_);
    processed_seq_ = queued_seq_;
    room_cv_.SignalAll();
    for (raftpb::Message& m : recv) {
      // Responses from nodes outside the configuration are dropped.
      if (r.prs().progress.count(m.from()) > 0 || !IsResponseMsg(m.type())) {
        (void)r.Step(std::move(m));
      }
    }
    recv.clear();
    for (; ticks_ > 0; --ticks_) rn_->Tick();
  }
}

void Node::Tick() {
  absl::MutexLock l(&mu_);
  if (done_ || stop_) return;
  if (ticks_ >= kMaxPendingTicks) {
    logger_->Warningf("%x A tick missed to fire. Node blocks too long!", id_);
    return;
  }
  ++ticks_;
  ++queued_seq_;
  work_cv_.Signal();
}

absl::Status Node::Enqueue(raftpb::Message m, absl::Time deadline) {
  absl::MutexLock l(&mu_);
  while (!done_ && !stop_ && received_.size() >= kMaxPendingMessages) {
    if (room_cv_.WaitWithDeadline(&mu_, deadline)) {
      return absl::DeadlineExceededError("raft: inbox full until the deadline");
    }
  }
  if (done_ || stop_) return ErrStopped();
  received_.push_back(std::move(m));
  ++queued_seq_;
  work_cv_.Signal();
  return absl::OkStatus();
}

absl::Status Node::ProposeMessage(raftpb::Message m, absl::Time deadline) {
  absl::MutexLock l(&mu_);
  // Like etcd, wait for a leader rather than fail at once.
  ++waiting_proposals_;
  bool timed_out = false;
  while (!accept_proposals_ && !done_ && !stop_ && !timed_out) {
    timed_out = leader_cv_.WaitWithDeadline(&mu_, deadline);
  }
  --waiting_proposals_;
  if (!accept_proposals_ && !done_ && !stop_) {
    return absl::DeadlineExceededError("raft: no leader until the deadline");
  }
  if (done_ || stop_) return ErrStopped();
  m.set_from(id_);
  absl::Status s = rn_->raft().Step(std::move(m));
  // Prepare the Ready here rather than wake the loop for it.
  AfterRaftChangedLocked();
  return s;
}

absl::Status Node::Campaign(absl::Time deadline) {
  raftpb::Message m;
  m.set_type(raftpb::MsgHup);
  return Enqueue(std::move(m), deadline);
}

absl::Status Node::Propose(std::string data, absl::Time deadline) {
  raftpb::Message m;
  m.set_type(raftpb::MsgProp);
  m.add_entries()->set_data(std::move(data));
  return ProposeMessage(std::move(m), deadline);
}

absl::Status Node::ProposeConfChange(const raftpb::ConfChange& cc, absl::Time deadline) {
  return ProposeMessage(ConfChangeProposal(raftpb::EntryConfChange, MarshalConfChange(cc)),
                        deadline);
}

absl::Status Node::ProposeConfChange(const raftpb::ConfChangeV2& cc, absl::Time deadline) {
  return ProposeMessage(ConfChangeProposal(raftpb::EntryConfChangeV2, MarshalConfChange(cc)),
                        deadline);
}

absl::Status Node::Step(raftpb::Message m, absl::Time deadline) {
  // Local messages must not come from the network; etcd ignores them.
  if (IsLocalMsg(m.type())) return absl::OkStatus();
  // A proposal forwarded by a follower is stepped like a local one.
  if (m.type() == raftpb::MsgProp) return ProposeMessage(std::move(m), deadline);
  return Enqueue(std::move(m), deadline);
}

std::optional<Ready> Node::WaitReady(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  while (!ready_.has_value() && !done_) {
    if (ready_cv_.WaitWithDeadline(&mu_, deadline)) break;
  }
  if (!ready_.has_value()) return std::nullopt;
  std::optional<Ready> rd = std::move(ready_);
  ready_.reset();
  return rd;
}

void Node::Advance() {
  absl::MutexLock l(&mu_);
  if (done_ || stop_ || !awaiting_advance_ || ready_.has_value()) return;
  rn_->Advance(pending_);
  awaiting_advance_ = false;
  AfterRaftChangedLocked();
}

raftpb::ConfState Node::ApplyConfChange(const raftpb::ConfChange& cc) {
  return ApplyConfChange(confchange::AsV2(cc));
}

raftpb::ConfState Node::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  absl::MutexLock l(&mu_);
  if (done_ || stop_) return raftpb::ConfState();
  Raft& r = rn_->raft();
  const bool was_member = r.prs().progress.count(r.id()) > 0;
  raftpb::ConfState cs = r.ApplyConfChange(cc);
  if (was_member && r.prs().progress.count(r.id()) == 0 && !Contains(cs.voters(), r.id()) &&
      !Contains(cs.voters_outgoing(), r.id())) {
    // This node was removed: it takes no more proposals (until it sees a
    // new leader).
    accept_proposals_ = false;
  }
  AfterRaftChangedLocked();
  return cs;
}

void Node::TransferLeadership(uint64_t lead, uint64_t transferee) {
  raftpb::Message m;
  m.set_type(raftpb::MsgTransferLeader);
  // The transferee is carried in From, as raft expects.
  m.set_from(transferee);
  m.set_to(lead);
  (void)Enqueue(std::move(m), absl::InfiniteFuture());
}

absl::Status Node::ReadIndex(std::string rctx, absl::Time deadline) {
  raftpb::Message m;
  m.set_type(raftpb::MsgReadIndex);
  m.add_entries()->set_data(std::move(rctx));
  return Enqueue(std::move(m), deadline);
}

Status Node::GetStatus() {
  absl::MutexLock l(&mu_);
  // Let the loop process what was queued before.
  const uint64_t seq = queued_seq_;
  while (!done_ && processed_seq_ < seq) drained_cv_.Wait(&mu_);
  if (done_ || stop_) return Status();
  return rn_->GetStatus();
}

void Node::ReportUnreachable(uint64_t id) {
  raftpb::Message m;
  m.set_type(raftpb::MsgUnreachable);
  m.set_from(id);
  (void)Enqueue(std::move(m), absl::InfiniteFuture());
}

void Node::ReportSnapshot(uint64_t id, SnapshotStatus status) {
  raftpb::Message m;
  m.set_type(raftpb::MsgSnapStatus);
  m.set_from(id);
  m.set_reject(status == SnapshotStatus::kFailure);
  (void)Enqueue(std::move(m), absl::InfiniteFuture());
}

}  // namespace etcd::raft
