// etcd's plain-HTTP endpoints on the client port: /version, /health and
// /metrics, answered through callbacks so this package knows nothing of the
// server (the member wires the callbacks to its EtcdServer).
//
//   etcd::http::Mux mux;
//   etcd::http::EndpointCallbacks callbacks;
//   callbacks.cluster_version = [&] { return server->ClusterVersion(); };
//   callbacks.health = [&](const etcd::http::HealthQuery& q) { return server->CheckHealth(q); };
//   callbacks.metrics = [&] { return server->MetricsSnapshot(); };
//   etcd::http::InstallEndpoints(&mux, std::move(callbacks));
//
// Bodies follow etcd 3.5:
//   GET /version -> {"etcdserver":"3.5.0","etcdcluster":"3.5.0"}
//   GET /health  -> 200 {"health":"true","reason":""}
//                   503 {"health":"false","reason":"..."} (text/plain, like etcd)
//   GET /metrics -> Prometheus text format 0.0.4
//
// The installed handlers are thread-safe if the callbacks are.

#ifndef ETCD_SERVER_HTTP_HANDLERS_H_
#define ETCD_SERVER_HTTP_HANDLERS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/http/http_server.h"

namespace etcd::http {

// What /health was asked: ?exclude=NOSPACE (alarms to ignore, repeatable)
// and ?serializable=true (skip the linearizable read, check locally).
struct HealthQuery {
  std::vector<std::string> excluded_alarms;
  bool serializable = false;
};

// A Prometheus histogram as read at one moment.
struct HistogramSnapshot {
  // Upper bounds of the buckets, ascending; +Inf is implied after them.
  // Empty: DiskLatencyBuckets().
  std::vector<double> upper_bounds;
  // Observations per bucket (not cumulative): upper_bounds.size() + 1
  // entries, the last for +Inf. Empty: no observations yet.
  std::vector<uint64_t> bucket_counts;
  double sum = 0;
  uint64_t count = 0;
};

// etcd's buckets for disk latencies (WAL fsync, backend commit): 1 ms
// doubling up to 8.192 s.
std::vector<double> DiskLatencyBuckets();

// The process_* figures of Prometheus' Go client, read from /proc/self.
struct ProcessMetrics {
  bool ok = false;         // false when /proc could not be read (nothing rendered)
  double cpu_seconds = 0;  // process_cpu_seconds_total
  int64_t resident_memory_bytes = 0;
  int64_t virtual_memory_bytes = 0;
  double virtual_memory_max_bytes = 0;  // RLIMIT_AS; infinity as Go's 2^64
  int64_t open_fds = 0;
  int64_t max_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};
ProcessMetrics ReadProcessMetrics();

// The figures /metrics reports, read when it is scraped. Names are etcd's.
// One remote member as the peer transport sees it (etcd_network_*).
struct PeerMetrics {
  uint64_t id = 0;
  bool active = false;             // etcd_network_active_peers
  uint64_t disconnects = 0;        // etcd_network_disconnected_peers_total
  uint64_t sent_bytes = 0;         // etcd_network_peer_sent_bytes_total
  uint64_t send_failures = 0;      // etcd_network_peer_sent_failures_total
  uint64_t snapshots_sent = 0;     // etcd_network_snapshot_send_success
  uint64_t snapshot_failures = 0;  // etcd_network_snapshot_send_failures
};

struct MetricsSnapshot {
  bool has_leader = false;                 // etcd_server_has_leader
  bool is_leader = false;                  // etcd_server_is_leader
  bool is_learner = false;                 // etcd_server_is_learner
  uint64_t leader_changes_seen = 0;        // etcd_server_leader_changes_seen_total
  uint64_t proposals_committed = 0;        // etcd_server_proposals_committed_total
  uint64_t proposals_applied = 0;          // etcd_server_proposals_applied_total
  int64_t proposals_pending = 0;           // etcd_server_proposals_pending
  uint64_t proposals_failed = 0;           // etcd_server_proposals_failed_total
  uint64_t slow_apply = 0;                 // etcd_server_slow_apply_total
  uint64_t heartbeat_send_failures = 0;    // etcd_server_heartbeat_send_failures_total
  int64_t db_total_size_bytes = 0;         // etcd_mvcc_db_total_size_in_bytes
  int64_t db_total_size_in_use_bytes = 0;  // etcd_mvcc_db_total_size_in_use_in_bytes
  int64_t quota_backend_bytes = 0;         // etcd_server_quota_backend_bytes
  int64_t current_revision = 0;            // etcd_debugging_mvcc_current_revision
  int64_t compact_revision = 0;            // etcd_debugging_mvcc_compact_revision
  uint64_t member_id = 0;                  // etcd_server_id{server_id}
  std::string cluster_version;             // etcd_cluster_version{cluster_version}
  HistogramSnapshot wal_fsync;             // etcd_disk_wal_fsync_duration_seconds
  HistogramSnapshot backend_commit;        // etcd_disk_backend_commit_duration_seconds
  std::vector<PeerMetrics> peers;          // etcd_network_* (none: families left out)
  // Filled by the /metrics handler itself when the callback leaves ok false.
  ProcessMetrics process;
};

struct EndpointCallbacks {
  // The cluster version ("3.5.0"), or "not_decided".
  std::function<std::string()> cluster_version;
  // OK when healthy; otherwise the reason, e.g. "RAFT NO LEADER",
  // "ALARM NOSPACE", "RANGE ERROR". Should answer within a few seconds.
  std::function<absl::Status(const HealthQuery&)> health;
  std::function<MetricsSnapshot()> metrics;
};

// Installs /version, /health and /metrics on `mux`. /metrics adds the
// process_* figures (ReadProcessMetrics) to the callback's snapshot.
void InstallEndpoints(Mux* mux, EndpointCallbacks callbacks);

// The Prometheus text for `snapshot` plus the health counters.
std::string RenderMetrics(const MetricsSnapshot& snapshot, uint64_t health_success,
                          uint64_t health_failures);

}  // namespace etcd::http

#endif  // ETCD_SERVER_HTTP_HANDLERS_H_
