// A real member in a temporary directory: requests, restarts, leases, auth,
// quota, snapshots.

#include "server/etcdserver/etcdserver.h"

#include <dirent.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/rpctypes/rpctypes.h"
#include "gtest/gtest.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/etcdserver/membership.h"

namespace etcd::etcdserver {
namespace {

using etcdserverpb::RangeRequest;

std::vector<std::string> ListDir(const std::string& dir, absl::string_view suffix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (absl::EndsWith(name, suffix)) out.push_back(name);
  }
  closedir(d);
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("etcdserver");
    ASSERT_OK(dir.status());
    dir_ = std::make_unique<testutil::TempDir>(*std::move(dir));
    options_.data_dir = dir_->path() + "/default.etcd";
    options_.heartbeat_interval = absl::Milliseconds(10);
    options_.election_ticks = 10;
    options_.unsafe_no_fsync = true;
    options_.min_lease_ttl = 1;
  }

  void StartServer() {
    absl::StatusOr<std::unique_ptr<EtcdServer>> s = EtcdServer::Start(options_);
    ASSERT_OK(s.status());
    server_ = *std::move(s);
    ASSERT_OK(server_->WaitLeader(absl::Now() + absl::Seconds(10)));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    server_.reset();
  }

  void Restart() {
    server_->Stop();
    server_.reset();
    StartServer();
  }

  absl::StatusOr<etcdserverpb::PutResponse> Put(const std::string& k, const std::string& v,
                                                int64_t lease = 0) {
    etcdserverpb::PutRequest r;
    r.set_key(k);
    r.set_value(v);
    r.set_lease(lease);
    return server_->Put(r, ctx_);
  }

  absl::StatusOr<etcdserverpb::RangeResponse> Get(const std::string& k,
                                                  const std::string& end = "", int64_t rev = 0) {
    RangeRequest r;
    r.set_key(k);
    r.set_range_end(end);
    r.set_revision(rev);
    return server_->Range(r, ctx_);
  }

  std::string ValueOf(const std::string& k) {
    absl::StatusOr<etcdserverpb::RangeResponse> r = Get(k);
    if (!r.ok() || r->kvs_size() == 0) return "<none>";
    return r->kvs(0).value();
  }

  std::unique_ptr<testutil::TempDir> dir_;
  ServerOptions options_;
  RequestContext ctx_;
  std::unique_ptr<EtcdServer> server_;
};

TEST(MembershipTest, IdsMatchEtcd) {
  // etcd's well-known IDs of a default member.
  uint64_t id = ComputeMemberId({"http://localhost:2380"}, "etcd-cluster");
  EXPECT_EQ(id, 0x8e9e05c52164694dULL);
  EXPECT_EQ(ComputeClusterId({id}), 0xcdf818194e3a8c32ULL);
}

TEST_F(ServerTest, PutGetDeleteAndHeader) {
  StartServer();
  EXPECT_EQ(server_->ID(), 0x8e9e05c52164694dULL);
  EXPECT_EQ(server_->ClusterID(), 0xcdf818194e3a8c32ULL);
  EXPECT_TRUE(server_->IsLeader());
  ASSERT_OK_AND_ASSIGN(etcdserverpb::PutResponse p, Put("foo", "bar"));
  EXPECT_EQ(p.header().revision(), 2);
  EXPECT_EQ(p.header().member_id(), server_->ID());
  EXPECT_EQ(p.header().cluster_id(), server_->ClusterID());
  EXPECT_GT(p.header().raft_term(), 0u);
  EXPECT_EQ(ValueOf("foo"), "bar");

  etcdserverpb::PutRequest pr;
  pr.set_key("foo");
  pr.set_value("baz");
  pr.set_prev_kv(true);
  ASSERT_OK_AND_ASSIGN(p, server_->Put(pr, ctx_));
  EXPECT_EQ(p.prev_kv().value(), "bar");
  EXPECT_EQ(p.header().revision(), 3);

  // Serializable read, prefix, count, limit, sort.
  ASSERT_OK(Put("foo1", "a").status());
  ASSERT_OK(Put("foo2", "b").status());
  RangeRequest rr;
  rr.set_key("foo");
  rr.set_range_end("fop");
  rr.set_serializable(true);
  rr.set_limit(2);
  rr.set_sort_order(RangeRequest::DESCEND);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::RangeResponse r, server_->Range(rr, ctx_));
  EXPECT_EQ(r.count(), 3);
  EXPECT_TRUE(r.more());
  ASSERT_EQ(r.kvs_size(), 2);
  EXPECT_EQ(r.kvs(0).key(), "foo2");
  EXPECT_EQ(r.header().revision(), 5);

  // An old revision.
  ASSERT_OK_AND_ASSIGN(r, Get("foo", "", 2));
  EXPECT_EQ(r.kvs(0).value(), "bar");

  etcdserverpb::DeleteRangeRequest dr;
  dr.set_key("foo");
  dr.set_range_end("fop");
  dr.set_prev_kv(true);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::DeleteRangeResponse d, server_->DeleteRange(dr, ctx_));
  EXPECT_EQ(d.deleted(), 3);
  EXPECT_EQ(d.prev_kvs_size(), 3);
  EXPECT_EQ(ValueOf("foo"), "<none>");

  // Bad requests.
  EXPECT_TRUE(rpctypes::IsEmptyKey(Put("", "x").status()));
  options_.max_request_bytes = 1572864;
  EXPECT_TRUE(rpctypes::IsRequestTooLarge(Put("big", std::string(2 * 1024 * 1024, 'x')).status()));
  etcdserverpb::PutRequest iv;
  iv.set_key("nokey");
  iv.set_ignore_value(true);
  EXPECT_TRUE(rpctypes::IsKeyNotFound(server_->Put(iv, ctx_).status()));
}

TEST_F(ServerTest, Txn) {
  StartServer();
  ASSERT_OK(Put("a", "1").status());
  etcdserverpb::TxnRequest t;
  auto* c = t.add_compare();
  c->set_key("a");
  c->set_target(etcdserverpb::Compare::VALUE);
  c->set_result(etcdserverpb::Compare::EQUAL);
  c->set_value("1");
  auto* put = t.add_success()->mutable_request_put();
  put->set_key("b");
  put->set_value("2");
  t.add_success()->mutable_request_range()->set_key("a");
  // A nested txn.
  auto* nested = t.add_success()->mutable_request_txn();
  auto* nc = nested->add_compare();
  nc->set_key("zz");
  nc->set_target(etcdserverpb::Compare::VERSION);
  nc->set_result(etcdserverpb::Compare::EQUAL);
  nc->set_version(0);
  auto* np = nested->add_success()->mutable_request_put();
  np->set_key("c");
  np->set_value("3");
  t.add_failure()->mutable_request_delete_range()->set_key("a");
  ASSERT_OK_AND_ASSIGN(etcdserverpb::TxnResponse r, server_->Txn(t, ctx_));
  EXPECT_TRUE(r.succeeded());
  ASSERT_EQ(r.responses_size(), 3);
  EXPECT_EQ(r.responses(1).response_range().kvs(0).value(), "1");
  EXPECT_TRUE(r.responses(2).response_txn().succeeded());
  EXPECT_EQ(r.header().revision(), 3);  // one revision for the whole txn
  EXPECT_EQ(ValueOf("b"), "2");
  EXPECT_EQ(ValueOf("c"), "3");

  // The failure branch.
  c->set_value("nope");
  ASSERT_OK_AND_ASSIGN(r, server_->Txn(t, ctx_));
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(ValueOf("a"), "<none>");

  // Duplicate keys and too many ops.
  etcdserverpb::TxnRequest dup;
  for (int i = 0; i < 2; ++i) {
    auto* p = dup.add_success()->mutable_request_put();
    p->set_key("x");
    p->set_value("y");
  }
  absl::Status s = server_->Txn(dup, ctx_).status();
  EXPECT_TRUE(rpctypes::Is(s, rpctypes::kErrDuplicateKey)) << s;
  EXPECT_EQ(s.message(), "etcdserver: duplicate key given in txn request");
  etcdserverpb::TxnRequest many;
  for (int i = 0; i < 129; ++i) {
    auto* p = many.add_success()->mutable_request_put();
    p->set_key(absl::StrCat("k", i));
  }
  s = server_->Txn(many, ctx_).status();
  EXPECT_EQ(s.message(), "etcdserver: too many operations in txn request");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // A put with a lease that does not exist fails without a partial write.
  etcdserverpb::TxnRequest bad_lease;
  auto* bp1 = bad_lease.add_success()->mutable_request_put();
  bp1->set_key("p1");
  auto* bp2 = bad_lease.add_success()->mutable_request_put();
  bp2->set_key("p2");
  bp2->set_lease(12345);
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(server_->Txn(bad_lease, ctx_).status()));
  EXPECT_EQ(ValueOf("p1"), "<none>");
}

TEST_F(ServerTest, Compaction) {
  StartServer();
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put("k", absl::StrCat(i)).status());
  etcdserverpb::CompactionRequest c;
  c.set_revision(5);
  c.set_physical(true);
  ASSERT_OK(server_->Compact(c, ctx_).status());
  absl::Status s = Get("k", "", 3).status();
  EXPECT_TRUE(rpctypes::IsCompacted(s)) << s;
  EXPECT_EQ(s.message(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(rpctypes::IsCompacted(server_->Compact(c, ctx_).status()));
  s = Get("k", "", 100).status();
  EXPECT_TRUE(rpctypes::IsFutureRev(s)) << s;
  c.set_revision(100);
  EXPECT_TRUE(rpctypes::IsFutureRev(server_->Compact(c, ctx_).status()));
  ASSERT_OK_AND_ASSIGN(etcdserverpb::HashKVResponse h,
                       server_->HashKV(etcdserverpb::HashKVRequest(), ctx_));
  EXPECT_EQ(h.compact_revision(), 5);
}

TEST_F(ServerTest, RestartKeepsEveryWriteAndRevision) {
  StartServer();
  for (int i = 0; i < 50; ++i) ASSERT_OK(Put(absl::StrCat("key", i), absl::StrCat(i)).status());
  const int64_t rev = server_->Header().revision();
  const uint64_t id = server_->ID();
  Restart();
  EXPECT_EQ(server_->ID(), id);
  EXPECT_EQ(server_->Header().revision(), rev);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(ValueOf(absl::StrCat("key", i)), absl::StrCat(i));
  ASSERT_OK_AND_ASSIGN(etcdserverpb::PutResponse p, Put("after", "x"));
  EXPECT_EQ(p.header().revision(), rev + 1);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::MemberListResponse ml,
                       server_->MemberList(etcdserverpb::MemberListRequest(), ctx_));
  ASSERT_EQ(ml.members_size(), 1);
  EXPECT_EQ(ml.members(0).name(), "default");
}

TEST_F(ServerTest, LeaseExpiryRevokesKeys) {
  StartServer();
  etcdserverpb::LeaseGrantRequest g;
  g.set_ttl(1);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::LeaseGrantResponse lr, server_->LeaseGrant(g, ctx_));
  EXPECT_GT(lr.id(), 0);
  ASSERT_OK(Put("leased", "v", lr.id()).status());
  etcdserverpb::LeaseTimeToLiveRequest ttl;
  ttl.set_id(lr.id());
  ttl.set_keys(true);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::LeaseTimeToLiveResponse t, server_->LeaseTimeToLive(ttl, ctx_));
  EXPECT_EQ(t.grantedttl(), 1);
  ASSERT_EQ(t.keys_size(), 1);
  EXPECT_TRUE(testutil::WaitUntil([&] { return ValueOf("leased") == "<none>"; },
                                  absl::Seconds(15)));
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(server_->LeaseTimeToLive(ttl, ctx_).status()));

  // Explicit revoke, keep-alive, unknown lease.
  g.set_ttl(60);
  ASSERT_OK_AND_ASSIGN(lr, server_->LeaseGrant(g, ctx_));
  etcdserverpb::LeaseKeepAliveRequest ka;
  ka.set_id(lr.id());
  ASSERT_OK_AND_ASSIGN(etcdserverpb::LeaseKeepAliveResponse kr, server_->LeaseRenew(ka, ctx_));
  EXPECT_EQ(kr.ttl(), 60);
  ASSERT_OK(Put("k2", "v", lr.id()).status());
  ASSERT_OK_AND_ASSIGN(etcdserverpb::LeaseLeasesResponse ls,
                       server_->LeaseLeases(etcdserverpb::LeaseLeasesRequest(), ctx_));
  EXPECT_EQ(ls.leases_size(), 1);
  etcdserverpb::LeaseRevokeRequest rv;
  rv.set_id(lr.id());
  ASSERT_OK(server_->LeaseRevoke(rv, ctx_).status());
  EXPECT_EQ(ValueOf("k2"), "<none>");
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(server_->LeaseRevoke(rv, ctx_).status()));
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(Put("k3", "v", 777).status()));
}

TEST_F(ServerTest, AuthPermissionDenied) {
  StartServer();
  etcdserverpb::AuthUserAddRequest ua;
  ua.set_name("root");
  ua.set_password("rootpw");
  ASSERT_OK(server_->UserAdd(ua, ctx_).status());
  etcdserverpb::AuthUserGrantRoleRequest gr;
  gr.set_user("root");
  gr.set_role("root");
  ASSERT_OK(server_->UserGrantRole(gr, ctx_).status());
  ua.set_name("alice");
  ua.set_password("alicepw");
  ASSERT_OK(server_->UserAdd(ua, ctx_).status());
  etcdserverpb::AuthRoleAddRequest ra;
  ra.set_name("reader");
  ASSERT_OK(server_->RoleAdd(ra, ctx_).status());
  etcdserverpb::AuthRoleGrantPermissionRequest gp;
  gp.set_name("reader");
  gp.mutable_perm()->set_permtype(authpb::Permission::READ);
  gp.mutable_perm()->set_key("pub/");
  gp.mutable_perm()->set_range_end("pub0");
  ASSERT_OK(server_->RoleGrantPermission(gp, ctx_).status());
  gr.set_user("alice");
  gr.set_role("reader");
  ASSERT_OK(server_->UserGrantRole(gr, ctx_).status());
  ASSERT_OK(Put("pub/a", "1").status());
  ASSERT_OK(server_->AuthEnable(etcdserverpb::AuthEnableRequest(), ctx_).status());

  // No token.
  absl::Status s = Put("x", "y").status();
  EXPECT_EQ(s.message(), "etcdserver: user name is empty") << s;
  ctx_.token = "bogus";
  s = Put("x", "y").status();
  EXPECT_EQ(s.message(), "etcdserver: invalid auth token") << s;

  etcdserverpb::AuthenticateRequest ar;
  ar.set_name("alice");
  ar.set_password("wrong");
  EXPECT_TRUE(rpctypes::IsAuthFailed(server_->Authenticate(ar, ctx_).status()));
  ar.set_password("alicepw");
  ASSERT_OK_AND_ASSIGN(etcdserverpb::AuthenticateResponse tok, server_->Authenticate(ar, ctx_));
  ctx_.token = tok.token();
  EXPECT_EQ(ValueOf("pub/a"), "1");
  s = Put("pub/a", "2").status();
  EXPECT_EQ(s.message(), "etcdserver: permission denied") << s;
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  s = Get("secret").status();
  EXPECT_TRUE(rpctypes::IsPermissionDenied(s)) << s;
  s = server_->AuthDisable(etcdserverpb::AuthDisableRequest(), ctx_).status();
  EXPECT_TRUE(rpctypes::IsPermissionDenied(s)) << s;

  ar.set_name("root");
  ar.set_password("rootpw");
  ASSERT_OK_AND_ASSIGN(tok, server_->Authenticate(ar, ctx_));
  ctx_.token = tok.token();
  ASSERT_OK(Put("secret", "s").status());
  ASSERT_OK(server_->AuthDisable(etcdserverpb::AuthDisableRequest(), ctx_).status());
  ctx_.token.clear();
  EXPECT_EQ(ValueOf("secret"), "s");
}

TEST_F(ServerTest, QuotaRaisesNoSpaceAlarm) {
  options_.quota_backend_bytes = 1024 * 1024;
  options_.backend_batch_interval = absl::Milliseconds(10);
  StartServer();
  const std::string value(64 * 1024, 'v');
  absl::Status last;
  for (int i = 0; i < 200 && last.ok(); ++i) last = Put(absl::StrCat("big", i), value).status();
  EXPECT_TRUE(rpctypes::IsNoSpace(last)) << last;
  EXPECT_EQ(last.message(), "etcdserver: mvcc: database space exceeded");
  ASSERT_TRUE(testutil::WaitUntil([&] { return !server_->Alarms().empty(); }, absl::Seconds(10)));
  EXPECT_EQ(server_->Alarms()[0].alarm(), etcdserverpb::NOSPACE);
  // Reads and deletes are still served; small writes are not.
  EXPECT_EQ(ValueOf("big0"), value);
  EXPECT_TRUE(rpctypes::IsNoSpace(Put("small", "x").status()));
  etcdserverpb::DeleteRangeRequest dr;
  dr.set_key("big");
  dr.set_range_end("bih");
  ASSERT_OK(server_->DeleteRange(dr, ctx_).status());
  ASSERT_OK_AND_ASSIGN(etcdserverpb::StatusResponse st,
                       server_->Status(etcdserverpb::StatusRequest(), ctx_));
  ASSERT_EQ(st.errors_size(), 1);
  // Survives a restart.
  Restart();
  EXPECT_FALSE(server_->Alarms().empty());
  // Compact, defragment, disarm: writes work again.
  etcdserverpb::CompactionRequest c;
  c.set_revision(server_->Header().revision());
  c.set_physical(true);
  ASSERT_OK(server_->Compact(c, ctx_).status());
  ASSERT_OK(server_->Defragment(etcdserverpb::DefragmentRequest(), ctx_).status());
  etcdserverpb::AlarmRequest disarm;
  disarm.set_action(etcdserverpb::AlarmRequest::DEACTIVATE);
  disarm.set_memberid(server_->ID());
  disarm.set_alarm(etcdserverpb::NOSPACE);
  ASSERT_OK(server_->Alarm(disarm, ctx_).status());
  EXPECT_TRUE(server_->Alarms().empty());
  ASSERT_OK(Put("small", "x").status());
}

TEST_F(ServerTest, SnapshotsAndRetention) {
  options_.snapshot_count = 20;
  options_.snapshot_catchup_entries = 5;
  options_.max_snapshots = 2;
  StartServer();
  for (int i = 0; i < 100; ++i) ASSERT_OK(Put(absl::StrCat("s", i), absl::StrCat(i)).status());
  const std::string snap_dir = options_.data_dir + "/member/snap";
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return server_->Metrics().snapshot_count >= 3; }, absl::Seconds(10)));
  EXPECT_LE(ListDir(snap_dir, ".snap").size(), 2u);
  EXPECT_GE(ListDir(snap_dir, ".snap").size(), 1u);
  const int64_t rev = server_->Header().revision();
  // Restart from the newest snapshot plus the WAL after it.
  Restart();
  EXPECT_EQ(server_->Header().revision(), rev);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ValueOf(absl::StrCat("s", i)), absl::StrCat(i));
  ASSERT_OK(Put("more", "x").status());
  Restart();
  EXPECT_EQ(ValueOf("more"), "x");
}

TEST_F(ServerTest, StatusAndMaintenance) {
  StartServer();
  ASSERT_OK(Put("a", "b").status());
  ASSERT_OK_AND_ASSIGN(etcdserverpb::StatusResponse st,
                       server_->Status(etcdserverpb::StatusRequest(), ctx_));
  EXPECT_EQ(st.leader(), server_->ID());
  EXPECT_EQ(st.version(), "3.5.0");
  EXPECT_GT(st.dbsize(), 0);
  EXPECT_GE(st.raftappliedindex(), 2u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BackendSnapshot> snap, server_->Snapshot(ctx_));
  int64_t bytes = 0;
  ASSERT_OK(snap->WriteTo([&](absl::string_view chunk) {
    bytes += chunk.size();
    return absl::OkStatus();
  }));
  EXPECT_EQ(bytes, snap->Size());
  snap.reset();
  etcdserverpb::MoveLeaderRequest ml;
  ml.set_targetid(server_->ID());
  EXPECT_OK(server_->MoveLeader(ml, ctx_).status());
  ml.set_targetid(42);
  EXPECT_EQ(server_->MoveLeader(ml, ctx_).status().message(), "etcdserver: bad leader transferee");
  EXPECT_OK(server_->CheckHealth(absl::Now() + absl::Seconds(5)));
  server_->Stop();
  EXPECT_TRUE(rpctypes::IsStopped(Put("x", "y").status()));
}

}  // namespace
}  // namespace etcd::etcdserver
