// Two or three transports on loopback ports exchanging raft messages and
// snapshots, with the refusals and failures a cluster sees.

#include "server/transport/transport.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/tls/test_certs.h"

namespace etcd::transport {
namespace {

constexpr uint64_t kCluster = 0xc1u;

class RecordingHandler : public Handler {
 public:
  absl::Status Process(const raftpb::Message& m) override {
    absl::MutexLock lock(&mu_);
    messages_.push_back(m);
    return absl::OkStatus();
  }
  absl::Status ProcessSnapshot(const raftpb::Message& m, const std::string& path) override {
    absl::MutexLock lock(&mu_);
    snapshots_.push_back(m);
    snapshot_paths_.push_back(path);
    return absl::OkStatus();
  }
  bool IsRemoved(uint64_t id) override {
    absl::MutexLock lock(&mu_);
    return removed_.count(id) > 0;
  }
  void ReportUnreachable(uint64_t id) override {
    absl::MutexLock lock(&mu_);
    ++unreachable_[id];
  }
  void ReportSnapshot(uint64_t id, bool ok) override {
    absl::MutexLock lock(&mu_);
    snapshot_reports_.push_back({id, ok});
  }
  absl::StatusOr<std::string> HandleCall(uint64_t from, const std::string& method,
                                         const std::string& payload) override {
    if (method == "echo") return absl::StrCat(from, ":", payload);
    return absl::FailedPreconditionError(absl::StrCat("etcdserver: no such call ", method));
  }
  absl::StatusOr<std::string> Members() override { return std::string("the members"); }
  void OnRemoved() override {
    absl::MutexLock lock(&mu_);
    told_removed_ = true;
  }

  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    removed_.insert(id);
  }
  std::vector<raftpb::Message> messages() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  std::vector<raftpb::Message> snapshots() const {
    absl::MutexLock lock(&mu_);
    return snapshots_;
  }
  std::vector<std::string> snapshot_paths() const {
    absl::MutexLock lock(&mu_);
    return snapshot_paths_;
  }
  int unreachable(uint64_t id) const {
    absl::MutexLock lock(&mu_);
    auto it = unreachable_.find(id);
    return it == unreachable_.end() ? 0 : it->second;
  }
  std::vector<std::pair<uint64_t, bool>> snapshot_reports() const {
    absl::MutexLock lock(&mu_);
    return snapshot_reports_;
  }
  bool told_removed() const {
    absl::MutexLock lock(&mu_);
    return told_removed_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<raftpb::Message> messages_;
  std::vector<raftpb::Message> snapshots_;
  std::vector<std::string> snapshot_paths_;
  std::set<uint64_t> removed_;
  std::map<uint64_t, int> unreachable_;
  std::vector<std::pair<uint64_t, bool>> snapshot_reports_;
  bool told_removed_ = false;
};

raftpb::Message Msg(uint64_t from, uint64_t to, uint64_t index,
                    raftpb::MessageType type = raftpb::MsgApp) {
  raftpb::Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_term(3);
  m.set_index(index);
  raftpb::Entry* e = m.add_entries();
  e->set_term(3);
  e->set_index(index + 1);
  e->set_data(absl::StrCat("entry ", index));
  return m;
}

struct Member {
  RecordingHandler handler;
  std::unique_ptr<PeerTransport> transport;
  std::string url;
};

absl::StatusOr<std::unique_ptr<Member>> StartMember(uint64_t id, uint64_t cluster,
                                                    const std::string& snap_dir = "",
                                                    int port = 0,
                                                    size_t queue_capacity = 4096,
                                                    std::optional<PeerTls> tls = std::nullopt) {
  auto member = std::make_unique<Member>();
  TransportOptions options;
  options.cluster_id = cluster;
  options.member_id = id;
  options.listen_addresses = {absl::StrCat("127.0.0.1:", port)};
  options.handler = &member->handler;
  options.snapshot_dir = snap_dir;
  options.queue_capacity = queue_capacity;
  options.tls = tls;
  options.snapshot_db = [snap_dir](const raftpb::Message& m) -> absl::StatusOr<std::string> {
    return absl::StrCat(snap_dir, "/outgoing-", m.snapshot().metadata().index(), ".db");
  };
  absl::StatusOr<std::unique_ptr<PeerTransport>> t = PeerTransport::Start(std::move(options));
  if (!t.ok()) return t.status();
  member->transport = std::move(*t);
  member->url = absl::StrCat("http://127.0.0.1:", member->transport->ports()[0]);
  return member;
}

TEST(PeerAddressTest, ParsesAndRefuses) {
  EXPECT_EQ(*PeerAddress("http://127.0.0.1:2380"), "127.0.0.1:2380");
  EXPECT_EQ(*PeerAddress("http://host:1/x"), "host:1");
  EXPECT_EQ(*PeerAddress("https://h:1"), "h:1");
  EXPECT_EQ(PeerAddress("unix://x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PeerAddress("http://nohostport").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PeerTransportTest, DeliversMessagesInOrderBothWays) {
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  a->transport->AddPeer(2, {b->url});
  b->transport->AddPeer(1, {a->url});

  std::vector<raftpb::Message> batch;
  for (uint64_t i = 0; i < 1000; ++i) batch.push_back(Msg(1, 2, i));
  a->transport->Send(batch);
  b->transport->Send({Msg(2, 1, 77, raftpb::MsgAppResp)});
  // Messages to members nobody added go nowhere.
  a->transport->Send({Msg(1, 9, 1)});

  ASSERT_TRUE(testutil::WaitUntil([&] { return b->handler.messages().size() == 1000; },
                                  absl::Seconds(20)))
      << b->handler.messages().size();
  std::vector<raftpb::Message> got = b->handler.messages();
  for (uint64_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].index(), i);
    EXPECT_EQ(got[i].entries(0).data(), absl::StrCat("entry ", i));
  }
  ASSERT_TRUE(testutil::WaitUntil([&] { return a->handler.messages().size() == 1; },
                                  absl::Seconds(20)));
  EXPECT_EQ(a->handler.messages()[0].type(), raftpb::MsgAppResp);
  EXPECT_EQ(a->transport->Stats(2).sent, 1000u);
  EXPECT_TRUE(a->transport->Stats(2).connected);
  EXPECT_EQ(a->handler.unreachable(2), 0);
}

TEST(PeerTransportTest, RefusesOtherClustersAndWrongMemberIds) {
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  ASSERT_OK_AND_ASSIGN(auto stranger, StartMember(1, kCluster + 1));
  ASSERT_OK_AND_ASSIGN(auto confused, StartMember(1, kCluster));
  stranger->transport->AddPeer(2, {b->url});
  // `confused` believes member 3 lives at b's URL.
  confused->transport->AddPeer(3, {b->url});
  stranger->transport->Send({Msg(1, 2, 1)});
  confused->transport->Send({Msg(1, 3, 1)});

  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        return stranger->handler.unreachable(2) > 0 && confused->handler.unreachable(3) > 0;
      },
      absl::Seconds(20)));
  EXPECT_GE(b->transport->RejectedCalls(), 2u);
  EXPECT_TRUE(b->handler.messages().empty());
  EXPECT_GE(stranger->transport->Stats(2).failures, 1u);
}

TEST(PeerTransportTest, RemovedMemberIsRefusedAndTold) {
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  b->handler.Remove(1);
  a->transport->AddPeer(2, {b->url});
  a->transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(testutil::WaitUntil([&] { return a->handler.told_removed(); }, absl::Seconds(20)));
  EXPECT_TRUE(b->handler.messages().empty());
}

TEST(PeerTransportTest, UnreachablePeerIsReportedAndSendNeverBlocks) {
  ASSERT_OK_AND_ASSIGN(int port, testutil::FreePort());
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster, "", 0, /*queue_capacity=*/64));
  a->transport->AddPeer(2, {absl::StrCat("http://127.0.0.1:", port)});
  // Far more than the queue holds: the excess is dropped, not waited for.
  for (int round = 0; round < 100; ++round) {
    std::vector<raftpb::Message> batch;
    for (uint64_t i = 0; i < 100; ++i) batch.push_back(Msg(1, 2, round * 100 + i));
    a->transport->Send(std::move(batch));
  }
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return a->handler.unreachable(2) > 0; }, absl::Seconds(20)));
  PeerStats stats = a->transport->Stats(2);
  EXPECT_FALSE(stats.connected);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_GE(stats.dropped, 10000u - 64u - 512u);
}

TEST(PeerTransportTest, PeerIsActiveFromTheAcceptedStreamUntilItBreaks) {
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  ASSERT_OK_AND_ASSIGN(auto stranger, StartMember(3, kCluster + 1));
  EXPECT_EQ(a->transport->ActiveSince(2), absl::InfinitePast());  // unknown peer
  const absl::Time before = absl::Now();
  // Nothing is sent: the stream is opened anyway.
  a->transport->AddPeer(2, {b->url});
  stranger->transport->AddPeer(2, {b->url});
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return a->transport->ActiveSince(2) != absl::InfinitePast(); }, absl::Seconds(20)));
  const absl::Time since = a->transport->ActiveSince(2);
  EXPECT_GE(since, before);
  EXPECT_LE(since, absl::Now());
  EXPECT_TRUE(a->transport->Stats(2).connected);
  // It stays put while the stream lasts, idle or not.
  absl::SleepFor(absl::Milliseconds(300));
  a->transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(testutil::WaitUntil([&] { return !b->handler.messages().empty(); },
                                  absl::Seconds(20)));
  EXPECT_EQ(a->transport->ActiveSince(2), since);
  // A member of another cluster is refused, so never active.
  ASSERT_TRUE(testutil::WaitUntil([&] { return stranger->handler.unreachable(2) > 0; },
                                  absl::Seconds(20)));
  EXPECT_EQ(stranger->transport->ActiveSince(2), absl::InfinitePast());
  // The peer goes away: inactive.
  b->transport->Stop();
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return a->transport->ActiveSince(2) == absl::InfinitePast(); }, absl::Seconds(20)));
  EXPECT_FALSE(a->transport->Stats(2).connected);
}

TEST(PeerTransportTest, ReconnectsWhenThePeerComesBack) {
  ASSERT_OK_AND_ASSIGN(int port, testutil::FreePort());
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  a->transport->AddPeer(2, {absl::StrCat("http://127.0.0.1:", port)});
  a->transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return a->handler.unreachable(2) > 0; }, absl::Seconds(20)));

  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster, "", port));
  // Raft keeps sending (heartbeats); once the peer is back they arrive.
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        a->transport->Send({Msg(1, 2, 2, raftpb::MsgHeartbeat)});
        for (const raftpb::Message& m : b->handler.messages()) {
          if (m.type() == raftpb::MsgHeartbeat) return true;
        }
        return false;
      },
      absl::Seconds(30), absl::Milliseconds(100)));
  EXPECT_TRUE(a->transport->Stats(2).connected);
  EXPECT_LE(a->transport->ActiveSince(2), absl::Now());
}

TEST(PeerTransportTest, FailsOverToTheNextUrl) {
  ASSERT_OK_AND_ASSIGN(int dead_port, testutil::FreePort());
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  a->transport->AddPeer(2, {absl::StrCat("http://127.0.0.1:", dead_port), b->url});
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        a->transport->Send({Msg(1, 2, 5, raftpb::MsgHeartbeat)});
        return !b->handler.messages().empty();
      },
      absl::Seconds(30), absl::Milliseconds(100)));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PeerTransportTest, SendsSnapshotWithItsDatabase) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("transport"));
  std::string a_dir = dir.path() + "/a";
  std::string b_dir = dir.path() + "/b";
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster, a_dir));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster, b_dir));
  a->transport->AddPeer(2, {b->url});

  // 3.5 MiB: several chunks.
  std::string db;
  for (int i = 0; db.size() < (7u << 19); ++i) db += absl::StrCat("key", i, "=value", i, ";");
  ASSERT_EQ(system(absl::StrCat("mkdir -p ", a_dir).c_str()), 0);
  {
    std::ofstream out(a_dir + "/outgoing-42.db", std::ios::binary);
    out << db;
  }
  raftpb::Message snap;
  snap.set_type(raftpb::MsgSnap);
  snap.set_from(1);
  snap.set_to(2);
  snap.set_term(4);
  snap.mutable_snapshot()->mutable_metadata()->set_index(42);
  snap.mutable_snapshot()->mutable_metadata()->set_term(4);
  snap.mutable_snapshot()->set_data("raft snapshot data");
  a->transport->Send({snap});

  ASSERT_TRUE(testutil::WaitUntil([&] { return !a->handler.snapshot_reports().empty(); },
                                  absl::Seconds(30)));
  EXPECT_EQ(a->handler.snapshot_reports()[0], std::make_pair(uint64_t{2}, true));
  ASSERT_EQ(b->handler.snapshots().size(), 1u);
  EXPECT_EQ(b->handler.snapshots()[0].snapshot().metadata().index(), 42u);
  EXPECT_EQ(b->handler.snapshots()[0].snapshot().data(), "raft snapshot data");
  EXPECT_EQ(b->handler.snapshot_paths()[0], b_dir + "/000000000000002a.snap.db");
  EXPECT_EQ(ReadFile(b->handler.snapshot_paths()[0]), db);
}

TEST(PeerTransportTest, FailedSnapshotIsReported) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("transport"));
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster, dir.path() + "/a"));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster, dir.path() + "/b"));
  a->transport->AddPeer(2, {b->url});
  raftpb::Message snap;
  snap.set_type(raftpb::MsgSnap);
  snap.set_to(2);
  snap.mutable_snapshot()->mutable_metadata()->set_index(9);  // no outgoing-9.db exists
  a->transport->Send({snap});
  ASSERT_TRUE(testutil::WaitUntil([&] { return !a->handler.snapshot_reports().empty(); },
                                  absl::Seconds(30)));
  EXPECT_EQ(a->handler.snapshot_reports()[0], std::make_pair(uint64_t{2}, false));
  EXPECT_TRUE(b->handler.snapshots().empty());
}

TEST(PeerTransportTest, RemovePeerAndStopAreClean) {
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  a->transport->AddPeer(2, {b->url});
  a->transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(
      testutil::WaitUntil([&] { return b->handler.messages().size() == 1; }, absl::Seconds(20)));
  a->transport->RemovePeer(2);
  a->transport->Send({Msg(1, 2, 2)});
  EXPECT_EQ(a->transport->Stats(2).sent, 0u);  // unknown again
  b->transport->Stop();
  b->transport->Stop();
  a->transport->Stop();
}

TEST(PeerTransportTest, ForwardsCallsAndTheirErrors) {
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  a->transport->AddPeer(2, {b->url});
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  ASSERT_OK_AND_ASSIGN(std::string reply, a->transport->Call(2, "echo", "hi", deadline));
  EXPECT_EQ(reply, "1:hi");
  absl::StatusOr<std::string> refused = a->transport->Call(2, "other", "", deadline);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "etcdserver: no such call other");
  EXPECT_EQ(a->transport->Call(7, "echo", "", deadline).status().code(),
            absl::StatusCode::kUnavailable);
  // A peer that is down: the call fails by its deadline, not later.
  b->transport->Stop();
  absl::StatusOr<std::string> down =
      a->transport->Call(2, "echo", "", absl::Now() + absl::Seconds(2));
  EXPECT_FALSE(down.ok());
}

TEST(PeerTransportTest, ServesMembersToStrangers) {
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster));
  ASSERT_OK_AND_ASSIGN(ClusterMembers members,
                       FetchMembers(b->url, absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(members.cluster_id, kCluster);
  EXPECT_EQ(members.payload, "the members");
  ASSERT_OK_AND_ASSIGN(int dead, testutil::FreePort());
  absl::StatusOr<ClusterMembers> none =
      FetchMembers(absl::StrCat("http://127.0.0.1:", dead), absl::Now() + absl::Seconds(2));
  EXPECT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("could not get the cluster members"), std::string::npos);
}

TEST(PeerTransportTest, RejectsBadOptions) {
  TransportOptions options;
  EXPECT_EQ(PeerTransport::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  RecordingHandler handler;
  options.handler = &handler;
  options.listen_addresses = {"256.1.1.1:99999"};
  EXPECT_FALSE(PeerTransport::Start(options).ok());
}

TEST(PeerTransportTest, TlsBetweenMembers) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("peer-tls"));
  ASSERT_OK_AND_ASSIGN(tls::TestPki pki, tls::MakeTestPki(dir.path()));
  PeerTls tls;
  tls.cert_pem = ReadFile(pki.server_cert);  // SAN 127.0.0.1, CN "server"
  tls.key_pem = ReadFile(pki.server_key);
  tls.trusted_ca_pem = ReadFile(pki.ca_cert);
  tls.client_cert_auth = true;
  ASSERT_OK_AND_ASSIGN(auto a, StartMember(1, kCluster, "", 0, 4096, tls));
  ASSERT_OK_AND_ASSIGN(auto b, StartMember(2, kCluster, "", 0, 4096, tls));
  const std::string b_url = absl::StrCat("https://127.0.0.1:", b->transport->ports()[0]);
  a->transport->AddPeer(2, {b_url});
  a->transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(testutil::WaitUntil([&] { return !b->handler.messages().empty(); },
                                  absl::Seconds(20)));
  EXPECT_NE(a->transport->ActiveSince(2), absl::InfinitePast());
  // Calls and membership fetches go over TLS too.
  ASSERT_OK_AND_ASSIGN(ClusterMembers members,
                       FetchMembers(b_url, absl::Now() + absl::Seconds(10), tls));
  EXPECT_EQ(members.cluster_id, kCluster);
  EXPECT_FALSE(FetchMembers(b_url, absl::Now() + absl::Seconds(5)).ok());  // plaintext

  // Refused: a client certificate from a CA b does not trust, and no TLS.
  PeerTls stranger_tls = tls;
  stranger_tls.client_cert_pem = ReadFile(pki.other_client_cert);
  stranger_tls.client_key_pem = ReadFile(pki.other_client_key);
  ASSERT_OK_AND_ASSIGN(auto stranger, StartMember(3, kCluster, "", 0, 4096, stranger_tls));
  ASSERT_OK_AND_ASSIGN(auto plain, StartMember(4, kCluster));
  stranger->transport->AddPeer(2, {b_url});
  plain->transport->AddPeer(2, {b_url});
  stranger->transport->Send({Msg(3, 2, 1)});
  plain->transport->Send({Msg(4, 2, 1)});
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        return stranger->handler.unreachable(2) > 0 && plain->handler.unreachable(2) > 0;
      },
      absl::Seconds(20)));
  EXPECT_EQ(stranger->transport->ActiveSince(2), absl::InfinitePast());
  EXPECT_EQ(plain->transport->ActiveSince(2), absl::InfinitePast());
  for (const raftpb::Message& m : b->handler.messages()) EXPECT_EQ(m.from(), 1u);

  // --peer-cert-allowed-cn: only certificates with a listed common name.
  PeerTls picky = tls;
  picky.allowed_cns = {"someone-else"};
  ASSERT_OK_AND_ASSIGN(auto c, StartMember(5, kCluster, "", 0, 4096, picky));
  a->transport->AddPeer(5, {absl::StrCat("https://127.0.0.1:", c->transport->ports()[0])});
  a->transport->Send({Msg(1, 5, 1)});
  ASSERT_TRUE(testutil::WaitUntil([&] { return a->handler.unreachable(5) > 0; },
                                  absl::Seconds(20)));
  EXPECT_TRUE(c->handler.messages().empty());
  EXPECT_GE(c->transport->RejectedCalls(), 1u);
  picky.allowed_cns = {"server"};
  ASSERT_OK_AND_ASSIGN(auto d, StartMember(6, kCluster, "", 0, 4096, picky));
  a->transport->AddPeer(6, {absl::StrCat("https://127.0.0.1:", d->transport->ports()[0])});
  a->transport->Send({Msg(1, 6, 1)});
  EXPECT_TRUE(testutil::WaitUntil([&] { return !d->handler.messages().empty(); },
                                  absl::Seconds(20)));
}

}  // namespace
}  // namespace etcd::transport
