// Differential test of the Lock and Election services at the gRPC level:
// the same sequence of calls (generated v3lockpb / v3electionpb stubs)
// against a fresh Debian etcd 3.4 and a fresh member of this project; the
// transcripts (status codes, messages, keys, revisions, values) must be
// equal once lease IDs are replaced by names. Skipped when Debian's etcd is
// not installed.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "api/authpb/auth.pb.h"
#include "api/etcdserverpb/rpc.grpc.pb.h"
#include "api/v3electionpb/v3election.grpc.pb.h"
#include "api/v3lockpb/v3lock.grpc.pb.h"
#include "e2e/etcd_process.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::e2e {
namespace {

class Transcript {
 public:
  explicit Transcript(const std::string& endpoint) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    channel_ = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    lock_ = v3lockpb::Lock::NewStub(channel_);
    election_ = v3electionpb::Election::NewStub(channel_);
    auth_ = etcdserverpb::Auth::NewStub(channel_);
  }

  static std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 20) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }

  // Grants a lease known as `name` in the transcript.
  int64_t Grant(const std::string& name) {
    etcdserverpb::LeaseGrantRequest grant;
    grant.set_ttl(60);
    etcdserverpb::LeaseGrantResponse granted;
    grpc::Status status = lease_->LeaseGrant(Ctx().get(), grant, &granted);
    EXPECT_TRUE(status.ok()) << status.error_message();
    names_[granted.id()] = name;
    return granted.id();
  }

  void Record(const std::string& step, const grpc::Status& status, const std::string& body) {
    std::string line = absl::StrCat(step, ": ");
    if (!status.ok()) {
      absl::StrAppend(&line, "error code=", status.error_code(), " \"", status.error_message(),
                      "\"");
    } else {
      absl::StrAppend(&line, body);
    }
    text_ += Normalize(line) + "\n";
  }

  static std::string Header(const etcdserverpb::ResponseHeader& h) {
    return absl::StrCat("rev=", h.revision());
  }
  static std::string Kv(const mvccpb::KeyValue& kv) {
    return absl::StrCat("key=", kv.key(), " value=", kv.value(), " create=", kv.create_revision(),
                        " mod=", kv.mod_revision(), " version=", kv.version(),
                        " lease=", kv.lease());
  }

  // Lease IDs (decimal and hex) become their names.
  std::string Normalize(std::string s) const {
    for (const auto& [id, name] : names_) {
      s = absl::StrReplaceAll(s, {{absl::StrFormat("%x", id), name}, {absl::StrCat(id), name}});
    }
    return s;
  }

  int LeaseCount() {
    etcdserverpb::LeaseLeasesRequest request;
    etcdserverpb::LeaseLeasesResponse response;
    EXPECT_TRUE(lease_->LeaseLeases(Ctx().get(), request, &response).ok());
    return response.leases_size();
  }

  bool Exists(const std::string& key) {
    etcdserverpb::RangeRequest range;
    range.set_key(key);
    etcdserverpb::RangeResponse got;
    EXPECT_TRUE(kv_->Range(Ctx().get(), range, &got).ok());
    return got.kvs_size() > 0;
  }

  void Run() {
    grpc::Status status;
    // Errors.
    {
      v3lockpb::LockRequest r;
      r.set_name("l");
      r.set_lease(0x1234);
      v3lockpb::LockResponse resp;
      Record("lock with a missing lease", lock_->Lock(Ctx().get(), r, &resp), "");
      v3lockpb::UnlockRequest u;
      v3lockpb::UnlockResponse uresp;
      Record("unlock without key", lock_->Unlock(Ctx().get(), u, &uresp), "");
      v3electionpb::LeaderRequest l;
      l.set_name("e");
      v3electionpb::LeaderResponse lresp;
      Record("leader of an empty election", election_->Leader(Ctx().get(), l, &lresp), "");
      v3electionpb::ProclaimRequest p;
      v3electionpb::ProclaimResponse presp;
      Record("proclaim without leader", election_->Proclaim(Ctx().get(), p, &presp), "");
      v3electionpb::ResignRequest rs;
      v3electionpb::ResignResponse rsresp;
      Record("resign without leader", election_->Resign(Ctx().get(), rs, &rsresp), "");
      v3electionpb::CampaignRequest c;
      c.set_name("e");
      c.set_lease(0x1234);
      v3electionpb::CampaignResponse cresp;
      Record("campaign with a missing lease", election_->Campaign(Ctx().get(), c, &cresp), "");
    }

    // Lock, re-entry, a timed-out waiter, a waiter acquiring after unlock.
    int64_t a = Grant("<A>");
    int64_t b = Grant("<B>");
    v3lockpb::LockResponse held;
    {
      v3lockpb::LockRequest r;
      r.set_name("l");
      r.set_lease(a);
      status = lock_->Lock(Ctx().get(), r, &held);
      Record("lock A", status, absl::StrCat(Header(held.header()), " key=", held.key()));
      v3lockpb::LockResponse again;
      status = lock_->Lock(Ctx().get(), r, &again);
      Record("lock A again", status, absl::StrCat(Header(again.header()), " key=", again.key()));
    }
    {
      v3lockpb::LockRequest r;
      r.set_name("l");
      r.set_lease(b);
      v3lockpb::LockResponse resp;
      status = lock_->Lock(Ctx(2).get(), r, &resp);
      Record("lock B while A holds (2 s deadline)", status, "acquired");
      bool gone = testutil::WaitUntil([&] { return !Exists(absl::StrCat("l/", Hex(b))); },
                                      absl::Seconds(10));
      text_ += absl::StrCat("B's key after the deadline: ", gone ? "gone" : "present", "\n");
    }
    {
      v3lockpb::LockRequest r;
      r.set_name("l");
      r.set_lease(b);
      v3lockpb::LockResponse resp;
      grpc::Status waited;
      std::thread waiter([&] { waited = lock_->Lock(Ctx().get(), r, &resp); });
      testutil::WaitUntil([&] { return Exists(absl::StrCat("l/", Hex(b))); }, absl::Seconds(10));
      v3lockpb::UnlockRequest u;
      u.set_key(held.key());
      v3lockpb::UnlockResponse uresp;
      status = lock_->Unlock(Ctx().get(), u, &uresp);
      Record("unlock A", status, Header(uresp.header()));
      waiter.join();
      Record("B acquires", waited, absl::StrCat(Header(resp.header()), " key=", resp.key()));
    }

    // Election.
    v3electionpb::CampaignResponse elected;
    {
      v3electionpb::CampaignRequest c;
      c.set_name("e");
      c.set_lease(a);
      c.set_value("x");
      status = election_->Campaign(Ctx().get(), c, &elected);
      Record("campaign A", status,
             absl::StrCat(Header(elected.header()), " name=", elected.leader().name(),
                          " key=", elected.leader().key(), " rev=", elected.leader().rev(),
                          " lease=", elected.leader().lease()));
      c.set_value("y");
      v3electionpb::CampaignResponse again;
      status = election_->Campaign(Ctx().get(), c, &again);
      Record("campaign A again with another value", status,
             absl::StrCat(Header(again.header()), " key=", again.leader().key(),
                          " rev=", again.leader().rev()));
    }
    v3electionpb::LeaderRequest leader_request;
    leader_request.set_name("e");
    {
      v3electionpb::LeaderResponse lresp;
      status = election_->Leader(Ctx().get(), leader_request, &lresp);
      Record("leader", status, absl::StrCat(Header(lresp.header()), " ", Kv(lresp.kv())));
    }
    grpc::ClientContext observe_ctx;
    observe_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::unique_ptr<grpc::ClientReader<v3electionpb::LeaderResponse>> observer =
        election_->Observe(&observe_ctx, leader_request);
    v3electionpb::LeaderResponse seen;
    if (observer->Read(&seen)) {
      text_ +=
          Normalize(absl::StrCat("observe: ", Header(seen.header()), " ", Kv(seen.kv()), "\n"));
    }
    {
      v3electionpb::ProclaimRequest p;
      *p.mutable_leader() = elected.leader();
      p.set_value("z");
      v3electionpb::ProclaimResponse presp;
      status = election_->Proclaim(Ctx().get(), p, &presp);
      Record("proclaim z", status, Header(presp.header()));
      if (observer->Read(&seen)) {
        text_ +=
            Normalize(absl::StrCat("observe: ", Header(seen.header()), " ", Kv(seen.kv()), "\n"));
      }
      p.mutable_leader()->set_rev(elected.leader().rev() + 100);
      status = election_->Proclaim(Ctx().get(), p, &presp);
      Record("proclaim with a wrong rev", status, Header(presp.header()));
    }
    {
      v3electionpb::ResignRequest rs;
      *rs.mutable_leader() = elected.leader();
      v3electionpb::ResignResponse rsresp;
      status = election_->Resign(Ctx().get(), rs, &rsresp);
      Record("resign", status, Header(rsresp.header()));
      status = election_->Resign(Ctx().get(), rs, &rsresp);
      Record("resign again", status, Header(rsresp.header()));
      v3electionpb::LeaderResponse lresp;
      status = election_->Leader(Ctx().get(), leader_request, &lresp);
      Record("leader after resign", status, "");
    }
    observe_ctx.TryCancel();
    while (observer->Read(&seen)) {
    }
    observer->Finish();

    // Lease 0: a session lease of 60 s.
    {
      int before = LeaseCount();
      v3lockpb::LockRequest r;
      r.set_name("zero");
      v3lockpb::LockResponse resp;
      status = lock_->Lock(Ctx().get(), r, &resp);
      Record("lock without lease", status, Header(resp.header()));
      text_ += absl::StrCat("leases added: ", LeaseCount() - before, "\n");
    }

    // Auth: the calls are checked like KV calls. root may do anything;
    // alice may only read under "ro/".
    Auth("user add root", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthUserAddRequest r;
      r.set_name("root");
      r.set_password("rootpw");
      etcdserverpb::AuthUserAddResponse resp;
      return auth_->UserAdd(ctx, r, &resp);
    });
    Auth("grant root", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthUserGrantRoleRequest r;
      r.set_user("root");
      r.set_role("root");
      etcdserverpb::AuthUserGrantRoleResponse resp;
      return auth_->UserGrantRole(ctx, r, &resp);
    });
    Auth("user add alice", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthUserAddRequest r;
      r.set_name("alice");
      r.set_password("alicepw");
      etcdserverpb::AuthUserAddResponse resp;
      return auth_->UserAdd(ctx, r, &resp);
    });
    Auth("role add reader", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthRoleAddRequest r;
      r.set_name("reader");
      etcdserverpb::AuthRoleAddResponse resp;
      return auth_->RoleAdd(ctx, r, &resp);
    });
    Auth("reader may read ro/", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthRoleGrantPermissionRequest r;
      r.set_name("reader");
      r.mutable_perm()->set_permtype(authpb::Permission::READ);
      r.mutable_perm()->set_key("ro/");
      r.mutable_perm()->set_range_end("ro0");
      etcdserverpb::AuthRoleGrantPermissionResponse resp;
      return auth_->RoleGrantPermission(ctx, r, &resp);
    });
    Auth("grant alice reader", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthUserGrantRoleRequest r;
      r.set_user("alice");
      r.set_role("reader");
      etcdserverpb::AuthUserGrantRoleResponse resp;
      return auth_->UserGrantRole(ctx, r, &resp);
    });
    Auth("auth enable", [&](grpc::ClientContext* ctx) {
      etcdserverpb::AuthEnableRequest r;
      etcdserverpb::AuthEnableResponse resp;
      return auth_->AuthEnable(ctx, r, &resp);
    });
    {
      v3lockpb::LockRequest r;
      r.set_name("ro");
      r.set_lease(b);
      v3lockpb::LockResponse resp;
      Record("lock without a token", lock_->Lock(Ctx().get(), r, &resp), "");
      auto ctx = Ctx();
      ctx->AddMetadata("token", Token("alice", "alicepw"));
      Record("lock by a reader", lock_->Lock(ctx.get(), r, &resp), "");
      ctx = Ctx();
      ctx->AddMetadata("token", Token("root", "rootpw"));
      status = lock_->Lock(ctx.get(), r, &resp);
      Record("lock by root", status, absl::StrCat(Header(resp.header()), " key=", resp.key()));
      v3electionpb::LeaderRequest l;
      l.set_name("ro");
      v3electionpb::LeaderResponse lresp;
      Record("leader without a token", election_->Leader(Ctx().get(), l, &lresp), "");
      ctx = Ctx();
      ctx->AddMetadata("token", Token("alice", "alicepw"));
      status = election_->Leader(ctx.get(), l, &lresp);
      Record("leader by a reader", status,
             absl::StrCat(Header(lresp.header()), " ", Kv(lresp.kv())));
    }
  }

  // An auth setup step (before auth is enabled: no token).
  template <typename F>
  void Auth(const std::string& step, F call) {
    auto ctx = Ctx();
    Record(step, call(ctx.get()), "ok");
  }

  std::string Token(const std::string& user, const std::string& password) {
    etcdserverpb::AuthenticateRequest r;
    r.set_name(user);
    r.set_password(password);
    etcdserverpb::AuthenticateResponse resp;
    grpc::Status status = auth_->Authenticate(Ctx().get(), r, &resp);
    EXPECT_TRUE(status.ok()) << user << ": " << status.error_message();
    return resp.token();
  }

  static std::string Hex(int64_t id) { return absl::StrFormat("%x", id); }

  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth_;
  std::map<int64_t, std::string> names_;
  std::string text_;
};

std::string RunAgainst(const std::string& binary) {
  absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("lockelect");
  EXPECT_OK(dir.status());
  if (!dir.ok()) return "";
  absl::StatusOr<std::unique_ptr<EtcdProcess>> member = EtcdProcess::Start(binary, dir->path());
  EXPECT_OK(member.status());
  if (!member.ok()) return "";
  Transcript transcript((*member)->endpoint());
  transcript.Run();
  return transcript.text();
}

TEST(LockElectionInteropTest, SameTranscriptAsEtcd34) {
  if (!DebianEtcdAvailable()) {
    GTEST_SKIP() << "Debian's etcd (" << kDebianEtcd << ") is not installed";
  }
  std::string reference = RunAgainst(kDebianEtcd);
  std::string ours = RunAgainst(OurEtcdBinary());
  std::cout << "reference transcript:\n" << reference;
  // Not vacuous: the reference went through every step.
  EXPECT_NE(reference.find("B acquires: rev="), std::string::npos) << reference;
  EXPECT_NE(reference.find("observe: "), std::string::npos) << reference;
  EXPECT_NE(reference.find("leases added: 1"), std::string::npos) << reference;
  EXPECT_NE(reference.find("lock by root: rev="), std::string::npos) << reference;
  EXPECT_EQ(ours, reference) << "reference transcript:\n" << reference;
}

}  // namespace
}  // namespace etcd::e2e
