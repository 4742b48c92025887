#include "server/http/handlers.h"

#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "api/version/version.h"

namespace etcd::http {
namespace {

std::string JsonEscape(absl::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

void Metric(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help, absl::string_view labels, absl::string_view value) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, labels,
                  " ", value, "\n");
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
  Metric(&out, "etcd_mvcc_db_total_size_in_bytes", "gauge",
         "Total size of the underlying database physically allocated in bytes.", "",
         absl::StrCat(s.db_total_size_bytes));
  Metric(&out, "etcd_mvcc_db_total_size_in_use_in_bytes", "gauge",
         "Total size of the underlying database logically in use in bytes.", "",
         absl::StrCat(s.db_total_size_in_use_bytes));
  Metric(&out, "etcd_server_has_leader", "gauge",
         "Whether or not a leader exists. 1 is existence, 0 is not.", "", s.has_leader ? "1" : "0");
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
  Metric(&out, "etcd_server_version", "gauge",
         "Which version is running. 1 for 'server_version' label with current version.",
         absl::StrCat("{server_version=\"", version::kServerVersion, "\"}"), "1");
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
    return Response::Error(503, absl::StrCat("{\"health\":\"false\",\"reason\":\"",
                                             JsonEscape(status.message()), "\"}"));
  });

  mux->Handle("/metrics", [shared, counters](const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed();
    MetricsSnapshot snapshot = shared->metrics ? shared->metrics() : MetricsSnapshot();
    Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = RenderMetrics(snapshot, counters->success.load(), counters->failures.load());
    return response;
  });
}

}  // namespace etcd::http
