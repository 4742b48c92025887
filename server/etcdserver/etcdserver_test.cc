// A real member in a temporary directory: requests, restarts, leases, auth,
// quota, snapshots.

#include "server/etcdserver/etcdserver.h"

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "api/mvccpb/kv.pb.h"
#include "api/rpctypes/rpctypes.h"
#include "gtest/gtest.h"
#include "lease/clock.h"
#include "mvcc/watchable_store.h"
#include "pkg/log/log.h"
#include "pkg/log/sink.h"
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

// An event as "PUT key=value@mod_revision" or "DELETE key@mod_revision".
std::string EventString(const mvccpb::Event& e) {
  if (e.type() == mvccpb::Event::DELETE) {
    return absl::StrCat("DELETE ", e.kv().key(), "@", e.kv().mod_revision());
  }
  return absl::StrCat("PUT ", e.kv().key(), "=", e.kv().value(), "@", e.kv().mod_revision());
}

// Polls `stream` until it has delivered `n` events (or 10 s pass); checks
// that revisions never decrease.
std::vector<std::string> CollectEvents(mvcc::WatchStream* stream, size_t n) {
  std::vector<std::string> out;
  int64_t last_rev = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (out.size() < n && absl::Now() < deadline) {
    if (!stream->WaitForResponse(absl::Milliseconds(100))) continue;
    while (std::optional<mvcc::WatchResponse> r = stream->Poll()) {
      EXPECT_EQ(r->compact_revision, 0);
      for (const mvccpb::Event& e : r->Events()) {
        EXPECT_GE(e.kv().mod_revision(), last_rev) << EventString(e);
        last_rev = e.kv().mod_revision();
        out.push_back(EventString(e));
      }
    }
  }
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
  // Outlives server_ (declared first): the lessor reads it until Stop.
  std::unique_ptr<lease::ManualClock> clock_ = std::make_unique<lease::ManualClock>(absl::Now());
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

// Grants `n` leases of `ttl` seconds from 16 client threads; returns their IDs.
std::vector<int64_t> GrantLeases(EtcdServer* server, int n, int64_t ttl) {
  std::vector<int64_t> ids(n);
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        etcdserverpb::LeaseGrantRequest g;
        g.set_ttl(ttl);
        absl::StatusOr<etcdserverpb::LeaseGrantResponse> r = server->LeaseGrant(g, {});
        EXPECT_OK(r.status());
        if (r.ok()) ids[i] = r->id();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return ids;
}

int LeaseCount(EtcdServer* server) {
  absl::StatusOr<etcdserverpb::LeaseLeasesResponse> r =
      server->LeaseLeases(etcdserverpb::LeaseLeasesRequest(), {});
  EXPECT_OK(r.status());
  return r.ok() ? r->leases_size() : -1;
}

// Many leases due at the same instant are all revoked, with their keys, far
// faster than etcd's 1000 revocations per second (which would take 10 s).
TEST_F(ServerTest, ManyLeasesExpiringAtOnceAreRevokedTogether) {
  lease::ManualClock& clock = *clock_;
  options_.lease_clock = &clock;
  StartServer();
  constexpr int kLeases = 10000;
  std::vector<int64_t> ids = GrantLeases(server_.get(), kLeases, 60);
  for (int i = 0; i < kLeases; i += 10) {
    ASSERT_OK(Put(absl::StrCat("expiring/", i), "v", ids[i]).status());
  }
  ASSERT_OK(Put("kept", "v").status());
  ASSERT_EQ(LeaseCount(server_.get()), kLeases);
  clock.Advance(absl::Seconds(59));
  absl::SleepFor(absl::Milliseconds(300));  // a few rounds: nothing is due yet
  ASSERT_EQ(LeaseCount(server_.get()), kLeases);

  clock.Advance(absl::Seconds(2));
  const absl::Time expired_at = absl::Now();
  EXPECT_TRUE(testutil::WaitUntil([&] { return LeaseCount(server_.get()) == 0; }, absl::Seconds(5)))
      << LeaseCount(server_.get()) << " leases left";
  EXPECT_LT(absl::Now() - expired_at, absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(etcdserverpb::RangeResponse keys, Get("expiring/", "expiring0"));
  EXPECT_EQ(keys.kvs_size(), 0);
  EXPECT_EQ(ValueOf("kept"), "v");
  etcdserverpb::LeaseTimeToLiveRequest ttl;
  ttl.set_id(ids.back());
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(server_->LeaseTimeToLive(ttl, ctx_).status()));
}

// ServerOptions::lease_revoke_rate caps revocations per second.
TEST_F(ServerTest, LeaseRevokeRateLimitsRevocations) {
  lease::ManualClock& clock = *clock_;
  options_.lease_clock = &clock;
  options_.lease_revoke_rate = 100;
  StartServer();
  constexpr int kLeases = 300;  // >= 2.5 s at 100/s (50 at once, then 100/s)
  GrantLeases(server_.get(), kLeases, 60);
  clock.Advance(absl::Seconds(61));
  absl::SleepFor(absl::Seconds(1));
  EXPECT_GT(LeaseCount(server_.get()), 0);
  EXPECT_TRUE(
      testutil::WaitUntil([&] { return LeaseCount(server_.get()) == 0; }, absl::Seconds(30)));
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

// --- Watch -------------------------------------------------------------------

TEST_F(ServerTest, WatchSeesWritesAppliedThroughTheServerInOrder) {
  StartServer();
  mvcc::WatchableStore* watchable = server_->Watchable();
  ASSERT_NE(watchable, nullptr);
  EXPECT_EQ(server_->KV(), static_cast<mvcc::KV*>(watchable));
  std::unique_ptr<mvcc::WatchStream> stream = watchable->NewWatchStream();
  ASSERT_OK(stream->Watch(mvcc::kAutoWatchID, "w/", "w0", 0).status());

  ASSERT_OK(Put("w/a", "1").status());    // 2
  ASSERT_OK(Put("other", "x").status());  // 3, not watched
  ASSERT_OK(Put("w/b", "2").status());    // 4
  etcdserverpb::TxnRequest t;             // 5: both events in one revision
  auto* tp = t.add_success()->mutable_request_put();
  tp->set_key("w/a");
  tp->set_value("3");
  t.add_success()->mutable_request_delete_range()->set_key("w/b");
  ASSERT_OK(server_->Txn(t, ctx_).status());
  etcdserverpb::DeleteRangeRequest dr;  // 6
  dr.set_key("w/a");
  ASSERT_OK(server_->DeleteRange(dr, ctx_).status());
  etcdserverpb::LeaseGrantRequest g;
  g.set_ttl(60);
  ASSERT_OK_AND_ASSIGN(etcdserverpb::LeaseGrantResponse lease, server_->LeaseGrant(g, ctx_));
  ASSERT_OK(Put("w/l", "4", lease.id()).status());  // 7
  etcdserverpb::LeaseRevokeRequest rv;              // 8: the revocation's delete
  rv.set_id(lease.id());
  ASSERT_OK(server_->LeaseRevoke(rv, ctx_).status());

  const std::vector<std::string> want = {"PUT w/a=1@2",  "PUT w/b=2@4",  "PUT w/a=3@5",
                                         "DELETE w/b@5", "DELETE w/a@6", "PUT w/l=4@7",
                                         "DELETE w/l@8"};
  EXPECT_EQ(CollectEvents(stream.get(), want.size()), want);
  EXPECT_FALSE(stream->WaitForResponse(absl::Milliseconds(100)));
}

TEST_F(ServerTest, WatchFromAnOldRevisionReplays) {
  StartServer();
  for (int i = 0; i < 5; ++i) ASSERT_OK(Put("h", absl::StrCat("v", i)).status());  // 2..6
  etcdserverpb::DeleteRangeRequest dr;
  dr.set_key("h");
  ASSERT_OK(server_->DeleteRange(dr, ctx_).status());  // 7
  std::unique_ptr<mvcc::WatchStream> stream = server_->Watchable()->NewWatchStream();
  ASSERT_OK(stream->Watch(mvcc::kAutoWatchID, "h", "", /*start_rev=*/4).status());
  std::vector<std::string> want = {"PUT h=v2@4", "PUT h=v3@5", "PUT h=v4@6", "DELETE h@7"};
  EXPECT_EQ(CollectEvents(stream.get(), want.size()), want);
  // Then live events follow without a gap.
  ASSERT_OK(Put("h", "new").status());
  EXPECT_EQ(CollectEvents(stream.get(), 1), std::vector<std::string>{"PUT h=new@8"});

  // A compacted start revision is reported, not silently skipped.
  etcdserverpb::CompactionRequest c;
  c.set_revision(6);
  ASSERT_OK(server_->Compact(c, ctx_).status());
  std::unique_ptr<mvcc::WatchStream> old = server_->Watchable()->NewWatchStream();
  ASSERT_OK(old->Watch(mvcc::kAutoWatchID, "h", "", /*start_rev=*/3).status());
  ASSERT_TRUE(old->WaitForResponse(absl::Seconds(10)));
  std::optional<mvcc::WatchResponse> r = old->Poll();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->compact_revision, 6);
}

TEST_F(ServerTest, WatchAfterRestartReplaysExactlyTheWrites) {
  options_.snapshot_count = 10;  // restart from a snapshot plus the WAL
  options_.snapshot_catchup_entries = 2;
  StartServer();
  std::vector<std::string> want;
  for (int i = 0; i < 40; ++i) {
    const std::string key = absl::StrCat("r/", i % 7);
    if (i % 5 == 4) {
      etcdserverpb::DeleteRangeRequest dr;
      dr.set_key(key);
      ASSERT_OK_AND_ASSIGN(etcdserverpb::DeleteRangeResponse d, server_->DeleteRange(dr, ctx_));
      if (d.deleted() > 0) want.push_back(absl::StrCat("DELETE ", key, "@", d.header().revision()));
    } else {
      const std::string value = absl::StrCat("v", i);
      ASSERT_OK_AND_ASSIGN(etcdserverpb::PutResponse p, Put(key, value));
      want.push_back(absl::StrCat("PUT ", key, "=", value, "@", p.header().revision()));
    }
    ASSERT_OK(Put(absl::StrCat("unwatched", i), "x").status());
  }
  ASSERT_GT(server_->Metrics().snapshot_count, 0u);
  Restart();
  ASSERT_OK(Put("r/after", "a").status());
  want.push_back(absl::StrCat("PUT r/after=a@", server_->Header().revision()));

  std::unique_ptr<mvcc::WatchStream> stream = server_->Watchable()->NewWatchStream();
  ASSERT_OK(stream->Watch(mvcc::kAutoWatchID, "r/", "r0", /*start_rev=*/1).status());
  EXPECT_EQ(CollectEvents(stream.get(), want.size()), want);
  EXPECT_FALSE(stream->WaitForResponse(absl::Milliseconds(100)));

  // From the middle: exactly the suffix.
  const size_t mid = want.size() / 2;
  const int64_t mid_rev = std::stoll(want[mid].substr(want[mid].rfind('@') + 1));
  std::unique_ptr<mvcc::WatchStream> from_mid = server_->Watchable()->NewWatchStream();
  ASSERT_OK(from_mid->Watch(mvcc::kAutoWatchID, "r/", "r0", mid_rev).status());
  std::vector<std::string> suffix(want.begin() + mid, want.end());
  EXPECT_EQ(CollectEvents(from_mid.get(), suffix.size()), suffix);
}

// --- Leader requirement -------------------------------------------------------

TEST_F(ServerTest, RequireLeaderFailsFastWithoutALeader) {
  // No campaign at start: the first election waits 2-4 s of ticks.
  options_.initial_election_tick_advance = false;
  options_.heartbeat_interval = absl::Milliseconds(50);
  options_.election_ticks = 40;
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(server_, EtcdServer::Start(options_));
  RequestContext require;
  require.require_leader = true;
  etcdserverpb::PutRequest p;
  p.set_key("k");
  p.set_value("v");
  const absl::Status s = server_->Put(p, require).status();
  RangeRequest rr;
  rr.set_key("k");
  const absl::Status range = server_->Range(rr, require).status();
  const absl::Status health = server_->CheckHealth(absl::Now() + absl::Seconds(1));
  if (absl::Now() - start < absl::Milliseconds(1900)) {  // surely before any election
    EXPECT_FALSE(server_->HasLeader());
    EXPECT_TRUE(rpctypes::IsNoLeader(s)) << s;
    EXPECT_EQ(s.message(), "etcdserver: no leader");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(rpctypes::IsNoLeader(range)) << range;
    EXPECT_TRUE(rpctypes::IsNoLeader(health)) << health;
  } else {
    GTEST_LOG_(WARNING) << "the machine was too slow to observe the leaderless window";
  }
  // Without the requirement a write waits for the election and succeeds.
  RequestContext patient;
  patient.deadline = absl::Now() + absl::Seconds(30);
  p.set_key("waited");
  p.set_value("1");
  ASSERT_OK(server_->Put(p, patient).status());
  EXPECT_TRUE(server_->HasLeader());
  EXPECT_EQ(ValueOf("waited"), "1");
  p.set_key("required");
  EXPECT_OK(server_->Put(p, require).status());
}

// --- Asynchronous calls -----------------------------------------------------------

// Results of async calls, each recorded once per callback, with the thread
// it ran on.
template <typename T>
class Results {
 public:
  EtcdServer::Callback<T> Add() {
    return [this](absl::StatusOr<T> r) {
      absl::MutexLock l(&mu_);
      results_.push_back(std::move(r));
      threads_.push_back(std::this_thread::get_id());
    };
  }
  size_t size() {
    absl::MutexLock l(&mu_);
    return results_.size();
  }
  std::vector<absl::StatusOr<T>> results() {
    absl::MutexLock l(&mu_);
    return results_;
  }
  std::vector<std::thread::id> threads() {
    absl::MutexLock l(&mu_);
    return threads_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<T>> results_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ServerTest, AsyncCallsCompleteOnceFromTheServerThreads) {
  StartServer();
  constexpr int kPuts = 300;
  Results<etcdserverpb::PutResponse> puts;
  for (int i = 0; i < kPuts; ++i) {
    etcdserverpb::PutRequest p;
    p.set_key(absl::StrCat("async/", i % 10));
    p.set_value(absl::StrCat(i));
    server_->PutAsync(p, ctx_, puts.Add());
  }
  ASSERT_TRUE(testutil::WaitUntil([&] { return puts.size() == kPuts; }, absl::Seconds(30)));
  std::vector<int64_t> revisions;
  for (const auto& r : puts.results()) {
    ASSERT_OK(r.status());
    revisions.push_back(r->header().revision());
    EXPECT_EQ(r->header().member_id(), server_->ID());
  }
  std::sort(revisions.begin(), revisions.end());
  EXPECT_EQ(std::unique(revisions.begin(), revisions.end()), revisions.end());
  EXPECT_EQ(revisions.back() - revisions.front(), kPuts - 1);
  for (std::thread::id t : puts.threads()) EXPECT_NE(t, std::this_thread::get_id());

  // A linearizable read issued after the writes completed sees the last one.
  Results<etcdserverpb::RangeResponse> ranges;
  RangeRequest rr;
  rr.set_key("async/");
  rr.set_range_end("async0");
  server_->RangeAsync(rr, ctx_, ranges.Add());
  ASSERT_TRUE(testutil::WaitUntil([&] { return ranges.size() == 1; }, absl::Seconds(10)));
  ASSERT_OK(ranges.results()[0].status());
  EXPECT_EQ(ranges.results()[0]->kvs_size(), 10);
  EXPECT_EQ(ranges.results()[0]->header().revision(), revisions.back());
  EXPECT_NE(ranges.threads()[0], std::this_thread::get_id());

  // Txn, DeleteRange, Compact and leases.
  Results<etcdserverpb::TxnResponse> txns;
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* c = txn.add_compare();
  c->set_key("async/0");
  c->set_target(etcdserverpb::Compare::VALUE);
  c->set_result(etcdserverpb::Compare::EQUAL);
  c->set_value("290");
  txn.add_success()->mutable_request_put()->set_key("txn-ok");
  server_->TxnAsync(txn, ctx_, txns.Add());
  Results<etcdserverpb::DeleteRangeResponse> deletes;
  etcdserverpb::DeleteRangeRequest dr;
  dr.set_key("async/1");
  server_->DeleteRangeAsync(dr, ctx_, deletes.Add());
  Results<etcdserverpb::LeaseGrantResponse> grants;
  etcdserverpb::LeaseGrantRequest lg;
  lg.set_ttl(60);
  server_->LeaseGrantAsync(lg, ctx_, grants.Add());
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return txns.size() == 1 && deletes.size() == 1 && grants.size() == 1; },
      absl::Seconds(10)));
  ASSERT_OK(txns.results()[0].status());
  EXPECT_TRUE(txns.results()[0]->succeeded());
  EXPECT_EQ(ValueOf("txn-ok"), "");
  ASSERT_OK(deletes.results()[0].status());
  EXPECT_EQ(deletes.results()[0]->deleted(), 1);
  ASSERT_OK(grants.results()[0].status());
  Results<etcdserverpb::LeaseRevokeResponse> revokes;
  etcdserverpb::LeaseRevokeRequest lr;
  lr.set_id(grants.results()[0]->id());
  server_->LeaseRevokeAsync(lr, ctx_, revokes.Add());
  server_->LeaseRevokeAsync(lr, ctx_, revokes.Add());
  Results<etcdserverpb::CompactionResponse> compactions;
  etcdserverpb::CompactionRequest cr;
  cr.set_revision(revisions.front());
  server_->CompactAsync(cr, ctx_, compactions.Add());
  ASSERT_TRUE(testutil::WaitUntil([&] { return revokes.size() == 2 && compactions.size() == 1; },
                                  absl::Seconds(10)));
  EXPECT_OK(revokes.results()[0].status());
  EXPECT_TRUE(rpctypes::IsLeaseNotFound(revokes.results()[1].status()))
      << revokes.results()[1].status();
  EXPECT_OK(compactions.results()[0].status());
  EXPECT_TRUE(rpctypes::IsCompacted(Get("async/0", "", revisions.front() - 1).status()));
}

TEST_F(ServerTest, AsyncBadRequestsFailOnTheCallingThread) {
  StartServer();
  Results<etcdserverpb::PutResponse> puts;
  etcdserverpb::PutRequest p;  // empty key
  server_->PutAsync(p, ctx_, puts.Add());
  ASSERT_EQ(puts.size(), 1u);  // before PutAsync returned
  EXPECT_TRUE(rpctypes::IsEmptyKey(puts.results()[0].status())) << puts.results()[0].status();
  EXPECT_EQ(puts.threads()[0], std::this_thread::get_id());
  Results<etcdserverpb::RangeResponse> ranges;
  RangeRequest rr;  // empty key
  server_->RangeAsync(rr, ctx_, ranges.Add());
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_TRUE(rpctypes::IsEmptyKey(ranges.results()[0].status()));
}

// A member of a two-member cluster whose peer never starts: no leader, so
// nothing is ever applied and every request meets its deadline.
TEST_F(ServerTest, AsyncRequestsNeverAppliedTimeOutAndStopFailsTheRest) {
  options_.initial_cluster = "default=http://localhost:2380,absent=http://localhost:2381";
  ASSERT_OK_AND_ASSIGN(server_, EtcdServer::Start(options_));
  RequestContext soon;
  soon.deadline = absl::Now() + absl::Milliseconds(300);
  Results<etcdserverpb::PutResponse> timed_out;
  etcdserverpb::PutRequest p;
  p.set_key("k");
  p.set_value("v");
  for (int i = 0; i < 5; ++i) server_->PutAsync(p, soon, timed_out.Add());
  Results<etcdserverpb::RangeResponse> read_timed_out;
  RangeRequest rr;
  rr.set_key("k");
  server_->RangeAsync(rr, soon, read_timed_out.Add());
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return timed_out.size() == 5 && read_timed_out.size() == 1; }, absl::Seconds(30)));
  // etcd's choice: no leader was elected after the requests started, so
  // not "possibly due to previous leader failure".
  for (const auto& r : timed_out.results()) {
    EXPECT_EQ(r.status().message(), "etcdserver: request timed out");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_TRUE(rpctypes::IsTimeout(read_timed_out.results()[0].status()))
      << read_timed_out.results()[0].status();
  // None of ours is pending; the member's own publish request (its name and
  // client URLs, retried until a leader applies it) may be.
  EXPECT_LE(server_->Metrics().proposals_pending, 1);

  // The blocking form meets the same deadline.
  RequestContext soon2;
  soon2.deadline = absl::Now() + absl::Milliseconds(200);
  EXPECT_EQ(server_->Put(p, soon2).status().message(), "etcdserver: request timed out");

  // Requests still waiting when the server stops fail with kErrStopped.
  RequestContext later;
  later.deadline = absl::Now() + absl::Seconds(60);
  Results<etcdserverpb::PutResponse> stopped;
  Results<etcdserverpb::RangeResponse> read_stopped;
  server_->PutAsync(p, later, stopped.Add());
  server_->RangeAsync(rr, later, read_stopped.Add());
  EXPECT_EQ(stopped.size(), 0u);
  server_->Stop();
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_TRUE(rpctypes::IsStopped(stopped.results()[0].status())) << stopped.results()[0].status();
  ASSERT_EQ(read_stopped.size(), 1u);
  EXPECT_TRUE(rpctypes::IsStopped(read_stopped.results()[0].status()));
  // After Stop, at once.
  server_->PutAsync(p, later, stopped.Add());
  ASSERT_EQ(stopped.size(), 2u);
  EXPECT_TRUE(rpctypes::IsStopped(stopped.results()[1].status()));
  EXPECT_EQ(timed_out.size(), 5u);  // each callback ran once
}

// --- Auto compaction ------------------------------------------------------------

TEST_F(ServerTest, AutoCompactionByRevision) {
  options_.auto_compaction_mode = "revision";
  options_.auto_compaction_revisions = 5;
  options_.auto_compaction_check_interval = absl::Milliseconds(20);
  StartServer();
  for (int i = 0; i < 20; ++i) ASSERT_OK(Put("k", absl::StrCat(i)).status());  // 2..21
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->Metrics().compact_revision == 16; },
                                  absl::Seconds(10)))
      << server_->Metrics().compact_revision;
  EXPECT_TRUE(rpctypes::IsCompacted(Get("k", "", 15).status()));
  ASSERT_OK_AND_ASSIGN(etcdserverpb::RangeResponse r, Get("k", "", 16));
  EXPECT_EQ(r.kvs(0).value(), "14");
  // Nothing more while the revision stands still.
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(server_->Metrics().compact_revision, 16);
}

TEST_F(ServerTest, AutoCompactionPeriodic) {
  options_.auto_compaction_mode = "periodic";
  options_.auto_compaction_period = absl::Seconds(1);
  const absl::Time start = absl::Now();
  StartServer();
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put("k", absl::StrCat(i)).status());  // 2..11
  if (absl::Now() - start < absl::Milliseconds(900)) {
    EXPECT_LT(server_->Metrics().compact_revision, 2) << "compacted before the retention";
  }
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->Metrics().compact_revision == 11; },
                                  absl::Seconds(10)))
      << server_->Metrics().compact_revision;
  // A revision is compacted no sooner than one retention after it was made.
  ASSERT_OK(Put("k", "late").status());  // 12
  const absl::Time made = absl::Now();
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->Metrics().compact_revision == 12; },
                                  absl::Seconds(10)));
  EXPECT_GE(absl::Now() - made, absl::Milliseconds(950));
  EXPECT_TRUE(rpctypes::IsCompacted(Get("k", "", 11).status()));
}

// --- WAL retention -----------------------------------------------------------------

TEST_F(ServerTest, MaxWalsRemovesOldSegments) {
  options_.wal_segment_size_bytes = 64 * 1024;
  options_.snapshot_count = 20;
  options_.snapshot_catchup_entries = 5;
  options_.max_wals = 2;
  StartServer();
  const std::string value(1000, 'w');
  for (int i = 0; i < 400; ++i) ASSERT_OK(Put(absl::StrCat("w", i % 50), value).status());
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->Metrics().snapshot_count >= 15; },
                                  absl::Seconds(10)));
  const std::string wal_dir = options_.data_dir + "/member/wal";
  std::vector<std::string> wals = ListDir(wal_dir, ".wal");
  std::sort(wals.begin(), wals.end());
  ASSERT_FALSE(wals.empty());
  // About 400 KB of entries went through 64 KB segments: at least 6 were cut.
  uint64_t newest_seq = std::stoull(wals.back().substr(0, 16), nullptr, 16);
  EXPECT_GE(newest_seq, 5u) << absl::StrJoin(wals, " ");
  EXPECT_NE(wals.front(), "0000000000000000-0000000000000000.wal");
  // --max-wals 2, plus segments still locked by the writer and one cut since.
  EXPECT_LE(wals.size(), 4u) << absl::StrJoin(wals, " ");
  Restart();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(ValueOf(absl::StrCat("w", i)), value);
}

// --- Logging ------------------------------------------------------------------------

TEST_F(ServerTest, RaftLogsThroughTheMemberLoggerAtItsLevel) {
  auto sink = std::make_shared<log::StringSink>();
  log::LoggerOptions lo;
  lo.level = log::Level::kInfo;
  log::Logger logger(lo, {sink});
  options_.logger = &logger;
  testing::internal::CaptureStderr();
  StartServer();
  server_->Stop();
  std::string err = testing::internal::GetCapturedStderr();
  server_.reset();
  EXPECT_FALSE(absl::StrContains(err, "switched to configuration")) << err;
  EXPECT_TRUE(absl::StrContains(sink->contents(), "switched to configuration")) << sink->contents();

  // At warn, raft's info lines go nowhere.
  sink->Clear();
  logger.SetLevel(log::Level::kWarn);
  options_.data_dir = dir_->path() + "/quiet.etcd";
  testing::internal::CaptureStderr();
  StartServer();
  server_->Stop();
  err = testing::internal::GetCapturedStderr();
  server_.reset();
  EXPECT_FALSE(absl::StrContains(err, "switched to configuration")) << err;
  EXPECT_FALSE(absl::StrContains(sink->contents(), "switched to configuration"))
      << sink->contents();
}

}  // namespace
}  // namespace etcd::etcdserver
