// Interoperability with a real etcd 3.4 (Debian's /usr/bin/etcd): an etcd is
// started on a temporary data dir, keys are written with etcdctl, etcd is
// stopped; its WAL and snapshot must decode with this project's //wal and
// //snap to exactly the requests written, its records must re-encode to the
// same bytes, and etcd must restart from a WAL this library wrote.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/etcdserverpb/etcdserver.pb.h"
#include "api/etcdserverpb/raft_internal.pb.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/net.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"
#include "snap/snapshotter.h"
#include "wal/decoder.h"
#include "wal/encoder.h"
#include "wal/fault_file_system.h"
#include "wal/names.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace etcd {
namespace {

using ::testing::HasSubstr;

constexpr char kEtcd[] = "/usr/bin/etcd";
constexpr char kEtcdctl[] = "/usr/bin/etcdctl";

struct Put {
  std::string key;
  std::string value;
};

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kEtcd, X_OK) != 0 || access(kEtcdctl, X_OK) != 0) {
      GTEST_SKIP() << "etcd is not installed (" << kEtcd << ", " << kEtcdctl
                   << "): install Debian's etcd-server and etcd-client to run this test";
    }
    ASSERT_OK_AND_ASSIGN(auto dir, testutil::TempDir::Create("interop"));
    tmp_.emplace(std::move(dir));
    data_dir_ = tmp_->Join("data");
  }

  // Starts etcd on `data_dir`; sets `*client` to its client URL.
  void StartEtcd(const std::string& data_dir, int snapshot_count,
                 std::unique_ptr<testutil::Subprocess>* etcd, std::string* client) {
    ASSERT_OK_AND_ASSIGN(std::vector<int> ports, testutil::FreePorts(2));
    *client = absl::StrCat("http://127.0.0.1:", ports[0]);
    const std::string peer = absl::StrCat("http://127.0.0.1:", ports[1]);
    testutil::SubprocessOptions options;
    options.argv = {kEtcd,
                    "--name",
                    "default",
                    "--data-dir",
                    data_dir,
                    "--listen-client-urls",
                    *client,
                    "--advertise-client-urls",
                    *client,
                    "--listen-peer-urls",
                    peer,
                    "--initial-advertise-peer-urls",
                    peer,
                    "--initial-cluster",
                    absl::StrCat("default=", peer),
                    "--snapshot-count",
                    absl::StrCat(snapshot_count)};
    ASSERT_OK_AND_ASSIGN(*etcd, testutil::Subprocess::Start(options));
    testutil::Subprocess* p = etcd->get();
    ASSERT_TRUE(testutil::WaitUntil(
        [&] {
          return absl::StrContains(p->ReadStderr(), "ready to serve client requests") ||
                 !p->Alive();
        },
        absl::Seconds(60)));
    ASSERT_TRUE(p->Alive()) << p->ReadStderr();
  }

  static void StopEtcd(testutil::Subprocess* etcd) {
    ASSERT_OK(etcd->Kill(SIGTERM));
    ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, etcd->Wait(absl::Seconds(30)));
    // etcd 3.4 stops cleanly and then dies of the signal it was sent.
    EXPECT_TRUE(status.success() || status.signal == SIGTERM) << status.ToString();
  }

  // Runs etcdctl (API v3) against `client`; returns its stdout.
  static std::string Etcdctl(const std::string& client, std::vector<std::string> args) {
    testutil::SubprocessOptions ctl;
    ctl.argv = {kEtcdctl, "--endpoints", client};
    ctl.argv.insert(ctl.argv.end(), args.begin(), args.end());
    ctl.env = {{"ETCDCTL_API", "3"}};
    absl::StatusOr<std::unique_ptr<testutil::Subprocess>> p = testutil::Subprocess::Start(ctl);
    if (!p.ok()) return p.status().ToString();
    absl::StatusOr<testutil::ExitStatus> status = (*p)->Wait(absl::Seconds(30));
    if (!status.ok() || !status->success()) return "etcdctl failed: " + (*p)->ReadStderr();
    return (*p)->ReadStdout();
  }

  // Runs etcd with `snapshot_count`, writes `puts` with etcdctl, stops it.
  void RunEtcd(int snapshot_count, const std::vector<Put>& puts) {
    std::unique_ptr<testutil::Subprocess> etcd;
    std::string client;
    ASSERT_NO_FATAL_FAILURE(StartEtcd(data_dir_, snapshot_count, &etcd, &client));
    for (const Put& put : puts) {
      ASSERT_EQ(Etcdctl(client, {"put", put.key, put.value}), "OK\n");
    }
    ASSERT_NO_FATAL_FAILURE(StopEtcd(etcd.get()));
  }

  // The put requests in `entries`, in log order.
  static std::vector<Put> PutsIn(const std::vector<raftpb::Entry>& entries) {
    std::vector<Put> puts;
    for (const raftpb::Entry& e : entries) {
      if (e.type() != raftpb::EntryNormal) continue;
      etcdserverpb::InternalRaftRequest r;
      if (!r.ParseFromString(e.data()) || !r.has_put()) continue;
      puts.push_back({r.put().key(), r.put().value()});
    }
    return puts;
  }

  static std::vector<Put> MakePuts(int n) {
    std::vector<Put> puts;
    for (int i = 0; i < n; ++i) {
      puts.push_back(
          {absl::StrCat("key-", i), absl::StrCat("value-", i, "-", std::string(i, 'x'))});
    }
    return puts;
  }

  std::string WalDir() const { return data_dir_ + "/member/wal"; }
  std::string SnapDir() const { return data_dir_ + "/member/snap"; }

  std::optional<testutil::TempDir> tmp_;
  std::string data_dir_;
};

MATCHER_P(PutsAre, expected, "") {
  const std::vector<Put>& got = arg;
  if (got.size() != expected.size()) {
    *result_listener << "has " << got.size() << " puts, want " << expected.size();
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].key != expected[i].key || got[i].value != expected[i].value) {
      *result_listener << "put #" << i << " is " << got[i].key << "=" << got[i].value;
      return false;
    }
  }
  return true;
}

TEST_F(InteropTest, ReadsTheWalOfEtcd) {
  const std::vector<Put> puts = MakePuts(8);
  ASSERT_NO_FATAL_FAILURE(RunEtcd(100000, puts));

  ASSERT_OK(wal::Verify(WalDir(), walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> w,
                       wal::WAL::OpenForRead(WalDir(), walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(wal::ReadResult read, w->ReadAll());
  etcdserverpb::Metadata metadata;
  ASSERT_TRUE(metadata.ParseFromString(read.metadata));
  EXPECT_NE(metadata.nodeid(), 0u);
  EXPECT_NE(metadata.clusterid(), 0u);
  EXPECT_THAT(PutsIn(read.entries), PutsAre(puts));
  ASSERT_FALSE(read.entries.empty());
  EXPECT_EQ(read.entries[0].type(), raftpb::EntryConfChange);  // the member's own addition
  EXPECT_GE(read.state.commit(), read.entries.back().index() - 1);
  EXPECT_EQ(read.state.vote(), metadata.nodeid());

  // The log opens for appending too (locks, tail zeroing, CRC chain).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> rw, wal::WAL::Open(WalDir(), walpb::Snapshot()));
  ASSERT_OK(rw->ReadAll().status());
}

TEST_F(InteropTest, ReadsTheSnapshotOfEtcd) {
  const std::vector<Put> puts = MakePuts(24);
  ASSERT_NO_FATAL_FAILURE(RunEtcd(5, puts));

  // The snapshot etcd would restart from.
  ASSERT_OK_AND_ASSIGN(std::vector<walpb::Snapshot> wal_snaps, wal::ValidSnapshotEntries(WalDir()));
  ASSERT_GT(wal_snaps.size(), 1u) << "etcd took no snapshot";
  snap::Snapshotter snapshotter(SnapDir());
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot snapshot, snapshotter.LoadNewestAvailable(wal_snaps));
  ASSERT_OK_AND_ASSIGN(raftpb::Snapshot newest, snapshotter.Load());
  EXPECT_EQ(newest.metadata().index(), snapshot.metadata().index());
  EXPECT_GT(snapshot.metadata().index(), 5u);
  ASSERT_EQ(snapshot.metadata().conf_state().voters_size(), 1);
  // etcd 3.4 snapshots hold the v2 store as JSON, membership included.
  EXPECT_THAT(snapshot.data(), HasSubstr("\"Path\":\"/0/members\""));
  ASSERT_OK(snap::Read(SnapDir() + "/" +
                       snap::SnapName(snapshot.metadata().term(), snapshot.metadata().index()))
                .status());

  // The whole log, and the log after the snapshot.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> all,
                       wal::WAL::OpenForRead(WalDir(), walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(wal::ReadResult read_all, all->ReadAll());
  EXPECT_THAT(PutsIn(read_all.entries), PutsAre(puts));

  walpb::Snapshot at;
  at.set_index(snapshot.metadata().index());
  at.set_term(snapshot.metadata().term());
  ASSERT_OK(wal::Verify(WalDir(), at));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> after, wal::WAL::OpenForRead(WalDir(), at));
  ASSERT_OK_AND_ASSIGN(wal::ReadResult read_after, after->ReadAll());
  ASSERT_FALSE(read_after.entries.empty());
  EXPECT_EQ(read_after.entries.front().index(), at.index() + 1);
  std::vector<raftpb::Entry> tail;
  for (const raftpb::Entry& e : read_all.entries) {
    if (e.index() > at.index()) tail.push_back(e);
  }
  EXPECT_THAT(PutsIn(read_after.entries), PutsAre(PutsIn(tail)));
  EXPECT_FALSE(PutsIn(read_after.entries).empty());

  // wal-dump prints the same.
  testutil::SubprocessOptions options;
  options.argv = {testutil::RunfilePath("tools/wal-dump/wal-dump"), data_dir_};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> dump,
                       testutil::Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, dump->Wait(absl::Seconds(30)));
  ASSERT_TRUE(status.success()) << dump->ReadStderr();
  const std::string out = dump->ReadStdout();
  EXPECT_THAT(out, HasSubstr(absl::StrCat("Snapshot:\nterm=", at.term(), " index=", at.index())));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("put:<key:\"", puts.back().key, "\" value:\"",
                                          puts.back().value, "\" > \n")));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("???")));
}

// etcd's records re-encode to etcd's bytes, a log rebuilt through the public
// API is byte-identical, and etcd restarts from that log.
TEST_F(InteropTest, WritesWhatEtcdWrites) {
  const std::vector<Put> puts = MakePuts(12);
  ASSERT_NO_FATAL_FAILURE(RunEtcd(100000, puts));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       wal::internal::ReadWalNames(wal::FileSystem::Default(), WalDir()));
  ASSERT_EQ(names.size(), 1u);
  const std::string segment = WalDir() + "/" + names[0];
  ASSERT_OK_AND_ASSIGN(std::string original, testutil::ReadFile(segment));

  // Decode every record and encode it again.
  struct Rec {
    int64_t type;
    std::string data;
  };
  std::vector<Rec> records;
  int64_t end = 0;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::File> f,
                         wal::FileSystem::Default()->OpenForRead(segment));
    wal::internal::Decoder decoder({{f.get(), segment}});
    wal::internal::Record record;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, decoder.Next(&record));
      if (!more) break;
      if (record.type == wal::internal::kCrcType) decoder.UpdateCRC(record.crc);
      records.push_back({record.type, std::string(record.data)});
    }
    end = decoder.last_offset();
  }
  ASSERT_GT(records.size(), puts.size());
  wal::FaultFileSystem memory;
  memory.MakeDurableDir("/m");
  wal::OpenOptions create;
  create.create = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::File> out, memory.OpenLocked("/m/f", create));
  wal::internal::Encoder encoder(out.get(), 0, 0);
  for (const Rec& r : records) ASSERT_OK(encoder.Encode(r.type, r.data));
  ASSERT_OK(encoder.Flush());
  ASSERT_OK_AND_ASSIGN(std::string reencoded, memory.ReadFile("/m/f"));
  ASSERT_EQ(static_cast<int64_t>(reencoded.size()), end);
  EXPECT_TRUE(reencoded == original.substr(0, end)) << "re-encoded records differ from etcd's";

  // Rebuild the log with Create, Save and SaveSnapshot into a copy of the
  // data dir (its snap dir and backend are etcd's).
  const std::string copy = tmp_->Join("copy");
  ASSERT_OK(wal::FileSystem::Default()->CreateDirAll(copy + "/member"));
  ASSERT_EQ(system(absl::StrCat("cp -a '", SnapDir(), "' '", copy, "/member/snap'").c_str()), 0);
  {
    ASSERT_EQ(records[1].type, wal::internal::kMetadataType);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> w,
                         wal::WAL::Create(copy + "/member/wal", records[1].data));
    std::vector<raftpb::Entry> pending;
    for (size_t i = 3; i < records.size(); ++i) {
      const Rec& r = records[i];
      if (r.type == wal::internal::kEntryType) {
        raftpb::Entry e;
        ASSERT_TRUE(e.ParseFromString(r.data));
        pending.push_back(e);
      } else if (r.type == wal::internal::kStateType) {
        raftpb::HardState hs;
        ASSERT_TRUE(hs.ParseFromString(r.data));
        ASSERT_OK(w->Save(hs, pending));
        pending.clear();
      } else if (r.type == wal::internal::kSnapshotType) {
        ASSERT_OK(w->Save(raftpb::HardState(), pending));
        pending.clear();
        walpb::Snapshot snapshot;
        ASSERT_TRUE(snapshot.ParseFromString(r.data));
        ASSERT_OK(w->SaveSnapshot(snapshot));
      }
    }
    ASSERT_OK(w->Save(raftpb::HardState(), pending));
  }
  ASSERT_OK_AND_ASSIGN(std::string rebuilt, testutil::ReadFile(copy + "/member/wal/" + names[0]));
  EXPECT_TRUE(rebuilt.substr(0, end) == original.substr(0, end))
      << "a log rebuilt through the API differs from etcd's";
  EXPECT_EQ(rebuilt.size(), original.size());  // both preallocated to 64,000,000

  // etcd restarts from our log and serves every key.
  std::unique_ptr<testutil::Subprocess> etcd;
  std::string client;
  ASSERT_NO_FATAL_FAILURE(StartEtcd(copy, 100000, &etcd, &client));
  for (const Put& put : puts) {
    EXPECT_EQ(Etcdctl(client, {"get", put.key, "--print-value-only"}), put.value + "\n");
  }
  EXPECT_EQ(Etcdctl(client, {"put", "after", "restart"}), "OK\n");
  ASSERT_NO_FATAL_FAILURE(StopEtcd(etcd.get()));
  // And we read what etcd appended to our log.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> r,
                       wal::WAL::OpenForRead(copy + "/member/wal", walpb::Snapshot()));
  ASSERT_OK_AND_ASSIGN(wal::ReadResult read, r->ReadAll());
  std::vector<Put> all = puts;
  all.push_back({"after", "restart"});
  EXPECT_THAT(PutsIn(read.entries), PutsAre(all));
}

}  // namespace
}  // namespace etcd
