#include "raft/example/raft_node.h"

#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/status/status_macros.h"
#include "pkg/types/url.h"
#include "raft/errors.h"
#include "raft/ready.h"
#include "raft/util.h"

namespace etcd::raftexample {
namespace {

// Snapshot files kept; older ones are removed.
constexpr size_t kMaxSnapFiles = 5;

std::string WalMetadata(uint64_t id) { return absl::StrCat("raftexample member ", id); }

void Logf(uint64_t id, const std::string& text) {
  std::fprintf(stderr, "raftexample[%llu]: %s\n", static_cast<unsigned long long>(id),
               text.c_str());
}

}  // namespace

RaftNode::RaftNode(RaftNodeOptions options, KvStore* kv)
    : options_(std::move(options)), kv_(kv), ids_(options_.id, absl::Now()) {}

RaftNode::~RaftNode() { Stop(); }

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Start(RaftNodeOptions options, KvStore* kv) {
  if (options.id == 0 || options.peers.count(options.id) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("raftexample: node ", options.id, " is not among the peers"));
  }
  std::unique_ptr<RaftNode> node(new RaftNode(std::move(options), kv));
  RETURN_IF_ERROR(node->Open());
  node->thread_ = std::thread([n = node.get()] { n->Run(); });
  return node;
}

absl::Status RaftNode::Open() {
  const std::string wal_dir = options_.data_dir + "/wal";
  const std::string snap_dir = options_.data_dir + "/snap";
  RETURN_IF_ERROR(fileutil::CreateDirAll(snap_dir, fileutil::kPrivateDirMode));
  snapshotter_ = std::make_unique<snap::Snapshotter>(snap_dir);

  const bool restart = wal::Exist(wal_dir);
  raftpb::Snapshot snapshot;
  if (restart) {
    ASSIGN_OR_RETURN(std::vector<walpb::Snapshot> wal_snaps, wal::ValidSnapshotEntries(wal_dir));
    absl::StatusOr<raftpb::Snapshot> loaded = snapshotter_->LoadNewestAvailable(wal_snaps);
    if (loaded.ok()) {
      snapshot = *std::move(loaded);
    } else if (!snap::IsNoSnapshot(loaded.status())) {
      return loaded.status();
    }
    walpb::Snapshot at;
    at.set_index(snapshot.metadata().index());
    at.set_term(snapshot.metadata().term());
    // A crash may have torn the last record: repair once and retry.
    absl::StatusOr<wal::ReadResult> read;
    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(wal_, wal::WAL::Open(wal_dir, at));
      read = wal_->ReadAll();
      if (read.ok() || attempt > 0 || !wal::IsUnexpectedEOF(read.status())) break;
      wal_.reset();
      Logf(options_.id, "repairing the torn tail of the WAL");
      RETURN_IF_ERROR(wal::Repair(wal_dir));
    }
    RETURN_IF_ERROR(read.status());
    if (read->metadata != WalMetadata(options_.id)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "raftexample: ", wal_dir, " belongs to another member (\"", read->metadata, "\")"));
    }
    if (!raft::IsEmptySnap(snapshot)) {
      RETURN_IF_ERROR(storage_.ApplySnapshot(snapshot));
      RETURN_IF_ERROR(kv_->Restore(snapshot.data()));
      conf_state_ = snapshot.metadata().conf_state();
      applied_ = snapshot_index_ = snapshot.metadata().index();
    }
    RETURN_IF_ERROR(storage_.SetHardState(read->state));
    RETURN_IF_ERROR(storage_.Append(read->entries));
    Logf(options_.id,
         absl::StrCat("restarting from snapshot at index ", applied_, ", ", read->entries.size(),
                      " WAL entries, commit ", read->state.commit()));
  } else {
    ASSIGN_OR_RETURN(wal_, wal::WAL::Create(wal_dir, WalMetadata(options_.id)));
  }

  raft::Config c;
  c.id = options_.id;
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.storage = &storage_;
  c.applied = applied_;
  c.max_size_per_msg = 1 << 20;
  c.max_inflight_msgs = 256;
  c.max_uncommitted_entries_size = 1 << 30;
  c.check_quorum = true;
  c.pre_vote = true;
  ASSIGN_OR_RETURN(raft_, raft::RawNode::New(c));
  if (!restart && !options_.join) {
    std::vector<raft::Peer> peers;
    for (const auto& [id, addr] : options_.peers) peers.push_back({id, ""});
    RETURN_IF_ERROR(raft_->Bootstrap(peers));
  }

  Transport::Callbacks callbacks;
  callbacks.on_message = [this](raftpb::Message m) {
    absl::MutexLock lock(&mu_);
    if (inbox_.messages.size() < kMaxQueuedMessages) inbox_.messages.push_back(std::move(m));
  };
  callbacks.on_unreachable = [this](uint64_t id) {
    absl::MutexLock lock(&mu_);
    inbox_.unreachable.push_back(id);
  };
  callbacks.on_snapshot_status = [this](uint64_t id, raft::SnapshotStatus status) {
    absl::MutexLock lock(&mu_);
    inbox_.snapshot_status.emplace_back(id, status);
  };
  transport_ = std::make_unique<Transport>(options_.id, std::move(callbacks));
  const HostPort& self = options_.peers.at(options_.id);
  RETURN_IF_ERROR(transport_->Start(self.host, self.port));
  for (const auto& [id, addr] : options_.peers) transport_->AddPeer(id, addr.host, addr.port);
  PublishInfo();
  return absl::OkStatus();
}

absl::Status RaftNode::Put(std::string key, std::string value) {
  const uint64_t request_id = ids_.Next();
  ASSIGN_OR_RETURN(wait::Future<absl::Status> future, waiters_.Register(request_id));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || done_.HasBeenNotified()) {
      waiters_.Cancel(request_id);
      return absl::CancelledError("raftexample: stopped");
    }
    inbox_.proposals.emplace_back(request_id,
                                  EncodeProposal({request_id, std::move(key), std::move(value)}));
  }
  return WaitApplied(request_id, std::move(future));
}

absl::Status RaftNode::AddNode(uint64_t id, const HostPort& peer) {
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeAddNode);
  cc.set_node_id(id);
  cc.set_context(absl::StrCat("http://", peer.host, ":", peer.port));
  return ProposeConfChange(std::move(cc));
}

absl::Status RaftNode::RemoveNode(uint64_t id) {
  raftpb::ConfChange cc;
  cc.set_type(raftpb::ConfChangeRemoveNode);
  cc.set_node_id(id);
  return ProposeConfChange(std::move(cc));
}

absl::Status RaftNode::ProposeConfChange(raftpb::ConfChange cc) {
  const uint64_t request_id = ids_.Next();
  cc.set_id(request_id);
  ASSIGN_OR_RETURN(wait::Future<absl::Status> future, waiters_.Register(request_id));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || done_.HasBeenNotified()) {
      waiters_.Cancel(request_id);
      return absl::CancelledError("raftexample: stopped");
    }
    inbox_.conf_changes.push_back(std::move(cc));
  }
  return WaitApplied(request_id, std::move(future));
}

absl::Status RaftNode::WaitApplied(uint64_t request_id, wait::Future<absl::Status> future) {
  const absl::Status* result = future.WaitFor(options_.request_timeout);
  if (result != nullptr) return *result;
  waiters_.Cancel(request_id);
  return absl::DeadlineExceededError(
      "raftexample: timed out waiting for the request to be applied");
}

NodeInfo RaftNode::Info() const {
  absl::MutexLock lock(&mu_);
  return info_;
}

bool RaftNode::WaitDone(absl::Duration timeout) {
  return done_.WaitForNotificationWithTimeout(timeout);
}

absl::Status RaftNode::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

void RaftNode::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (transport_ != nullptr) transport_->Stop();
  if (wal_ != nullptr) {
    absl::Status s = wal_->Close();
    if (!s.ok()) Logf(options_.id, absl::StrCat("closing the WAL: ", s.ToString()));
  }
}

void RaftNode::Run() {
  absl::Time next_tick = absl::Now() + options_.tick_interval;
  absl::Status status;
  while (status.ok() && !removed_) {
    Inbox inbox;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time deadline = raft_->HasReady() ? absl::InfinitePast() : next_tick;
      mu_.AwaitWithDeadline(absl::Condition(
                                +[](RaftNode* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(n->mu_) {
                                  return n->stopping_ || !n->inbox_.empty();
                                },
                                this),
                            deadline);
      if (stopping_) break;
      std::swap(inbox, inbox_);
    }
    for (raftpb::Message& m : inbox.messages) {
      absl::Status s = raft_->Step(std::move(m));
      // A response from a node not in the configuration is normal during
      // membership changes; invalid messages were logged by raft.
      (void)s;
    }
    for (uint64_t id : inbox.unreachable) raft_->ReportUnreachable(id);
    for (const auto& [id, st] : inbox.snapshot_status) raft_->ReportSnapshot(id, st);
    for (auto& [request_id, data] : inbox.proposals) {
      absl::Status s = raft_->Propose(std::move(data));
      if (!s.ok()) {
        waiters_.Trigger(request_id,
                         absl::UnavailableError(absl::StrCat("raftexample: ", s.message())));
      }
    }
    for (const raftpb::ConfChange& cc : inbox.conf_changes) {
      absl::Status s = raft_->ProposeConfChange(cc);
      if (!s.ok()) {
        waiters_.Trigger(cc.id(),
                         absl::UnavailableError(absl::StrCat("raftexample: ", s.message())));
      }
    }
    const absl::Time now = absl::Now();
    if (now >= next_tick) {
      raft_->Tick();
      next_tick += options_.tick_interval;
      if (next_tick < now) next_tick = now + options_.tick_interval;  // fell behind
    }
    if (raft_->HasReady()) status = HandleReady();
    PublishInfo();
  }
  if (!status.ok()) {
    Logf(options_.id, absl::StrCat("stopping on error: ", status.ToString()));
    absl::MutexLock lock(&mu_);
    error_ = status;
  }
  if (removed_) Logf(options_.id, "removed from the cluster; stopping");
  done_.Notify();
}

absl::Status RaftNode::HandleReady() {
  raft::Ready rd = raft_->GetReady();
  const raft::ReadySummary summary = raft::ReadySummary::Of(rd);
  const bool has_snapshot = !raft::IsEmptySnap(rd.snapshot);
  if (has_snapshot) RETURN_IF_ERROR(SaveSnapshot(rd.snapshot));
  RETURN_IF_ERROR(wal_->Save(rd.hard_state, rd.entries));
  if (has_snapshot) {
    RETURN_IF_ERROR(storage_.ApplySnapshot(rd.snapshot));
    RETURN_IF_ERROR(kv_->Restore(rd.snapshot.data()));
    conf_state_ = rd.snapshot.metadata().conf_state();
    applied_ = snapshot_index_ = rd.snapshot.metadata().index();
    Logf(options_.id, absl::StrCat("applied snapshot from the leader at index ", applied_));
  }
  RETURN_IF_ERROR(storage_.Append(rd.entries));
  if (!raft::IsEmptyHardState(rd.hard_state)) {
    RETURN_IF_ERROR(storage_.SetHardState(rd.hard_state));
  }
  transport_->Send(std::move(rd.messages));
  RETURN_IF_ERROR(Apply(rd.committed_entries));
  RETURN_IF_ERROR(MaybeSnapshot());
  raft_->Advance(summary);
  return absl::OkStatus();
}

absl::Status RaftNode::Apply(const std::vector<raftpb::Entry>& entries) {
  for (const raftpb::Entry& e : entries) {
    if (e.index() <= applied_) continue;
    if (e.index() != applied_ + 1) {
      return absl::InternalError(absl::StrCat("raftexample: committed entry ", e.index(),
                                              " does not follow applied index ", applied_));
    }
    if (e.type() == raftpb::EntryNormal && !e.data().empty()) {
      absl::StatusOr<Proposal> p = DecodeProposal(e.data());
      if (p.ok()) {
        const uint64_t request_id = p->request_id;
        kv_->Put(std::move(p->key), std::move(p->value));
        waiters_.Trigger(request_id, absl::OkStatus());
      } else {
        // Every member skips it alike.
        Logf(options_.id, absl::StrCat("skipping entry ", e.index(), ": ", p.status().message()));
      }
    } else if (e.type() == raftpb::EntryConfChange) {
      RETURN_IF_ERROR(ApplyConfChange(e));
    }
    applied_ = e.index();
    if (removed_) break;
  }
  return absl::OkStatus();
}

absl::Status RaftNode::ApplyConfChange(const raftpb::Entry& entry) {
  raftpb::ConfChange cc;
  if (!cc.ParseFromString(entry.data())) {
    Logf(options_.id, absl::StrCat("skipping unparsable conf change at ", entry.index()));
    return absl::OkStatus();
  }
  absl::Status check = raft_->CheckConfChange(raft::AsV2(cc));
  if (!check.ok()) {
    Logf(options_.id,
         absl::StrCat("refusing conf change at ", entry.index(), ": ", check.message()));
    waiters_.Trigger(cc.id(), absl::FailedPreconditionError(std::string(check.message())));
    return absl::OkStatus();
  }
  conf_state_ = raft_->ApplyConfChange(cc);
  // A member added now may need a snapshot to catch up; the one in storage
  // must then already list it (raft refuses a snapshot that does not).
  snapshot_needed_ = true;
  if (cc.type() == raftpb::ConfChangeAddNode && !cc.context().empty()) {
    absl::StatusOr<types::URL> url = types::ParseURL(cc.context());
    int port = 0;
    if (url.ok() && absl::SimpleAtoi(url->port, &port)) {
      transport_->AddPeer(cc.node_id(), url->host, port);
    }
  } else if (cc.type() == raftpb::ConfChangeRemoveNode) {
    if (cc.node_id() == options_.id) {
      removed_ = true;
    } else {
      transport_->RemovePeer(cc.node_id());
    }
  }
  waiters_.Trigger(cc.id(), absl::OkStatus());
  return absl::OkStatus();
}

absl::Status RaftNode::MaybeSnapshot() {
  if (applied_ == snapshot_index_ ||
      (!snapshot_needed_ && applied_ - snapshot_index_ < options_.snapshot_count)) {
    return absl::OkStatus();
  }
  snapshot_needed_ = false;
  ASSIGN_OR_RETURN(raftpb::Snapshot snapshot,
                   storage_.CreateSnapshot(applied_, &conf_state_, kv_->Snapshot()));
  RETURN_IF_ERROR(SaveSnapshot(snapshot));
  snapshot_index_ = applied_;
  if (applied_ > options_.snapshot_catchup_entries) {
    absl::Status s = storage_.Compact(applied_ - options_.snapshot_catchup_entries);
    if (!s.ok() && !raft::IsCompacted(s)) return s;
  }
  Logf(options_.id, absl::StrCat("snapshot at index ", applied_, ", log compacted"));
  return absl::OkStatus();
}

absl::Status RaftNode::SaveSnapshot(const raftpb::Snapshot& snapshot) {
  RETURN_IF_ERROR(snapshotter_->SaveSnap(snapshot));
  walpb::Snapshot record;
  record.set_index(snapshot.metadata().index());
  record.set_term(snapshot.metadata().term());
  RETURN_IF_ERROR(wal_->SaveSnapshot(record));
  RETURN_IF_ERROR(wal_->ReleaseLockTo(snapshot.metadata().index()));
  absl::StatusOr<std::vector<std::string>> purged = snapshotter_->Purge(kMaxSnapFiles);
  return purged.status();
}

void RaftNode::PublishInfo() {
  const raft::BasicStatus st = raft_->GetBasicStatus();
  absl::MutexLock lock(&mu_);
  info_.id = options_.id;
  info_.leader = st.soft_state.lead;
  info_.term = st.hard_state.term();
  info_.commit = st.hard_state.commit();
  info_.applied = applied_;
  info_.snapshot_index = snapshot_index_;
}

}  // namespace etcd::raftexample
