// The etcd member core (etcd's etcdserver.EtcdServer): the raft driver, the
// apply loop over the MVCC, lease and auth stores, membership, quota and
// alarms, compaction, snapshots and recovery. Everything a client sees goes
// through this class; the gRPC and HTTP layers (server/v3rpc, server/http)
// only translate.
//
//   etcd::embed::Config config = ...;                    // flags
//   ASSIGN_OR_RETURN(etcd::etcdserver::ServerOptions options,
//                    etcd::etcdserver::ServerOptions::FromConfig(config));
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::etcdserver::EtcdServer> server,
//                    etcd::etcdserver::EtcdServer::Start(options));
//   server->WaitLeader(absl::Now() + absl::Seconds(5));  // optional
//
//   etcd::etcdserver::RequestContext ctx;
//   ctx.token = token_from_metadata;                     // "" without auth
//   ctx.deadline = absl::Now() + absl::Seconds(5);
//   etcdserverpb::PutRequest put;
//   put.set_key("foo");
//   put.set_value("bar");
//   absl::StatusOr<etcdserverpb::PutResponse> r = server->Put(put, ctx);
//   // r->header(): cluster_id, member_id, revision, raft_term.
//
//   server->Stop();  // or destroy it
//
// Errors. Every method returns absl::Status errors that are etcd's own
// (//api/rpctypes): the code is the gRPC status code etcd uses and the
// message the exact text etcd clients match, e.g. OutOfRange "etcdserver:
// mvcc: required revision has been compacted". The gRPC layer converts with
//   grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()))
// and must not rewrite messages. rpctypes::IsCompacted(s) etc. test them.
//
// Requests. Writes (Put, DeleteRange, write Txns, Compact, leases, auth
// changes, alarms) are proposed through raft as etcd's InternalRaftRequest
// (same field numbers, so WAL files decode like etcd's) and answered when
// applied. Range and read-only Txn are linearizable (ReadIndex, batched) unless
// `serializable` is set, then served from the local state at once.
// Requests are checked like etcd's (--max-request-bytes, --max-txn-ops,
// duplicate keys in a txn, empty keys, the NOSPACE alarm) before proposing.
// A request whose deadline passes before it is applied fails with
// kErrTimeout (the write may still be applied later, as in etcd).
//
// Auth. RequestContext carries the client's token; when auth is enabled,
// each request is checked against the token's user (kErrInvalidAuthToken,
// kErrUserEmpty, kErrPermissionDenied, kErrAuthOldRevision). Admin RPCs
// (auth management, maintenance and cluster changes) need the root role.
//
// Thread safety: every public method is thread-safe and may block (a
// proposal waits until applied, or until the context's deadline). Calling a
// method after Stop() returns kErrStopped. Do not call the blocking ones
// from the callbacks this class invokes.
//
// Asynchronous calls. The calls a KV or Lease handler makes per request
// also come in a completion-callback form (PutAsync, RangeAsync, ...), so
// that the gRPC layer needs no thread per request in flight:
//
//   server->PutAsync(put, ctx, [reactor, response](absl::StatusOr<PutResponse> r) {
//     if (r.ok()) *response = *std::move(r);
//     reactor->Finish(ToGrpcStatus(r.status()));
//   });
//
// `done` is called exactly once: with the result from the apply thread (a
// write, or a linearizable read once its ReadIndex is applied); with
// kErrTimeout from the server's timer thread when the deadline passes first
// (kErrTimeoutDueToLeaderFail, as etcd, when a new leader was elected after
// the request started and less than two election timeouts after it
// started); with kErrStopped when the
// server stops first; or on the calling thread, before the call returns,
// for errors found before proposing (bad request, quota, auth) and for
// serializable reads. It never runs under a lock of the server, but it runs
// on the server's own threads: it must be quick and must not call the
// blocking methods (hand such work to another thread). The blocking methods
// are these calls plus a wait.

#ifndef ETCD_SERVER_ETCDSERVER_ETCDSERVER_H_
#define ETCD_SERVER_ETCDSERVER_ETCDSERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/etcdserverpb/rpc.pb.h"

namespace etcd {
namespace embed {
struct Config;
}  // namespace embed
namespace log {
class Logger;
}  // namespace log
namespace clock {
class Clock;
}  // namespace clock
namespace mvcc {
class KV;
class WatchableStore;
namespace backend {
class Snapshot;
}  // namespace backend
}  // namespace mvcc
}  // namespace etcd
namespace raftpb {
class Message;
}  // namespace raftpb

namespace etcd::etcdserver {

class Transport;  // transport.h
class ServerImpl;

// The cluster version this member reports (Status, /version).
inline constexpr char kClusterVersion[] = "3.5.0";

// ServerOptions::lease_revoke_rate's default (etcd's leaseRevokeRate: 1000).
inline constexpr int kDefaultLeaseRevokeRate = 100000;

// What the member is configured with. Built from the flags by FromConfig;
// tests fill it directly. A plain value; thread-compatible.
struct ServerOptions {
  // --name.
  std::string name = "default";
  // --data-dir: holds member/wal (unless wal_dir), member/snap/*.snap and
  // member/snap/db. Required.
  std::string data_dir;
  // --wal-dir; empty: <data_dir>/member/wal.
  std::string wal_dir;

  // Snapshot (and compact the raft log) every this many applied entries.
  uint64_t snapshot_count = 100000;
  // Entries kept in the raft log after a snapshot for slow followers.
  uint64_t snapshot_catchup_entries = 5000;
  // --max-snapshots / --max-wals: files kept (0: keep all).
  uint64_t max_snapshots = 5;
  uint64_t max_wals = 5;
  // Size of new WAL segments; 0: etcd's 64 MB. Not a flag; tests make it
  // small to exercise segment cuts and --max-wals.
  int64_t wal_segment_size_bytes = 0;

  // Raft timing: one tick per heartbeat interval; elections after
  // election_ticks ticks.
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  int election_ticks = 10;
  // Advance the election clock at start so a single member elects itself
  // fast (etcd's --initial-election-tick-advance).
  bool initial_election_tick_advance = true;
  bool pre_vote = true;
  bool strict_reconfig_check = true;

  // --initial-advertise-peer-urls and --advertise-client-urls ("http://...").
  std::vector<std::string> advertise_peer_urls = {"http://localhost:2380"};
  std::vector<std::string> advertise_client_urls = {"http://localhost:2379"};
  // --initial-cluster ("name=url,...") and its token and state ("new" or
  // "existing"). Read only when the data dir is new.
  std::string initial_cluster = "default=http://localhost:2380";
  std::string initial_cluster_token = "etcd-cluster";
  std::string initial_cluster_state = "new";
  // Start a one-member cluster from an existing data dir (not implemented
  // yet: Start refuses it).
  bool force_new_cluster = false;

  // Backend quota in bytes; 0 means etcd's default 2 GiB; negative: none.
  int64_t quota_backend_bytes = 0;
  // Largest request accepted (--max-request-bytes).
  uint64_t max_request_bytes = 1572864;
  // Most operations in one txn (--max-txn-ops).
  uint64_t max_txn_ops = 128;
  // Backend batching (0: the backend's defaults, 100 ms / 10000).
  absl::Duration backend_batch_interval = absl::ZeroDuration();
  int64_t backend_batch_limit = 0;
  // Skip fsyncs (etcd's --unsafe-no-fsync): tests only.
  bool unsafe_no_fsync = false;

  // --auth-token ("simple", "jwt,...", "" for none), --auth-token-ttl,
  // --bcrypt-cost.
  std::string auth_token = "simple";
  absl::Duration auth_token_ttl = absl::Seconds(300);
  int bcrypt_cost = 10;

  // --auto-compaction-mode ("periodic" or "revision") and retention: a
  // period for periodic, a revision count for revision; zero for off.
  std::string auto_compaction_mode = "periodic";
  absl::Duration auto_compaction_period = absl::ZeroDuration();
  int64_t auto_compaction_revisions = 0;
  // How often the compactor looks at the revision; zero: etcd's (5 minutes
  // in revision mode, retention/10 capped at 6 minutes, at least 100 ms, in
  // periodic mode). Not a flag; tests shorten it.
  absl::Duration auto_compaction_check_interval = absl::ZeroDuration();
  // --experimental-compaction-batch-limit / sleep interval.
  int64_t compaction_batch_limit = 1000;
  // --experimental-initial-corrupt-check: CheckInitialCorruption compares
  // this member's HashKV with its peers' before serving.
  bool initial_corrupt_check = false;
  // --experimental-corrupt-check-time: the leader compares HashKV with every
  // member this often and raises CORRUPT on a mismatch; zero disables.
  absl::Duration corrupt_check_time = absl::ZeroDuration();
  absl::Duration compaction_sleep_interval = absl::Milliseconds(10);

  // Lease checkpoints (--experimental-enable-lease-checkpoint).
  bool enable_lease_checkpoint = false;
  // The lessor's clock; null for the real one. Borrowed (tests).
  clock::Clock* lease_clock = nullptr;
  // Minimum lease TTL in seconds; <= 0: etcd's ceil(1.5 x election timeout).
  int64_t min_lease_ttl = 0;
  // At most this many expired leases per second are proposed for revocation
  // by the leader (one LeaseRevoke entry each), handed out every heartbeat
  // interval; after a leader change, expiries that would pile up are spread
  // to 3/4 of it per second. etcd's leaseRevokeRate is 1000, which takes
  // 100 s to revoke 100,000 leases due at once; the default revokes them in
  // about a second. <= 0: the default. Not a flag.
  int lease_revoke_rate = kDefaultLeaseRevokeRate;

  // How long a proposal may wait when the context has no deadline (etcd:
  // 5 s + 2 x election timeout).
  absl::Duration request_timeout = absl::ZeroDuration();

  // Peer messages go here; null: no peers (one member). Borrowed; must
  // outlive the server.
  Transport* transport = nullptr;
  // Where to log; null: the default logger. Borrowed.
  log::Logger* logger = nullptr;

  // The options a member started with `config` uses. InvalidArgument for
  // settings it cannot use (bad URLs, retention).
  static absl::StatusOr<ServerOptions> FromConfig(const embed::Config& config);
};

// Who is asking and until when. Filled by the gRPC/HTTP layer per call.
struct RequestContext {
  // The "token" metadata (or the gateway's Authorization header); empty
  // when the client sent none.
  std::string token;
  // The verified client certificate's common name, when TLS client auth is
  // on and the client sent no token (etcd's AuthInfoFromTLS).
  std::string tls_common_name;
  // The call's deadline; InfiniteFuture: ServerOptions::request_timeout.
  absl::Time deadline = absl::InfiniteFuture();
  // The "hasleader" metadata: fail with kErrNoLeader instead of waiting
  // while there is no leader.
  bool require_leader = false;
};

// A point-in-time copy of the backend for Maintenance.Snapshot. Must be
// destroyed before the server is stopped.
class BackendSnapshot {
 public:
  ~BackendSnapshot();
  BackendSnapshot(const BackendSnapshot&) = delete;
  BackendSnapshot& operator=(const BackendSnapshot&) = delete;

  // Total bytes WriteTo produces (for remaining_bytes).
  int64_t Size() const;
  // Streams the database file to `sink` in chunks (blocking); stops at the
  // first error `sink` returns. The stream is a database file that
  // `etcdctl snapshot restore` of this project opens. The sha256 trailer of
  // the gRPC stream is the caller's.
  absl::Status WriteTo(absl::FunctionRef<absl::Status(absl::string_view chunk)> sink);

 private:
  friend class EtcdServer;
  explicit BackendSnapshot(std::unique_ptr<mvcc::backend::Snapshot> snapshot);
  std::unique_ptr<mvcc::backend::Snapshot> snapshot_;
};

// Counters and gauges for /metrics (etcd's etcd_server_* and
// etcd_mvcc_db_* metrics).
struct ServerMetrics {
  bool has_leader = false;
  bool is_leader = false;
  uint64_t leader_changes_seen = 0;
  uint64_t proposals_committed = 0;
  uint64_t proposals_applied = 0;
  int64_t proposals_pending = 0;
  uint64_t proposals_failed = 0;
  uint64_t slow_apply_total = 0;
  uint64_t snapshot_count = 0;  // snapshots saved since start
  int64_t db_total_size_bytes = 0;
  int64_t db_total_size_in_use_bytes = 0;
  int64_t quota_backend_bytes = 0;
  int64_t current_revision = 0;
  int64_t compact_revision = 0;
  uint64_t term = 0;
  // WAL saves that had to sync (new entries, or a term/vote change), timed
  // from write to fdatasync: observations per bucket of etcd's disk buckets
  // (1 ms doubling to 8.192 s, then +Inf: 15 entries), their sum, count.
  std::vector<uint64_t> wal_fsync_buckets;
  double wal_fsync_seconds = 0;
  uint64_t wal_fsync_count = 0;
  // etcd_disk_backend_commit_duration_seconds, the same buckets.
  std::vector<uint64_t> backend_commit_buckets;
  double backend_commit_seconds = 0;
  uint64_t backend_commit_count = 0;
};

// The member. Owns the raft loop thread, the apply thread and the stores.
class EtcdServer {
 public:
  // Opens or creates the data directory and starts the member: a new data
  // dir bootstraps the cluster of options.initial_cluster (this member's ID
  // and the cluster ID derived like etcd's); an existing one restarts from
  // the newest snapshot, the WAL and the backend. Returns once the member
  // runs (not necessarily with a leader: see WaitLeader). Errors name the
  // file: corrupt WAL/snapshot/db, a locked data dir (another member),
  // a member name not in the initial cluster.
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Start(const ServerOptions& options);

  // Stops (see Stop).
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Stops the raft and apply threads, fails waiting requests with
  // kErrStopped, flushes the backend and closes every file. Idempotent.
  void Stop();
  // Blocks until Stop() has finished (called by anyone).
  void WaitStopped();
  bool Stopped() const;

  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  // --- KV ---------------------------------------------------------------
  absl::StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request,
                                                    const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& request,
                                                const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> DeleteRange(
      const etcdserverpb::DeleteRangeRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request,
                                                const RequestContext& ctx);
  // With `physical`, returns after the compacted revisions left the backend.
  absl::StatusOr<etcdserverpb::CompactionResponse> Compact(
      const etcdserverpb::CompactionRequest& request, const RequestContext& ctx);

  // The asynchronous forms (see "Asynchronous calls" above). A
  // linearizable Range (or read-only Txn) is served on the apply thread
  // once its ReadIndex round is applied (never on the raft thread, which
  // must keep ticking); a serializable one inline.
  void RangeAsync(const etcdserverpb::RangeRequest& request, const RequestContext& ctx,
                  Callback<etcdserverpb::RangeResponse> done);
  void PutAsync(const etcdserverpb::PutRequest& request, const RequestContext& ctx,
                Callback<etcdserverpb::PutResponse> done);
  void DeleteRangeAsync(const etcdserverpb::DeleteRangeRequest& request,
                        const RequestContext& ctx,
                        Callback<etcdserverpb::DeleteRangeResponse> done);
  void TxnAsync(const etcdserverpb::TxnRequest& request, const RequestContext& ctx,
                Callback<etcdserverpb::TxnResponse> done);
  // A `physical` compaction completes when applied, without waiting for the
  // backend (use Compact to wait).
  void CompactAsync(const etcdserverpb::CompactionRequest& request, const RequestContext& ctx,
                    Callback<etcdserverpb::CompactionResponse> done);

  // --- Lease ------------------------------------------------------------
  // ID 0 asks the member to pick one.
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(
      const etcdserverpb::LeaseGrantRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::LeaseRevokeResponse> LeaseRevoke(
      const etcdserverpb::LeaseRevokeRequest& request, const RequestContext& ctx);
  void LeaseGrantAsync(const etcdserverpb::LeaseGrantRequest& request, const RequestContext& ctx,
                       Callback<etcdserverpb::LeaseGrantResponse> done);
  void LeaseRevokeAsync(const etcdserverpb::LeaseRevokeRequest& request,
                        const RequestContext& ctx,
                        Callback<etcdserverpb::LeaseRevokeResponse> done);
  // One keep-alive round: the lease's TTL from now. kErrLeaseNotFound for
  // an unknown (or just expired and revoked) lease; etcd's gRPC handler
  // answers that with a response of TTL 0 rather than an error.
  absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> LeaseRenew(
      const etcdserverpb::LeaseKeepAliveRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(
      const etcdserverpb::LeaseTimeToLiveRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::LeaseLeasesResponse> LeaseLeases(
      const etcdserverpb::LeaseLeasesRequest& request, const RequestContext& ctx);

  // --- Auth -------------------------------------------------------------
  absl::StatusOr<etcdserverpb::AuthEnableResponse> AuthEnable(
      const etcdserverpb::AuthEnableRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthDisableResponse> AuthDisable(
      const etcdserverpb::AuthDisableRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthStatusResponse> AuthStatus(
      const etcdserverpb::AuthStatusRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthenticateResponse> Authenticate(
      const etcdserverpb::AuthenticateRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserAddResponse> UserAdd(
      const etcdserverpb::AuthUserAddRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserDeleteResponse> UserDelete(
      const etcdserverpb::AuthUserDeleteRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserChangePasswordResponse> UserChangePassword(
      const etcdserverpb::AuthUserChangePasswordRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserGrantRoleResponse> UserGrantRole(
      const etcdserverpb::AuthUserGrantRoleRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserGetResponse> UserGet(
      const etcdserverpb::AuthUserGetRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserListResponse> UserList(
      const etcdserverpb::AuthUserListRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthUserRevokeRoleResponse> UserRevokeRole(
      const etcdserverpb::AuthUserRevokeRoleRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleAddResponse> RoleAdd(
      const etcdserverpb::AuthRoleAddRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleGrantPermissionResponse> RoleGrantPermission(
      const etcdserverpb::AuthRoleGrantPermissionRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleGetResponse> RoleGet(
      const etcdserverpb::AuthRoleGetRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleListResponse> RoleList(
      const etcdserverpb::AuthRoleListRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleRevokePermissionResponse> RoleRevokePermission(
      const etcdserverpb::AuthRoleRevokePermissionRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AuthRoleDeleteResponse> RoleDelete(
      const etcdserverpb::AuthRoleDeleteRequest& request, const RequestContext& ctx);

  // --- Cluster ----------------------------------------------------------
  absl::StatusOr<etcdserverpb::MemberListResponse> MemberList(
      const etcdserverpb::MemberListRequest& request, const RequestContext& ctx);
  // Not implemented yet (the cluster issue): Unimplemented.
  absl::StatusOr<etcdserverpb::MemberAddResponse> MemberAdd(
      const etcdserverpb::MemberAddRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::MemberRemoveResponse> MemberRemove(
      const etcdserverpb::MemberRemoveRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::MemberUpdateResponse> MemberUpdate(
      const etcdserverpb::MemberUpdateRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::MemberPromoteResponse> MemberPromote(
      const etcdserverpb::MemberPromoteRequest& request, const RequestContext& ctx);

  // --- Maintenance ------------------------------------------------------
  absl::StatusOr<etcdserverpb::StatusResponse> Status(const etcdserverpb::StatusRequest& request,
                                                      const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::AlarmResponse> Alarm(const etcdserverpb::AlarmRequest& request,
                                                    const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::DefragmentResponse> Defragment(
      const etcdserverpb::DefragmentRequest& request, const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::HashResponse> Hash(const etcdserverpb::HashRequest& request,
                                                  const RequestContext& ctx);
  absl::StatusOr<etcdserverpb::HashKVResponse> HashKV(const etcdserverpb::HashKVRequest& request,
                                                      const RequestContext& ctx);
  // A copy of the backend as of now (admin only). See BackendSnapshot.
  absl::StatusOr<std::unique_ptr<BackendSnapshot>> Snapshot(const RequestContext& ctx);
  // Transfers leadership to `target_id` (the leader only; kErrNotLeader
  // elsewhere). Moving to itself succeeds at once.
  absl::StatusOr<etcdserverpb::MoveLeaderResponse> MoveLeader(
      const etcdserverpb::MoveLeaderRequest& request, const RequestContext& ctx);

  // --- Watch and other layers ---------------------------------------------
  // The store watchers attach to (the watch service): every change applied
  // through the server (puts, deletes, txns, lease revocations) reaches its
  // watchers in revision order. Never null; owned by the server. Create
  // streams only before Stop(); every WatchStream must be destroyed before
  // the EtcdServer (destroying them after Stop() is fine).
  mvcc::WatchableStore* Watchable();
  // The key-value store (reads, and what a watch catches up from): the same
  // object as Watchable(). Owned by the server; valid until Stop().
  mvcc::KV* KV();
  // Checks that the client of `ctx` may read [key, range_end) (a watch);
  // OK while auth is disabled.
  absl::Status CheckRangePermission(const RequestContext& ctx, absl::string_view key,
                                    absl::string_view range_end);
  // The header of a response made now: cluster_id, member_id, revision,
  // raft_term.
  etcdserverpb::ResponseHeader Header() const;

  // Active alarms (for /health: etcd reports unhealthy with any alarm).
  std::vector<etcdserverpb::AlarmMember> Alarms() const;
  // etcd's /health check: a linearizable read succeeds by `deadline`, or
  // kErrNoLeader / kErrTimeout.
  absl::Status CheckHealth(absl::Time deadline);

  // --- Identity and raft state ------------------------------------------
  uint64_t ID() const;
  uint64_t ClusterID() const;
  // The leader's member ID, 0 when there is none.
  uint64_t Leader() const;
  bool HasLeader() const;
  bool IsLeader() const;
  uint64_t Term() const;
  uint64_t AppliedIndex() const;
  uint64_t CommittedIndex() const;
  // Blocks until a leader is known; kErrNoLeader at `deadline`.
  absl::Status WaitLeader(absl::Time deadline);
  // Calls `fn` (from the raft thread; must not block) whenever the leader
  // changes, e.g. to cancel hasleader watch streams. Returns a handle for
  // RemoveLeaderChangeCallback.
  int AddLeaderChangeCallback(std::function<void(uint64_t new_leader)> fn);
  void RemoveLeaderChangeCallback(int handle);

  ServerMetrics Metrics() const;

  // --- Peers (the cluster issue) -------------------------------------------
  // Delivers a raft message from a peer to this member.
  absl::Status Process(const raftpb::Message& message);
  // The peer transport's reports (non-blocking; handed to raft by the raft
  // thread).
  void ReportUnreachable(uint64_t id);
  void ReportSnapshot(uint64_t id, bool ok);
  // Whether `id` was removed from the cluster (its peer calls are refused).
  bool IsMemberRemoved(uint64_t id) const;
  // Whether this member is a learner (it then serves only Status and
  // serializable Range calls, as etcd's learners do).
  bool IsLearner() const;
  // A peer refused this member as removed from the cluster: it stops
  // serving (Stopped() turns true), as etcd exits.
  void ReportRemoved();
  // etcd's initial corruption check: asks every reachable peer for its
  // HashKV at this member's revision; DataLoss ("found data inconsistency
  // with peers") on a mismatch at the same compact revision. Peers that
  // cannot answer are skipped with a warning.
  absl::Status CheckInitialCorruption();
  // A copy of the backend to send with the MsgSnap `m` (the transport
  // deletes it when sent); etcd's merged snapshot message.
  absl::StatusOr<std::string> WriteSnapshotDbForSend(const raftpb::Message& m);
  // A request another member forwarded here (Transport::Call), e.g.
  // "LeaseRenew" or "LeaseTimeToLive" with the serialized request; returns
  // the serialized response.
  absl::StatusOr<std::string> HandlePeerCall(const std::string& method,
                                             const std::string& payload);
  // This member's name and client URLs are applied through raft (etcd's
  // ReadyNotify): from then on it serves clients.
  bool Ready() const;

 private:
  explicit EtcdServer(std::unique_ptr<ServerImpl> impl);
  std::unique_ptr<ServerImpl> impl_;
};

}  // namespace etcd::etcdserver

#endif  // ETCD_SERVER_ETCDSERVER_ETCDSERVER_H_
