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

}  // namespace
}  // namespace etcd::http
