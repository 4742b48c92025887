// The driver loop of raft/README.md, for three nodes in one process: each
// Ready is persisted, sent, applied and advanced in the order the README
// shows, and the cluster elects a leader, replicates a proposal and applies
// a configuration change.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/rafttest/network.h"
#include "raft/rawnode.h"
#include "raft/storage.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

struct Member {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;
  std::vector<std::string> applied;
  raftpb::ConfState conf;
};

class ReadmeCluster {
 public:
  ReadmeCluster() {
    for (uint64_t id = 1; id <= 3; ++id) {
      Member& m = members_[id];
      Config c;
      c.id = id;
      c.election_tick = 10;
      c.heartbeat_tick = 1;
      c.storage = &m.storage;
      c.max_size_per_msg = 1 << 20;
      c.max_inflight_msgs = 256;
      c.random_seed = id;
      c.logger = rafttest::TestLogger();
      absl::StatusOr<std::unique_ptr<RawNode>> made = RawNode::New(c);
      EXPECT_TRUE(made.ok()) << made.status();
      m.node = *std::move(made);
      EXPECT_TRUE(m.node->Bootstrap({{1}, {2}, {3}}).ok());
    }
  }

  Member& member(uint64_t id) { return members_.at(id); }

  // One round: every node handles its Ready (as in the README), then the
  // messages are delivered.
  void Round() {
    for (auto& [id, m] : members_) {
      if (!m.node->HasReady()) continue;
      Ready rd = m.node->GetReady();
      // 1. Persist.
      if (!IsEmptySnap(rd.snapshot)) ASSERT_TRUE(m.storage.ApplySnapshot(rd.snapshot).ok());
      ASSERT_TRUE(m.storage.Append(rd.entries).ok());
      if (!IsEmptyHardState(rd.hard_state)) ASSERT_TRUE(m.storage.SetHardState(rd.hard_state).ok());
      // 2. Send.
      for (const raftpb::Message& msg : rd.messages) wire_.push_back(msg);
      // 3. Apply.
      for (const raftpb::Entry& e : rd.committed_entries) {
        if (e.type() == raftpb::EntryConfChange) {
          raftpb::ConfChange cc;
          ASSERT_TRUE(cc.ParseFromString(e.data()));
          m.conf = m.node->ApplyConfChange(cc);
        } else if (e.type() == raftpb::EntryConfChangeV2) {
          raftpb::ConfChangeV2 cc;
          ASSERT_TRUE(cc.ParseFromString(e.data()));
          m.conf = m.node->ApplyConfChange(cc);
        } else if (!e.data().empty()) {
          m.applied.push_back(e.data());
        }
      }
      // 4. Advance.
      m.node->Advance(rd);
    }
    std::deque<raftpb::Message> wire;
    wire.swap(wire_);
    for (raftpb::Message& msg : wire) {
      auto it = members_.find(msg.to());
      if (it != members_.end()) (void)it->second.node->Step(std::move(msg));
    }
  }

  // Ticks everyone and runs rounds until `done` or a bound.
  bool RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      for (auto& [id, m] : members_) m.node->Tick();
      Round();
    }
    return done();
  }

  uint64_t Leader() {
    for (auto& [id, m] : members_) {
      if (m.node->raft().state() == StateType::kLeader) return id;
    }
    return kNone;
  }

 private:
  std::map<uint64_t, Member> members_;
  std::deque<raftpb::Message> wire_;
};

TEST(ReadmeExampleTest, ElectsReplicatesAndReconfigures) {
  ReadmeCluster c;
  ASSERT_TRUE(c.RunUntil([&] { return c.Leader() != kNone; }));
  const uint64_t lead = c.Leader();
  ASSERT_TRUE(c.member(lead).node->Propose("hello").ok());
  ASSERT_TRUE(c.RunUntil([&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      if (c.member(id).applied != std::vector<std::string>{"hello"}) return false;
    }
    return true;
  }));

  // Demote node 3 to a learner (one voter changes: a simple change).
  raftpb::ConfChangeV2 cc;
  raftpb::ConfChangeSingle* ch = cc.add_changes();
  ch->set_type(raftpb::ConfChangeAddLearnerNode);
  ch->set_node_id(3);
  ASSERT_TRUE(c.member(lead).node->ProposeConfChange(cc).ok());
  ASSERT_TRUE(c.RunUntil([&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      const raftpb::ConfState& cs = c.member(id).conf;
      if (cs.learners_size() != 1 || cs.learners(0) != 3 || cs.voters_outgoing_size() != 0) {
        return false;
      }
    }
    return true;
  }));
}

}  // namespace
}  // namespace etcd::raft
