// Internals of EtcdServer (etcdserver.h); not part of the API.
//
// Threads:
//   * callers (gRPC handlers): validate, authorize, propose, wait (or
//     return, with a callback, for the *Async calls);
//   * the raft thread: owns node_ (RawNode); ticks, proposes, persists each
//     Ready to the WAL (one fsync), sends, hands committed entries and
//     answered ReadIndex rounds to the apply thread, applies conf changes
//     to raft;
//   * the apply thread: applies entries in order to the stores, triggers
//     waiters (running the callbacks of async calls), completes reads whose
//     read index is applied, takes snapshots;
//   * the timer thread (timer_): fails async calls whose deadline passed;
//   * the lessor's loop (lease checkpoints, when enabled). Expired leases
//     are handed out to the raft thread, which proposes their revocation.
// Lock order: mu_ (raft inputs) and apply_mu_ are leaves; no lock is held
// across a WAL fsync, a backend commit or a wait.

#ifndef ETCD_SERVER_ETCDSERVER_SERVER_IMPL_H_
#define ETCD_SERVER_ETCDSERVER_SERVER_IMPL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/etcdserverpb/raft_internal.pb.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "auth/store.h"
#include "lease/lessor.h"
#include "mvcc/backend/backend.h"
#include "mvcc/kvstore.h"
#include "mvcc/watchable_store.h"
#include "pkg/idutil/id.h"
#include "pkg/log/log.h"
#include "pkg/wait/future.h"
#include "pkg/wait/wait.h"
#include "pkg/wait/wait_time.h"
#include "raft/logger.h"
#include "raft/rawnode.h"
#include "raft/storage.h"
#include "server/etcdserver/etcdserver.h"
#include "snap/snapshotter.h"
#include "wal/wal.h"

namespace etcd::etcdserver {

// Runs callbacks at their deadlines on its own thread (the request
// timeouts of asynchronous proposals and reads). Thread-safe; Stop() (or
// the destructor) runs every callback still waiting with `stopped` set and
// joins the thread.
class DeadlineTimer {
 public:
  using Fn = std::function<void(bool stopped)>;
  struct Key {
    absl::Time deadline;
    uint64_t seq = 0;
  };

  DeadlineTimer();
  ~DeadlineTimer() { Stop(); }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Schedules `fn`; nullopt (and `fn` dropped uncalled) after Stop().
  std::optional<Key> Add(absl::Time deadline, Fn fn);
  // Drops the callback of `key` uncalled, if it has not run yet.
  void Cancel(const Key& key);
  void Stop();

 private:
  void Run();
  absl::Mutex mu_;
  std::map<std::pair<absl::Time, uint64_t>, Fn> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped when an entry becomes the earliest, to wake the thread.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// A completion callback run at most once, by whichever of its callers
// claims it first (the apply thread, the read-index path, the timer or
// Stop). Shared by those paths.
template <typename T>
class OnceCallback {
 public:
  explicit OnceCallback(std::function<void(T)> fn) : fn_(std::move(fn)) {}
  // Whether this caller won the right to Run().
  bool Claim() { return !claimed_.exchange(true); }
  // Only after a successful Claim().
  void Run(T value) {
    std::function<void(T)> fn = std::move(fn_);
    fn_ = nullptr;
    fn(std::move(value));
  }
  // The timer entry; set before the callback can be claimed by anyone but
  // the timer.
  DeadlineTimer::Key timer_key;

 private:
  std::atomic<bool> claimed_{false};
  std::function<void(T)> fn_;
};

// Latencies counted in etcd's disk buckets (1 ms doubling to 8.192 s, then
// +Inf), for /metrics histograms. Thread-safe; readers may see one
// observation half-recorded (a bucket before the count).
class DiskLatency {
 public:
  static constexpr int kBuckets = 15;
  void Observe(absl::Duration d) {
    double seconds = absl::ToDoubleSeconds(d);
    int i = 0;
    for (double bound = 0.001; i < kBuckets - 1 && seconds > bound; bound *= 2) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  void Read(std::vector<uint64_t>* buckets, double* seconds, uint64_t* count) const {
    buckets->clear();
    for (const auto& b : buckets_) buckets->push_back(b.load(std::memory_order_relaxed));
    *seconds = static_cast<double>(nanos_.load(std::memory_order_relaxed)) / 1e9;
    *count = count_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> buckets_[kBuckets] = {};
  std::atomic<int64_t> nanos_{0};
  std::atomic<uint64_t> count_{0};
};

// What applying one InternalRaftRequest produced.
struct ApplyResult {
  absl::Status status;
  std::shared_ptr<google::protobuf::Message> response;
  // Set by a compaction: done when the backend is compacted.
  std::shared_ptr<mvcc::CompactionFuture> compaction;
};

class ServerImpl {
 public:
  explicit ServerImpl(const ServerOptions& options);
  ~ServerImpl();

  absl::Status Init();
  void Stop();

  // --- Request plumbing -----------------------------------------------------
  using ProposeCallback = std::function<void(absl::StatusOr<ApplyResult>)>;
  // Proposes `request`; `done` runs exactly once: on the apply thread with
  // the result, on the timer thread with ProposeTimeoutError at the
  // deadline, with kErrStopped when the
  // server stops first, or on the calling thread (before this returns) for
  // errors found before proposing. Never under a lock of this class.
  void ProposeWithCallback(etcdserverpb::InternalRaftRequest request, const RequestContext& ctx,
                           ProposeCallback done);
  // Proposes `request` and waits for its result until the deadline.
  absl::StatusOr<ApplyResult> Propose(etcdserverpb::InternalRaftRequest request,
                                      const RequestContext& ctx);
  // etcd's error for a proposal made at `start` that met its deadline:
  // kErrTimeoutDueToLeaderFail when the current leader was elected after
  // `start` and within two election timeouts of it;
  // kErrTimeoutDueToConnectionLost when the leader (or, on the leader, a
  // quorum) was not reachable all the time since `start`; else kErrTimeout.
  absl::Status ProposeTimeoutError(absl::Time start) const;

  // --- Peers as the transport and raft see them -----------------------------
  // Since when peer `id` has been reachable without a break
  // (Transport::ActiveSince), nullopt while it is not; this member itself
  // always (InfinitePast).
  std::optional<absl::Time> PeerActiveSince(uint64_t id) const;
  // The leader's record of how much of each member's log matches its own
  // (raft Progress.Match, this member included), refreshed every tick;
  // empty on followers.
  std::map<uint64_t, uint64_t> ProgressMatch() const;
  // Fire and forget (lease checkpoints, alarms). Expired leases are
  // proposed by the raft thread itself (ProposeExpiredLeases).
  void ProposeAsync(etcdserverpb::InternalRaftRequest request);
  // Calls `done` once a ReadIndex round has been applied (OK; from the
  // apply thread), or with kErrTimeout / kErrStopped (timer thread), or
  // at once on the calling thread when the server is not running.
  void LinearizableReadNotifyAsync(const RequestContext& ctx,
                                   std::function<void(absl::Status)> done);
  // Proposes a membership change (cc.id is set here) and waits until it is
  // applied.
  absl::Status ProposeConfChange(raftpb::ConfChange cc, const RequestContext& ctx);
  // Waits until a ReadIndex round has been applied (linearizable read).
  absl::Status LinearizableReadNotify(const RequestContext& ctx);
  absl::StatusOr<auth::AuthInfo> AuthInfoFrom(const RequestContext& ctx);
  absl::Time Deadline(const RequestContext& ctx) const;
  absl::Status CheckRunning(const RequestContext& ctx) const;

  etcdserverpb::ResponseHeader Header() const;
  void FillHeader(etcdserverpb::ResponseHeader* header) const { *header = Header(); }

  // Reads served locally.
  absl::StatusOr<etcdserverpb::RangeResponse> RangeLocal(const etcdserverpb::RangeRequest& r,
                                                         const auth::AuthInfo* who);
  absl::StatusOr<etcdserverpb::TxnResponse> TxnLocal(const etcdserverpb::TxnRequest& r,
                                                     const auth::AuthInfo* who);

  // Quota: whether a write of about `cost` bytes fits; raises NOSPACE if not.
  absl::Status CheckQuota(int64_t cost);
  bool NoSpaceAlarmed() const;

  std::vector<etcdserverpb::AlarmMember> Alarms() const;
  std::vector<etcdserverpb::Member> Members() const;

  // --- State (read by many threads) ---------------------------------------
  ServerOptions options_;
  log::Logger* logger_ = nullptr;
  std::string member_dir_, snap_dir_, wal_dir_;
  uint64_t id_ = 0;
  uint64_t cluster_id_ = 0;
  int64_t quota_bytes_ = 0;  // <= 0: none

  std::atomic<uint64_t> lead_{0};
  std::atomic<bool> is_leader_{false};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> committed_index_{0};
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<uint64_t> leader_changes_{0};
  // When the current leader became known (absl::ToUnixNanos; 0: never).
  std::atomic<int64_t> leader_elected_ns_{0};
  std::atomic<uint64_t> proposals_committed_{0};
  std::atomic<uint64_t> proposals_applied_{0};
  std::atomic<int64_t> proposals_pending_{0};
  std::atomic<uint64_t> proposals_failed_{0};
  std::atomic<uint64_t> snapshots_saved_{0};
  DiskLatency wal_fsync_latency_;          // written by the raft thread
  DiskLatency backend_commit_latency_;     // written under the backend's lock
  std::atomic<uint64_t> slow_applies_{0};  // applies over 100 ms
  std::atomic<bool> stopped_{false};

  // Stores. Created in Init, destroyed in Stop (in reverse order).
  std::unique_ptr<mvcc::backend::Backend> backend_;
  std::unique_ptr<lease::Lessor> lessor_;
  // Every KV change goes through watchable_ (kv_) so watchers see it;
  // store_ is the store it wraps (consistent index, revisions). watchable_
  // lives until the destructor so that watch streams may be destroyed after
  // Stop(); Stop() closes it.
  std::unique_ptr<mvcc::WatchableStore> watchable_;
  mvcc::Store* store_ = nullptr;
  mvcc::KV* kv_ = nullptr;
  std::unique_ptr<auth::AuthStore> auth_;
  std::unique_ptr<wal::WAL> wal_;
  std::unique_ptr<snap::Snapshotter> snapshotter_;
  raft::MemoryStorage storage_;
  std::unique_ptr<idutil::Generator> reqid_;
  wait::Wait<ApplyResult> waiters_;
  wait::WaitTime applied_wait_;
  class LeaseAttacherAdapter;
  class RangeDeleterAdapter;
  std::unique_ptr<LeaseAttacherAdapter> attacher_;
  std::unique_ptr<RangeDeleterAdapter> deleter_;

  // --- Raft thread inputs (mu_) ---------------------------------------------
  struct PendingProposal {
    std::string data;
    absl::Time deadline;
  };
  // The reads waiting for one ReadIndex round. Set() runs the waiters once,
  // on the caller's thread, outside `mu`; Add() after Set() runs at once.
  struct ReadBatch {
    void Add(std::function<void(absl::Status)> waiter);
    void Set(const absl::Status& status);
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::Status status ABSL_GUARDED_BY(mu);
    std::vector<std::function<void(absl::Status)>> waiters ABSL_GUARDED_BY(mu);
  };
  mutable absl::Mutex mu_;
  mutable absl::Mutex progress_mu_;
  std::map<uint64_t, uint64_t> progress_match_ ABSL_GUARDED_BY(progress_mu_);
  std::deque<PendingProposal> proposals_ ABSL_GUARDED_BY(mu_);
  struct PendingConfChange {
    raftpb::ConfChange cc;
    absl::Time deadline;
  };
  std::deque<PendingConfChange> conf_proposals_ ABSL_GUARDED_BY(mu_);
  std::vector<raftpb::Message> inbound_ ABSL_GUARDED_BY(mu_);
  // Peer transport reports, handed to raft by the raft thread.
  std::vector<uint64_t> unreachable_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, bool>> snapshot_reports_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ReadBatch> read_batch_ ABSL_GUARDED_BY(mu_);
  uint64_t transfer_to_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int, std::function<void(uint64_t)>> leader_callbacks_ ABSL_GUARDED_BY(mu_);
  int next_callback_ ABSL_GUARDED_BY(mu_) = 1;
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);

  // Raft thread only.
  class RaftLogger;
  std::unique_ptr<RaftLogger> raft_logger_;  // outlives node_
  std::unique_ptr<raft::RawNode> node_;
  struct InflightRead {
    std::shared_ptr<ReadBatch> batch;
    absl::Time sent;
  };
  std::map<std::string, InflightRead> inflight_reads_;
  // Fails the reads waiting for a ReadIndex answer with kErrLeaderChanged
  // (etcd's answer when the leader changes under a read).
  void FailInflightReads();
  // Copies raft's progress for ProgressMatch (leader) or clears it.
  void PublishProgress();
  uint64_t read_seq_ = 0;
  void RaftLoop();
  void HandleReady(raft::Ready rd);
  // options_.lease_revoke_rate, or its default.
  int LeaseRevokeRate() const;
  // On the leader, every tick: proposes a LeaseRevoke for each expired lease
  // the lessor hands out, at most LeaseRevokeRate() per second. Entries
  // proposed in one round go to the WAL in one Ready (one fsync) and are
  // applied as one batch.
  void ProposeExpiredLeases(absl::Time now);
  absl::Time last_revoke_round_ = absl::InfinitePast();

  // --- Apply thread -----------------------------------------------------------
  struct ApplyTask {
    // A leader's snapshot to install before the entries (its database was
    // received by the transport into SnapshotDbPath(index)).
    std::optional<raftpb::Snapshot> snapshot;
    std::vector<raftpb::Entry> entries;
    // The ConfState after each conf change entry (by index).
    std::map<uint64_t, raftpb::ConfState> conf_states;
    // ReadIndex rounds answered in this Ready: each batch completes on the
    // apply thread once its index is applied, so that reads are never
    // served on the raft thread.
    std::vector<std::pair<uint64_t, std::shared_ptr<ReadBatch>>> reads;
    // MsgSnap messages raft made for lagging peers: sent once the entries
    // before them are applied, carrying the state of that moment (applied
    // index and term, ConfState, a copy of the backend), as etcd's merged
    // snapshots do; raft's stored snapshot may predate the peer itself.
    std::vector<raftpb::Message> snapshot_messages;
  };
  absl::Mutex apply_mu_;
  std::deque<ApplyTask> apply_queue_ ABSL_GUARDED_BY(apply_mu_);
  bool apply_stopping_ ABSL_GUARDED_BY(apply_mu_) = false;
  void ApplyLoop();
  void ApplyEntry(const raftpb::Entry& entry, const ApplyTask& task);
  ApplyResult ApplyRequest(const etcdserverpb::InternalRaftRequest& r, uint64_t index);
  void ApplyConfChange(const raftpb::Entry& entry, const raftpb::ConfState* cs);
  void SaveConsistentIndex(uint64_t index);
  // Replaces the backend with the leader's database for `snap` and reloads
  // the stores, membership and alarms from it (apply thread).
  absl::Status InstallSnapshot(const raftpb::Snapshot& snap);
  // Where the transport puts a received database: <snap>/<index %016x>.snap.db.
  std::string SnapshotDbPath(uint64_t index) const;
  // Writes a copy of the backend for a MsgSnap to send; returns its path.
  // The copy taken with the message (SendSnapshotMessage) when there is
  // one, else the backend now.
  absl::StatusOr<std::string> WriteSnapshotDbForSend(const raftpb::Message& m);
  // Apply thread: stamps `m` with the applied state and sends it.
  void SendSnapshotMessage(raftpb::Message m);
  // The members as raft snapshot data (a JSON array).
  std::string MembersJson() const;
  uint64_t applied_term_ = 0;  // apply thread: the term of applied_index_
  // The backend copy taken for the latest snapshot message to each peer:
  // (the message's index, the copy).
  absl::Mutex outgoing_mu_;
  std::map<uint64_t, std::pair<uint64_t, std::unique_ptr<mvcc::backend::Snapshot>>>
      outgoing_snapshots_ ABSL_GUARDED_BY(outgoing_mu_);
  void MaybeSnapshot();
  absl::Status TakeSnapshot(uint64_t index);
  // Apply thread state.
  uint64_t start_consistent_index_ = 0;
  uint64_t snapshot_index_ = 0;
  raftpb::ConfState conf_state_;

  // Apply helpers.
  absl::StatusOr<etcdserverpb::PutResponse> ApplyPut(mvcc::TxnWrite* txn,
                                                     const etcdserverpb::PutRequest& r);
  etcdserverpb::DeleteRangeResponse ApplyDelete(mvcc::TxnWrite* txn,
                                                const etcdserverpb::DeleteRangeRequest& r);
  absl::StatusOr<etcdserverpb::TxnResponse> ApplyTxn(const etcdserverpb::TxnRequest& r,
                                                     const auth::AuthInfo* who);
  absl::Status CheckTxnAuth(const auth::AuthInfo& who, const etcdserverpb::TxnRequest& r);
  absl::Status CheckPutLeaseAuth(const auth::AuthInfo& who, int64_t lease);

  // Membership and alarms (apply thread writes; others read).
  mutable absl::Mutex state_mu_;
  std::map<uint64_t, etcdserverpb::Member> members_ ABSL_GUARDED_BY(state_mu_);
  std::set<uint64_t> removed_ ABSL_GUARDED_BY(state_mu_);
  std::vector<etcdserverpb::AlarmMember> alarms_ ABSL_GUARDED_BY(state_mu_);
  std::atomic<bool> nospace_{false};
  std::atomic<bool> nospace_raising_{false};
  absl::Status LoadMembersAndAlarms();
  void ApplyMemberAttributes(const membershippb::ClusterMemberAttrSetRequest& r);
  // Tells the transport about every member but this one.
  void AddPeersToTransport();

  // Publishing this member's name and client URLs through raft (etcd's
  // publish): retried until applied; Ready() afterwards.
  void PublishLoop();
  std::atomic<bool> published_{false};
  // A lone voter campaigns at once instead of after an election timeout.
  bool campaign_at_start_ = false;
  // This member was removed from the cluster: it stops serving.
  std::atomic<bool> removed_self_{false};
  // Joining an existing cluster: learns the cluster ID, this member's ID
  // and the members from the members listed in --initial-cluster.
  absl::Status JoinExistingCluster(std::vector<etcdserverpb::Member>* members);
  // A new member's WAL (metadata: id_, cluster_id_) and raft node.
  absl::Status CreateLog(const wal::Options& wo, raft::Config rc);
  // --force-new-cluster on a restart (etcd's restartAsStandaloneNode):
  // drops the uncommitted tail of `entries`, then appends and saves conf
  // changes that leave this member the only voter, and commits them.
  absl::Status ForceNewCluster(const raftpb::Snapshot& snapshot, raftpb::HardState* state,
                               std::vector<raftpb::Entry>* entries);

  // Corruption checks. This member's HashKV at `rev` (0: current).
  absl::StatusOr<etcdserverpb::HashKVResponse> LocalHashKV(int64_t rev);
  // Members whose HashKV at mine.hash_revision() differs from `mine` at the
  // same compact revision (unreachable or lagging peers are skipped).
  std::vector<uint64_t> PeersWithOtherHash(const etcdserverpb::HashKVResponse& mine);
  void CorruptCheckLoop();
  std::thread corrupt_thread_;
  std::atomic<bool> corrupt_{false};
  std::thread publish_thread_;

  // Auto compaction.
  void CompactorLoop();
  absl::Mutex compactor_mu_;
  bool compactor_stop_ ABSL_GUARDED_BY(compactor_mu_) = false;

  // Request deadlines of proposals and reads in flight.
  DeadlineTimer timer_;

  std::thread raft_thread_;
  std::thread apply_thread_;
  std::thread compactor_thread_;
  absl::Mutex stop_mu_;
  bool stop_done_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace etcd::etcdserver

#endif  // ETCD_SERVER_ETCDSERVER_SERVER_IMPL_H_
