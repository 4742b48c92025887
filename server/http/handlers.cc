#include "server/http/handlers.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "api/version/version.h"

namespace etcd::http {
namespace {

void Metric(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help, absl::string_view labels, absl::string_view value) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, labels,
                  " ", value, "\n");
}

// A family with one sample per label set (none: left out, as Go's client
// leaves out a vector without children).
void MetricFamily(std::string* out, absl::string_view name, absl::string_view type,
                  absl::string_view help,
                  const std::vector<std::pair<std::string, std::string>>& samples) {
  if (samples.empty()) return;
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  for (const auto& [labels, value] : samples) absl::StrAppend(out, name, labels, " ", value, "\n");
}

// etcd_network_*: what the peer transport counts, per remote member.
void NetworkMetrics(std::string* out, const MetricsSnapshot& s) {
  const std::string local = absl::StrFormat("%x", s.member_id);
  std::vector<std::pair<std::string, std::string>> active, disconnected, bytes, failures,
      snap_failures, snap_success;
  for (const PeerMetrics& p : s.peers) {
    const std::string remote = absl::StrFormat("%x", p.id);
    const std::string pair = absl::StrCat("{Local=\"", local, "\",Remote=\"", remote, "\"}");
    const std::string to = absl::StrCat("{To=\"", remote, "\"}");
    active.emplace_back(pair, p.active ? "1" : "0");
    disconnected.emplace_back(pair, absl::StrCat(p.disconnects));
    bytes.emplace_back(to, absl::StrCat(p.sent_bytes));
    failures.emplace_back(to, absl::StrCat(p.send_failures));
    if (p.snapshot_failures > 0) snap_failures.emplace_back(to, absl::StrCat(p.snapshot_failures));
    if (p.snapshots_sent > 0) snap_success.emplace_back(to, absl::StrCat(p.snapshots_sent));
  }
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    const std::vector<std::pair<std::string, std::string>>* samples;
  };
  for (const Family& f : {
           Family{"etcd_network_active_peers", "gauge",
                  "The current number of active peer connections.", &active},
           Family{"etcd_network_disconnected_peers_total", "counter",
                  "The total number of disconnected peers.", &disconnected},
           Family{"etcd_network_peer_sent_bytes_total", "counter",
                  "The total number of bytes sent to peers.", &bytes},
           Family{"etcd_network_peer_sent_failures_total", "counter",
                  "The total number of send failures from peers.", &failures},
           Family{"etcd_network_snapshot_send_failures", "counter",
                  "Total number of snapshot send failures", &snap_failures},
           Family{"etcd_network_snapshot_send_success", "counter",
                  "Total number of successful snapshot sends", &snap_success},
       }) {
    MetricFamily(out, f.name, f.type, f.help, *f.samples);
  }
}

// Go's strconv.FormatFloat(v, 'g', -1, 64) for the values seen here.
std::string Float(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void Histogram(std::string* out, absl::string_view name, absl::string_view help,
               const HistogramSnapshot& h) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
  // Without bounds of its own (nothing recorded it): etcd's disk buckets.
  const std::vector<double> bounds = h.upper_bounds.empty() ? DiskLatencyBuckets() : h.upper_bounds;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    if (i < h.bucket_counts.size()) cumulative += h.bucket_counts[i];
    std::string le = i < bounds.size() ? Float(bounds[i]) : "+Inf";
    absl::StrAppend(out, name, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_sum ", Float(h.sum), "\n", name, "_count ", h.count, "\n");
}

struct HealthCounters {
  std::atomic<uint64_t> success{0};
  std::atomic<uint64_t> failures{0};
};

Response MethodNotAllowed() {
  Response response = Response::Error(405, "Method Not Allowed");
  response.headers.emplace_back("Allow", "GET");
  return response;
}

}  // namespace

std::vector<double> DiskLatencyBuckets() {
  std::vector<double> bounds;
  for (int i = 0; i < 14; ++i) bounds.push_back(0.001 * static_cast<double>(1 << i));
  return bounds;
}

ProcessMetrics ReadProcessMetrics() {
  ProcessMetrics p;
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name "(...)", which may hold spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return p;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  // fields[0] is field 3 (state): utime 14, stime 15, starttime 22,
  // vsize 23, rss 24.
  if (fields.size() < 22) return p;
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  uint64_t utime, stime, start_ticks, vsize;
  int64_t rss_pages;
  if (!absl::SimpleAtoi(fields[11], &utime) || !absl::SimpleAtoi(fields[12], &stime) ||
      !absl::SimpleAtoi(fields[19], &start_ticks) || !absl::SimpleAtoi(fields[20], &vsize) ||
      !absl::SimpleAtoi(fields[21], &rss_pages)) {
    return p;
  }
  p.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  p.virtual_memory_bytes = static_cast<int64_t>(vsize);
  p.resident_memory_bytes = rss_pages * ::sysconf(_SC_PAGESIZE);
  // Boot time, for the start time since the epoch.
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  while (std::getline(proc_stat, line)) {
    int64_t btime;
    if (absl::StartsWith(line, "btime ") && absl::SimpleAtoi(line.substr(6), &btime)) {
      p.start_time_seconds = static_cast<double>(btime) + static_cast<double>(start_ticks) / ticks;
    }
  }
  int64_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++fds;
    }
    ::closedir(dir);
    p.open_fds = fds - 1;  // the directory stream's own descriptor
  }
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) p.max_fds = static_cast<int64_t>(limit.rlim_cur);
  if (::getrlimit(RLIMIT_AS, &limit) == 0) {
    p.virtual_memory_max_bytes = limit.rlim_cur == RLIM_INFINITY
                                     ? 18446744073709551615.0
                                     : static_cast<double>(limit.rlim_cur);
  }
  p.ok = true;
  return p;
}

std::string RenderMetrics(const MetricsSnapshot& s, uint64_t health_success,
                          uint64_t health_failures) {
  std::string out;
  Metric(&out, "etcd_cluster_version", "gauge",
         "Which version is running. 1 for 'cluster_version' label with current cluster version",
         absl::StrCat("{cluster_version=\"", s.cluster_version, "\"}"), "1");
  Metric(&out, "etcd_debugging_mvcc_compact_revision", "gauge",
         "The revision of the last compaction in store.", "", absl::StrCat(s.compact_revision));
  Metric(&out, "etcd_debugging_mvcc_current_revision", "gauge", "The current revision of store.",
         "", absl::StrCat(s.current_revision));
  Histogram(&out, "etcd_disk_backend_commit_duration_seconds",
            "The latency distributions of commit called by backend.", s.backend_commit);
  Histogram(&out, "etcd_disk_wal_fsync_duration_seconds",
            "The latency distributions of fsync called by WAL.", s.wal_fsync);
  Metric(&out, "etcd_mvcc_db_total_size_in_bytes", "gauge",
         "Total size of the underlying database physically allocated in bytes.", "",
         absl::StrCat(s.db_total_size_bytes));
  Metric(&out, "etcd_mvcc_db_total_size_in_use_in_bytes", "gauge",
         "Total size of the underlying database logically in use in bytes.", "",
         absl::StrCat(s.db_total_size_in_use_bytes));
  NetworkMetrics(&out, s);
  Metric(&out, "etcd_server_has_leader", "gauge",
         "Whether or not a leader exists. 1 is existence, 0 is not.", "", s.has_leader ? "1" : "0");
  Metric(&out, "etcd_server_heartbeat_send_failures_total", "counter",
         "The total number of leader heartbeat send failures (likely overloaded from slow disk).",
         "", absl::StrCat(s.heartbeat_send_failures));
  Metric(&out, "etcd_server_health_failures", "counter", "The total number of failed health checks",
         "", absl::StrCat(health_failures));
  Metric(&out, "etcd_server_health_success", "counter",
         "The total number of successful health checks", "", absl::StrCat(health_success));
  Metric(&out, "etcd_server_id", "gauge",
         "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
         absl::StrCat("{server_id=\"", absl::Hex(s.member_id), "\"}"), "1");
  Metric(&out, "etcd_server_is_leader", "gauge",
         "Whether or not this member is a leader. 1 if is, 0 otherwise.", "",
         s.is_leader ? "1" : "0");
  Metric(&out, "etcd_server_is_learner", "gauge",
         "Whether or not this member is a learner. 1 if is, 0 otherwise.", "",
         s.is_learner ? "1" : "0");
  Metric(&out, "etcd_server_leader_changes_seen_total", "counter",
         "The number of leader changes seen.", "", absl::StrCat(s.leader_changes_seen));
  Metric(&out, "etcd_server_proposals_applied_total", "gauge",
         "The total number of consensus proposals applied.", "", absl::StrCat(s.proposals_applied));
  Metric(&out, "etcd_server_proposals_committed_total", "gauge",
         "The total number of consensus proposals committed.", "",
         absl::StrCat(s.proposals_committed));
  Metric(&out, "etcd_server_proposals_failed_total", "counter",
         "The total number of failed proposals seen.", "", absl::StrCat(s.proposals_failed));
  Metric(&out, "etcd_server_proposals_pending", "gauge",
         "The current number of pending proposals to commit.", "",
         absl::StrCat(s.proposals_pending));
  Metric(&out, "etcd_server_quota_backend_bytes", "gauge",
         "Current backend storage quota size in bytes.", "", absl::StrCat(s.quota_backend_bytes));
  Metric(&out, "etcd_server_slow_apply_total", "counter",
         "The total number of slow apply requests (likely overloaded from slow disk).", "",
         absl::StrCat(s.slow_apply));
  Metric(&out, "etcd_server_version", "gauge",
         "Which version is running. 1 for 'server_version' label with current version.",
         absl::StrCat("{server_version=\"", version::kServerVersion, "\"}"), "1");
  if (s.process.ok) {
    const ProcessMetrics& p = s.process;
    Metric(&out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", "", Float(p.cpu_seconds));
    Metric(&out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", "",
           absl::StrCat(p.max_fds));
    Metric(&out, "process_open_fds", "gauge", "Number of open file descriptors.", "",
           absl::StrCat(p.open_fds));
    Metric(&out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", "",
           absl::StrCat(p.resident_memory_bytes));
    Metric(&out, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.", "",
           Float(p.start_time_seconds));
    Metric(&out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", "",
           absl::StrCat(p.virtual_memory_bytes));
    Metric(&out, "process_virtual_memory_max_bytes", "gauge",
           "Maximum amount of virtual memory available in bytes.", "",
           Float(p.virtual_memory_max_bytes));
  }
  return out;
}

void InstallEndpoints(Mux* mux, EndpointCallbacks callbacks) {
  auto shared = std::make_shared<EndpointCallbacks>(std::move(callbacks));
  auto counters = std::make_shared<HealthCounters>();

  mux->Handle("/version", [shared](const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed();
    std::string cluster = shared->cluster_version ? shared->cluster_version() : "not_decided";
    return Response::Json(200, version::VersionJson(cluster));
  });

  mux->Handle("/health", [shared, counters](const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed();
    HealthQuery query;
    query.excluded_alarms = request.QueryValues("exclude");
    for (const std::string& v : request.QueryValues("serializable")) {
      query.serializable = absl::AsciiStrToLower(v) == "true";
    }
    absl::Status status =
        shared->health ? shared->health(query) : absl::UnavailableError("no health check");
    if (status.ok()) {
      counters->success.fetch_add(1, std::memory_order_relaxed);
      return Response::Json(200, "{\"health\":\"true\",\"reason\":\"\"}");
    }
    counters->failures.fetch_add(1, std::memory_order_relaxed);
    return Response::Error(503, absl::StrCat("{\"health\":\"false\",\"reason\":",
                                             JsonQuote(status.message()), "}"));
  });

  mux->Handle("/metrics", [shared, counters](const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed();
    MetricsSnapshot snapshot = shared->metrics ? shared->metrics() : MetricsSnapshot();
    if (!snapshot.process.ok) snapshot.process = ReadProcessMetrics();
    Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = RenderMetrics(snapshot, counters->success.load(), counters->failures.load());
    return response;
  });
}

}  // namespace etcd::http
