#include "server/http/handlers.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"

namespace etcd::http {
namespace {

Request Get(std::string path, std::string query = "") {
  Request request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

TEST(HandlersTest, Version) {
  Mux mux;
  EndpointCallbacks callbacks;
  callbacks.cluster_version = [] { return std::string("3.5.0"); };
  InstallEndpoints(&mux, std::move(callbacks));
  Response response = mux.Serve(Get("/version"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, "{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}");
  Request post = Get("/version");
  post.method = "POST";
  EXPECT_EQ(mux.Serve(post).status, 405);
}

TEST(HandlersTest, HealthPassesQueryAndReportsReason) {
  Mux mux;
  EndpointCallbacks callbacks;
  HealthQuery seen;
  bool healthy = true;
  callbacks.health = [&](const HealthQuery& q) {
    seen = q;
    return healthy ? absl::OkStatus() : absl::UnavailableError("RAFT NO LEADER");
  };
  InstallEndpoints(&mux, std::move(callbacks));
  Response ok = mux.Serve(Get("/health", "exclude=NOSPACE&serializable=true"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "{\"health\":\"true\",\"reason\":\"\"}");
  EXPECT_EQ(seen.excluded_alarms, std::vector<std::string>{"NOSPACE"});
  EXPECT_TRUE(seen.serializable);
  healthy = false;
  Response bad = mux.Serve(Get("/health"));
  EXPECT_EQ(bad.status, 503);
  EXPECT_EQ(bad.body, "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}\n");
  EXPECT_FALSE(seen.serializable);

  Response metrics = mux.Serve(Get("/metrics"));
  EXPECT_TRUE(absl::StrContains(metrics.body, "\netcd_server_health_success 1\n")) << metrics.body;
  EXPECT_TRUE(absl::StrContains(metrics.body, "\netcd_server_health_failures 1\n"));
}

TEST(HandlersTest, Metrics) {
  Mux mux;
  EndpointCallbacks callbacks;
  callbacks.metrics = [] {
    MetricsSnapshot s;
    s.has_leader = true;
    s.is_leader = true;
    s.proposals_committed = 42;
    s.db_total_size_bytes = 8192;
    s.member_id = 0x8e9e05c52164694d;
    return s;
  };
  InstallEndpoints(&mux, std::move(callbacks));
  Response response = mux.Serve(Get("/metrics"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line : {
           "# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n",
           "\netcd_server_is_leader 1\n",
           "\netcd_server_proposals_committed_total 42\n",
           "\netcd_mvcc_db_total_size_in_bytes 8192\n",
           "\netcd_server_id{server_id=\"8e9e05c52164694d\"} 1\n",
           "\netcd_server_version{server_version=\"3.5.0\"} 1\n",
       }) {
    EXPECT_TRUE(absl::StrContains(response.body, line)) << line << "\n" << response.body;
  }
}

TEST(HandlersTest, HistogramsUseEtcdBucketsAndAreCumulative) {
  MetricsSnapshot s;
  s.wal_fsync.upper_bounds = DiskLatencyBuckets();
  s.wal_fsync.bucket_counts.assign(s.wal_fsync.upper_bounds.size() + 1, 0);
  s.wal_fsync.bucket_counts[0] = 3;   // <= 1 ms
  s.wal_fsync.bucket_counts[2] = 1;   // <= 4 ms
  s.wal_fsync.bucket_counts[14] = 1;  // > 8.192 s
  s.wal_fsync.sum = 9.5;
  s.wal_fsync.count = 5;
  std::string body = RenderMetrics(s, 0, 0);
  for (const char* line : {
           "# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called "
           "by WAL.\n# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n"
           "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 3\n"
           "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 3\n"
           "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.004\"} 4\n",
           "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"} 4\n"
           "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 5\n"
           "etcd_disk_wal_fsync_duration_seconds_sum 9.5\n"
           "etcd_disk_wal_fsync_duration_seconds_count 5\n",
           // Never observed: every bucket present, all zero.
           "etcd_disk_backend_commit_duration_seconds_bucket{le=\"0.512\"} 0\n",
           "etcd_disk_backend_commit_duration_seconds_count 0\n",
       }) {
    EXPECT_TRUE(absl::StrContains(body, line)) << line << "\n" << body;
  }
  EXPECT_EQ(DiskLatencyBuckets().size(), 14u);
}

TEST(HandlersTest, NetworkMetricsPerPeer) {
  MetricsSnapshot s;
  s.member_id = 0xa1;
  EXPECT_FALSE(absl::StrContains(RenderMetrics(s, 0, 0), "etcd_network_"));  // no peers
  PeerMetrics up;
  up.id = 0xb2;
  up.active = true;
  up.sent_bytes = 1234;
  up.snapshots_sent = 1;
  PeerMetrics down;
  down.id = 0xc3;
  down.disconnects = 2;
  down.send_failures = 5;
  s.peers = {up, down};
  std::string body = RenderMetrics(s, 0, 0);
  for (const char* text : {
           "# HELP etcd_network_active_peers The current number of active peer connections.\n"
           "# TYPE etcd_network_active_peers gauge\n"
           "etcd_network_active_peers{Local=\"a1\",Remote=\"b2\"} 1\n"
           "etcd_network_active_peers{Local=\"a1\",Remote=\"c3\"} 0\n",
           "etcd_network_disconnected_peers_total{Local=\"a1\",Remote=\"c3\"} 2\n",
           "etcd_network_peer_sent_bytes_total{To=\"b2\"} 1234\n",
           "# TYPE etcd_network_peer_sent_failures_total counter\n"
           "etcd_network_peer_sent_failures_total{To=\"b2\"} 0\n"
           "etcd_network_peer_sent_failures_total{To=\"c3\"} 5\n",
           "# TYPE etcd_network_snapshot_send_success counter\n"
           "etcd_network_snapshot_send_success{To=\"b2\"} 1\n",
       }) {
    EXPECT_TRUE(absl::StrContains(body, text)) << text << "\n" << body;
  }
  // Families with no samples are left out, as Go's client does.
  EXPECT_FALSE(absl::StrContains(body, "etcd_network_snapshot_send_failures"));
  // Families stay in name order (etcd_mvcc_* < etcd_network_* < etcd_server_*).
  EXPECT_LT(body.find("etcd_mvcc_db_total_size_in_use_in_bytes"),
            body.find("etcd_network_active_peers"));
  EXPECT_LT(body.find("etcd_network_snapshot_send_success"), body.find("etcd_server_has_leader"));
}

TEST(HandlersTest, MetricsAddProcessFigures) {
  ProcessMetrics p = ReadProcessMetrics();
  ASSERT_TRUE(p.ok);
  EXPECT_GT(p.resident_memory_bytes, 0);
  EXPECT_GE(p.virtual_memory_bytes, p.resident_memory_bytes);
  EXPECT_GE(p.open_fds, 3);  // at least stdin/stdout/stderr under bazel
  EXPECT_GT(p.max_fds, 0);
  EXPECT_GT(p.start_time_seconds, 1.6e9);
  EXPECT_GE(p.cpu_seconds, 0);

  Mux mux;
  InstallEndpoints(&mux, EndpointCallbacks());
  std::string body = mux.Serve(Get("/metrics")).body;
  for (const char* name :
       {"\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ",
        "\nprocess_resident_memory_bytes ", "\nprocess_open_fds ", "\nprocess_max_fds ",
        "\nprocess_start_time_seconds ", "\nprocess_virtual_memory_bytes ",
        "\nprocess_virtual_memory_max_bytes ", "\netcd_server_slow_apply_total 0\n",
        "\netcd_server_heartbeat_send_failures_total 0\n"}) {
    EXPECT_TRUE(absl::StrContains(body, name)) << name << "\n" << body;
  }
}

}  // namespace
}  // namespace etcd::http
