#include "server/gateway/gateway.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "api/etcdserverpb/rpc.pb.h"
#include "api/v3lockpb/v3lock.grpc.pb.h"

namespace etcd::gateway {
namespace {

TEST(RoutesTest, EtcdPaths) {
  const Route* range = FindRoute("/v3/kv/range");
  ASSERT_NE(range, nullptr);
  EXPECT_STREQ(range->grpc_method, "/etcdserverpb.KV/Range");
  EXPECT_EQ(range->kind, Route::Kind::kUnary);
  EXPECT_EQ(range->request->GetTypeName(), "etcdserverpb.RangeRequest");
  EXPECT_EQ(range->response->GetTypeName(), "etcdserverpb.RangeResponse");

  EXPECT_EQ(FindRoute("/v3beta/kv/range"), range);
  EXPECT_EQ(FindRoute("/v3/kv/lease/revoke")->grpc_method,
            std::string("/etcdserverpb.Lease/LeaseRevoke"));
  EXPECT_EQ(FindRoute("/v3/maintenance/hash")->grpc_method,
            std::string("/etcdserverpb.Maintenance/Hash"));
  EXPECT_EQ(FindRoute("/v3/watch")->kind, Route::Kind::kBidiStream);
  EXPECT_EQ(FindRoute("/v3/watch")->replies_per_request, 0);
  EXPECT_EQ(FindRoute("/v3/lease/keepalive")->replies_per_request, 1);
  EXPECT_EQ(FindRoute("/v3/maintenance/snapshot")->kind, Route::Kind::kServerStream);
  EXPECT_EQ(FindRoute("/v3/election/observe")->kind, Route::Kind::kServerStream);
  EXPECT_STREQ(FindRoute("/v3/lock/lock")->grpc_method, "/v3lockpb.Lock/Lock");
  EXPECT_STREQ(FindRoute("/v3/election/campaign")->grpc_method, "/v3electionpb.Election/Campaign");

  EXPECT_EQ(FindRoute("/v3/kv/range/"), nullptr);
  EXPECT_EQ(FindRoute("/v3/nosuch"), nullptr);
  EXPECT_EQ(FindRoute("/v2/keys"), nullptr);
  EXPECT_EQ(FindRoute("/v3beta"), nullptr);
}

TEST(RoutesTest, PathsAreUniqueAndMessagesMatchMethods) {
  std::set<std::string> paths;
  for (const Route& route : Routes()) {
    EXPECT_TRUE(paths.insert(route.path).second) << route.path;
    // "/etcdserverpb.KV/Range" takes an etcdserverpb.RangeRequest (or a
    // named exception).
    std::string method = route.grpc_method;
    std::string package = method.substr(1, method.find('.') - 1);
    EXPECT_EQ(route.request->GetDescriptor()->file()->package(), package) << route.path;
    EXPECT_EQ(route.response->GetDescriptor()->file()->package(), package) << route.path;
  }
  // 5 KV + Watch + 5 Lease (+3 aliases) + 5 Cluster + 6 Maintenance (Hash,
  // not HashKV) + 16 Auth + 2 Lock + 5 Election.
  EXPECT_EQ(Routes().size(), 5u + 1 + 5 + 3 + 5 + 6 + 16 + 2 + 5);
}

TEST(ErrorsTest, HttpStatusFromGrpcCode) {
  EXPECT_EQ(HttpStatusFromGrpcCode(0), 200);
  EXPECT_EQ(HttpStatusFromGrpcCode(1), 408);
  EXPECT_EQ(HttpStatusFromGrpcCode(3), 400);
  EXPECT_EQ(HttpStatusFromGrpcCode(4), 504);
  EXPECT_EQ(HttpStatusFromGrpcCode(5), 404);
  EXPECT_EQ(HttpStatusFromGrpcCode(7), 403);
  EXPECT_EQ(HttpStatusFromGrpcCode(8), 429);
  EXPECT_EQ(HttpStatusFromGrpcCode(9), 412);
  EXPECT_EQ(HttpStatusFromGrpcCode(11), 400);
  EXPECT_EQ(HttpStatusFromGrpcCode(12), 501);
  EXPECT_EQ(HttpStatusFromGrpcCode(14), 503);
  EXPECT_EQ(HttpStatusFromGrpcCode(16), 401);
  EXPECT_EQ(HttpStatusFromGrpcCode(99), 500);
}

TEST(ErrorsTest, Bodies) {
  EXPECT_EQ(ErrorBody(3, "etcdserver: key is not provided"),
            "{\"error\":\"etcdserver: key is not provided\",\"message\":\"etcdserver: key is not "
            "provided\",\"code\":3}");
  EXPECT_EQ(ErrorBody(2, "a\"b\\c\n<&>"),
            "{\"error\":\"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\",\"message\":\"a\\\"b\\\\c\\n"
            "\\u003c\\u0026\\u003e\",\"code\":2}");
  EXPECT_EQ(StreamErrorBody(11, "etcdserver: mvcc: required revision has been compacted"),
            "{\"error\":{\"grpc_code\":11,\"http_code\":400,\"message\":\"etcdserver: mvcc: "
            "required revision has been compacted\",\"http_status\":\"Bad Request\"}}");
}

TEST(SplitJsonObjectsTest, Objects) {
  bool rest_ok = false;
  EXPECT_EQ(SplitJsonObjects("", &rest_ok), std::vector<std::string>{});
  EXPECT_TRUE(rest_ok);
  EXPECT_EQ(SplitJsonObjects(" {\"a\":{\"b\":[1,{}]}}\n{\"c\":\"}{\\\"\"}  ", &rest_ok),
            (std::vector<std::string>{"{\"a\":{\"b\":[1,{}]}}", "{\"c\":\"}{\\\"\"}"}));
  EXPECT_TRUE(rest_ok);
  EXPECT_EQ(SplitJsonObjects("{\"a\":1} {bad", &rest_ok), std::vector<std::string>{"{\"a\":1}"});
  EXPECT_FALSE(rest_ok);
  EXPECT_EQ(SplitJsonObjects("[1]", &rest_ok), std::vector<std::string>{});
  EXPECT_FALSE(rest_ok);
}

TEST(JsonTest, RequestMapping) {
  const etcdserverpb::RangeRequest& prototype = etcdserverpb::RangeRequest::default_instance();
  // Proto names and JSON names, int64 as string or number, enums by name or
  // number, unknown fields ignored.
  absl::StatusOr<std::string> binary = JsonToBinary(
      prototype,
      "{\"key\":\"Zm9v\",\"range_end\":\"Zm9w\",\"countOnly\":true,\"revision\":\"7\","
      "\"limit\":3,\"sort_order\":\"DESCEND\",\"sort_target\":2,\"nosuch\":{\"x\":1}}");
  ASSERT_TRUE(binary.ok()) << binary.status();
  etcdserverpb::RangeRequest request;
  ASSERT_TRUE(request.ParseFromString(*binary));
  EXPECT_EQ(request.key(), "foo");
  EXPECT_EQ(request.range_end(), "fop");
  EXPECT_TRUE(request.count_only());
  EXPECT_EQ(request.revision(), 7);
  EXPECT_EQ(request.limit(), 3);
  EXPECT_EQ(request.sort_order(), etcdserverpb::RangeRequest::DESCEND);
  EXPECT_EQ(request.sort_target(), etcdserverpb::RangeRequest::CREATE);

  binary = JsonToBinary(prototype, "  ");
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(*binary, "");

  for (const char* bad : {"{bad", "{\"key\":\"not base64!\"}", "[1]", "{\"revision\":\"x\"}"}) {
    absl::StatusOr<std::string> r = JsonToBinary(prototype, bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(r.status().message().empty()) << bad;
  }
}

TEST(JsonTest, ResponseMapping) {
  etcdserverpb::RangeResponse response;
  response.mutable_header()->set_cluster_id(15118495548433857066ull);
  response.mutable_header()->set_revision(2);
  auto* kv = response.add_kvs();
  kv->set_key("foo");
  kv->set_value("bar");
  kv->set_create_revision(2);
  kv->set_mod_revision(2);
  kv->set_version(1);
  response.set_count(1);
  absl::StatusOr<std::string> json =
      BinaryToJson(etcdserverpb::RangeResponse::default_instance(), response.SerializeAsString());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            "{\"header\":{\"cluster_id\":\"15118495548433857066\",\"revision\":\"2\"},"
            "\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
            "\"version\":\"1\",\"value\":\"YmFy\"}],\"count\":\"1\"}");

  etcdserverpb::StatusResponse status;
  status.set_version("3.4.23");
  status.set_dbsize(20480);
  json = BinaryToJson(etcdserverpb::StatusResponse::default_instance(), status.SerializeAsString());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, "{\"version\":\"3.4.23\",\"dbSize\":\"20480\"}");

  EXPECT_FALSE(BinaryToJson(etcdserverpb::RangeResponse::default_instance(), "\xff\xff").ok());
}

// Captures what a streaming handler writes.
class FakeWriter : public http::ResponseWriter {
 public:
  bool StartChunked(const http::Response& head) override {
    started = true;
    status = head.status;
    return true;
  }
  bool WriteChunk(absl::string_view data) override {
    body.append(data.data(), data.size());
    return true;
  }
  bool WaitClosed(absl::Duration) override { return false; }

  bool started = false;
  int status = 0;
  std::string body;
};

http::Request Post(std::string path, std::string body) {
  http::Request request;
  request.method = "POST";
  request.path = std::move(path);
  request.body = std::move(body);
  return request;
}

TEST(GatewayTest, RoutingErrorsNeedNoServer) {
  Gateway gateway(nullptr);
  FakeWriter writer;
  std::optional<http::Response> r = gateway.Serve(Post("/v3/nosuch", "{}"), &writer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "Not Found\n");

  http::Request get = Post("/v3/kv/range", "");
  get.method = "GET";
  r = gateway.Serve(get, &writer);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->body, "Method Not Allowed\n");

  get.method = "OPTIONS";
  r = gateway.Serve(get, &writer);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  bool cors = false;
  for (const auto& [k, v] : r->headers) cors |= k == "Access-Control-Allow-Origin" && v == "*";
  EXPECT_TRUE(cors);

  r = gateway.Serve(Post("/v3/kv/put", "{\"key\": oops}"), &writer);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_NE(r->body.find("\"code\":3}"), std::string::npos) << r->body;
  EXPECT_FALSE(writer.started);
}

// A gRPC server whose Lock service implements nothing (the generated base
// class) answers Unimplemented, and so does an unregistered Election: what
// the gateway shows for them on a member without those services.
TEST(GatewayTest, GrpcErrorsMapToHttp) {
  v3lockpb::Lock::Service lock_service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&lock_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  Gateway gateway(server->InProcessChannel(grpc::ChannelArguments()));

  FakeWriter writer;
  std::optional<http::Response> r =
      gateway.Serve(Post("/v3/lock/lock", "{\"name\":\"bA==\"}"), &writer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 501);
  EXPECT_NE(r->body.find("\"code\":12}"), std::string::npos) << r->body;
  EXPECT_FALSE(writer.started);

  r = gateway.Serve(Post("/v3beta/election/observe", "{\"name\":\"bA==\"}"), &writer);
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(writer.started);
  EXPECT_EQ(writer.status, 501);
  EXPECT_NE(writer.body.find("{\"error\":{\"grpc_code\":12,\"http_code\":501,"), std::string::npos)
      << writer.body;
  server->Shutdown();
}

}  // namespace
}  // namespace etcd::gateway
