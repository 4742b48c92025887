// etcd's gRPC-JSON gateway: the v3 API as JSON over HTTP/1.1 on the client
// URLs, e.g.
//
//   POST /v3/kv/put  {"key":"Zm9v","value":"YmFy"}
//   -> 200 {"header":{"cluster_id":"...","member_id":"...","revision":"2","raft_term":"2"}}
//
// Each request becomes one gRPC call on a channel to the member's own gRPC
// server (in process), so authentication, quotas, limits and error mapping
// are exactly those of gRPC. Bodies use protobuf's JSON mapping with the
// proto field names (grpc-gateway's OrigName), 64-bit integers as strings,
// bytes as base64. Streaming calls (Watch, LeaseKeepAlive, Snapshot,
// Observe) answer with a chunked body, one {"result":{...}} line per
// message. See docs/api.md, "JSON gateway".
//
//   std::unique_ptr<etcd::gateway::Gateway> gateway =
//       std::make_unique<etcd::gateway::Gateway>(grpc_server->InProcessChannel());
//   gateway->Install(&mux);   // /v3/ and /v3beta/
//
// Thread-safe: calls from many connection threads run concurrently. The
// gateway must outlive the Mux it is installed on.

#ifndef ETCD_SERVER_GATEWAY_GATEWAY_H_
#define ETCD_SERVER_GATEWAY_GATEWAY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/http/http_server.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace grpc {
class Channel;
}  // namespace grpc

namespace etcd::gateway {

// One gateway path and the gRPC method behind it.
struct Route {
  enum class Kind {
    kUnary,         // one JSON request, one JSON response
    kServerStream,  // one JSON request, a chunked stream of results
    kBidiStream,    // any number of JSON requests, a chunked stream of results
  };
  const char* path;         // "/v3/kv/range"
  const char* grpc_method;  // "/etcdserverpb.KV/Range"
  Kind kind;
  // Bidi streams only: how many responses each request gets before the
  // gateway closes its sending side (LeaseKeepAlive: 1), or 0 to keep the
  // sending side open until the HTTP client goes away (Watch: a watch
  // outlives its requests).
  int replies_per_request;
  // Default instances of the message types (borrowed, static).
  const google::protobuf::Message* request;
  const google::protobuf::Message* response;
};

// Every route, in etcd's order.
const std::vector<Route>& Routes();

// The route for `path` ("/v3beta/..." is read as "/v3/..."), or nullptr.
const Route* FindRoute(absl::string_view path);

// grpc-gateway's HTTP status for a gRPC status code (e.g. 11 OutOfRange ->
// 400, 5 NotFound -> 404).
int HttpStatusFromGrpcCode(int code);

// The body of a failed unary call:
// {"error":"<message>","message":"<message>","code":<code>}.
std::string ErrorBody(int grpc_code, absl::string_view message);

// The last line of a stream that failed:
// {"error":{"grpc_code":..,"http_code":..,"message":"..","http_status":".."}}.
std::string StreamErrorBody(int grpc_code, absl::string_view message);

// Splits a request body into its top-level JSON objects ("{..} {..}").
// Stops at the first thing that is not a complete object and returns what
// came before it, with `*rest_ok` false if anything but whitespace remained.
std::vector<std::string> SplitJsonObjects(absl::string_view body, bool* rest_ok);

// JSON -> message of `prototype`'s type, serialized. Unknown fields are
// ignored; an empty (all-whitespace) `json` is the empty message.
// InvalidArgument names what is wrong.
absl::StatusOr<std::string> JsonToBinary(const google::protobuf::Message& prototype,
                                         absl::string_view json);

// Serialized message of `prototype`'s type -> JSON with proto field names.
absl::StatusOr<std::string> BinaryToJson(const google::protobuf::Message& prototype,
                                         absl::string_view binary);

class Gateway {
 public:
  // `channel` leads to the member's gRPC server; shared with the caller.
  explicit Gateway(std::shared_ptr<grpc::Channel> channel);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Routes "/v3/" and "/v3beta/" on `mux` to Serve. This gateway must
  // outlive `mux`'s use.
  void Install(http::Mux* mux) const;

  // Serves one HTTP request: a whole response, or nullopt after streaming
  // it through `writer`.
  std::optional<http::Response> Serve(const http::Request& request,
                                      http::ResponseWriter* writer) const;

 private:
  std::optional<http::Response> Call(const Route& route, const http::Request& request,
                                     http::ResponseWriter* writer) const;

  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace etcd::gateway

#endif  // ETCD_SERVER_GATEWAY_GATEWAY_H_
