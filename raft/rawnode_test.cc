// The RawNode API (etcd's rawnode_test.go and the RawNode parts of
// node_test.go): stepping, Ready/Advance, proposals and conf changes,
// restarts, status, bootstrap.

#include "raft/rawnode.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/errors.h"
#include "raft/raft_test_helpers.h"

namespace etcd::raft::testing {
namespace {

std::unique_ptr<RawNode> NewTestRawNode(uint64_t id, std::vector<uint64_t> peers, int election,
                                        int heartbeat, Storage* storage) {
  absl::StatusOr<std::unique_ptr<RawNode>> rn =
      RawNode::New(NewTestConfig(id, std::move(peers), election, heartbeat, storage));
  EXPECT_TRUE(rn.ok()) << rn.status();
  return rn.ok() ? *std::move(rn) : nullptr;
}

// Campaigns and processes Readies until this node leads.
void BecomeLeader(RawNode* rn, MemoryStorage* s) {
  ASSERT_TRUE(rn->Campaign().ok());
  for (int i = 0; i < 10; ++i) {
    Ready rd = rn->GetReady();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    rn->Advance(rd);
    if (rd.soft_state.has_value() && rd.soft_state->lead == rn->raft().id()) return;
  }
  FAIL() << "did not become leader";
}

// Local message types are refused; everything else is stepped.
TEST(RawNodeTest, Step) {
  for (int t = raftpb::MessageType_MIN; t <= raftpb::MessageType_MAX; ++t) {
    auto type = static_cast<raftpb::MessageType>(t);
    MemoryStorage s;
    ASSERT_TRUE(s.SetHardState(HS(1, 0, 1)).ok());
    ASSERT_TRUE(s.Append(Ents({{1, 1}})).ok());
    ASSERT_TRUE(s.ApplySnapshot(SnapWithConf(1, 1, {1})).ok());
    std::unique_ptr<RawNode> rn = NewTestRawNode(1, {}, 10, 1, &s);
    raftpb::Message m;
    m.set_type(type);
    absl::Status st = rn->Step(m);
    if (IsLocalMsg(type)) {
      EXPECT_TRUE(IsStepLocalMsg(st)) << MessageTypeName(type);
    } else if (IsResponseMsg(type)) {
      // From node 0, which is not a member.
      EXPECT_TRUE(IsStepPeerNotFound(st)) << MessageTypeName(type);
    }
  }
}

struct ProposeCase {
  bool v1;
  raftpb::ConfChangeV2 cc;
  raftpb::ConfState exp;
  std::optional<raftpb::ConfState> exp2;
};

raftpb::ConfChangeV2 V2(
    std::vector<std::pair<raftpb::ConfChangeType, uint64_t>> changes,
    raftpb::ConfChangeTransition transition = raftpb::ConfChangeTransitionAuto) {
  raftpb::ConfChangeV2 cc;
  cc.set_transition(transition);
  for (auto [type, id] : changes) {
    auto* c = cc.add_changes();
    c->set_type(type);
    c->set_node_id(id);
  }
  return cc;
}

raftpb::ConfState ConfStateOf(std::vector<uint64_t> voters, std::vector<uint64_t> outgoing,
                              std::vector<uint64_t> learners, std::vector<uint64_t> learners_next,
                              bool auto_leave) {
  raftpb::ConfState cs;
  for (uint64_t v : voters) cs.add_voters(v);
  for (uint64_t v : outgoing) cs.add_voters_outgoing(v);
  for (uint64_t v : learners) cs.add_learners(v);
  for (uint64_t v : learners_next) cs.add_learners_next(v);
  cs.set_auto_leave(auto_leave);
  return cs;
}

// Proposes a conf change (and a normal entry), applies it, and checks the
// resulting configuration, the log, and leaving a joint state.
TEST(RawNodeTest, ProposeAndConfChange) {
  using raftpb::ConfChangeAddLearnerNode;
  using raftpb::ConfChangeAddNode;
  const auto kExplicit = raftpb::ConfChangeTransitionJointExplicit;
  const auto kImplicit = raftpb::ConfChangeTransitionJointImplicit;
  std::vector<ProposeCase> cases = {
      {true, V2({{ConfChangeAddNode, 2}}), ConfStateOf({1, 2}, {}, {}, {}, false), std::nullopt},
      {false, V2({{ConfChangeAddNode, 2}}), ConfStateOf({1, 2}, {}, {}, {}, false), std::nullopt},
      {false, V2({{ConfChangeAddLearnerNode, 2}}), ConfStateOf({1}, {}, {2}, {}, false),
       std::nullopt},
      {false, V2({{ConfChangeAddLearnerNode, 2}}, kExplicit), ConfStateOf({1}, {1}, {2}, {}, false),
       ConfStateOf({1}, {}, {2}, {}, false)},
      {false, V2({{ConfChangeAddLearnerNode, 2}}, kImplicit), ConfStateOf({1}, {1}, {2}, {}, true),
       ConfStateOf({1}, {}, {2}, {}, false)},
      {false,
       V2({{ConfChangeAddNode, 2}, {ConfChangeAddLearnerNode, 1}, {ConfChangeAddLearnerNode, 3}}),
       ConfStateOf({2}, {1}, {3}, {1}, true), ConfStateOf({2}, {}, {1, 3}, {}, false)},
      {false,
       V2({{ConfChangeAddNode, 2}, {ConfChangeAddLearnerNode, 1}, {ConfChangeAddLearnerNode, 3}},
          kExplicit),
       ConfStateOf({2}, {1}, {3}, {1}, false), ConfStateOf({2}, {}, {1, 3}, {}, false)},
      {false,
       V2({{ConfChangeAddNode, 2}, {ConfChangeAddLearnerNode, 1}, {ConfChangeAddLearnerNode, 3}},
          kImplicit),
       ConfStateOf({2}, {1}, {3}, {1}, true), ConfStateOf({2}, {}, {1, 3}, {}, false)},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const ProposeCase& tc = cases[i];
    SCOPED_TRACE(i);
    MemoryStorage s;
    std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 10, 1, &s);
    ASSERT_TRUE(rn->Campaign().ok());
    bool proposed = false;
    std::string ccdata;
    std::optional<raftpb::ConfState> cs;
    for (int round = 0; !cs.has_value() && round < 20; ++round) {
      Ready rd = rn->GetReady();
      ASSERT_TRUE(s.Append(rd.entries).ok());
      for (const raftpb::Entry& e : rd.committed_entries) {
        if (e.type() == raftpb::EntryConfChange) {
          raftpb::ConfChange cc;
          ASSERT_TRUE(cc.ParseFromString(e.data()));
          cs = rn->ApplyConfChange(cc);
        } else if (e.type() == raftpb::EntryConfChangeV2) {
          raftpb::ConfChangeV2 cc;
          ASSERT_TRUE(cc.ParseFromString(e.data()));
          cs = rn->ApplyConfChange(cc);
        }
      }
      rn->Advance(rd);
      if (!proposed && rd.soft_state.has_value() && rd.soft_state->lead == 1) {
        ASSERT_TRUE(rn->Propose("somedata").ok());
        if (tc.v1) {
          raftpb::ConfChange v1;
          v1.set_type(tc.cc.changes(0).type());
          v1.set_node_id(tc.cc.changes(0).node_id());
          ccdata = MarshalConfChange(v1);
          ASSERT_TRUE(rn->ProposeConfChange(v1).ok());
        } else {
          ccdata = MarshalConfChange(tc.cc);
          ASSERT_TRUE(rn->ProposeConfChange(tc.cc).ok());
        }
        proposed = true;
      }
    }
    ASSERT_TRUE(cs.has_value());

    // The last two entries are the proposal and the conf change.
    uint64_t last = *s.LastIndex();
    std::vector<raftpb::Entry> ents = *s.Entries(last - 1, last + 1, kNoLimit);
    ASSERT_EQ(ents.size(), 2u);
    EXPECT_EQ(ents[0].data(), "somedata");
    EXPECT_EQ(ents[1].type(), tc.v1 ? raftpb::EntryConfChange : raftpb::EntryConfChangeV2);
    EXPECT_EQ(ents[1].data(), ccdata);
    EXPECT_EQ(*cs, tc.exp);
    EXPECT_EQ(rn->raft().pending_conf_index(), last);

    // Leaving the joint state: automatically, or by an explicit empty change.
    Ready rd = rn->GetReady();
    std::string context;
    if (!tc.exp.auto_leave()) {
      EXPECT_TRUE(rd.entries.empty());
      if (!tc.exp2.has_value()) continue;
      context = "manual";
      raftpb::ConfChangeV2 leave;
      leave.set_context(context);
      ASSERT_TRUE(rn->ProposeConfChange(leave).ok());
      rd = rn->GetReady();
    }
    ASSERT_EQ(rd.entries.size(), 1u);
    ASSERT_EQ(rd.entries[0].type(), raftpb::EntryConfChangeV2);
    raftpb::ConfChangeV2 cc;
    ASSERT_TRUE(cc.ParseFromString(rd.entries[0].data()));
    EXPECT_TRUE(LeaveJoint(cc));
    EXPECT_EQ(cc.context(), context);
    EXPECT_EQ(rn->ApplyConfChange(cc), *tc.exp2);
  }
}

// A duplicate AddNode is harmless; the conf changes land in the log.
TEST(RawNodeTest, ProposeAddDuplicateNode) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 10, 1, &s);
  Ready rd = rn->GetReady();
  ASSERT_TRUE(s.Append(rd.entries).ok());
  rn->Advance(rd);
  BecomeLeader(rn.get(), &s);

  auto propose_and_apply = [&](const raftpb::ConfChange& cc) {
    ASSERT_TRUE(rn->ProposeConfChange(cc).ok());
    Ready rd = rn->GetReady();
    ASSERT_TRUE(s.Append(rd.entries).ok());
    for (const raftpb::Entry& e : rd.committed_entries) {
      if (e.type() != raftpb::EntryConfChange) continue;
      raftpb::ConfChange c;
      ASSERT_TRUE(c.ParseFromString(e.data()));
      rn->ApplyConfChange(c);
    }
    rn->Advance(rd);
  };
  raftpb::ConfChange cc1;
  cc1.set_type(raftpb::ConfChangeAddNode);
  cc1.set_node_id(1);
  propose_and_apply(cc1);
  propose_and_apply(cc1);
  raftpb::ConfChange cc2 = cc1;
  cc2.set_node_id(2);
  propose_and_apply(cc2);

  uint64_t last = *s.LastIndex();
  std::vector<raftpb::Entry> ents = *s.Entries(last - 2, last + 1, kNoLimit);
  ASSERT_EQ(ents.size(), 3u);
  EXPECT_EQ(ents[0].data(), MarshalConfChange(cc1));
  EXPECT_EQ(ents[2].data(), MarshalConfChange(cc2));
  EXPECT_EQ(rn->raft().prs().VoterNodes(), std::vector<uint64_t>({1, 2}));
}

TEST(RawNodeTest, ReadIndex) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 10, 1, &s);
  std::vector<ReadState> wrs = {ReadState{1, "somedata"}};
  rn->raft().read_states() = wrs;
  EXPECT_TRUE(rn->HasReady());
  Ready rd = rn->GetReady();
  EXPECT_EQ(rd.read_states, wrs);
  ASSERT_TRUE(s.Append(rd.entries).ok());
  rn->Advance(rd);
  EXPECT_TRUE(rn->raft().read_states().empty());

  // A single-voter leader answers at once with its commit index.
  BecomeLeader(rn.get(), &s);
  rn->ReadIndex("somedata2");
  EXPECT_TRUE(rn->HasReady());
  rd = rn->GetReady();
  ASSERT_EQ(rd.read_states.size(), 1u);
  EXPECT_EQ(rd.read_states[0].request_ctx, "somedata2");
  EXPECT_EQ(rd.read_states[0].index, rn->raft().raft_log().committed());
}

// A follower forwards read requests to the leader.
TEST(RawNodeTest, ReadIndexForwardedByFollower) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(2, {1, 2}, 10, 1, &s);
  rn->raft().BecomeFollower(1, 1);
  rn->ReadIndex("ctx");
  Ready rd = rn->GetReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type(), raftpb::MsgReadIndex);
  EXPECT_EQ(rd.messages[0].to(), 1u);
  EXPECT_EQ(rd.messages[0].entries(0).data(), "ctx");
}

// Bootstrapping from a snapshot-initialized storage, then campaigning and
// proposing, gives one Ready with everything.
TEST(RawNodeTest, Start) {
  MemoryStorage storage;
  // Bootstrapped at index 1 (etcd's tests bootstrap with a snapshot).
  ASSERT_TRUE(storage.ApplySnapshot(SnapWithConf(1, 0, {1})).ok());
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {}, 10, 1, &storage);
  EXPECT_FALSE(rn->HasReady());
  ASSERT_TRUE(rn->Campaign().ok());
  ASSERT_TRUE(rn->Propose("foo").ok());
  ASSERT_TRUE(rn->HasReady());
  Ready rd = rn->GetReady();
  ASSERT_TRUE(storage.Append(rd.entries).ok());
  rn->Advance(rd);

  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(*rd.soft_state, (SoftState{1, StateType::kLeader}));
  EXPECT_EQ(rd.hard_state, HS(1, 1, 3));
  std::vector<raftpb::Entry> want = {Ent(2, 1), DataEnt(3, 1, "foo")};
  EXPECT_EQ(rd.entries, want);
  EXPECT_EQ(rd.committed_entries, want);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_FALSE(rn->HasReady());
}

TEST(RawNodeTest, Restart) {
  std::vector<raftpb::Entry> entries = {Ent(1, 1), DataEnt(2, 1, "foo")};
  MemoryStorage storage;
  ASSERT_TRUE(storage.SetHardState(HS(1, 0, 1)).ok());
  ASSERT_TRUE(storage.Append(entries).ok());
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 10, 1, &storage);
  Ready rd = rn->GetReady();
  // Only the committed entries to apply; the HardState is unchanged.
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(IsEmptyHardState(rd.hard_state));
  EXPECT_EQ(rd.committed_entries, std::vector<raftpb::Entry>({entries[0]}));
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_FALSE(rd.must_sync);
  rn->Advance(rd);
  EXPECT_FALSE(rn->HasReady());
}

TEST(RawNodeTest, RestartFromSnapshot) {
  std::vector<raftpb::Entry> entries = {DataEnt(3, 1, "foo")};
  MemoryStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 0, 3)).ok());
  ASSERT_TRUE(s.ApplySnapshot(SnapWithConf(2, 1, {1, 2})).ok());
  ASSERT_TRUE(s.Append(entries).ok());
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {}, 10, 1, &s);
  Ready rd = rn->GetReady();
  EXPECT_TRUE(IsEmptyHardState(rd.hard_state));
  EXPECT_EQ(rd.committed_entries, entries);
  EXPECT_FALSE(rd.must_sync);
  rn->Advance(rd);
  EXPECT_FALSE(rn->HasReady());
}

// Config::applied keeps already applied entries out of Ready.
TEST(RawNodeTest, RestartWithApplied) {
  MemoryStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 0, 3)).ok());
  ASSERT_TRUE(s.Append({Ent(1, 1), DataEnt(2, 1, "a"), DataEnt(3, 1, "b")}).ok());
  Config c = NewTestConfig(1, {1}, 10, 1, &s);
  c.applied = 2;
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(c);
  ASSERT_TRUE(rn.ok());
  Ready rd = (*rn)->GetReady();
  EXPECT_EQ(rd.committed_entries, std::vector<raftpb::Entry>({DataEnt(3, 1, "b")}));
}

TEST(RawNodeTest, Status) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 10, 1, &s);
  EXPECT_TRUE(rn->GetStatus().progress.empty());
  ASSERT_TRUE(rn->Campaign().ok());
  Status status = rn->GetStatus();
  EXPECT_EQ(status.basic.soft_state.lead, 1u);
  EXPECT_EQ(status.basic.soft_state.raft_state, StateType::kLeader);
  ASSERT_EQ(status.progress.count(1), 1u);
  const tracker::Progress& exp = rn->raft().prs().progress.at(1);
  EXPECT_EQ(status.progress[1].match, exp.match);
  EXPECT_EQ(status.progress[1].next, exp.next);
  EXPECT_EQ(status.progress[1].state, exp.state);
  tracker::Config want_cfg;
  want_cfg.voters.incoming().Insert(1);
  EXPECT_EQ(status.config, want_cfg);
  EXPECT_EQ(status.String(),
            R"({"id":"1","term":1,"vote":"1","commit":1,"lead":"1","raftState":"StateLeader",)"
            R"("applied":0,"progress":{"1":{"match":1,"next":2,"state":"StateReplicate"}},)"
            R"("leadtransferee":"0"})");

  BasicStatus basic = rn->GetBasicStatus();
  EXPECT_EQ(basic.id, 1u);
  EXPECT_EQ(basic.hard_state, HS(1, 1, 1));
  EXPECT_EQ(basic.soft_state.raft_state, StateType::kLeader);
}

TEST(RawNodeTest, StatusStringFollowerAndHexIds) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(26, {26, 27}, 10, 1, &s);
  EXPECT_EQ(rn->GetStatus().String(),
            R"({"id":"1a","term":0,"vote":"0","commit":0,"lead":"0","raftState":"StateFollower",)"
            R"("applied":0,"progress":{},"leadtransferee":"0"})");
}

TEST(RawNodeTest, WithProgress) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1, 2}, 10, 1, &s);
  rn->raft().ApplyConfChange(CC(raftpb::ConfChangeAddLearnerNode, 3));
  std::vector<std::pair<uint64_t, ProgressType>> seen;
  rn->WithProgress([&seen](uint64_t id, ProgressType type, const tracker::Progress&) {
    seen.emplace_back(id, type);
  });
  EXPECT_EQ(seen,
            (std::vector<std::pair<uint64_t, ProgressType>>{
                {1, ProgressType::kPeer}, {2, ProgressType::kPeer}, {3, ProgressType::kLearner}}));
}

// A storage that ignores the size limit of Entries.
class IgnoreSizeHintStorage : public MemoryStorage {
 public:
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size) override {
    return MemoryStorage::Entries(lo, hi, kNoLimit);
  }
};

// After a restart, committed entries are handed out without gaps even when
// the storage returns more than asked.
TEST(RawNodeTest, CommitPaginationAfterRestart) {
  IgnoreSizeHintStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 1, 10)).ok());
  uint64_t size = 0;
  std::vector<raftpb::Entry> ents;
  for (uint64_t i = 1; i <= 10; ++i) {
    ents.push_back(DataEnt(i, 1, "a"));
    size += EntrySize(ents.back());
  }
  Config c = NewTestConfig(1, {1}, 10, 1, &s);
  c.max_size_per_msg = size - EntrySize(ents.back()) - 1;
  ents.push_back(DataEnt(11, 1, "boom"));
  ASSERT_TRUE(s.Append(ents).ok());
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(c);
  ASSERT_TRUE(rn.ok());
  for (uint64_t highest = 0; highest != 11;) {
    Ready rd = (*rn)->GetReady();
    ASSERT_FALSE(rd.committed_entries.empty()) << "stopped applying at " << highest;
    uint64_t next = rd.committed_entries[0].index();
    ASSERT_TRUE(highest == 0 || highest + 1 == next) << next << " after " << highest;
    highest = rd.committed_entries.back().index();
    (*rn)->Advance(rd);
    raftpb::Message hb = Msg(1, 1, raftpb::MsgHeartbeat, 1);
    hb.set_commit(11);
    (void)(*rn)->Step(hb);
  }
}

// MaxCommittedSizePerReady paginates the committed entries.
TEST(RawNodeTest, CommittedEntriesPagination) {
  MemoryStorage s;
  ASSERT_TRUE(s.SetHardState(HS(1, 1, 5)).ok());
  std::vector<raftpb::Entry> ents;
  for (uint64_t i = 1; i <= 5; ++i) ents.push_back(DataEnt(i, 1, "aaaa"));
  ASSERT_TRUE(s.Append(ents).ok());
  Config c = NewTestConfig(1, {1}, 10, 1, &s);
  c.max_committed_size_per_ready = 2 * EntrySize(ents[0]);
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(c);
  ASSERT_TRUE(rn.ok());
  std::vector<size_t> sizes;
  while ((*rn)->HasReady()) {
    Ready rd = (*rn)->GetReady();
    sizes.push_back(rd.committed_entries.size());
    (*rn)->Advance(rd);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));
}

// The uncommitted log stays bounded while a leader cannot commit.
TEST(RawNodeTest, BoundedLogGrowthWithPartition) {
  const int max_entries = 16;
  const std::string data = "testdata";
  const uint64_t max_entry_size = max_entries * data.size();
  MemoryStorage s;
  Config c = NewTestConfig(1, {1}, 10, 1, &s);
  c.max_uncommitted_entries_size = max_entry_size;
  absl::StatusOr<std::unique_ptr<RawNode>> created = RawNode::New(c);
  ASSERT_TRUE(created.ok());
  RawNode* rn = created->get();
  Ready rd = rn->GetReady();
  ASSERT_TRUE(s.Append(rd.entries).ok());
  rn->Advance(rd);
  BecomeLeader(rn, &s);

  // Proposals without Ready processing: the log cannot commit.
  for (int i = 0; i < 1024; ++i) (void)rn->Propose(data);
  EXPECT_EQ(rn->raft().uncommitted_size(), max_entry_size);

  rd = rn->GetReady();
  EXPECT_EQ(rd.committed_entries.size(), static_cast<size_t>(max_entries));
  ASSERT_TRUE(s.Append(rd.entries).ok());
  rn->Advance(rd);
  EXPECT_EQ(rn->raft().uncommitted_size(), 0u);
}

// Ready takes the messages; those sent after it wait for the next one.
TEST(RawNodeTest, ConsumeReady) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1}, 3, 1, &s);
  raftpb::Message m1;
  m1.set_context("foo");
  raftpb::Message m2;
  m2.set_context("bar");
  rn->raft().msgs().push_back(m1);
  Ready rd = rn->GetReady();
  EXPECT_TRUE(rn->raft().msgs().empty());
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0], m1);
  rn->raft().msgs().push_back(m2);
  rn->Advance(rd);
  ASSERT_EQ(rn->raft().msgs().size(), 1u);
  EXPECT_EQ(rn->raft().msgs()[0], m2);
}

TEST(RawNodeTest, Bootstrap) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {}, 10, 1, &s);
  EXPECT_FALSE(rn->Bootstrap({}).ok());
  std::vector<Peer> peers = {{1, ""}, {2, "ctx"}, {3, ""}};
  ASSERT_TRUE(rn->Bootstrap(peers).ok());
  EXPECT_EQ(rn->raft().prs().VoterNodes(), std::vector<uint64_t>({1, 2, 3}));

  // The first Ready persists the bootstrap entries and the HardState; they
  // are not applied again.
  ASSERT_TRUE(rn->HasReady());
  Ready rd = rn->GetReady();
  EXPECT_EQ(rd.hard_state, HS(1, 0, 3));
  ASSERT_EQ(rd.entries.size(), 3u);
  EXPECT_TRUE(rd.must_sync);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rd.entries[i].type(), raftpb::EntryConfChange);
    EXPECT_EQ(rd.entries[i].index(), i + 1);
    EXPECT_EQ(rd.entries[i].term(), 1u);
    raftpb::ConfChange cc;
    ASSERT_TRUE(cc.ParseFromString(rd.entries[i].data()));
    EXPECT_EQ(cc.type(), raftpb::ConfChangeAddNode);
    EXPECT_EQ(cc.node_id(), peers[i].id);
    EXPECT_EQ(cc.context(), peers[i].context);
  }
  EXPECT_EQ(rd.committed_entries.size(), 3u);
  ASSERT_TRUE(s.Append(rd.entries).ok());
  ASSERT_TRUE(s.SetHardState(rd.hard_state).ok());
  rn->Advance(rd);
  EXPECT_FALSE(rn->HasReady());

  // A non-empty storage cannot be bootstrapped.
  std::unique_ptr<RawNode> again = NewTestRawNode(1, {}, 10, 1, &s);
  EXPECT_FALSE(again->Bootstrap(peers).ok());
}

// A three-node cluster of RawNodes elects a leader and replicates through
// the Ready/Advance cycle.
TEST(RawNodeTest, ThreeNodeReplication) {
  std::vector<std::unique_ptr<MemoryStorage>> storages;
  std::vector<std::unique_ptr<RawNode>> nodes;
  for (uint64_t id = 1; id <= 3; ++id) {
    storages.push_back(std::make_unique<MemoryStorage>());
    nodes.push_back(NewTestRawNode(id, {}, 10, 1, storages.back().get()));
    ASSERT_TRUE(nodes.back()->Bootstrap({{1, ""}, {2, ""}, {3, ""}}).ok());
  }
  std::map<uint64_t, std::vector<std::string>> applied;
  auto stabilize = [&] {
    for (bool busy = true; busy;) {
      busy = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        RawNode* rn = nodes[i].get();
        if (!rn->HasReady()) continue;
        busy = true;
        Ready rd = rn->GetReady();
        if (!IsEmptyHardState(rd.hard_state)) {
          ASSERT_TRUE(storages[i]->SetHardState(rd.hard_state).ok());
        }
        ASSERT_TRUE(storages[i]->Append(rd.entries).ok());
        for (const raftpb::Entry& e : rd.committed_entries) {
          if (e.type() == raftpb::EntryNormal && !e.data().empty()) {
            applied[i + 1].push_back(e.data());
          }
        }
        for (raftpb::Message& m : rd.messages) (void)nodes[m.to() - 1]->Step(m);
        rn->Advance(rd);
      }
    }
  };
  stabilize();
  ASSERT_TRUE(nodes[0]->Campaign().ok());
  stabilize();
  EXPECT_EQ(nodes[0]->GetBasicStatus().soft_state.raft_state, StateType::kLeader);
  // "a" is forwarded by 2 with its next Ready, after "b" was appended by
  // the leader directly.
  ASSERT_TRUE(nodes[1]->Propose("a").ok());
  ASSERT_TRUE(nodes[0]->Propose("b").ok());
  stabilize();
  for (uint64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(applied[id], (std::vector<std::string>{"b", "a"})) << id;
  }
  // Leadership moves on request.
  nodes[0]->TransferLeader(3);
  stabilize();
  EXPECT_EQ(nodes[2]->GetBasicStatus().soft_state.raft_state, StateType::kLeader);
  EXPECT_EQ(nodes[0]->GetBasicStatus().soft_state.lead, 3u);
}

// ReportUnreachable moves a replicating follower back to probing;
// ReportSnapshot ends the snapshot state.
TEST(RawNodeTest, ReportUnreachableAndSnapshot) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1, 2}, 10, 1, &s);
  rn->raft().BecomeCandidate();
  rn->raft().BecomeLeader();
  tracker::Progress& pr = rn->raft().prs().progress[2];
  pr.BecomeReplicate();
  rn->ReportUnreachable(2);
  EXPECT_EQ(pr.state, tracker::StateType::kProbe);

  pr.BecomeSnapshot(5);
  rn->ReportSnapshot(2, SnapshotStatus::kFailure);
  EXPECT_EQ(pr.state, tracker::StateType::kProbe);
  EXPECT_EQ(pr.pending_snapshot, 0u);
  EXPECT_TRUE(pr.probe_sent);
}

// TickQuiesced advances the election clock without campaigning or
// heartbeats.
TEST(RawNodeTest, TickQuiesced) {
  MemoryStorage s;
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, {1, 2}, 10, 1, &s);
  for (int i = 0; i < 100; ++i) rn->TickQuiesced();
  EXPECT_EQ(rn->raft().state(), StateType::kFollower);
  EXPECT_EQ(rn->raft().election_elapsed(), 100);
  // The next normal tick starts an election.
  rn->Tick();
  EXPECT_EQ(rn->raft().state(), StateType::kCandidate);
}

TEST(RawNodeTest, NewRejectsInvalidConfig) {
  MemoryStorage s;
  Config c = NewTestConfig(0, {1}, 10, 1, &s);
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(c);
  ASSERT_FALSE(rn.ok());
  EXPECT_EQ(rn.status().message(), "cannot use none as id");
}

}  // namespace
}  // namespace etcd::raft::testing
