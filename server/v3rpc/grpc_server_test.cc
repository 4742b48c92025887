// The services end to end in one process: a real EtcdServer on a temporary
// data dir, the GrpcServer serving one end of a socketpair, and etcd's
// generated gRPC client stubs on the other end.

#include "server/v3rpc/grpc_server.h"

#include <fcntl.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/etcdserver/etcdserver.h"

namespace etcd::v3rpc {
namespace {

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testutil::TempDir::Create("v3rpc"));
    etcdserver::ServerOptions options;
    options.data_dir = dir_.Join("data");
    options.unsafe_no_fsync = true;
    ASSERT_OK_AND_ASSIGN(server_, etcdserver::EtcdServer::Start(options));
    ASSERT_OK(server_->WaitLeader(absl::Now() + absl::Seconds(30)));
    GrpcServerOptions grpc_options;
    grpc_options.worker_threads = 4;
    grpc_options.max_request_bytes = 4096;  // small, to see fragments
    grpc_options.progress_notify_interval = absl::Milliseconds(100);
    ASSERT_OK_AND_ASSIGN(grpc_, GrpcServer::Start(server_.get(), grpc_options));
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    grpc_->AddConnection(fds[0]);
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    channel_ = grpc::CreateInsecureChannelFromFd("v3rpc-test", fds[1]);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel_);
  }

  void TearDown() override {
    kv_.reset();
    lease_.reset();
    watch_.reset();
    maintenance_.reset();
    channel_.reset();
    if (grpc_ != nullptr) grpc_->Shutdown(absl::Now() + absl::Seconds(5));
    if (server_ != nullptr) server_->Stop();
  }

  static std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  grpc::Status Put(const std::string& key, const std::string& value,
                   etcdserverpb::PutResponse* response) {
    etcdserverpb::PutRequest put;
    put.set_key(key);
    put.set_value(value);
    return kv_->Put(Ctx().get(), put, response);
  }

  testutil::TempDir dir_ = *testutil::TempDir::Create("unused");
  std::unique_ptr<etcdserver::EtcdServer> server_;
  std::unique_ptr<GrpcServer> grpc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

TEST_F(GrpcServerTest, PutRangeWithHeaders) {
  etcdserverpb::PutResponse put;
  grpc::Status status = Put("foo", "bar", &put);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(put.header().cluster_id(), 0u);
  EXPECT_EQ(put.header().member_id(), server_->ID());
  EXPECT_EQ(put.header().revision(), 2);
  EXPECT_GE(put.header().raft_term(), 1u);

  etcdserverpb::RangeRequest range;
  range.set_key("foo");
  etcdserverpb::RangeResponse got;
  status = kv_->Range(Ctx().get(), range, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(got.kvs_size(), 1);
  EXPECT_EQ(got.kvs(0).value(), "bar");
  EXPECT_EQ(got.header().revision(), 2);
}

TEST_F(GrpcServerTest, ErrorsCarryEtcdCodesAndMessages) {
  etcdserverpb::RangeRequest range;
  etcdserverpb::RangeResponse got;
  grpc::Status status = kv_->Range(Ctx().get(), range, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: key is not provided");

  etcdserverpb::PutResponse put;
  ASSERT_TRUE(Put("a", "1", &put).ok());
  ASSERT_TRUE(Put("a", "2", &put).ok());
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(3);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(Ctx().get(), compact, &compacted).ok());
  range.set_key("a");
  range.set_revision(2);
  status = kv_->Range(Ctx().get(), range, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(status.error_message(), "etcdserver: mvcc: required revision has been compacted");

  etcdserverpb::TxnRequest txn;
  for (int i = 0; i < 129; ++i) txn.add_success()->mutable_request_put()->set_key("k");
  etcdserverpb::TxnResponse txn_response;
  status = kv_->Txn(Ctx().get(), txn, &txn_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "etcdserver: too many operations in txn request");

  etcdserverpb::PutRequest bad;
  bad.set_key("k");
  bad.set_value("v");
  bad.set_ignore_value(true);
  status = kv_->Put(Ctx().get(), bad, &put);
  EXPECT_EQ(status.error_message(), "etcdserver: value is provided");
}

TEST_F(GrpcServerTest, LeaseKeepAliveStreamAndTimeToLive) {
  etcdserverpb::LeaseGrantRequest grant;
  grant.set_ttl(60);
  etcdserverpb::LeaseGrantResponse granted;
  ASSERT_TRUE(lease_->LeaseGrant(Ctx().get(), grant, &granted).ok());
  ASSERT_NE(granted.id(), 0);

  auto ctx = Ctx();
  auto stream = lease_->LeaseKeepAlive(ctx.get());
  etcdserverpb::LeaseKeepAliveRequest request;
  etcdserverpb::LeaseKeepAliveResponse response;
  request.set_id(granted.id());
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.id(), granted.id());
  EXPECT_EQ(response.ttl(), 60);
  request.set_id(12345);  // unknown: TTL 0, not an error
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.id(), 12345);
  EXPECT_EQ(response.ttl(), 0);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());

  etcdserverpb::LeaseTimeToLiveRequest ttl;
  ttl.set_id(12345);
  etcdserverpb::LeaseTimeToLiveResponse ttl_response;
  ASSERT_TRUE(lease_->LeaseTimeToLive(Ctx().get(), ttl, &ttl_response).ok());
  EXPECT_EQ(ttl_response.ttl(), -1);
}

TEST_F(GrpcServerTest, WatchCreatedThenEventsThenCanceled) {
  auto ctx = Ctx();
  auto stream = watch_->Watch(ctx.get());
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_key("w");
  request.mutable_create_request()->set_range_end("x");
  request.mutable_create_request()->set_prev_kv(true);
  request.mutable_create_request()->set_watch_id(7);
  ASSERT_TRUE(stream->Write(request));
  etcdserverpb::WatchResponse response;
  if (server_->Watchable() == nullptr) {
    EXPECT_FALSE(stream->Read(&response));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    GTEST_SKIP() << "EtcdServer::Watchable() is null: watch not wired in the member yet";
  }
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_FALSE(response.canceled());
  int64_t id = response.watch_id();
  EXPECT_EQ(id, 7);

  etcdserverpb::PutResponse put;
  ASSERT_TRUE(Put("w1", "a", &put).ok());
  ASSERT_TRUE(Put("w1", "b", &put).ok());
  ASSERT_TRUE(Put("zz", "outside", &put).ok());
  int events = 0;
  while (events < 2) {
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.watch_id(), id);
    for (const auto& event : response.events()) {
      EXPECT_EQ(event.kv().key(), "w1");
      if (events == 1) {
        EXPECT_EQ(event.prev_kv().value(), "a");
      }
      ++events;
    }
  }
  // A duplicate ID is refused with etcd's answer.
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), -1);
  EXPECT_EQ(response.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");

  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(id);
  ASSERT_TRUE(stream->Write(cancel));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), id);

  // After the client half-closes, the stream stays open and keeps
  // delivering, as etcd's does; the client ends it by cancelling.
  etcdserverpb::WatchRequest again;
  again.mutable_create_request()->set_key("h");
  ASSERT_TRUE(stream->Write(again));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  stream->WritesDone();
  ASSERT_TRUE(Put("h", "after half-close", &put).ok());
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).kv().value(), "after half-close");
  ctx->TryCancel();
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcServerTest, WatchProgressNotifyAndFragments) {
  etcdserverpb::PutResponse put;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Put("f", std::string(1500, 'a' + i), &put).ok());
  auto ctx = Ctx();
  auto stream = watch_->Watch(ctx.get());
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_key("f");
  request.mutable_create_request()->set_start_revision(2);
  request.mutable_create_request()->set_fragment(true);
  request.mutable_create_request()->set_progress_notify(true);
  ASSERT_TRUE(stream->Write(request));
  etcdserverpb::WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.created());
  // Four 1.5 KB events with a 4 KB limit: more than one response, all but
  // the last marked as fragments, the events in order.
  int events = 0, responses = 0;
  while (events < 4) {
    ASSERT_TRUE(stream->Read(&response));
    ++responses;
    for (const auto& event : response.events()) {
      EXPECT_EQ(event.kv().value()[0], 'a' + events);
      ++events;
    }
    EXPECT_EQ(response.fragment(), events < 4);
  }
  EXPECT_GT(responses, 1);
  // Then, idle, progress notifications: no events, the current revision.
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.events_size(), 0);
  EXPECT_EQ(response.header().revision(), 5);
  EXPECT_FALSE(response.canceled());
  ctx->TryCancel();
  while (stream->Read(&response)) {
  }
  (void)stream->Finish();
}

TEST_F(GrpcServerTest, SnapshotEndsWithSha256OfTheData) {
  etcdserverpb::PutResponse put;
  ASSERT_TRUE(Put("s", std::string(100000, 'x'), &put).ok());
  auto ctx = Ctx();
  etcdserverpb::SnapshotRequest request;
  auto reader = maintenance_->Snapshot(ctx.get(), request);
  etcdserverpb::SnapshotResponse chunk;
  std::vector<std::string> blobs;
  uint64_t last_remaining = UINT64_MAX;
  while (reader->Read(&chunk)) {
    blobs.push_back(chunk.blob());
    EXPECT_LE(chunk.remaining_bytes(), last_remaining);
    last_remaining = chunk.remaining_bytes();
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(blobs.size(), 2u);
  std::string data;
  for (size_t i = 0; i + 1 < blobs.size(); ++i) {
    EXPECT_LE(blobs[i].size(), 32u * 1024);
    data += blobs[i];
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  EXPECT_EQ(blobs.back(), std::string(reinterpret_cast<char*>(digest), size));
  EXPECT_EQ(last_remaining, 0u);
  EXPECT_GT(data.size(), 100000u);
}

// grpc.health.v1.Health/Check for service "" through a generic call: an
// empty HealthCheckRequest in, status SERVING (field 1 = 1) out.
TEST_F(GrpcServerTest, GrpcHealthServiceServes) {
  grpc::GenericStub stub(channel_);
  auto ctx = Ctx();
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1);  // empty message
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

TEST_F(GrpcServerTest, StatusAnswers) {
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  grpc::Status status = maintenance_->Status(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.version(), "3.5.0");
  EXPECT_EQ(response.leader(), server_->ID());
}

}  // namespace
}  // namespace etcd::v3rpc
