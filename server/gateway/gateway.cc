#include "server/gateway/gateway.h"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "api/etcdserverpb/rpc.pb.h"
#include "api/v3electionpb/v3election.pb.h"
#include "api/v3lockpb/v3lock.pb.h"

namespace etcd::gateway {
namespace {

using Kind = Route::Kind;

template <typename Req, typename Resp>
Route R(const char* path, const char* method, Kind kind = Kind::kUnary, int replies = 0) {
  return Route{path, method, kind, replies, &Req::default_instance(), &Resp::default_instance()};
}

std::vector<Route> BuildRoutes() {
  namespace pb = etcdserverpb;
  namespace lockpb = v3lockpb;
  namespace electionpb = v3electionpb;
  return {
      R<pb::RangeRequest, pb::RangeResponse>("/v3/kv/range", "/etcdserverpb.KV/Range"),
      R<pb::PutRequest, pb::PutResponse>("/v3/kv/put", "/etcdserverpb.KV/Put"),
      R<pb::DeleteRangeRequest, pb::DeleteRangeResponse>("/v3/kv/deleterange",
                                                         "/etcdserverpb.KV/DeleteRange"),
      R<pb::TxnRequest, pb::TxnResponse>("/v3/kv/txn", "/etcdserverpb.KV/Txn"),
      R<pb::CompactionRequest, pb::CompactionResponse>("/v3/kv/compaction",
                                                       "/etcdserverpb.KV/Compact"),
      R<pb::WatchRequest, pb::WatchResponse>("/v3/watch", "/etcdserverpb.Watch/Watch",
                                             Kind::kBidiStream, 0),
      R<pb::LeaseGrantRequest, pb::LeaseGrantResponse>("/v3/lease/grant",
                                                       "/etcdserverpb.Lease/LeaseGrant"),
      R<pb::LeaseRevokeRequest, pb::LeaseRevokeResponse>("/v3/lease/revoke",
                                                         "/etcdserverpb.Lease/LeaseRevoke"),
      R<pb::LeaseRevokeRequest, pb::LeaseRevokeResponse>("/v3/kv/lease/revoke",
                                                         "/etcdserverpb.Lease/LeaseRevoke"),
      R<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>(
          "/v3/lease/keepalive", "/etcdserverpb.Lease/LeaseKeepAlive", Kind::kBidiStream, 1),
      R<pb::LeaseTimeToLiveRequest, pb::LeaseTimeToLiveResponse>(
          "/v3/lease/timetolive", "/etcdserverpb.Lease/LeaseTimeToLive"),
      R<pb::LeaseTimeToLiveRequest, pb::LeaseTimeToLiveResponse>(
          "/v3/kv/lease/timetolive", "/etcdserverpb.Lease/LeaseTimeToLive"),
      R<pb::LeaseLeasesRequest, pb::LeaseLeasesResponse>("/v3/lease/leases",
                                                         "/etcdserverpb.Lease/LeaseLeases"),
      R<pb::LeaseLeasesRequest, pb::LeaseLeasesResponse>("/v3/kv/lease/leases",
                                                         "/etcdserverpb.Lease/LeaseLeases"),
      R<pb::MemberAddRequest, pb::MemberAddResponse>("/v3/cluster/member/add",
                                                     "/etcdserverpb.Cluster/MemberAdd"),
      R<pb::MemberRemoveRequest, pb::MemberRemoveResponse>("/v3/cluster/member/remove",
                                                           "/etcdserverpb.Cluster/MemberRemove"),
      R<pb::MemberUpdateRequest, pb::MemberUpdateResponse>("/v3/cluster/member/update",
                                                           "/etcdserverpb.Cluster/MemberUpdate"),
      R<pb::MemberListRequest, pb::MemberListResponse>("/v3/cluster/member/list",
                                                       "/etcdserverpb.Cluster/MemberList"),
      R<pb::MemberPromoteRequest, pb::MemberPromoteResponse>("/v3/cluster/member/promote",
                                                             "/etcdserverpb.Cluster/MemberPromote"),
      R<pb::AlarmRequest, pb::AlarmResponse>("/v3/maintenance/alarm",
                                             "/etcdserverpb.Maintenance/Alarm"),
      R<pb::StatusRequest, pb::StatusResponse>("/v3/maintenance/status",
                                               "/etcdserverpb.Maintenance/Status"),
      R<pb::DefragmentRequest, pb::DefragmentResponse>("/v3/maintenance/defragment",
                                                       "/etcdserverpb.Maintenance/Defragment"),
      // Hash and HashKV share a path in rpc.proto; etcd 3.4's gateway serves
      // Hash there (the first registered wins).
      R<pb::HashRequest, pb::HashResponse>("/v3/maintenance/hash",
                                           "/etcdserverpb.Maintenance/Hash"),
      R<pb::SnapshotRequest, pb::SnapshotResponse>(
          "/v3/maintenance/snapshot", "/etcdserverpb.Maintenance/Snapshot", Kind::kServerStream),
      R<pb::MoveLeaderRequest, pb::MoveLeaderResponse>("/v3/maintenance/transfer-leadership",
                                                       "/etcdserverpb.Maintenance/MoveLeader"),
      R<pb::AuthEnableRequest, pb::AuthEnableResponse>("/v3/auth/enable",
                                                       "/etcdserverpb.Auth/AuthEnable"),
      R<pb::AuthDisableRequest, pb::AuthDisableResponse>("/v3/auth/disable",
                                                         "/etcdserverpb.Auth/AuthDisable"),
      R<pb::AuthenticateRequest, pb::AuthenticateResponse>("/v3/auth/authenticate",
                                                           "/etcdserverpb.Auth/Authenticate"),
      R<pb::AuthUserAddRequest, pb::AuthUserAddResponse>("/v3/auth/user/add",
                                                         "/etcdserverpb.Auth/UserAdd"),
      R<pb::AuthUserGetRequest, pb::AuthUserGetResponse>("/v3/auth/user/get",
                                                         "/etcdserverpb.Auth/UserGet"),
      R<pb::AuthUserListRequest, pb::AuthUserListResponse>("/v3/auth/user/list",
                                                           "/etcdserverpb.Auth/UserList"),
      R<pb::AuthUserDeleteRequest, pb::AuthUserDeleteResponse>("/v3/auth/user/delete",
                                                               "/etcdserverpb.Auth/UserDelete"),
      R<pb::AuthUserChangePasswordRequest, pb::AuthUserChangePasswordResponse>(
          "/v3/auth/user/changepw", "/etcdserverpb.Auth/UserChangePassword"),
      R<pb::AuthUserGrantRoleRequest, pb::AuthUserGrantRoleResponse>(
          "/v3/auth/user/grant", "/etcdserverpb.Auth/UserGrantRole"),
      R<pb::AuthUserRevokeRoleRequest, pb::AuthUserRevokeRoleResponse>(
          "/v3/auth/user/revoke", "/etcdserverpb.Auth/UserRevokeRole"),
      R<pb::AuthRoleAddRequest, pb::AuthRoleAddResponse>("/v3/auth/role/add",
                                                         "/etcdserverpb.Auth/RoleAdd"),
      R<pb::AuthRoleGetRequest, pb::AuthRoleGetResponse>("/v3/auth/role/get",
                                                         "/etcdserverpb.Auth/RoleGet"),
      R<pb::AuthRoleListRequest, pb::AuthRoleListResponse>("/v3/auth/role/list",
                                                           "/etcdserverpb.Auth/RoleList"),
      R<pb::AuthRoleDeleteRequest, pb::AuthRoleDeleteResponse>("/v3/auth/role/delete",
                                                               "/etcdserverpb.Auth/RoleDelete"),
      R<pb::AuthRoleGrantPermissionRequest, pb::AuthRoleGrantPermissionResponse>(
          "/v3/auth/role/grant", "/etcdserverpb.Auth/RoleGrantPermission"),
      R<pb::AuthRoleRevokePermissionRequest, pb::AuthRoleRevokePermissionResponse>(
          "/v3/auth/role/revoke", "/etcdserverpb.Auth/RoleRevokePermission"),
      R<lockpb::LockRequest, lockpb::LockResponse>("/v3/lock/lock", "/v3lockpb.Lock/Lock"),
      R<lockpb::UnlockRequest, lockpb::UnlockResponse>("/v3/lock/unlock", "/v3lockpb.Lock/Unlock"),
      R<electionpb::CampaignRequest, electionpb::CampaignResponse>(
          "/v3/election/campaign", "/v3electionpb.Election/Campaign"),
      R<electionpb::ProclaimRequest, electionpb::ProclaimResponse>(
          "/v3/election/proclaim", "/v3electionpb.Election/Proclaim"),
      R<electionpb::LeaderRequest, electionpb::LeaderResponse>("/v3/election/leader",
                                                               "/v3electionpb.Election/Leader"),
      R<electionpb::LeaderRequest, electionpb::LeaderResponse>(
          "/v3/election/observe", "/v3electionpb.Election/Observe", Kind::kServerStream),
      R<electionpb::ResignRequest, electionpb::ResignResponse>("/v3/election/resign",
                                                               "/v3electionpb.Election/Resign"),
  };
}

// CORS headers etcd puts on every client HTTP response (its default
// --cors is "*").
void AddCorsHeaders(http::Response* response) {
  response->headers.emplace_back("Access-Control-Allow-Headers",
                                 "accept, content-type, authorization");
  response->headers.emplace_back("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE");
  response->headers.emplace_back("Access-Control-Allow-Origin", "*");
}

http::Response TextError(int status) {
  http::Response response = http::Response::Error(status, http::StatusText(status));
  AddCorsHeaders(&response);
  return response;
}

http::Response JsonResponse(int status, std::string body) {
  http::Response response = http::Response::Json(status, std::move(body));
  AddCorsHeaders(&response);
  return response;
}

http::Response GrpcError(int code, absl::string_view message) {
  return JsonResponse(HttpStatusFromGrpcCode(code), ErrorBody(code, message));
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// Metadata values gRPC accepts (printable ASCII).
bool ValidMetadataValue(absl::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Runs one call on its own completion queue, one operation at a time, and
// cancels it when the HTTP client goes away.
class CallDriver {
 public:
  CallDriver(grpc::ClientContext* context, http::ResponseWriter* writer)
      : context_(context), writer_(writer) {}
  ~CallDriver() {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  grpc::CompletionQueue* cq() { return &cq_; }
  bool cancelled() const { return cancelled_; }

  // Waits for the one outstanding operation; returns its ok.
  bool Await() {
    while (true) {
      void* tag = nullptr;
      bool ok = false;
      auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(200);
      switch (cq_.AsyncNext(&tag, &ok, deadline)) {
        case grpc::CompletionQueue::GOT_EVENT:
          return ok;
        case grpc::CompletionQueue::SHUTDOWN:
          return false;
        case grpc::CompletionQueue::TIMEOUT:
          if (!cancelled_ && writer_->WaitClosed(absl::ZeroDuration())) {
            cancelled_ = true;
            context_->TryCancel();
          }
          break;
      }
    }
  }

 private:
  grpc::ClientContext* const context_;
  http::ResponseWriter* const writer_;
  grpc::CompletionQueue cq_;
  bool cancelled_ = false;
};

// The serialized requests to send. Like grpc-gateway, a unary or
// server-streaming call reads the first JSON value of the body (an empty body
// is the empty request); a bidi stream sends every object up to the first one
// that does not parse.
absl::StatusOr<std::vector<std::string>> EncodeRequests(const Route& route,
                                                        absl::string_view body) {
  std::vector<std::string> requests;
  bool rest_ok = true;
  std::vector<std::string> objects = SplitJsonObjects(body, &rest_ok);
  if (route.kind == Route::Kind::kBidiStream) {
    for (const std::string& object : objects) {
      absl::StatusOr<std::string> binary = JsonToBinary(*route.request, object);
      if (!binary.ok()) break;
      requests.push_back(*std::move(binary));
    }
    return requests;
  }
  std::string first;
  if (!objects.empty()) {
    first = objects[0];
  } else if (!rest_ok) {
    first = std::string(body);  // not an object: let the parser name the problem
  }
  absl::StatusOr<std::string> binary = JsonToBinary(*route.request, first);
  if (!binary.ok()) return binary.status();
  requests.push_back(*std::move(binary));
  return requests;
}

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route>* const routes = new std::vector<Route>(BuildRoutes());
  return *routes;
}

const Route* FindRoute(absl::string_view path) {
  std::string rewritten;
  if (absl::StartsWith(path, "/v3beta/")) {
    rewritten = absl::StrCat("/v3/", path.substr(8));
    path = rewritten;
  }
  for (const Route& route : Routes()) {
    if (path == route.path) return &route;
  }
  return nullptr;
}

int HttpStatusFromGrpcCode(int code) {
  switch (code) {
    case 0:  // OK
      return 200;
    case 1:  // Canceled
      return 408;
    case 2:  // Unknown
      return 500;
    case 3:  // InvalidArgument
      return 400;
    case 4:  // DeadlineExceeded
      return 504;
    case 5:  // NotFound
      return 404;
    case 6:  // AlreadyExists
      return 409;
    case 7:  // PermissionDenied
      return 403;
    case 8:  // ResourceExhausted
      return 429;
    case 9:  // FailedPrecondition
      return 412;
    case 10:  // Aborted
      return 409;
    case 11:  // OutOfRange
      return 400;
    case 12:  // Unimplemented
      return 501;
    case 13:  // Internal
      return 500;
    case 14:  // Unavailable
      return 503;
    case 15:  // DataLoss
      return 500;
    case 16:  // Unauthenticated
      return 401;
    default:
      return 500;
  }
}

std::string ErrorBody(int grpc_code, absl::string_view message) {
  std::string quoted = http::JsonQuote(message);
  return absl::StrCat("{\"error\":", quoted, ",\"message\":", quoted, ",\"code\":", grpc_code, "}");
}

std::string StreamErrorBody(int grpc_code, absl::string_view message) {
  int http_code = HttpStatusFromGrpcCode(grpc_code);
  return absl::StrCat("{\"error\":{\"grpc_code\":", grpc_code, ",\"http_code\":", http_code,
                      ",\"message\":", http::JsonQuote(message),
                      ",\"http_status\":", http::JsonQuote(http::StatusText(http_code)), "}}");
}

std::vector<std::string> SplitJsonObjects(absl::string_view body, bool* rest_ok) {
  std::vector<std::string> objects;
  size_t i = 0;
  while (true) {
    while (i < body.size() && absl::ascii_isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i == body.size()) {
      *rest_ok = true;
      return objects;
    }
    if (body[i] != '{') break;
    size_t start = i;
    int depth = 0;
    bool in_string = false;
    bool complete = false;
    for (; i < body.size(); ++i) {
      char c = body[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          complete = true;
          break;
        }
      }
    }
    if (!complete) break;
    objects.emplace_back(body.substr(start, i - start));
  }
  *rest_ok = false;
  return objects;
}

absl::StatusOr<std::string> JsonToBinary(const google::protobuf::Message& prototype,
                                         absl::string_view json) {
  std::unique_ptr<google::protobuf::Message> message(prototype.New());
  if (!absl::StripAsciiWhitespace(json).empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), message.get(), options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(std::string(status.message()));
    }
    // Unknown JSON keys are ignored, but protobuf's parser can still leave
    // bytes in the unknown-field set (an empty key "" became a field 1 of
    // the wrong wire type, found by gateway_fuzz): never pass them on.
    message->DiscardUnknownFields();
  }
  return message->SerializeAsString();
}

absl::StatusOr<std::string> BinaryToJson(const google::protobuf::Message& prototype,
                                         absl::string_view binary) {
  std::unique_ptr<google::protobuf::Message> message(prototype.New());
  if (!message->ParseFromArray(binary.data(), static_cast<int>(binary.size()))) {
    return absl::InternalError(
        absl::StrCat("cannot parse a ", prototype.GetTypeName(), " from the gRPC server"));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(*message, &json, options);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return json;
}

Gateway::Gateway(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

Gateway::~Gateway() = default;

void Gateway::Install(http::Mux* mux) const {
  auto handler = [this](const http::Request& request, http::ResponseWriter* writer) {
    return Serve(request, writer);
  };
  mux->HandlePrefix("/v3/", handler);
  mux->HandlePrefix("/v3beta/", handler);
}

std::optional<http::Response> Gateway::Serve(const http::Request& request,
                                             http::ResponseWriter* writer) const {
  if (request.method == "OPTIONS") {
    http::Response response;
    AddCorsHeaders(&response);
    return response;
  }
  const Route* route = FindRoute(request.path);
  if (route == nullptr) return TextError(404);
  if (request.method != "POST") return TextError(405);
  return Call(*route, request, writer);
}

std::optional<http::Response> Gateway::Call(const Route& route, const http::Request& request,
                                            http::ResponseWriter* writer) const {
  absl::StatusOr<std::vector<std::string>> requests = EncodeRequests(route, request.body);
  if (!requests.ok()) return GrpcError(3, requests.status().message());
  grpc::ClientContext context;
  std::string token = request.Header("authorization");
  if (!token.empty()) {
    if (!ValidMetadataValue(token)) {
      return GrpcError(3, "invalid characters in the Authorization header");
    }
    context.AddMetadata("authorization", token);
  }

  absl::Status status_override;  // a reply that did not parse
  CallDriver driver(&context, writer);
  grpc::GenericStub stub(channel_);
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, route.grpc_method, driver.cq());
  call->StartCall(nullptr);
  bool alive = driver.Await();
  for (size_t i = 0; alive && i < requests->size(); ++i) {
    call->Write(ToByteBuffer((*requests)[i]), nullptr);
    alive = driver.Await();
  }
  const bool bidi = route.kind == Kind::kBidiStream;
  bool writes_done = false;
  auto maybe_writes_done = [&](size_t replies) {
    if (writes_done || !alive) return;
    if (bidi && (route.replies_per_request == 0 ||
                 replies < requests->size() * static_cast<size_t>(route.replies_per_request))) {
      return;
    }
    call->WritesDone(nullptr);
    writes_done = true;
    alive = driver.Await();
  };
  maybe_writes_done(0);

  std::vector<std::string> unary_replies;
  size_t replies = 0;
  bool started = false;        // the chunked response has begun
  bool stream_broken = false;  // the HTTP client went away mid-stream
  auto emit = [&](const std::string& chunk) {
    if (!started) {
      started = true;
      if (!writer->StartChunked(JsonResponse(200, ""))) stream_broken = true;
    }
    if (!stream_broken && !writer->WriteChunk(chunk)) stream_broken = true;
  };
  while (alive) {
    grpc::ByteBuffer buffer;
    call->Read(&buffer, nullptr);
    if (!driver.Await()) break;
    ++replies;
    absl::StatusOr<std::string> json = BinaryToJson(*route.response, FromByteBuffer(buffer));
    if (!json.ok()) {
      context.TryCancel();
      if (route.kind == Kind::kUnary) {
        status_override = json.status();
      } else {
        emit(StreamErrorBody(13, json.status().message()));
        stream_broken = true;
      }
      break;
    }
    if (route.kind == Kind::kUnary) {
      unary_replies.push_back(*std::move(json));
    } else {
      emit(absl::StrCat("{\"result\":", *json, "}\n"));
      if (stream_broken) {
        context.TryCancel();
        break;
      }
    }
    maybe_writes_done(replies);
  }
  grpc::Status status;
  call->Finish(&status, nullptr);
  driver.Await();

  if (route.kind == Kind::kUnary) {
    if (!status_override.ok()) return GrpcError(13, status_override.message());
    if (!status.ok()) return GrpcError(status.error_code(), status.error_message());
    if (unary_replies.size() != 1) {
      return GrpcError(13, "the gRPC server did not answer with exactly one message");
    }
    return JsonResponse(200, std::move(unary_replies[0]));
  }
  if (stream_broken || driver.cancelled()) {
    if (!started) writer->StartChunked(JsonResponse(200, ""));
    return std::nullopt;
  }
  if (!started) {
    int code = status.ok() ? 200 : HttpStatusFromGrpcCode(status.error_code());
    writer->StartChunked(JsonResponse(code, ""));
  }
  if (!status.ok()) {
    writer->WriteChunk(StreamErrorBody(status.error_code(), status.error_message()));
  }
  return std::nullopt;
}

}  // namespace etcd::gateway
