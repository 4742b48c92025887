#include "server/etcdserver/server_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/etcdserverpb/etcdserver.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "lease/errors.h"
#include "mvcc/errors.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/fileutil/purge.h"
#include "raft/errors.h"
#include "raft/ready.h"
#include "raft/util.h"
#include "pkg/types/urlsmap.h"
#include "server/etcdserver/membership.h"
#include "server/etcdserver/request_util.h"
#include "server/etcdserver/transport.h"

namespace etcd::etcdserver {

using mvcc::backend::Bucket;

namespace {

std::string BigEndian(uint64_t v) {
  std::string b(8, '\0');
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return b;
}

absl::Status Rpc(const rpctypes::EtcdError& e) { return rpctypes::ToStatus(e); }

}  // namespace

absl::Status ToRpcStatus(const absl::Status& s) {
  if (s.ok()) return s;
  if (mvcc::IsCompacted(s)) return Rpc(rpctypes::kErrCompacted);
  if (mvcc::IsFutureRev(s)) return Rpc(rpctypes::kErrFutureRev);
  if (lease::IsLeaseNotFound(s)) return Rpc(rpctypes::kErrLeaseNotFound);
  if (lease::IsLeaseExists(s)) return Rpc(rpctypes::kErrLeaseExist);
  if (lease::IsLeaseTTLTooLarge(s)) return Rpc(rpctypes::kErrLeaseTTLTooLarge);
  if (lease::IsNotPrimary(s)) return Rpc(rpctypes::kErrNotLeader);
  return s;
}

// --- Adapters between the store and the lessor -------------------------------

class ServerImpl::LeaseAttacherAdapter : public mvcc::LeaseAttacher {
 public:
  explicit LeaseAttacherAdapter(lease::Lessor* lessor) : lessor_(lessor) {}
  int64_t GetLease(absl::string_view key) override { return lessor_->GetLease(key); }
  absl::Status Attach(int64_t id, absl::string_view key) override {
    std::string k(key);
    absl::Status s = lessor_->Attach(id, absl::MakeConstSpan(&k, 1));
    // A key whose lease is gone (revoked in a later entry being replayed)
    // keeps its lease ID; the revocation that follows deletes it.
    return lease::IsLeaseNotFound(s) ? absl::OkStatus() : s;
  }
  absl::Status Detach(int64_t id, absl::string_view key) override {
    std::string k(key);
    absl::Status s = lessor_->Detach(id, absl::MakeConstSpan(&k, 1));
    return lease::IsLeaseNotFound(s) ? absl::OkStatus() : s;
  }

 private:
  lease::Lessor* const lessor_;
};

class ServerImpl::RangeDeleterAdapter : public lease::RangeDeleter {
 public:
  explicit RangeDeleterAdapter(mvcc::KV* kv) : kv_(kv) {}
  std::unique_ptr<lease::TxnDelete> NewTxn() override {
    class Txn : public lease::TxnDelete {
     public:
      explicit Txn(std::unique_ptr<mvcc::TxnWrite> t) : t_(std::move(t)) {}
      void DeleteRange(absl::string_view key, absl::string_view end) override {
        t_->DeleteRange(key, end);
      }
      void End() override { t_->End(); }

     private:
      std::unique_ptr<mvcc::TxnWrite> t_;
    };
    return std::make_unique<Txn>(kv_->Write());
  }

 private:
  mvcc::KV* const kv_;
};

// Raft's messages go to the member's logger, at its level (etcd logs them
// through zap too); fatal and panic messages are logged as errors and raft
// then aborts.
class ServerImpl::RaftLogger : public raft::Logger {
 public:
  explicit RaftLogger(log::Logger* logger) : logger_(logger) {}
  void Log(Level level, absl::string_view message) override { logger_->Log(Map(level), message); }
  bool Enabled(Level level) const override { return logger_->Enabled(Map(level)); }

 private:
  static log::Level Map(Level level) {
    switch (level) {
      case Level::kDebug:
        return log::Level::kDebug;
      case Level::kInfo:
        return log::Level::kInfo;
      case Level::kWarning:
        return log::Level::kWarn;
      default:
        return log::Level::kError;
    }
  }
  log::Logger* const logger_;
};

// --- Start and stop ---------------------------------------------------------------

ServerImpl::ServerImpl(const ServerOptions& options) : options_(options) {
  logger_ = options.logger != nullptr ? options.logger : &log::Default();
  if (options_.request_timeout <= absl::ZeroDuration()) {
    options_.request_timeout =
        absl::Seconds(5) + 2 * options_.heartbeat_interval * options_.election_ticks;
  }
}

ServerImpl::~ServerImpl() { Stop(); }

absl::Status ServerImpl::Init() {
  if (options_.data_dir.empty()) return absl::InvalidArgumentError("etcdserver: empty data dir");
  if (options_.heartbeat_interval <= absl::ZeroDuration() || options_.election_ticks <= 1) {
    return absl::InvalidArgumentError("etcdserver: bad heartbeat interval or election ticks");
  }
  member_dir_ = options_.data_dir + "/member";
  snap_dir_ = member_dir_ + "/snap";
  wal_dir_ = options_.wal_dir.empty() ? member_dir_ + "/wal" : options_.wal_dir;
  quota_bytes_ = options_.quota_backend_bytes == 0 ? int64_t{2} * 1024 * 1024 * 1024
                                                   : options_.quota_backend_bytes;

  const bool have_wal = wal::Exist(wal_dir_);
  if (absl::Status s = fileutil::CreateDirAll(snap_dir_, 0700); !s.ok()) return s;
  snapshotter_ = std::make_unique<snap::Snapshotter>(snap_dir_);

  raftpb::Snapshot snapshot;
  if (have_wal) {
    absl::StatusOr<std::vector<walpb::Snapshot>> walsnaps = wal::ValidSnapshotEntries(wal_dir_);
    if (!walsnaps.ok()) return walsnaps.status();
    absl::StatusOr<raftpb::Snapshot> s = snapshotter_->LoadNewestAvailable(*walsnaps);
    if (s.ok()) {
      snapshot = *std::move(s);
    } else if (!snap::IsNoSnapshot(s.status())) {
      return s.status();
    }
  }

  mvcc::backend::BackendOptions bo;
  bo.path = snap_dir_ + "/db";
  if (options_.backend_batch_interval > absl::ZeroDuration()) {
    bo.batch_interval = options_.backend_batch_interval;
  }
  if (options_.backend_batch_limit > 0) bo.batch_limit = options_.backend_batch_limit;
  bo.unsafe_no_fsync = options_.unsafe_no_fsync;
  bo.on_commit = [this](absl::Duration d) { backend_commit_latency_.Observe(d); };
  absl::StatusOr<std::unique_ptr<mvcc::backend::Backend>> be = mvcc::backend::Backend::Open(bo);
  if (!be.ok()) return be.status();
  backend_ = *std::move(be);
  if (!raft::IsEmptySnap(snapshot)) {
    // Crashed after saving a leader's snapshot but before installing its
    // database: install it now (etcd does the same at start).
    uint64_t cindex = 0;
    {
      std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
      std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kMeta, mvcc::kConsistentIndexKey);
      if (v.has_value() && v->size() == 8) {
        for (char c : *v) cindex = (cindex << 8) | static_cast<uint8_t>(c);
      }
    }
    const std::string db = SnapshotDbPath(snapshot.metadata().index());
    if (cindex < snapshot.metadata().index() && fileutil::Exist(db)) {
      logger_->Info("installing the snapshot database received before restart", {{"db", db}});
      if (absl::Status s = backend_->ReplaceWith(db); !s.ok()) return s;
    }
  }

  lease::LessorOptions lo;
  lo.min_lease_ttl = options_.min_lease_ttl;
  if (lo.min_lease_ttl <= 0) {
    double election_s =
        absl::ToDoubleSeconds(options_.heartbeat_interval * options_.election_ticks);
    lo.min_lease_ttl = static_cast<int64_t>(std::ceil(1.5 * election_s));
  }
  lo.clock = options_.lease_clock;
  lo.revoke_rate = LeaseRevokeRate();
  absl::StatusOr<std::unique_ptr<lease::Lessor>> lessor = lease::Lessor::Open(backend_.get(), lo);
  if (!lessor.ok()) return lessor.status();
  lessor_ = *std::move(lessor);
  attacher_ = std::make_unique<LeaseAttacherAdapter>(lessor_.get());

  mvcc::WatchableStoreOptions wso;
  wso.store.compaction_batch_limit = static_cast<int>(options_.compaction_batch_limit);
  wso.store.compaction_sleep_interval = options_.compaction_sleep_interval;
  wso.store.lessor = attacher_.get();
  absl::StatusOr<std::unique_ptr<mvcc::WatchableStore>> watchable =
      mvcc::WatchableStore::Open(backend_.get(), wso);
  if (!watchable.ok()) return watchable.status();
  watchable_ = *std::move(watchable);
  store_ = watchable_->store();
  kv_ = watchable_.get();
  deleter_ = std::make_unique<RangeDeleterAdapter>(kv_);
  lessor_->SetRangeDeleter(deleter_.get());

  auth::TokenProviderOptions to;
  to.simple_token_ttl = options_.auth_token_ttl;
  to.index_waiter = [this](uint64_t index, absl::Time deadline) {
    wait::Future<uint64_t> f = applied_wait_.Wait(index);
    return f.WaitUntil(deadline) != nullptr;
  };
  to.logger = logger_;
  absl::StatusOr<std::unique_ptr<auth::TokenProvider>> tokens =
      options_.auth_token.empty() ? absl::StatusOr<std::unique_ptr<auth::TokenProvider>>(
                                        auth::NewNopTokenProvider())
                                  : auth::NewTokenProvider(options_.auth_token, to);
  if (!tokens.ok()) return tokens.status();
  auth::AuthStoreOptions ao;
  ao.bcrypt_cost = options_.bcrypt_cost;
  ao.logger = logger_;
  ao.consistent_index_saver = [this](mvcc::backend::BatchTx* tx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    tx->UnsafePut(Bucket::kMeta, mvcc::kConsistentIndexKey, BigEndian(store_->ConsistentIndex()));
  };
  absl::StatusOr<std::unique_ptr<auth::AuthStore>> as =
      auth::AuthStore::Open(backend_.get(), *std::move(tokens), ao);
  if (!as.ok()) return as.status();
  auth_ = *std::move(as);
  start_consistent_index_ = store_->ConsistentIndex();
  if (absl::Status s = LoadMembersAndAlarms(); !s.ok()) return s;

  raft_logger_ = std::make_unique<RaftLogger>(logger_);
  raft::Config rc;
  rc.election_tick = options_.election_ticks;
  rc.heartbeat_tick = 1;
  rc.storage = &storage_;
  rc.max_size_per_msg = 1024 * 1024;
  rc.max_inflight_msgs = 512;
  rc.max_uncommitted_entries_size = uint64_t{1} << 30;
  rc.check_quorum = true;
  rc.pre_vote = options_.pre_vote;
  rc.logger = raft_logger_.get();

  wal::Options wo;
  wo.unsafe_no_fsync = options_.unsafe_no_fsync;
  if (options_.wal_segment_size_bytes > 0) wo.segment_size_bytes = options_.wal_segment_size_bytes;
  if (have_wal) {
    walpb::Snapshot at;
    at.set_index(snapshot.metadata().index());
    at.set_term(snapshot.metadata().term());
    absl::StatusOr<wal::ReadResult> read;
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<wal::WAL>> w = wal::WAL::Open(wal_dir_, at, wo);
      if (!w.ok()) return w.status();
      wal_ = *std::move(w);
      read = wal_->ReadAll();
      if (read.ok() || attempt > 0 || !wal::IsUnexpectedEOF(read.status())) break;
      logger_->Warn("repairing the WAL after a torn write", {{"dir", wal_dir_}});
      wal_.reset();
      if (absl::Status s = wal::Repair(wal_dir_, wo); !s.ok()) return s;
    }
    if (!read.ok()) return read.status();
    etcdserverpb::Metadata md;
    if (!md.ParseFromString(read->metadata)) {
      return absl::DataLossError(absl::StrCat("etcdserver: cannot decode WAL metadata in ", wal_dir_));
    }
    id_ = md.nodeid();
    cluster_id_ = md.clusterid();
    if (!raft::IsEmptySnap(snapshot)) {
      if (absl::Status s = storage_.ApplySnapshot(snapshot); !s.ok()) return s;
      snapshot_index_ = snapshot.metadata().index();
      applied_term_ = snapshot.metadata().term();
      conf_state_ = snapshot.metadata().conf_state();
    }
    if (options_.force_new_cluster) {
      if (absl::Status s = ForceNewCluster(snapshot, &read->state, &read->entries); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = storage_.SetHardState(read->state); !s.ok()) return s;
    if (absl::Status s = storage_.Append(read->entries); !s.ok()) return s;
    if (start_consistent_index_ < snapshot_index_) {
      return absl::DataLossError(absl::StrFormat(
          "etcdserver: backend %s/db has consistent index %d below the snapshot index %d",
          snap_dir_, start_consistent_index_, snapshot_index_));
    }
    rc.id = id_;
    rc.applied = snapshot_index_;
    absl::StatusOr<std::unique_ptr<raft::RawNode>> node = raft::RawNode::New(rc);
    if (!node.ok()) return node.status();
    node_ = *std::move(node);
    term_ = read->state.term();
    committed_index_ = read->state.commit();
    {
      absl::MutexLock l(&state_mu_);
      if (removed_.count(id_) > 0) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "the member has been permanently removed from the cluster (member %x); start a new "
            "member with a fresh data dir instead",
            id_));
      }
    }
    logger_->Info("restarting local member",
                  {{"local-member-id", absl::StrFormat("%x", id_)},
                   {"cluster-id", absl::StrFormat("%x", cluster_id_)},
                   {"commit-index", read->state.commit()},
                   {"snapshot-index", snapshot_index_}});
  } else {
    if (options_.initial_cluster_state == "existing") {
      std::vector<etcdserverpb::Member> existing;
      if (absl::Status s = JoinExistingCluster(&existing); !s.ok()) return s;
      if (absl::Status s = CreateLog(wo, rc); !s.ok()) return s;
      // The leader sends the log (membership included) from the start;
      // until then the transport knows the peers from what we fetched.
      if (options_.transport != nullptr) {
        for (const etcdserverpb::Member& m : existing) {
          if (m.id() == id_) continue;
          options_.transport->AddPeer(
              m.id(), std::vector<std::string>(m.peerurls().begin(), m.peerurls().end()));
        }
      }
      logger_->Info("joining existing cluster",
                    {{"local-member-id", absl::StrFormat("%x", id_)},
                     {"cluster-id", absl::StrFormat("%x", cluster_id_)}});
    } else if (options_.initial_cluster_state != "new") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "unexpected --initial-cluster-state %q (want \"new\" or \"existing\")",
          options_.initial_cluster_state));
    } else {
      absl::StatusOr<std::vector<etcdserverpb::Member>> members =
          InitialMembers(options_.initial_cluster, options_.initial_cluster_token);
      if (!members.ok()) return members.status();
      std::vector<uint64_t> ids;
      const etcdserverpb::Member* self = nullptr;
      for (const etcdserverpb::Member& m : *members) {
        ids.push_back(m.id());
        if (m.name() == options_.name) self = &m;
      }
      if (self == nullptr) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "couldn't find local name %q in the initial cluster configuration", options_.name));
      }
      std::vector<std::string> advertised = options_.advertise_peer_urls;
      std::sort(advertised.begin(), advertised.end());
      std::vector<std::string> listed(self->peerurls().begin(), self->peerurls().end());
      std::sort(listed.begin(), listed.end());
      if (advertised != listed) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s",
            absl::StrJoin(listed, ","), absl::StrJoin(advertised, ",")));
      }
      id_ = self->id();
      cluster_id_ = ComputeClusterId(ids);
      if (absl::Status s = CreateLog(wo, rc); !s.ok()) return s;
      // Every member bootstraps the same entries; client URLs come later,
      // published through raft (PublishLoop).
      std::vector<raft::Peer> peers;
      for (const etcdserverpb::Member& m : *members) peers.push_back({m.id(), MemberToJson(m)});
      if (absl::Status s = node_->Bootstrap(peers); !s.ok()) return s;
      for (uint64_t id : ids) conf_state_.add_voters(id);
      logger_->Info("starting local member",
                    {{"local-member-id", absl::StrFormat("%x", id_)},
                     {"cluster-id", absl::StrFormat("%x", cluster_id_)}});
    }
  }

  reqid_ = std::make_unique<idutil::Generator>(id_, absl::Now());
  applied_index_ = snapshot_index_;
  applied_wait_.Trigger(snapshot_index_);

  // Expired leases are handed out by the raft thread (ProposeExpiredLeases);
  // the lessor's own loop only makes checkpoints.
  if (options_.enable_lease_checkpoint) {
    lessor_->SetCheckpointer([this](std::vector<lease::LeaseCheckpoint> cps) {
      etcdserverpb::InternalRaftRequest r;
      for (const lease::LeaseCheckpoint& cp : cps) {
        etcdserverpb::LeaseCheckpoint* c = r.mutable_lease_checkpoint()->add_checkpoints();
        c->set_id(cp.id);
        c->set_remaining_ttl(cp.remaining_ttl);
      }
      ProposeAsync(std::move(r));
    });
  }
  lessor_->Start();

  AddPeersToTransport();
  {
    // Decided before the threads start: conf_state_ is the apply thread's.
    absl::MutexLock l(&state_mu_);
    campaign_at_start_ = members_.size() <= 1 && conf_state_.voters_size() == 1 &&
                         conf_state_.voters(0) == id_ && options_.initial_election_tick_advance;
  }
  apply_thread_ = std::thread([this] { ApplyLoop(); });
  raft_thread_ = std::thread([this] { RaftLoop(); });
  publish_thread_ = std::thread([this] { PublishLoop(); });
  if (options_.corrupt_check_time > absl::ZeroDuration()) {
    corrupt_thread_ = std::thread([this] { CorruptCheckLoop(); });
  }
  if (options_.auto_compaction_period > absl::ZeroDuration() ||
      options_.auto_compaction_revisions > 0) {
    compactor_thread_ = std::thread([this] { CompactorLoop(); });
  }
  return absl::OkStatus();
}

void ServerImpl::Stop() {
  {
    absl::MutexLock l(&stop_mu_);
    if (stop_done_) return;
    stop_done_ = true;
  }
  stopped_ = true;
  if (lessor_ != nullptr) lessor_->Stop();
  {
    absl::MutexLock l(&compactor_mu_);
    compactor_stop_ = true;
  }
  if (compactor_thread_.joinable()) compactor_thread_.join();
  if (publish_thread_.joinable()) publish_thread_.join();
  if (corrupt_thread_.joinable()) corrupt_thread_.join();
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (raft_thread_.joinable()) raft_thread_.join();
  {
    absl::MutexLock l(&apply_mu_);
    apply_stopping_ = true;
  }
  if (apply_thread_.joinable()) apply_thread_.join();
  std::shared_ptr<ReadBatch> unsent;
  {
    absl::MutexLock l(&mu_);
    unsent = std::move(read_batch_);
  }
  if (unsent != nullptr) unsent->Set(Rpc(rpctypes::kErrStopped));
  for (auto& [ctx, r] : inflight_reads_) r.batch->Set(Rpc(rpctypes::kErrStopped));
  inflight_reads_.clear();
  // Proposals never applied fail with kErrStopped.
  timer_.Stop();
  if (watchable_ != nullptr) {
    watchable_->Commit();
    (void)watchable_->Close();
  }
  auth_.reset();
  if (lessor_ != nullptr) lessor_->SetRangeDeleter(nullptr);
  store_ = nullptr;
  kv_ = nullptr;
  lessor_.reset();
  {
    absl::MutexLock l(&outgoing_mu_);
    outgoing_snapshots_.clear();  // they hold read transactions
  }
  if (backend_ != nullptr) (void)backend_->Close();
  if (wal_ != nullptr) (void)wal_->Close();
}

// --- DeadlineTimer -------------------------------------------------------------------

DeadlineTimer::DeadlineTimer() : thread_([this] { Run(); }) {}

std::optional<DeadlineTimer::Key> DeadlineTimer::Add(absl::Time deadline, Fn fn) {
  absl::MutexLock l(&mu_);
  if (stopping_) return std::nullopt;
  Key key{deadline, ++next_seq_};
  auto it = entries_.emplace(std::make_pair(deadline, key.seq), std::move(fn)).first;
  if (it == entries_.begin()) ++generation_;
  return key;
}

void DeadlineTimer::Cancel(const Key& key) {
  Fn dropped;  // destroyed outside the lock
  absl::MutexLock l(&mu_);
  auto it = entries_.find(std::make_pair(key.deadline, key.seq));
  if (it == entries_.end()) return;
  dropped = std::move(it->second);
  entries_.erase(it);
}

void DeadlineTimer::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void DeadlineTimer::Run() {
  for (;;) {
    std::vector<Fn> due;
    bool stopped = false;
    {
      absl::MutexLock l(&mu_);
      const uint64_t generation = generation_;
      const absl::Time next =
          entries_.empty() ? absl::InfiniteFuture() : entries_.begin()->first.first;
      auto changed = [this, generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || generation_ != generation;
      };
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      stopped = stopping_;
      const absl::Time now = absl::Now();
      while (!entries_.empty() && (stopped || entries_.begin()->first.first <= now)) {
        due.push_back(std::move(entries_.begin()->second));
        entries_.erase(entries_.begin());
      }
    }
    for (Fn& fn : due) fn(stopped);
    if (stopped) {
      // Entries added while the last ones ran: none (Add refuses after
      // stopping_), so this is the end.
      return;
    }
  }
}

// --- Proposals and reads ----------------------------------------------------------

void ServerImpl::Wake() {
  absl::MutexLock l(&mu_);
  wake_ = true;
}

absl::Time ServerImpl::Deadline(const RequestContext& ctx) const {
  // As etcd: the server's own timeout bounds every request, so that a
  // client with a longer deadline gets etcd's timeout error, not its own.
  return std::min(ctx.deadline, absl::Now() + options_.request_timeout);
}

absl::Status ServerImpl::CheckRunning(const RequestContext& ctx) const {
  if (stopped_) return Rpc(rpctypes::kErrStopped);
  if (ctx.require_leader && lead_ == 0) return Rpc(rpctypes::kErrNoLeader);
  return absl::OkStatus();
}

void ServerImpl::ProposeWithCallback(etcdserverpb::InternalRaftRequest request,
                                     const RequestContext& ctx, ProposeCallback done) {
  if (absl::Status s = CheckRunning(ctx); !s.ok()) return done(s);
  if (!request.has_authenticate() && auth_->IsAuthEnabled()) {
    absl::StatusOr<auth::AuthInfo> who = AuthInfoFrom(ctx);
    if (!who.ok()) return done(who.status());
    request.mutable_header()->set_username(who->username);
    request.mutable_header()->set_auth_revision(who->revision);
  }
  const uint64_t id = reqid_->Next();
  request.mutable_header()->set_id(id);
  std::string data = request.SerializeAsString();
  if (data.size() > options_.max_request_bytes) return done(Rpc(rpctypes::kErrRequestTooLarge));
  const absl::Time start = absl::Now();
  const absl::Time deadline = Deadline(ctx);

  auto once = std::make_shared<OnceCallback<absl::StatusOr<ApplyResult>>>(std::move(done));
  std::optional<DeadlineTimer::Key> key =
      timer_.Add(deadline, [this, once, id, start](bool stopped) {
        if (!once->Claim()) return;
        waiters_.Cancel(id);
        --proposals_pending_;
        ++proposals_failed_;
        once->Run(stopped ? Rpc(rpctypes::kErrStopped) : ProposeTimeoutError(start));
      });
  if (!key.has_value()) {
    once->Claim();
    return once->Run(Rpc(rpctypes::kErrStopped));
  }
  once->timer_key = *key;
  ++proposals_pending_;
  absl::Status registered = waiters_.Register(id, [this, once](ApplyResult result) {
    if (!once->Claim()) return;
    timer_.Cancel(once->timer_key);
    --proposals_pending_;
    once->Run(std::move(result));
  });
  if (!registered.ok()) {
    if (!once->Claim()) return;
    timer_.Cancel(once->timer_key);
    --proposals_pending_;
    return once->Run(registered);
  }
  absl::MutexLock l(&mu_);
  proposals_.push_back({std::move(data), deadline});
  wake_ = true;
}

absl::StatusOr<ApplyResult> ServerImpl::Propose(etcdserverpb::InternalRaftRequest request,
                                                const RequestContext& ctx) {
  wait::Promise<absl::StatusOr<ApplyResult>> promise;
  wait::Future<absl::StatusOr<ApplyResult>> future = promise.future();
  ProposeWithCallback(std::move(request), ctx,
                      [promise](absl::StatusOr<ApplyResult> r) { promise.Set(std::move(r)); });
  for (;;) {
    const absl::StatusOr<ApplyResult>* r = future.WaitUntil(absl::Now() + absl::Milliseconds(100));
    if (r != nullptr) return *r;
    // A stopping server may not finish this proposal before Stop() has
    // joined the thread that waits here (the compactor).
    if (stopped_) return Rpc(rpctypes::kErrStopped);
  }
}

absl::Status ServerImpl::ProposeTimeoutError(absl::Time start) const {
  const int64_t elected_ns = leader_elected_ns_;
  if (elected_ns != 0) {
    const absl::Time elected = absl::FromUnixNanos(elected_ns);
    const absl::Duration election = options_.heartbeat_interval * options_.election_ticks;
    if (start > elected - 2 * election && start < elected) {
      return Rpc(rpctypes::kErrTimeoutDueToLeaderFail);
    }
  }
  const uint64_t lead = lead_;
  if (lead == id_) {
    // A quorum of voters (this member included) reachable since `start`.
    const std::vector<etcdserverpb::Member> members = Members();
    size_t voters = 0, connected = 0;
    for (const etcdserverpb::Member& m : members) {
      if (m.islearner()) continue;
      ++voters;
      std::optional<absl::Time> since = PeerActiveSince(m.id());
      if (since.has_value() && *since <= start) ++connected;
    }
    if (connected < voters / 2 + 1) return Rpc(rpctypes::kErrTimeoutDueToConnectionLost);
  } else if (lead != 0) {
    std::optional<absl::Time> since = PeerActiveSince(lead);
    if (!since.has_value() || *since > start) {
      return Rpc(rpctypes::kErrTimeoutDueToConnectionLost);
    }
  }
  return Rpc(rpctypes::kErrTimeout);
}

std::optional<absl::Time> ServerImpl::PeerActiveSince(uint64_t id) const {
  if (id == id_) return absl::InfinitePast();
  if (options_.transport == nullptr) return std::nullopt;
  absl::Time since = options_.transport->ActiveSince(id);
  if (since == absl::InfinitePast()) return std::nullopt;
  return since;
}

std::map<uint64_t, uint64_t> ServerImpl::ProgressMatch() const {
  absl::MutexLock l(&progress_mu_);
  return progress_match_;
}

void ServerImpl::PublishProgress() {
  std::map<uint64_t, uint64_t> match;
  if (is_leader_) {
    node_->WithProgress([&](uint64_t id, raft::ProgressType, const raft::tracker::Progress& pr) {
      match[id] = pr.match;
    });
  }
  absl::MutexLock l(&progress_mu_);
  progress_match_.swap(match);
}

void ServerImpl::FailInflightReads() {
  for (auto& [ctx, r] : inflight_reads_) r.batch->Set(Rpc(rpctypes::kErrLeaderChanged));
  inflight_reads_.clear();
}

void ServerImpl::ProposeAsync(etcdserverpb::InternalRaftRequest request) {
  if (stopped_) return;
  request.mutable_header()->set_id(reqid_->Next());
  if (auth_->IsAuthEnabled()) {
    request.mutable_header()->set_username(auth::kRootUser);
    request.mutable_header()->set_auth_revision(auth_->Revision());
  }
  absl::MutexLock l(&mu_);
  proposals_.push_back({request.SerializeAsString(), absl::Now() + options_.request_timeout});
  wake_ = true;
}

absl::Status ServerImpl::CreateLog(const wal::Options& wo, raft::Config rc) {
  etcdserverpb::Metadata md;
  md.set_nodeid(id_);
  md.set_clusterid(cluster_id_);
  size_t slash = wal_dir_.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (absl::Status s = fileutil::CreateDirAll(wal_dir_.substr(0, slash), 0700); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<std::unique_ptr<wal::WAL>> w =
      wal::WAL::Create(wal_dir_, md.SerializeAsString(), wo);
  if (!w.ok()) return w.status();
  wal_ = *std::move(w);
  rc.id = id_;
  absl::StatusOr<std::unique_ptr<raft::RawNode>> node = raft::RawNode::New(rc);
  if (!node.ok()) return node.status();
  node_ = *std::move(node);
  return absl::OkStatus();
}

absl::Status ServerImpl::ProposeConfChange(raftpb::ConfChange cc, const RequestContext& ctx) {
  if (absl::Status s = CheckRunning(ctx); !s.ok()) return s;
  const absl::Time start = absl::Now();
  const uint64_t id = reqid_->Next();
  cc.set_id(id);
  absl::StatusOr<wait::Future<ApplyResult>> future = waiters_.Register(id);
  if (!future.ok()) return future.status();
  const absl::Time deadline = Deadline(ctx);
  {
    absl::MutexLock l(&mu_);
    conf_proposals_.push_back({std::move(cc), deadline});
    wake_ = true;
  }
  for (;;) {
    const ApplyResult* r =
        future->WaitUntil(std::min(deadline, absl::Now() + absl::Milliseconds(100)));
    if (r != nullptr) return r->status;
    if (stopped_ || absl::Now() >= deadline) {
      waiters_.Cancel(id);
      if (stopped_) return Rpc(rpctypes::kErrStopped);
      return ProposeTimeoutError(start);
    }
  }
}

absl::Status ServerImpl::ForceNewCluster(const raftpb::Snapshot& snapshot,
                                         raftpb::HardState* state,
                                         std::vector<raftpb::Entry>* entries) {
  size_t committed = 0;
  while (committed < entries->size() && (*entries)[committed].index() <= state->commit()) {
    ++committed;
  }
  if (committed < entries->size()) {
    logger_->Info("discarding uncommitted WAL entries",
                  {{"count", static_cast<uint64_t>(entries->size() - committed)}});
    entries->resize(committed);
  }
  // The members as of the last committed entry (learners too, so that
  // they go as well).
  std::set<uint64_t> ids;
  for (uint64_t id : snapshot.metadata().conf_state().voters()) ids.insert(id);
  for (uint64_t id : snapshot.metadata().conf_state().learners()) ids.insert(id);
  for (const raftpb::Entry& e : *entries) {
    if (e.type() != raftpb::EntryConfChange) continue;
    raftpb::ConfChange cc;
    if (!cc.ParseFromString(e.data())) continue;
    if (cc.type() == raftpb::ConfChangeAddNode || cc.type() == raftpb::ConfChangeAddLearnerNode) {
      ids.insert(cc.node_id());
    } else if (cc.type() == raftpb::ConfChangeRemoveNode) {
      ids.erase(cc.node_id());
    }
  }
  // This member first (raft must never be left without a voter), then the
  // others go.
  std::vector<raftpb::Entry> forced;
  uint64_t next = state->commit() + 1;
  auto append = [&](const raftpb::ConfChange& cc) {
    raftpb::Entry e;
    e.set_type(raftpb::EntryConfChange);
    e.set_term(state->term());
    e.set_index(next++);
    e.set_data(cc.SerializeAsString());
    forced.push_back(std::move(e));
  };
  if (ids.count(id_) == 0) {
    etcdserverpb::Member self;
    self.set_id(id_);
    for (const std::string& u : options_.advertise_peer_urls) self.add_peerurls(u);
    raftpb::ConfChange cc;
    cc.set_type(raftpb::ConfChangeAddNode);
    cc.set_node_id(id_);
    cc.set_context(MemberToJson(self));
    append(cc);
  }
  for (uint64_t id : ids) {
    if (id == id_) continue;
    raftpb::ConfChange cc;
    cc.set_type(raftpb::ConfChangeRemoveNode);
    cc.set_node_id(id);
    append(cc);
  }
  if (absl::Status s = wal_->Save(raftpb::HardState(), forced); !s.ok()) return s;
  for (raftpb::Entry& e : forced) entries->push_back(std::move(e));
  if (!entries->empty()) state->set_commit(entries->back().index());
  logger_->Warn("forcing restart of member as a new one-member cluster",
                {{"local-member-id", absl::StrFormat("%x", id_)},
                 {"cluster-id", absl::StrFormat("%x", cluster_id_)},
                 {"commit-index", state->commit()},
                 {"removed-members", static_cast<uint64_t>(ids.size() - ids.count(id_))}});
  return absl::OkStatus();
}

absl::Status ServerImpl::JoinExistingCluster(std::vector<etcdserverpb::Member>* members) {
  absl::StatusOr<types::URLsMap> initial = types::URLsMap::Parse(options_.initial_cluster);
  if (!initial.ok()) return initial.status();
  if (options_.transport == nullptr) {
    return absl::FailedPreconditionError(
        "etcdserver: cannot join a cluster without a peer transport");
  }
  std::vector<std::string> own = options_.advertise_peer_urls;
  std::sort(own.begin(), own.end());
  absl::Status last = absl::UnavailableError("no other member in --initial-cluster");
  for (const auto& [name, urls] : *initial) {
    if (name == options_.name) continue;
    for (const std::string& url : urls.StringSlice()) {
      absl::StatusOr<std::string> payload =
          options_.transport->FetchMembers(url, absl::Now() + absl::Seconds(5));
      if (!payload.ok()) {
        last = payload.status();
        continue;
      }
      etcdserverpb::MemberListResponse list;
      if (!list.ParseFromString(*payload)) {
        last = absl::DataLossError(absl::StrCat("cannot decode the member list from ", url));
        continue;
      }
      for (const etcdserverpb::Member& m : list.members()) {
        std::vector<std::string> peers(m.peerurls().begin(), m.peerurls().end());
        std::sort(peers.begin(), peers.end());
        if (peers == own) id_ = m.id();
      }
      if (id_ == 0) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "member with peer URLs %s has not been added to the cluster (etcdctl member add "
            "first)",
            absl::StrJoin(own, ",")));
      }
      cluster_id_ = list.header().cluster_id();
      members->assign(list.members().begin(), list.members().end());
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError(
      absl::StrCat("cannot fetch cluster info from the members of --initial-cluster: ",
                   last.message()));
}

void ServerImpl::ReadBatch::Add(std::function<void(absl::Status)> waiter) {
  absl::Status s;
  {
    absl::MutexLock l(&mu);
    if (!done) {
      waiters.push_back(std::move(waiter));
      return;
    }
    s = status;
  }
  waiter(s);
}

void ServerImpl::ReadBatch::Set(const absl::Status& s) {
  std::vector<std::function<void(absl::Status)>> to_run;
  {
    absl::MutexLock l(&mu);
    if (done) return;
    done = true;
    status = s;
    to_run.swap(waiters);
  }
  for (auto& w : to_run) w(s);
}

void ServerImpl::LinearizableReadNotifyAsync(const RequestContext& ctx,
                                             std::function<void(absl::Status)> done) {
  if (absl::Status s = CheckRunning(ctx); !s.ok()) return done(s);
  auto once = std::make_shared<OnceCallback<absl::Status>>(std::move(done));
  std::optional<DeadlineTimer::Key> key = timer_.Add(Deadline(ctx), [once](bool stopped) {
    if (!once->Claim()) return;
    once->Run(Rpc(stopped ? rpctypes::kErrStopped : rpctypes::kErrTimeout));
  });
  if (!key.has_value()) {
    once->Claim();
    return once->Run(Rpc(rpctypes::kErrStopped));
  }
  once->timer_key = *key;
  // The waiter joins the batch under mu_, so the raft thread cannot send
  // (and the apply thread complete) the batch before the waiter is in it:
  // Add() never runs the waiter here, under the lock (read_batch_ is
  // completed only after it has been taken out of read_batch_).
  absl::MutexLock l(&mu_);
  if (read_batch_ == nullptr) read_batch_ = std::make_shared<ReadBatch>();
  read_batch_->Add([this, once](absl::Status s) {
    if (!once->Claim()) return;
    timer_.Cancel(once->timer_key);
    once->Run(std::move(s));
  });
  wake_ = true;
}

absl::Status ServerImpl::LinearizableReadNotify(const RequestContext& ctx) {
  wait::Promise<absl::Status> promise;
  wait::Future<absl::Status> future = promise.future();
  LinearizableReadNotifyAsync(ctx, [promise](absl::Status s) { promise.Set(std::move(s)); });
  for (;;) {
    const absl::Status* s = future.WaitUntil(absl::Now() + absl::Milliseconds(100));
    if (s != nullptr) return *s;
    if (stopped_) return Rpc(rpctypes::kErrStopped);
  }
}

absl::StatusOr<auth::AuthInfo> ServerImpl::AuthInfoFrom(const RequestContext& ctx) {
  if (!auth_->IsAuthEnabled()) return auth::AuthInfo{};
  if (!ctx.token.empty()) return auth_->AuthInfoFromToken(ctx.token, Deadline(ctx));
  if (!ctx.tls_common_name.empty()) return auth_->AuthInfoFromCommonName(ctx.tls_common_name);
  return auth::AuthInfo{};
}

etcdserverpb::ResponseHeader ServerImpl::Header() const {
  etcdserverpb::ResponseHeader h;
  h.set_cluster_id(cluster_id_);
  h.set_member_id(id_);
  h.set_raft_term(term_);
  if (store_ != nullptr) h.set_revision(store_->CurrentRev());
  return h;
}

absl::Status ServerImpl::CheckQuota(int64_t cost) {
  if (quota_bytes_ <= 0) return absl::OkStatus();
  if (nospace_) return Rpc(rpctypes::kErrNoSpace);
  if (backend_->Size() + cost <= quota_bytes_) return absl::OkStatus();
  if (!nospace_raising_.exchange(true)) {
    logger_->Warn("database space exceeded", {{"quota-size-bytes", quota_bytes_},
                                              {"current-db-size-bytes", backend_->Size()}});
    etcdserverpb::InternalRaftRequest r;
    r.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
    r.mutable_alarm()->set_memberid(id_);
    r.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
    ProposeAsync(std::move(r));
  }
  return Rpc(rpctypes::kErrNoSpace);
}

bool ServerImpl::NoSpaceAlarmed() const { return nospace_; }

std::vector<etcdserverpb::AlarmMember> ServerImpl::Alarms() const {
  absl::MutexLock l(&state_mu_);
  return alarms_;
}

std::vector<etcdserverpb::Member> ServerImpl::Members() const {
  absl::MutexLock l(&state_mu_);
  std::vector<etcdserverpb::Member> out;
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

absl::Status ServerImpl::LoadMembersAndAlarms() {
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  absl::MutexLock l(&state_mu_);
  absl::Status s = tx->UnsafeForEach(Bucket::kMembers, [&](absl::string_view k, absl::string_view v) {
    absl::StatusOr<etcdserverpb::Member> m = MemberFromJson(v);
    if (!m.ok()) return m.status();
    members_[m->id()] = *m;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!s.ok()) return s;
  s = tx->UnsafeForEach(Bucket::kMembersRemoved, [&](absl::string_view k, absl::string_view) {
    uint64_t id = 0;
    if (absl::SimpleHexAtoi(k, &id)) removed_.insert(id);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  s = tx->UnsafeForEach(Bucket::kAlarm, [&](absl::string_view k, absl::string_view v) {
    etcdserverpb::AlarmMember a;
    if (!a.ParseFromArray(k.data(), static_cast<int>(k.size()))) {
      return absl::DataLossError("etcdserver: cannot decode an alarm in the alarm bucket");
    }
    alarms_.push_back(a);
    if (a.alarm() == etcdserverpb::NOSPACE) nospace_ = true;
    if (a.alarm() == etcdserverpb::CORRUPT) corrupt_ = true;
    return absl::OkStatus();
  });
  return s;
}

void ServerImpl::ApplyMemberAttributes(const membershippb::ClusterMemberAttrSetRequest& r) {
  etcdserverpb::Member m;
  {
    absl::MutexLock l(&state_mu_);
    auto it = members_.find(r.member_id());
    if (it == members_.end()) return;  // removed meanwhile
    it->second.set_name(r.member_attributes().name());
    it->second.clear_clienturls();
    for (const std::string& u : r.member_attributes().client_urls()) it->second.add_clienturls(u);
    m = it->second;
  }
  mvcc::backend::BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kMembers, MemberKey(m.id()), MemberToJson(m));
  tx->Unlock();
}

absl::StatusOr<etcdserverpb::HashKVResponse> ServerImpl::LocalHashKV(int64_t rev) {
  absl::StatusOr<mvcc::HashKVResult> h = kv_->HashByRev(rev);
  if (!h.ok()) return h.status();
  etcdserverpb::HashKVResponse resp;
  *resp.mutable_header() = Header();
  resp.mutable_header()->set_revision(h->current_rev);
  resp.set_hash(h->hash);
  resp.set_compact_revision(h->compact_rev);
  resp.set_hash_revision(rev > 0 ? rev : h->current_rev);
  return resp;
}

std::vector<uint64_t> ServerImpl::PeersWithOtherHash(const etcdserverpb::HashKVResponse& mine) {
  std::vector<uint64_t> mismatched;
  if (options_.transport == nullptr) return mismatched;
  etcdserverpb::HashKVRequest req;
  req.set_revision(mine.hash_revision());
  for (const etcdserverpb::Member& m : Members()) {
    if (m.id() == id_) continue;
    absl::StatusOr<std::string> reply = options_.transport->Call(
        m.id(), "HashKV", req.SerializeAsString(), absl::Now() + absl::Seconds(5));
    etcdserverpb::HashKVResponse theirs;
    if (!reply.ok() || !theirs.ParseFromString(*reply)) {
      logger_->Warn("cannot fetch hash from remote peer",
                    {{"remote-peer-id", absl::StrFormat("%x", m.id())},
                     {"error", reply.ok() ? absl::DataLossError("undecodable") : reply.status()}});
      continue;
    }
    if (theirs.compact_revision() != mine.compact_revision()) continue;
    if (theirs.hash() != mine.hash()) {
      logger_->Error("found data inconsistency with peers",
                     {{"local-member-id", absl::StrFormat("%x", id_)},
                      {"local-member-hash", mine.hash()},
                      {"remote-peer-id", absl::StrFormat("%x", m.id())},
                      {"remote-peer-hash", theirs.hash()},
                      {"revision", mine.hash_revision()},
                      {"compact-revision", mine.compact_revision()}});
      mismatched.push_back(m.id());
    }
  }
  return mismatched;
}

void ServerImpl::CorruptCheckLoop() {
  absl::Time next = absl::Now() + options_.corrupt_check_time;
  while (!stopped_) {
    absl::SleepFor(std::min(absl::Milliseconds(100), std::max(next - absl::Now(),
                                                              absl::ZeroDuration())));
    if (absl::Now() < next) continue;
    next = absl::Now() + options_.corrupt_check_time;
    if (!is_leader_ || corrupt_) continue;
    absl::StatusOr<etcdserverpb::HashKVResponse> mine = LocalHashKV(0);
    if (!mine.ok()) continue;
    for (uint64_t id : PeersWithOtherHash(*mine)) {
      etcdserverpb::InternalRaftRequest r;
      r.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
      r.mutable_alarm()->set_memberid(id);
      r.mutable_alarm()->set_alarm(etcdserverpb::CORRUPT);
      ProposeAsync(std::move(r));
    }
  }
}

void ServerImpl::AddPeersToTransport() {
  if (options_.transport == nullptr) return;
  for (const etcdserverpb::Member& m : Members()) {
    if (m.id() == id_) continue;
    options_.transport->AddPeer(m.id(),
                                std::vector<std::string>(m.peerurls().begin(), m.peerurls().end()));
  }
}

void ServerImpl::PublishLoop() {
  etcdserverpb::InternalRaftRequest r;
  membershippb::ClusterMemberAttrSetRequest* attrs = r.mutable_cluster_member_attr_set();
  attrs->set_member_id(id_);
  attrs->mutable_member_attributes()->set_name(options_.name);
  for (const std::string& u : options_.advertise_client_urls) {
    attrs->mutable_member_attributes()->add_client_urls(u);
  }
  while (!stopped_) {
    RequestContext ctx;
    ctx.deadline = absl::Now() + options_.request_timeout;
    absl::StatusOr<ApplyResult> result = Propose(r, ctx);
    if (result.ok()) {
      published_ = true;
      const std::string attributes =
          absl::StrCat("{Name:", options_.name, " ClientURLs:[",
                       absl::StrJoin(options_.advertise_client_urls, " "), "]}");
      logger_->Info("published local member to cluster through raft",
                    {{"local-member-id", absl::StrFormat("%x", id_)},
                     {"local-member-attributes", attributes},
                     {"cluster-id", absl::StrFormat("%x", cluster_id_)}});
      return;
    }
    if (!stopped_) {
      logger_->Warn("failed to publish local member to cluster through raft",
                    {{"local-member-id", absl::StrFormat("%x", id_)}, {"error", result.status()}});
    }
  }
}

// --- The raft thread -------------------------------------------------------------

void ServerImpl::RaftLoop() {
  absl::Time next_tick = absl::Now() + options_.heartbeat_interval;
  std::deque<PendingProposal> pending;
  std::deque<PendingConfChange> pending_conf;
  std::shared_ptr<ReadBatch> pending_read;
  bool campaigned = false;
  const absl::Duration election = options_.heartbeat_interval * options_.election_ticks;
  for (;;) {
    std::vector<raftpb::Message> inbound;
    std::vector<uint64_t> unreachable;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    uint64_t transfer = 0;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stopping_; };
      mu_.AwaitWithDeadline(absl::Condition(&ready), next_tick);
      if (stopping_) {
        // Stop() fails what is left (outside mu_), pending_read included.
        if (pending_read != nullptr && read_batch_ == nullptr) read_batch_ = std::move(pending_read);
        return;
      }
      wake_ = false;
      while (!proposals_.empty()) {
        pending.push_back(std::move(proposals_.front()));
        proposals_.pop_front();
      }
      while (!conf_proposals_.empty()) {
        pending_conf.push_back(std::move(conf_proposals_.front()));
        conf_proposals_.pop_front();
      }
      inbound.swap(inbound_);
      unreachable.swap(unreachable_);
      snapshot_reports.swap(snapshot_reports_);
      if (read_batch_ != nullptr && pending_read == nullptr) pending_read = std::move(read_batch_);
      read_batch_.reset();
      transfer = transfer_to_;
      transfer_to_ = 0;
    }
    absl::Time now = absl::Now();
    if (now >= next_tick) {
      node_->Tick();
      next_tick += options_.heartbeat_interval;
      if (next_tick < now) next_tick = now + options_.heartbeat_interval;
      if (is_leader_) ProposeExpiredLeases(now);
      PublishProgress();
    }
    for (raftpb::Message& m : inbound) (void)node_->Step(std::move(m));
    for (uint64_t id : unreachable) node_->ReportUnreachable(id);
    for (const auto& [id, ok] : snapshot_reports) {
      node_->ReportSnapshot(id,
                            ok ? raft::SnapshotStatus::kFinish : raft::SnapshotStatus::kFailure);
    }
    if (transfer != 0) node_->TransferLeader(transfer);

    const bool has_leader = lead_ != 0;
    if (has_leader) {
      while (!pending.empty()) {
        PendingProposal& p = pending.front();
        if (p.deadline > now) {
          absl::Status s = node_->Propose(std::move(p.data));
          if (!s.ok()) ++proposals_failed_;
        }
        pending.pop_front();
      }
      while (!pending_conf.empty()) {
        PendingConfChange& p = pending_conf.front();
        if (p.deadline > now && !node_->ProposeConfChange(p.cc).ok()) ++proposals_failed_;
        pending_conf.pop_front();
      }
      if (pending_read != nullptr) {
        std::string ctx = BigEndian(++read_seq_);
        node_->ReadIndex(ctx);
        inflight_reads_[ctx] = {std::move(pending_read), now};
        pending_read.reset();
      }
      for (auto& [ctx, r] : inflight_reads_) {
        if (now - r.sent > election) {  // lost (leader change): ask again
          node_->ReadIndex(ctx);
          r.sent = now;
        }
      }
    } else {
      while (!pending.empty() && pending.front().deadline <= now) pending.pop_front();
      while (!pending_conf.empty() && pending_conf.front().deadline <= now) {
        pending_conf.pop_front();
      }
    }

    while (node_->HasReady()) HandleReady(node_->GetReady());

    if (!campaigned) {
      campaigned = true;
      if (campaign_at_start_) {
        (void)node_->Campaign();
        while (node_->HasReady()) HandleReady(node_->GetReady());
      }
    }
    if (!pending.empty() || pending_read != nullptr) {
      // Retry once a leader is known (woken by a tick at the latest).
    }
  }
}

int ServerImpl::LeaseRevokeRate() const {
  return options_.lease_revoke_rate > 0 ? options_.lease_revoke_rate : kDefaultLeaseRevokeRate;
}

void ServerImpl::ProposeExpiredLeases(absl::Time now) {
  // rate x the time since the last round, at most half a second's worth
  // (what etcd hands out per 500 ms round).
  const int rate = LeaseRevokeRate();
  const double elapsed = last_revoke_round_ == absl::InfinitePast()
                             ? 1.0
                             : absl::ToDoubleSeconds(now - last_revoke_round_);
  last_revoke_round_ = now;
  const int max = static_cast<int>(std::clamp(rate * elapsed, 1.0, std::max(1.0, rate / 2.0)));
  std::vector<lease::Lease> expired = lessor_->ExpiredLeases(max);
  if (expired.empty()) return;
  const bool auth = auth_->IsAuthEnabled();
  const uint64_t auth_revision = auth ? auth_->Revision() : 0;
  for (const lease::Lease& l : expired) {
    etcdserverpb::InternalRaftRequest r;
    r.mutable_header()->set_id(reqid_->Next());
    if (auth) {
      r.mutable_header()->set_username(auth::kRootUser);
      r.mutable_header()->set_auth_revision(auth_revision);
    }
    r.mutable_lease_revoke()->set_id(l.id);
    if (!node_->Propose(r.SerializeAsString()).ok()) ++proposals_failed_;
  }
}

void ServerImpl::HandleReady(raft::Ready rd) {
  const raft::ReadySummary summary = raft::ReadySummary::Of(rd);

  if (rd.soft_state.has_value()) {
    const uint64_t new_lead = rd.soft_state->lead;
    const bool now_leader = rd.soft_state->raft_state == raft::StateType::kLeader;
    const bool was_leader = is_leader_;
    // is_leader_ first: whoever sees this member as the leader in lead_
    // (WaitLeader) then also sees IsLeader().
    is_leader_ = now_leader;
    if (new_lead != lead_.load()) {
      if (new_lead != 0) {
        ++leader_changes_;
        leader_elected_ns_ = absl::ToUnixNanos(absl::Now());
        // The ReadIndex requests sent to the old leader get no answer (as
        // etcd, only once a new leader is known).
        FailInflightReads();
      }
      lead_ = new_lead;
      std::vector<std::function<void(uint64_t)>> callbacks;
      {
        absl::MutexLock l(&mu_);
        for (auto& [h, fn] : leader_callbacks_) callbacks.push_back(fn);
      }
      for (auto& fn : callbacks) fn(new_lead);
    }
    if (now_leader && !was_leader) {
      lessor_->Promote(options_.heartbeat_interval * options_.election_ticks);
    } else if (!now_leader && was_leader) {
      lessor_->Demote();
    }
  }
  if (!raft::IsEmptyHardState(rd.hard_state)) {
    term_ = rd.hard_state.term();
    committed_index_ = rd.hard_state.commit();
  }
  ApplyTask task;
  for (const raft::ReadState& rs : rd.read_states) {
    auto it = inflight_reads_.find(rs.request_ctx);
    if (it == inflight_reads_.end()) continue;
    task.reads.emplace_back(rs.index, std::move(it->second.batch));
    inflight_reads_.erase(it);
  }
  for (auto it = rd.messages.begin(); it != rd.messages.end();) {
    if (it->type() == raftpb::MsgSnap) {
      task.snapshot_messages.push_back(std::move(*it));
      it = rd.messages.erase(it);
    } else {
      ++it;
    }
  }
  const bool leader = is_leader_;
  if (leader && !rd.messages.empty() && options_.transport != nullptr) {
    options_.transport->Send(rd.messages);
  }
  if (!raft::IsEmptySnap(rd.snapshot)) {
    if (absl::Status s = snapshotter_->SaveSnap(rd.snapshot); !s.ok()) {
      logger_->Fatal("failed to save snapshot", {{"error", s}});
    }
  }
  absl::Time save_start = absl::Now();
  if (absl::Status s = wal_->Save(rd.hard_state, rd.entries); !s.ok()) {
    logger_->Fatal("failed to save raft hard state and entries", {{"error", s}});
  }
  if (rd.must_sync) wal_fsync_latency_.Observe(absl::Now() - save_start);
  if (!raft::IsEmptySnap(rd.snapshot)) {
    walpb::Snapshot ws;
    ws.set_index(rd.snapshot.metadata().index());
    ws.set_term(rd.snapshot.metadata().term());
    *ws.mutable_conf_state() = rd.snapshot.metadata().conf_state();
    if (absl::Status s = wal_->SaveSnapshot(ws); !s.ok()) {
      logger_->Fatal("failed to save snapshot record", {{"error", s}});
    }
    (void)storage_.ApplySnapshot(rd.snapshot);
    // The apply thread installs the database before anything after it.
    ApplyTask task;
    task.snapshot = rd.snapshot;
    absl::MutexLock l(&apply_mu_);
    apply_queue_.push_back(std::move(task));
  }
  if (!rd.entries.empty()) (void)storage_.Append(rd.entries);
  if (!raft::IsEmptyHardState(rd.hard_state)) (void)storage_.SetHardState(rd.hard_state);
  if (!leader && !rd.messages.empty() && options_.transport != nullptr) {
    options_.transport->Send(rd.messages);
  }
  if (!rd.committed_entries.empty()) {
    for (const raftpb::Entry& e : rd.committed_entries) {
      if (e.type() == raftpb::EntryConfChange) {
        raftpb::ConfChange cc;
        if (cc.ParseFromString(e.data())) task.conf_states[e.index()] = node_->ApplyConfChange(cc);
      } else if (e.type() == raftpb::EntryConfChangeV2) {
        raftpb::ConfChangeV2 cc;
        if (cc.ParseFromString(e.data())) task.conf_states[e.index()] = node_->ApplyConfChange(cc);
      } else {
        ++proposals_committed_;
      }
    }
    task.entries = std::move(rd.committed_entries);
  }
  if (!task.entries.empty() || !task.reads.empty() || !task.snapshot_messages.empty()) {
    absl::MutexLock l(&apply_mu_);
    apply_queue_.push_back(std::move(task));
  }
  node_->Advance(summary);
}

// --- The apply thread ------------------------------------------------------------

void ServerImpl::ApplyLoop() {
  for (;;) {
    ApplyTask task;
    {
      absl::MutexLock l(&apply_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_) {
        return !apply_queue_.empty() || apply_stopping_;
      };
      apply_mu_.Await(absl::Condition(&ready));
      if (apply_queue_.empty()) return;
      task = std::move(apply_queue_.front());
      apply_queue_.pop_front();
    }
    if (task.snapshot.has_value()) {
      if (absl::Status s = InstallSnapshot(*task.snapshot); !s.ok()) {
        logger_->Fatal("failed to install the leader's snapshot", {{"error", s}});
      }
    }
    for (const raftpb::Entry& e : task.entries) ApplyEntry(e, task);
    // At once when the read index is applied (always, unless the entries up
    // to it are in a later task), else from the ApplyEntry that reaches it.
    for (auto& [index, batch] : task.reads) {
      applied_wait_.Wait(index, [batch = std::move(batch)](uint64_t) {
        batch->Set(absl::OkStatus());
      });
    }
    for (raftpb::Message& m : task.snapshot_messages) SendSnapshotMessage(std::move(m));
    MaybeSnapshot();
  }
}

std::string ServerImpl::SnapshotDbPath(uint64_t index) const {
  return absl::StrFormat("%s/%016x.snap.db", snap_dir_, index);
}

void ServerImpl::SendSnapshotMessage(raftpb::Message m) {
  if (options_.transport == nullptr) return;
  absl::StatusOr<std::unique_ptr<mvcc::backend::Snapshot>> db = backend_->NewSnapshot();
  if (!db.ok()) {
    logger_->Warn("cannot copy the backend for a snapshot message",
                  {{"remote-peer-id", absl::StrFormat("%x", m.to())}, {"error", db.status()}});
    absl::MutexLock l(&mu_);
    snapshot_reports_.emplace_back(m.to(), false);
    wake_ = true;
    return;
  }
  raftpb::Snapshot* snap = m.mutable_snapshot();
  snap->set_data(MembersJson());
  snap->mutable_metadata()->set_index(applied_index_);
  snap->mutable_metadata()->set_term(applied_term_);
  *snap->mutable_metadata()->mutable_conf_state() = conf_state_;
  {
    absl::MutexLock l(&outgoing_mu_);
    outgoing_snapshots_[m.to()] = {applied_index_.load(), std::move(*db)};
  }
  options_.transport->Send({std::move(m)});
}

std::string ServerImpl::MembersJson() const {
  std::string data = "[";
  for (const etcdserverpb::Member& m : Members()) {
    if (data.size() > 1) data += ",";
    data += MemberToJson(m);
  }
  data += "]";
  return data;
}

absl::StatusOr<std::string> ServerImpl::WriteSnapshotDbForSend(const raftpb::Message& m) {
  std::unique_ptr<mvcc::backend::Snapshot> taken;
  {
    absl::MutexLock l(&outgoing_mu_);
    auto it = outgoing_snapshots_.find(m.to());
    if (it != outgoing_snapshots_.end() && it->second.first == m.snapshot().metadata().index()) {
      taken = std::move(it->second.second);
      outgoing_snapshots_.erase(it);
    }
  }
  absl::StatusOr<std::unique_ptr<mvcc::backend::Snapshot>> snap =
      taken != nullptr ? std::move(taken) : backend_->NewSnapshot();
  if (!snap.ok()) return snap.status();
  const std::string path = absl::StrFormat("%s/%016x-to-%x.snap.send", snap_dir_,
                                           m.snapshot().metadata().index(), m.to());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("create ", path));
  absl::Status s = (*snap)->WriteTo(fd);
  ::close(fd);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  return path;
}

absl::Status ServerImpl::InstallSnapshot(const raftpb::Snapshot& snap) {
  const uint64_t index = snap.metadata().index();
  if (index <= applied_index_) return absl::OkStatus();  // already have it
  const std::string db = SnapshotDbPath(index);
  logger_->Info("applying snapshot", {{"snapshot-index", index}, {"db", db}});
  if (absl::Status s = backend_->ReplaceWith(db); !s.ok()) return s;
  if (absl::Status s = watchable_->Restore(backend_.get()); !s.ok()) return s;
  if (absl::Status s = lessor_->Recover(backend_.get(), deleter_.get()); !s.ok()) return s;
  if (absl::Status s = auth_->Recover(backend_.get()); !s.ok()) return s;
  {
    absl::MutexLock l(&state_mu_);
    members_.clear();
    removed_.clear();
    alarms_.clear();
  }
  nospace_ = false;
  corrupt_ = false;
  if (absl::Status s = LoadMembersAndAlarms(); !s.ok()) return s;
  AddPeersToTransport();
  start_consistent_index_ = store_->ConsistentIndex();
  snapshot_index_ = index;
  conf_state_ = snap.metadata().conf_state();
  applied_index_ = index;
  applied_term_ = snap.metadata().term();
  applied_wait_.Trigger(index);
  logger_->Info("applied snapshot", {{"snapshot-index", index},
                                     {"consistent-index", start_consistent_index_}});
  return absl::OkStatus();
}

void ServerImpl::SaveConsistentIndex(uint64_t index) {
  store_->SetConsistentIndex(index);
  mvcc::backend::BatchTx* tx = backend_->batch_tx();
  tx->Lock();
  tx->UnsafePut(Bucket::kMeta, mvcc::kConsistentIndexKey, BigEndian(index));
  tx->Unlock();
}

void ServerImpl::ApplyEntry(const raftpb::Entry& e, const ApplyTask& task) {
  if (e.index() <= applied_index_) return;
  const bool fresh = e.index() > start_consistent_index_;
  if (e.type() == raftpb::EntryNormal) {
    if (fresh && !e.data().empty()) {
      etcdserverpb::InternalRaftRequest r;
      if (!r.ParseFromString(e.data())) {
        logger_->Error("cannot decode a raft entry; skipped", {{"index", e.index()}});
      } else {
        store_->SetConsistentIndex(e.index());
        absl::Time apply_start = absl::Now();
        ApplyResult result = ApplyRequest(r, e.index());
        // etcd's warnApplyDuration: counted in etcd_server_slow_apply_total.
        if (absl::Duration took = absl::Now() - apply_start; took > absl::Milliseconds(100)) {
          ++slow_applies_;
          logger_->Warn("apply request took too long",
                        {{"took", absl::FormatDuration(took)}, {"expected-duration", "100ms"}});
        }
        SaveConsistentIndex(e.index());
        ++proposals_applied_;
        waiters_.Trigger(r.header().id(), std::move(result));
      }
    } else if (fresh) {
      SaveConsistentIndex(e.index());
    }
  } else {
    auto it = task.conf_states.find(e.index());
    ApplyConfChange(e, it == task.conf_states.end() ? nullptr : &it->second);
    if (fresh) SaveConsistentIndex(e.index());
  }
  applied_index_ = e.index();
  applied_term_ = e.term();
  applied_wait_.Trigger(e.index());
}

void ServerImpl::ApplyConfChange(const raftpb::Entry& e, const raftpb::ConfState* cs) {
  if (cs != nullptr) conf_state_ = *cs;
  if (e.type() != raftpb::EntryConfChange) return;  // V2 changes carry no member
  raftpb::ConfChange cc;
  if (!cc.ParseFromString(e.data())) return;
  mvcc::backend::BatchTx* tx = backend_->batch_tx();
  switch (cc.type()) {
    case raftpb::ConfChangeAddNode:
    case raftpb::ConfChangeAddLearnerNode:
    case raftpb::ConfChangeUpdateNode: {
      absl::StatusOr<etcdserverpb::Member> m = MemberFromJson(cc.context());
      if (!m.ok()) {
        logger_->Error("cannot decode the member of a conf change", {{"error", m.status()}});
        return;
      }
      {
        absl::MutexLock l(&state_mu_);
        auto it = members_.find(m->id());
        if (it != members_.end()) {
          if (cc.type() == raftpb::ConfChangeAddNode && it->second.islearner()) {
            it->second.set_islearner(false);  // promotion
            *m = it->second;
          } else if (cc.type() == raftpb::ConfChangeUpdateNode) {
            it->second.clear_peerurls();
            for (const std::string& u : m->peerurls()) it->second.add_peerurls(u);
            *m = it->second;
          } else {
            break;
          }
        } else {
          members_[m->id()] = *m;
        }
      }
      tx->Lock();
      tx->UnsafePut(Bucket::kMembers, MemberKey(m->id()), MemberToJson(*m));
      tx->Unlock();
      if (options_.transport != nullptr && m->id() != id_) {
        options_.transport->AddPeer(m->id(),
                                    std::vector<std::string>(m->peerurls().begin(),
                                                             m->peerurls().end()));
      }
      break;
    }
    case raftpb::ConfChangeRemoveNode: {
      {
        absl::MutexLock l(&outgoing_mu_);
        outgoing_snapshots_.erase(cc.node_id());
      }
      {
        absl::MutexLock l(&state_mu_);
        members_.erase(cc.node_id());
        removed_.insert(cc.node_id());
      }
      if (options_.transport != nullptr) options_.transport->RemovePeer(cc.node_id());
      if (cc.node_id() == id_) {
        removed_self_ = true;
        logger_->Warn("the member has been permanently removed from the cluster",
                      {{"local-member-id", absl::StrFormat("%x", id_)}});
      }
      tx->Lock();
      tx->UnsafeDelete(Bucket::kMembers, MemberKey(cc.node_id()));
      tx->UnsafePut(Bucket::kMembersRemoved, MemberKey(cc.node_id()), "removed");
      tx->Unlock();
      break;
    }
    default:
      break;
  }
  if (cc.id() != 0) waiters_.Trigger(cc.id(), ApplyResult{});
}

void ServerImpl::MaybeSnapshot() {
  const uint64_t applied = applied_index_;
  if (applied - snapshot_index_ <= options_.snapshot_count) return;
  if (absl::Status s = TakeSnapshot(applied); !s.ok()) {
    logger_->Fatal("failed to create a snapshot", {{"error", s}});
  }
}

absl::Status ServerImpl::TakeSnapshot(uint64_t index) {
  // The backend must hold everything up to `index` before raft forgets it.
  store_->Commit();
  backend_->ForceCommit();
  absl::StatusOr<raftpb::Snapshot> snap =
      storage_.CreateSnapshot(index, &conf_state_, MembersJson());
  if (!snap.ok()) {
    if (raft::IsSnapOutOfDate(snap.status())) return absl::OkStatus();
    return snap.status();
  }
  if (absl::Status s = snapshotter_->SaveSnap(*snap); !s.ok()) return s;
  walpb::Snapshot ws;
  ws.set_index(snap->metadata().index());
  ws.set_term(snap->metadata().term());
  *ws.mutable_conf_state() = snap->metadata().conf_state();
  if (absl::Status s = wal_->SaveSnapshot(ws); !s.ok()) return s;
  if (absl::Status s = wal_->ReleaseLockTo(index); !s.ok()) return s;
  snapshot_index_ = index;
  ++snapshots_saved_;
  logger_->Info("saved snapshot", {{"snapshot-index", index}});
  uint64_t compact_index = index > options_.snapshot_catchup_entries
                               ? index - options_.snapshot_catchup_entries
                               : 1;
  absl::StatusOr<uint64_t> first = storage_.FirstIndex();
  if (first.ok() && compact_index > *first) {
    absl::Status s = storage_.Compact(compact_index);
    if (!s.ok() && !raft::IsCompacted(s)) return s;
  }
  if (options_.max_snapshots > 0) {
    absl::StatusOr<std::vector<std::string>> purged = snapshotter_->Purge(options_.max_snapshots);
    if (!purged.ok()) logger_->Warn("failed to purge snapshots", {{"error", purged.status()}});
  }
  if (options_.max_wals > 0) {
    absl::StatusOr<std::vector<std::string>> purged =
        fileutil::PurgeOnce(wal_dir_, ".wal", options_.max_wals);
    if (!purged.ok()) logger_->Warn("failed to purge WAL files", {{"error", purged.status()}});
  }
  return absl::OkStatus();
}

// --- Auto compaction ---------------------------------------------------------------

void ServerImpl::CompactorLoop() {
  const bool periodic = options_.auto_compaction_mode != "revision";
  absl::Duration interval =
      periodic ? std::max(absl::Milliseconds(100),
                          std::min(options_.auto_compaction_period, absl::Hours(1)) / 10)
               : absl::Minutes(5);
  if (options_.auto_compaction_check_interval > absl::ZeroDuration()) {
    interval = options_.auto_compaction_check_interval;
  }
  std::deque<std::pair<absl::Time, int64_t>> samples;
  int64_t last_compacted = 0;
  for (;;) {
    {
      absl::MutexLock l(&compactor_mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(compactor_mu_) { return compactor_stop_; };
      if (compactor_mu_.AwaitWithTimeout(absl::Condition(&stop), interval)) return;
    }
    if (!is_leader_) {
      samples.clear();
      continue;
    }
    const int64_t rev = store_->CurrentRev();
    int64_t target = 0;
    if (periodic) {
      const absl::Time now = absl::Now();
      samples.emplace_back(now, rev);
      while (!samples.empty() && now - samples.front().first >= options_.auto_compaction_period) {
        target = samples.front().second;
        samples.pop_front();
      }
    } else {
      target = rev - options_.auto_compaction_revisions;
    }
    if (target <= 0 || target <= last_compacted || target <= store_->CompactRev()) continue;
    etcdserverpb::InternalRaftRequest r;
    r.mutable_compaction()->set_revision(target);
    RequestContext ctx;
    absl::StatusOr<ApplyResult> res = Propose(std::move(r), ctx);
    if (res.ok() && res->status.ok()) {
      last_compacted = target;
      logger_->Info("completed auto compaction", {{"revision", target}});
    }
  }
}

}  // namespace etcd::etcdserver
