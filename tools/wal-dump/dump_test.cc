#include "tools/wal-dump/dump.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/etcdserverpb/etcdserver.pb.h"
#include "api/etcdserverpb/raft_internal.pb.h"
#include "pkg/testutil/files.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "pkg/testutil/temp_dir.h"
#include "snap/snapshotter.h"
#include "wal/wal.h"

namespace etcd::tools {
namespace {

using ::testing::HasSubstr;

raftpb::Entry MakeEntry(uint64_t term, uint64_t index, raftpb::EntryType type,
                        const std::string& data) {
  raftpb::Entry e;
  e.set_term(term);
  e.set_index(index);
  e.set_type(type);
  e.set_data(data);
  return e;
}

std::string ConfChange(raftpb::ConfChangeType type, uint64_t node) {
  raftpb::ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(node);
  cc.set_id(0);
  return cc.SerializeAsString();
}

// A v2 request as etcd (gogoproto, non-nullable proto2) marshals it: every
// field present.
std::string V2(const std::string& method, const std::string& path, const std::string& val,
               int64_t time = 0) {
  etcdserverpb::Request r;
  r.set_id(0);
  r.set_method(method);
  r.set_path(path);
  r.set_val(val);
  r.set_dir(false);
  r.set_prevvalue("");
  r.set_previndex(0);
  r.set_prevexist(false);
  r.set_expiration(0);
  r.set_wait(false);
  r.set_since(0);
  r.set_recursive(false);
  r.set_sorted(false);
  r.set_quorum(false);
  r.set_time(time);
  r.set_stream(false);
  r.set_refresh(false);
  return r.SerializeAsString();
}

class DumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto dir, testutil::TempDir::Create("dump"));
    dir_.emplace(std::move(dir));
    ASSERT_OK(fileutil_CreateDir(dir_->Join("member/snap")));
  }
  static absl::Status fileutil_CreateDir(const std::string& path) {
    return wal::FileSystem::Default()->CreateDirAll(path);
  }

  void WriteLog(const std::vector<raftpb::Entry>& entries, const raftpb::HardState& state,
                uint64_t node = 0, uint64_t cluster = 0) {
    etcdserverpb::Metadata metadata;
    metadata.set_nodeid(node);
    metadata.set_clusterid(cluster);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> w,
                         wal::WAL::Create(dir_->Join("member/wal"), metadata.SerializeAsString()));
    ASSERT_OK(w->Save(state, entries));
  }

  std::optional<testutil::TempDir> dir_;
};

// The entries of etcd's own etcd-dump-logs test, and its expected lines.
TEST_F(DumpTest, PrintsLikeEtcdDumpLogs) {
  std::vector<raftpb::Entry> entries = {
      MakeEntry(1, 1, raftpb::EntryConfChange, ConfChange(raftpb::ConfChangeAddNode, 2)),
      MakeEntry(2, 2, raftpb::EntryConfChange, ConfChange(raftpb::ConfChangeRemoveNode, 2)),
      MakeEntry(2, 3, raftpb::EntryConfChange, ConfChange(raftpb::ConfChangeUpdateNode, 2)),
      MakeEntry(2, 4, raftpb::EntryConfChange, ConfChange(raftpb::ConfChangeAddLearnerNode, 3)),
      MakeEntry(3, 5, raftpb::EntryNormal, V2("", "", "")),
      MakeEntry(3, 6, raftpb::EntryNormal, V2("QGET", "/path1", "")),
      MakeEntry(3, 7, raftpb::EntryNormal, V2("SYNC", "", "", 1)),
      MakeEntry(3, 8, raftpb::EntryNormal, V2("DELETE", "/path3", "")),
      MakeEntry(3, 9, raftpb::EntryNormal,
                V2("RANDOM",
                   "/path4/superlong/path/path/path/path/path/path/path/path/path/path/path/path/"
                   "path/path/path/path/path/path/path/path/path/path/path/path/path/path/path/"
                   "path/path",
                   "{\"hey\":\"ho\",\"hi\":[\"yo\"]}")),
  };
  auto irr = [&](uint64_t term, uint64_t index, const etcdserverpb::InternalRaftRequest& r) {
    entries.push_back(MakeEntry(term, index, raftpb::EntryNormal, r.SerializeAsString()));
  };
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(5);
    auto* range = r.mutable_range();
    range->set_key("1");
    range->set_range_end("hi");
    range->set_limit(6);
    range->set_revision(1);
    range->set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    range->set_max_mod_revision(20000);
    range->set_max_create_revision(20000);
    irr(4, 10, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(6);
    r.mutable_put()->set_key("foo1");
    r.mutable_put()->set_value("bar1");
    r.mutable_put()->set_lease(1);
    r.mutable_put()->set_ignore_lease(true);
    irr(5, 11, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(8);
    auto* op = r.mutable_txn()->add_success()->mutable_request_delete_range();
    op->set_key("a");
    op->set_range_end("b");
    *r.mutable_txn()->add_failure() = r.txn().success(0);
    irr(7, 13, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(10);
    r.mutable_lease_grant()->set_ttl(1);
    r.mutable_lease_grant()->set_id(1);
    irr(9, 15, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(12);
    r.mutable_alarm()->set_action(static_cast<etcdserverpb::AlarmRequest::AlarmAction>(3));
    r.mutable_alarm()->set_memberid(4);
    r.mutable_alarm()->set_alarm(static_cast<etcdserverpb::AlarmType>(5));
    irr(11, 17, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(13);
    r.mutable_auth_enable();
    irr(12, 18, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(19);
    r.mutable_auth_user_change_password()->set_name("name1");
    r.mutable_auth_user_change_password()->set_password("secret");
    irr(18, 24, r);
  }
  {
    etcdserverpb::InternalRaftRequest r;
    r.mutable_header()->set_id(3632568352834133765u);
    r.mutable_put()->set_key("foo");
    r.mutable_put()->set_value(std::string("b\0r\n\x80", 5));
    irr(19, 25, r);
  }
  entries.push_back(MakeEntry(27, 34, raftpb::EntryNormal, "?"));  // neither kind
  // Make the indexes contiguous, as the log requires.
  for (size_t i = 0; i < entries.size(); ++i) entries[i].set_index(i + 1);
  raftpb::HardState state;
  state.set_term(27);
  state.set_vote(0x8e9e05c52164694dull);
  state.set_commit(17);
  WriteLog(entries, state, 0x8e9e05c52164694dull, 0xcdf818194e3a8c32ull);

  DumpOptions options;
  options.data_dir = dir_->path();
  std::string out;
  ASSERT_OK(DumpDataDir(options, &out));
  const std::string want =
      "Snapshot:\n"
      "empty\n"
      "Start dumping log entries from snapshot.\n"
      "WAL metadata:\n"
      "nodeID=8e9e05c52164694d clusterID=cdf818194e3a8c32 term=27 commitIndex=17 "
      "vote=8e9e05c52164694d\n"
      "WAL entries:\n"
      "lastIndex=18\n"
      "term\t     index\ttype\tdata\n"
      "   1\t         1\tconf\tmethod=ConfChangeAddNode id=2\n"
      "   2\t         2\tconf\tmethod=ConfChangeRemoveNode id=2\n"
      "   2\t         3\tconf\tmethod=ConfChangeUpdateNode id=2\n"
      "   2\t         4\tconf\tmethod=ConfChangeAddLearnerNode id=3\n"
      "   3\t         5\tnorm\tnoop\n"
      "   3\t         6\tnorm\tmethod=QGET path=\"/path1\"\n"
      "   3\t         7\tnorm\tmethod=SYNC time=\"1970-01-01 00:00:00.000000001 +0000 UTC\"\n"
      "   3\t         8\tnorm\tmethod=DELETE path=\"/path3\"\n"
      "   3\t         9\tnorm\tmethod=RANDOM "
      "path=\"/path4/superlong/path/path/path/path/path/path/path/path/path/pa\"..."
      "\"path/path/path/path/path/path/path/path/path/path/path/path/path\" "
      "val=\"{\\\"hey\\\":\\\"ho\\\",\\\"hi\\\":[\\\"yo\\\"]}\"\n"
      "   4\t        10\tnorm\tID:5 range:<key:\"1\" range_end:\"hi\" limit:6 revision:1 "
      "sort_order:ASCEND max_mod_revision:20000 max_create_revision:20000 > \n"
      "   5\t        11\tnorm\tID:6 put:<key:\"foo1\" value:\"bar1\" lease:1 ignore_lease:true > \n"
      "   7\t        12\tnorm\tID:8 txn:<success:<request_delete_range:<key:\"a\" range_end:\"b\" "
      "> > failure:<request_delete_range:<key:\"a\" range_end:\"b\" > > > \n"
      "   9\t        13\tnorm\tID:10 lease_grant:<TTL:1 ID:1 > \n"
      "  11\t        14\tnorm\tID:12 alarm:<action:3 memberID:4 alarm:5 > \n"
      "  12\t        15\tnorm\tID:13 auth_enable:<> \n"
      "  18\t        16\tnorm\tID:19 auth_user_change_password:<name:\"name1\" "
      "password:\"<value removed>\" > \n"
      "  19\t        17\tnorm\theader:<ID:3632568352834133765 > put:<key:\"foo\" "
      "value:\"b\\000r\\n\\200\" > \n"
      "  27\t        18\tnorm\t???\n"
      "\n"
      "Entry types (Normal,ConfigChange) count is : 18\n";
  EXPECT_EQ(out, want);

  // Filters.
  options.entry_types = "IRRPut,ConfigChange";
  out.clear();
  ASSERT_OK(DumpDataDir(options, &out));
  EXPECT_THAT(out, HasSubstr("Entry types (IRRPut,ConfigChange) count is : 6\n"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("lease_grant")));
  options.entry_types = "Request";
  out.clear();
  ASSERT_OK(DumpDataDir(options, &out));
  EXPECT_THAT(out, HasSubstr("Entry types (Request) count is : 5\n"));
}

TEST_F(DumpTest, StartsAtTheNewestSnapshotOrAnIndex) {
  std::vector<raftpb::Entry> entries;
  for (uint64_t i = 1; i <= 6; ++i) {
    etcdserverpb::InternalRaftRequest r;
    r.set_id(i);
    r.mutable_compaction()->set_revision(static_cast<int64_t>(i));
    entries.push_back(MakeEntry(2, i, raftpb::EntryNormal, r.SerializeAsString()));
  }
  raftpb::HardState state;
  state.set_term(2);
  state.set_commit(6);
  {
    etcdserverpb::Metadata metadata;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<wal::WAL> w,
                         wal::WAL::Create(dir_->Join("member/wal"), metadata.SerializeAsString()));
    ASSERT_OK(w->Save(state, entries));
    walpb::Snapshot at;
    at.set_index(4);
    at.set_term(2);
    ASSERT_OK(w->SaveSnapshot(at));
  }
  raftpb::Snapshot snapshot;
  snapshot.set_data("v2 store");
  snapshot.mutable_metadata()->set_index(4);
  snapshot.mutable_metadata()->set_term(2);
  snapshot.mutable_metadata()->mutable_conf_state()->add_voters(0x8e9e05c52164694dull);
  snap::Snapshotter ss(dir_->Join("member/snap"));
  ASSERT_OK(ss.SaveSnap(snapshot));

  DumpOptions options;
  options.data_dir = dir_->path();
  std::string out;
  ASSERT_OK(DumpDataDir(options, &out));
  EXPECT_THAT(out, HasSubstr("Snapshot:\nterm=2 index=4 nodes=[8e9e05c52164694d]\n"
                             "Start dumping log entries from snapshot.\n"));
  EXPECT_THAT(out, HasSubstr("lastIndex=6\n"));
  EXPECT_THAT(out, HasSubstr("Entry types (Normal,ConfigChange) count is : 2\n"));
  EXPECT_THAT(out, HasSubstr("   2\t         5\tnorm\tID:5 compaction:<revision:5 > \n"));

  options.start_index = 2;
  out.clear();
  ASSERT_OK(DumpDataDir(options, &out));
  EXPECT_THAT(out, HasSubstr("Start dumping log entries from index 2.\n"));
  EXPECT_THAT(out, HasSubstr("count is : 4\n"));

  options.start_index = 0;
  options.start_snap = "missing.snap";
  out.clear();
  absl::Status status = DumpDataDir(options, &out);
  EXPECT_THAT(status.message(), HasSubstr("Failed loading snapshot"));
}

TEST_F(DumpTest, TheBinaryRuns) {
  raftpb::HardState state;
  state.set_term(1);
  WriteLog({MakeEntry(1, 1, raftpb::EntryConfChange, ConfChange(raftpb::ConfChangeAddNode, 10))},
           state);
  testutil::SubprocessOptions options;
  options.argv = {testutil::RunfilePath("tools/wal-dump/wal-dump"), "-entry-type=ConfigChange",
                  dir_->path()};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> p,
                       testutil::Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, p->Wait(absl::Seconds(30)));
  EXPECT_TRUE(status.success()) << p->ReadStderr();
  EXPECT_THAT(p->ReadStdout(),
              HasSubstr("   1\t         1\tconf\tmethod=ConfChangeAddNode id=a\n"));

  options.argv = {testutil::RunfilePath("tools/wal-dump/wal-dump"), dir_->Join("nothing")};
  ASSERT_OK_AND_ASSIGN(p, testutil::Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(status, p->Wait(absl::Seconds(30)));
  EXPECT_EQ(status.code, 1);
  EXPECT_THAT(p->ReadStderr(), HasSubstr("Failed loading snapshot"));
}

TEST(CompactTextTest, StrictParseRejectsMistypedFields) {
  etcdserverpb::InternalRaftRequest irr;
  // Field 3 (range, a message) as a varint: C++ keeps it as unknown,
  // gogoproto fails.
  EXPECT_FALSE(StrictParse(std::string("\x18\x01", 2), &irr));
  EXPECT_TRUE(StrictParse(std::string("\x08\x01", 2), &irr));
  EXPECT_TRUE(StrictParse(std::string("\xf8\x07\x01", 3), &irr));  // unknown field 127
  EXPECT_EQ(FormatIDs({1, 0xabc}), "[1 abc]");
}

}  // namespace
}  // namespace etcd::tools
