// The JSON gateway (/v3/... over HTTP/1.1) on a real member: KV, leases,
// watch streams, maintenance, auth and errors, as a curl user would see
// them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "e2e/etcd_process.h"
#include "e2e/http_client.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "re2/re2.h"

namespace etcd::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of JSON string field `name` in `json` ("" if absent).
std::string Field(const std::string& json, const std::string& name) {
  std::string value;
  RE2::PartialMatch(json, absl::StrCat("\"", name, R"re(":"([^"]*)")re"), &value);
  return value;
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("gateway");
    ASSERT_OK(dir.status());
    dir_ = std::make_unique<testutil::TempDir>(*std::move(dir));
    absl::StatusOr<std::unique_ptr<EtcdProcess>> member =
        EtcdProcess::Start(OurEtcdBinary(), dir_->path(), ExtraArgs());
    ASSERT_OK(member.status());
    member_ = *std::move(member);
  }

  virtual std::vector<std::string> ExtraArgs() { return {}; }

  HttpResult Post(const std::string& path, const std::string& body,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return HttpPost(member_->endpoint(), path, body, headers);
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::unique_ptr<EtcdProcess> member_;
};

TEST_F(GatewayTest, KeyValue) {
  HttpResult put = Post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.Header("content-type"), "application/json");
  EXPECT_TRUE(RE2::FullMatch(put.body, R"re(\{"header":\{"cluster_id":"\d+","member_id":"\d+",)re"
                                       R"re("revision":"2","raft_term":"\d+"\}\})re"))
      << put.body;

  HttpResult range = Post("/v3/kv/range", R"({"key":"Zm9v"})");
  EXPECT_EQ(range.status, 200);
  EXPECT_THAT(range.body,
              HasSubstr(R"("kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2",)"
                        R"("version":"1","value":"YmFy"}],"count":"1"})"));

  // /v3beta/ is /v3/; camelCase names are accepted too.
  HttpResult count = Post("/v3beta/kv/range", R"({"key":"Zm9v","countOnly":true})");
  EXPECT_EQ(count.status, 200);
  EXPECT_THAT(count.body, HasSubstr(R"("count":"1")"));
  EXPECT_THAT(count.body, Not(HasSubstr("kvs")));

  HttpResult txn =
      Post("/v3/kv/txn", R"({"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE",)"
                         R"("value":"YmFy"}],"success":[{"request_put":{"key":"Zm9v",)"
                         R"("value":"YmF6"}}],"failure":[{"request_range":{"key":"Zm9v"}}]})");
  EXPECT_EQ(txn.status, 200);
  EXPECT_THAT(txn.body, HasSubstr(R"("succeeded":true,"responses":[{"response_put":{"header":)"));
  EXPECT_EQ(Field(txn.body, "revision"), "3");

  HttpResult del = Post("/v3/kv/deleterange", R"({"key":"Zm9v","prev_kv":true})");
  EXPECT_EQ(del.status, 200);
  EXPECT_THAT(del.body, HasSubstr(R"("deleted":"1","prev_kvs":[{"key":"Zm9v")"));
  EXPECT_THAT(del.body, HasSubstr(R"("value":"YmF6")"));

  HttpResult compact = Post("/v3/kv/compaction", R"({"revision":"3"})");
  EXPECT_EQ(compact.status, 200) << compact.body;
  HttpResult old = Post("/v3/kv/range", R"({"key":"Zm9v","revision":"2"})");
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.body,
            R"({"error":"etcdserver: mvcc: required revision has been compacted",)"
            R"("message":"etcdserver: mvcc: required revision has been compacted","code":11})");
}

TEST_F(GatewayTest, Leases) {
  HttpResult grant = Post("/v3/lease/grant", R"({"TTL":60,"ID":"1234"})");
  EXPECT_EQ(grant.status, 200);
  EXPECT_THAT(grant.body, HasSubstr(R"("ID":"1234","TTL":"60"})"));

  HttpResult ttl = Post("/v3/lease/timetolive", R"({"ID":"1234"})");
  EXPECT_EQ(ttl.status, 200);
  EXPECT_THAT(ttl.body, HasSubstr(R"("grantedTTL":"60")"));
  // The older /v3/kv/lease/ paths are aliases.
  EXPECT_EQ(Post("/v3/kv/lease/timetolive", R"({"ID":1234})").status, 200);

  // One answer per request, then the stream ends.
  HttpResult keepalive = Post("/v3/lease/keepalive", R"({"ID":"1234"} {"ID":"1234"})");
  EXPECT_EQ(keepalive.status, 200);
  EXPECT_TRUE(keepalive.chunked);
  ASSERT_EQ(keepalive.Lines().size(), 2u) << keepalive.body;
  for (const std::string& line : keepalive.Lines()) {
    EXPECT_TRUE(
        RE2::FullMatch(line, R"re(\{"result":\{"header":\{.*\},"ID":"1234","TTL":"60"\}\})re"))
        << line;
  }

  HttpResult leases = Post("/v3/lease/leases", "{}");
  EXPECT_THAT(leases.body, HasSubstr(R"("leases":[{"ID":"1234"}])"));

  EXPECT_EQ(Post("/v3/lease/revoke", R"({"ID":"1234"})").status, 200);
  HttpResult again = Post("/v3/lease/revoke", R"({"ID":"1234"})");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.body, R"({"error":"etcdserver: requested lease not found",)"
                        R"("message":"etcdserver: requested lease not found","code":5})");
  // A keepalive of a lease that is gone answers TTL 0 (omitted in JSON).
  HttpResult gone = Post("/v3/lease/keepalive", R"({"ID":"1234"})");
  ASSERT_EQ(gone.Lines().size(), 1u) << gone.body;
  EXPECT_THAT(gone.Lines()[0], HasSubstr(R"("ID":"1234"}})"));
}

TEST_F(GatewayTest, WatchStream) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpStream> watch,
                       HttpStream::Post(member_->endpoint(), "/v3/watch",
                                        R"({"create_request":{"key":"Zm9v"}})"
                                        "\n"
                                        R"({"create_request":{"key":"YQ==","watch_id":"7"}})"));
  ASSERT_TRUE(watch->WaitFor("\"created\":true", absl::Seconds(15), 2)) << watch->Current().body;
  EXPECT_EQ(watch->Current().status, 200);
  EXPECT_TRUE(watch->Current().chunked);

  // The watch outlives the request body: events keep coming.
  ASSERT_EQ(Post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})").status, 200);
  ASSERT_EQ(Post("/v3/kv/put", R"({"key":"YQ==","value":"Yg=="})").status, 200);
  ASSERT_TRUE(watch->WaitFor("\"events\"", absl::Seconds(15), 2)) << watch->Current().body;
  std::vector<std::string> lines = watch->Current().Lines();
  ASSERT_EQ(lines.size(), 4u) << watch->Current().body;
  EXPECT_THAT(lines[1], HasSubstr(R"("watch_id":"7","created":true)"));
  EXPECT_THAT(lines[2], HasSubstr(R"("events":[{"kv":{"key":"Zm9v","create_revision":"2",)"
                                  R"("mod_revision":"2","version":"1","value":"YmFy"}}]}})"));
  EXPECT_THAT(lines[3], HasSubstr(R"("watch_id":"7","events":[{"kv":{"key":"YQ==")"));
  EXPECT_FALSE(watch->ended());
  watch->Close();

  // A stream the client drops does not stop the member from serving others.
  EXPECT_EQ(Post("/v3/kv/range", R"({"key":"Zm9v"})").status, 200);
}

// The member's thread count (each open HTTP connection holds one).
int Threads(pid_t pid) {
  absl::StatusOr<std::string> status = testutil::ReadFile(absl::StrCat("/proc/", pid, "/status"));
  int threads = -1;
  if (status.ok()) RE2::PartialMatch(*status, R"re(Threads:\s+(\d+))re", &threads);
  return threads;
}

TEST_F(GatewayTest, WatchEndsWhenClientGoesAway) {
  const pid_t pid = member_->process()->pid();
  const int before = Threads(pid);
  ASSERT_GT(before, 0);
  constexpr int kWatches = 20;
  std::vector<std::unique_ptr<HttpStream>> watches;
  for (int i = 0; i < kWatches; ++i) {
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<HttpStream> watch,
        HttpStream::Post(member_->endpoint(), "/v3/watch", R"({"create_request":{"key":"Zm9v"}})"));
    ASSERT_TRUE(watch->WaitFor("\"created\":true", absl::Seconds(15)));
    watches.push_back(std::move(watch));
  }
  EXPECT_GE(Threads(pid), before + kWatches);
  watches.clear();  // the clients disconnect
  // Each stream's thread ends; gRPC's own pool may have grown a little.
  EXPECT_TRUE(testutil::WaitUntil([&] { return Threads(pid) <= before + 6; }, absl::Seconds(30),
                                  absl::Milliseconds(50)))
      << "threads before: " << before << ", now: " << Threads(pid);
  EXPECT_EQ(Post("/v3/kv/range", R"({"key":"Zm9v"})").status, 200);
}

TEST_F(GatewayTest, StopEndsOpenStreams) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<HttpStream> watch,
      HttpStream::Post(member_->endpoint(), "/v3/watch", R"({"create_request":{"key":"Zm9v"}})"));
  ASSERT_TRUE(watch->WaitFor("\"created\":true", absl::Seconds(15)));
  // SIGTERM: the member stops on its own (a stuck stream would make Stop
  // fall back to SIGKILL after the grace period), ending the response.
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus exit, member_->Stop(absl::Seconds(20)));
  EXPECT_EQ(exit.signal, SIGTERM) << exit.ToString();
  EXPECT_FALSE(watch->WaitFor("never", absl::Seconds(15)));
  EXPECT_TRUE(watch->ended());
}

TEST_F(GatewayTest, Maintenance) {
  HttpResult status = Post("/v3/maintenance/status", "{}");
  EXPECT_EQ(status.status, 200);
  EXPECT_THAT(status.body, HasSubstr(R"("version":")"));
  EXPECT_EQ(Field(status.body, "leader"), Field(status.body, "member_id"));

  HttpResult members = Post("/v3/cluster/member/list", "{}");
  EXPECT_EQ(members.status, 200);
  EXPECT_THAT(members.body, HasSubstr(R"("name":"m1","peerURLs":["http://127.0.0.1:)"));

  HttpResult snapshot = Post("/v3/maintenance/snapshot", "{}");
  EXPECT_EQ(snapshot.status, 200);
  ASSERT_FALSE(snapshot.Lines().empty());
  for (const std::string& line : snapshot.Lines()) {
    EXPECT_TRUE(absl::StartsWith(line, R"({"result":{)")) << line.substr(0, 100);
    EXPECT_THAT(line, HasSubstr(R"("blob":")"));
  }
}

TEST_F(GatewayTest, AuthToken) {
  ASSERT_EQ(Post("/v3/auth/user/add", R"({"name":"root","password":"pw"})").status, 200);
  ASSERT_EQ(Post("/v3/auth/user/grant", R"({"user":"root","role":"root"})").status, 200);
  ASSERT_EQ(Post("/v3/auth/enable", "{}").status, 200);

  HttpResult anonymous = Post("/v3/kv/range", R"({"key":"Zm9v"})");
  EXPECT_EQ(anonymous.status, 400);
  EXPECT_THAT(anonymous.body, HasSubstr("etcdserver: user name is empty"));

  HttpResult wrong = Post("/v3/auth/authenticate", R"({"name":"root","password":"x"})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_THAT(wrong.body, HasSubstr("authentication failed, invalid user ID or password"));

  HttpResult auth = Post("/v3/auth/authenticate", R"({"name":"root","password":"pw"})");
  ASSERT_EQ(auth.status, 200);
  std::string token = Field(auth.body, "token");
  ASSERT_FALSE(token.empty()) << auth.body;

  HttpResult put =
      Post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})", {{"Authorization", token}});
  EXPECT_EQ(put.status, 200) << put.body;
  HttpResult bad = Post("/v3/kv/range", R"({"key":"Zm9v"})", {{"Authorization", "nonsense"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body, R"({"error":"etcdserver: invalid auth token",)"
                      R"("message":"etcdserver: invalid auth token","code":16})");
  HttpResult ctl = Post("/v3/kv/range", R"({"key":"Zm9v"})",
                        {{"Authorization",
                          "a\x01"
                          "b"}});
  EXPECT_EQ(ctl.status, 400);

  // A stream that fails before its first message: the HTTP status of the
  // gRPC code and grpc-gateway's stream error object.
  HttpResult snapshot = Post("/v3/maintenance/snapshot", "{}", {{"Authorization", "nonsense"}});
  EXPECT_EQ(snapshot.status, 401);
  EXPECT_TRUE(snapshot.chunked);
  EXPECT_EQ(snapshot.body,
            R"({"error":{"grpc_code":16,"http_code":401,)"
            R"("message":"etcdserver: invalid auth token","http_status":"Unauthorized"}})");

  EXPECT_EQ(Post("/v3/auth/disable", "{}", {{"Authorization", token}}).status, 200);
  EXPECT_EQ(Post("/v3/kv/range", R"({"key":"Zm9v"})").status, 200);
}

TEST_F(GatewayTest, Errors) {
  HttpResult bad_json = Post("/v3/kv/put", "{bad");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Header("content-type"), "application/json");
  EXPECT_TRUE(RE2::FullMatch(bad_json.body, R"re(\{"error":".+","message":".+","code":3\})re"))
      << bad_json.body;

  HttpResult bad_field = Post("/v3/kv/range", R"({"key":"Zm9v","revision":"x"})");
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_THAT(bad_field.body, HasSubstr("\"code\":3}"));

  HttpResult empty = Post("/v3/kv/range", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body, R"({"error":"etcdserver: key is not provided",)"
                        R"("message":"etcdserver: key is not provided","code":3})");

  HttpResult unknown = Post("/v3/kv/nosuch", "{}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, "Not Found\n");

  HttpResult get = HttpRequest(member_->endpoint(), "GET", "/v3/kv/range", "");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.body, "Method Not Allowed\n");

  HttpResult options = HttpRequest(member_->endpoint(), "OPTIONS", "/v3/kv/range", "");
  EXPECT_EQ(options.status, 200);
  EXPECT_EQ(options.Header("access-control-allow-origin"), "*");

  // The member still serves gRPC and the other HTTP endpoints.
  EXPECT_EQ(HttpRequest(member_->endpoint(), "GET", "/health", "").status, 200);
  CtlResult ctl = RunEtcdctl(member_->endpoint(), {"put", "k", "v"});
  EXPECT_EQ(ctl.out, "OK\n") << ctl.err;
}

class GatewayDisabledTest : public GatewayTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--enable-grpc-gateway=false"}; }
};

TEST_F(GatewayDisabledTest, NotServed) {
  HttpResult put = Post("/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  EXPECT_EQ(put.status, 404);
  EXPECT_EQ(put.body, "404 page not found\n");
}

}  // namespace
}  // namespace etcd::e2e
