// Asynchronous storage writes (Config::async_storage_writes): a cluster
// whose storage work is done late and in random interleavings commits the
// same log as one that persists synchronously, commits only what a quorum
// has durably written, and a node driven by real append and apply threads
// applies everything in order.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "raft/errors.h"
#include "raft/log_unstable.h"
#include "raft/raft_test_helpers.h"
#include "raft/rawnode.h"
#include "raft/util.h"

namespace etcd::raft::testing {
namespace {

struct SimNode {
  MemoryStorage storage;
  std::unique_ptr<RawNode> rn;
  // Asynchronous mode: work handed to the node's append and apply threads.
  std::deque<raftpb::Message> append_work;
  std::deque<raftpb::Message> apply_work;
  // The payloads of the applied entries, in order (empty ones left out).
  std::vector<std::string> applied;
};

// Three nodes whose Readies, network messages and (asynchronous mode)
// storage work are processed in an order drawn from a seeded generator:
// messages are delivered in any order and storage work lags arbitrarily.
class Sim {
 public:
  Sim(bool async, uint64_t seed) : async_(async), rng_(seed) {
    for (uint64_t id = 1; id <= 3; ++id) {
      auto n = std::make_unique<SimNode>();
      Config c = NewTestConfig(id, {1, 2, 3}, 10, 1, &n->storage);
      c.async_storage_writes = async;
      c.random_seed = id;
      absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(c);
      EXPECT_TRUE(rn.ok()) << rn.status();
      n->rn = *std::move(rn);
      nodes_.push_back(std::move(n));
    }
  }

  SimNode& node(uint64_t id) { return *nodes_[id - 1]; }

  // Performs one random pending action; false when nothing is pending.
  bool StepOnce() {
    // Candidate actions: (kind, node index or message index).
    std::vector<std::pair<int, size_t>> actions;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->rn->HasReady()) actions.push_back({0, i});
      if (!nodes_[i]->append_work.empty()) actions.push_back({1, i});
      if (!nodes_[i]->apply_work.empty()) actions.push_back({2, i});
    }
    for (size_t i = 0; i < net_.size(); ++i) actions.push_back({3, i});
    if (actions.empty()) return false;
    auto [kind, i] = actions[std::uniform_int_distribution<size_t>(0, actions.size() - 1)(rng_)];
    switch (kind) {
      case 0:
        HandleReady(*nodes_[i]);
        break;
      case 1:
        DoAppend(*nodes_[i]);
        break;
      case 2:
        DoApply(*nodes_[i]);
        break;
      default: {
        raftpb::Message m = std::move(net_[i]);
        net_.erase(net_.begin() + i);
        (void)node(m.to()).rn->Step(std::move(m));
      }
    }
    if (async_) CheckDurableQuorum();
    return true;
  }

  void RunUntilQuiet() {
    for (int i = 0; i < 1000000 && StepOnce(); ++i) {
    }
  }

 private:
  void Persist(SimNode& n, const raftpb::HardState& hs,
               const google::protobuf::RepeatedPtrField<raftpb::Entry>& entries,
               const raftpb::Snapshot& snap) {
    if (!IsEmptySnap(snap)) ASSERT_TRUE(n.storage.ApplySnapshot(snap).ok());
    std::vector<raftpb::Entry> ents(entries.begin(), entries.end());
    ASSERT_TRUE(n.storage.Append(ents).ok());
    if (!IsEmptyHardState(hs)) ASSERT_TRUE(n.storage.SetHardState(hs).ok());
  }

  void Apply(SimNode& n, const raftpb::Entry& e) {
    if (e.type() == raftpb::EntryNormal && !e.data().empty()) n.applied.push_back(e.data());
  }

  void HandleReady(SimNode& n) {
    Ready rd = n.rn->GetReady();
    if (async_) {
      for (raftpb::Message& m : rd.messages) {
        if (m.to() == kLocalAppendThread) {
          n.append_work.push_back(std::move(m));
        } else if (m.to() == kLocalApplyThread) {
          n.apply_work.push_back(std::move(m));
        } else {
          net_.push_back(std::move(m));
        }
      }
      return;
    }
    google::protobuf::RepeatedPtrField<raftpb::Entry> ents(rd.entries.begin(), rd.entries.end());
    Persist(n, rd.hard_state, ents, rd.snapshot);
    for (raftpb::Message& m : rd.messages) net_.push_back(std::move(m));
    for (const raftpb::Entry& e : rd.committed_entries) Apply(n, e);
    n.rn->Advance(rd);
  }

  void DoAppend(SimNode& n) {
    raftpb::Message m = std::move(n.append_work.front());
    n.append_work.pop_front();
    raftpb::HardState hs;
    hs.set_term(m.term());
    hs.set_vote(m.vote());
    hs.set_commit(m.commit());
    Persist(n, hs, m.entries(), m.snapshot());
    for (raftpb::Message& r : *m.mutable_responses()) net_.push_back(std::move(r));
  }

  void DoApply(SimNode& n) {
    raftpb::Message m = std::move(n.apply_work.front());
    n.apply_work.pop_front();
    for (const raftpb::Entry& e : m.entries()) Apply(n, e);
    for (raftpb::Message& r : *m.mutable_responses()) net_.push_back(std::move(r));
  }

  // A leader's commit index names an entry that a quorum holds durably.
  void CheckDurableQuorum() {
    for (auto& leader : nodes_) {
      const Raft& r = leader->rn->raft();
      if (r.state() != StateType::kLeader) continue;
      const uint64_t commit = r.raft_log().committed();
      absl::StatusOr<uint64_t> term = r.raft_log().Term(commit);
      ASSERT_TRUE(term.ok());
      int durable = 0;
      for (auto& n : nodes_) {
        absl::StatusOr<uint64_t> last = n->storage.LastIndex();
        absl::StatusOr<uint64_t> t = n->storage.Term(commit);
        if (last.ok() && *last >= commit && t.ok() && *t == *term) ++durable;
      }
      ASSERT_GE(durable, 2) << "leader " << r.id() << " committed " << commit
                            << " which is durable on " << durable << " node(s)";
    }
  }

  bool async_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<raftpb::Message> net_;
};

// Elects node 1, proposes `n` entries on it with random interleavings of
// everything else in between, and runs until quiet. Returns each node's
// applied payloads.
std::vector<std::vector<std::string>> RunScript(bool async, uint64_t seed, int n) {
  Sim sim(async, seed);
  EXPECT_TRUE(sim.node(1).rn->Campaign().ok());
  sim.RunUntilQuiet();
  EXPECT_EQ(sim.node(1).rn->raft().state(), StateType::kLeader);
  std::mt19937_64 rng(seed * 7919 + 1);
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(sim.node(1).rn->Propose(absl::StrCat("e", i)).ok());
    const int steps = std::uniform_int_distribution<int>(0, 8)(rng);
    for (int s = 0; s < steps && sim.StepOnce(); ++s) {
    }
  }
  sim.RunUntilQuiet();
  std::vector<std::vector<std::string>> out;
  for (uint64_t id = 1; id <= 3; ++id) out.push_back(sim.node(id).applied);
  return out;
}

TEST(AsyncStorageWritesTest, ConvergesToTheSynchronousLog) {
  constexpr int kEntries = 40;
  std::vector<std::string> want;
  for (int i = 0; i < kEntries; ++i) want.push_back(absl::StrCat("e", i));
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::vector<std::vector<std::string>> sync = RunScript(false, seed, kEntries);
    std::vector<std::vector<std::string>> async = RunScript(true, seed, kEntries);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(sync[i], want) << "sync node " << i + 1;
      EXPECT_EQ(async[i], sync[i]) << "async node " << i + 1;
    }
    if (::testing::Test::HasFailure()) break;
  }
}

// A single node in asynchronous mode: nothing commits until its own append
// thread reported the entries written.
TEST(AsyncStorageWritesTest, SingleNodeCommitsOnlyWhatIsWritten) {
  MemoryStorage s;
  Config c = NewTestConfig(1, {1}, 10, 1, &s);
  c.async_storage_writes = true;
  absl::StatusOr<std::unique_ptr<RawNode>> made = RawNode::New(c);
  ASSERT_TRUE(made.ok());
  RawNode& rn = **made;
  ASSERT_TRUE(rn.Campaign().ok());
  Ready rd = rn.GetReady();
  // Not leader yet: its own vote waits in the append work.
  EXPECT_EQ(rn.raft().state(), StateType::kCandidate);
  ASSERT_EQ(rd.messages.size(), 1u);
  raftpb::Message append = rd.messages[0];
  EXPECT_EQ(append.type(), raftpb::MsgStorageAppend);
  EXPECT_EQ(append.vote(), 1u);
  ASSERT_TRUE(s.SetHardState(HS(append.term(), append.vote(), append.commit())).ok());
  for (const raftpb::Message& r : append.responses()) ASSERT_TRUE(rn.Step(r).ok());
  EXPECT_EQ(rn.raft().state(), StateType::kLeader);

  ASSERT_TRUE(rn.Propose("x").ok());
  rd = rn.GetReady();
  EXPECT_EQ(rn.raft().raft_log().committed(), 0u);
  EXPECT_TRUE(rd.committed_entries.empty());
  // Advance is not for asynchronous mode; a second Ready does not repeat the
  // entries in flight.
  EXPECT_FALSE(rn.HasReady());
  const raftpb::Message* work = nullptr;
  for (const raftpb::Message& m : rd.messages) {
    if (m.type() == raftpb::MsgStorageAppend) work = &m;
  }
  ASSERT_NE(work, nullptr);
  ASSERT_EQ(work->entries_size(), 2);  // the leader's empty entry and "x"
  ASSERT_TRUE(
      s.Append(std::vector<raftpb::Entry>(work->entries().begin(), work->entries().end())).ok());
  for (const raftpb::Message& r : work->responses()) ASSERT_TRUE(rn.Step(r).ok());
  EXPECT_EQ(rn.raft().raft_log().committed(), 2u);
  rd = rn.GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 2u);
  EXPECT_EQ(rd.committed_entries[1].data(), "x");
  // Applying is reported by the apply thread's response.
  const raftpb::Message* apply = nullptr;
  for (const raftpb::Message& m : rd.messages) {
    if (m.type() == raftpb::MsgStorageApply) apply = &m;
  }
  ASSERT_NE(apply, nullptr);
  EXPECT_EQ(rn.raft().raft_log().applied(), 0u);
  for (const raftpb::Message& r : apply->responses()) ASSERT_TRUE(rn.Step(r).ok());
  EXPECT_EQ(rn.raft().raft_log().applied(), 2u);
}

// The unstable log hands each entry out for writing once, and again only if
// it was replaced.
TEST(AsyncStorageWritesTest, UnstableTracksWritesInProgress) {
  Unstable u(std::nullopt, {}, 5, rafttest::TestLogger());
  u.TruncateAndAppend(std::vector<raftpb::Entry>{Ent(5, 1), Ent(6, 1), Ent(7, 1)});
  EXPECT_EQ(u.NextEntries().size(), 3u);
  u.AcceptInProgress();
  EXPECT_TRUE(u.NextEntries().empty());
  EXPECT_EQ(u.offset_in_progress(), 8u);
  u.TruncateAndAppend(std::vector<raftpb::Entry>{Ent(8, 1)});
  ASSERT_EQ(u.NextEntries().size(), 1u);
  EXPECT_EQ(u.NextEntries()[0].index(), 8u);
  u.AcceptInProgress();
  // A new leader replaces 7 and 8: they must be written again.
  u.TruncateAndAppend(std::vector<raftpb::Entry>{Ent(7, 2), Ent(8, 2)});
  EXPECT_EQ(u.offset_in_progress(), 7u);
  ASSERT_EQ(u.NextEntries().size(), 2u);
  EXPECT_EQ(u.NextEntries()[0].term(), 2u);
  u.AcceptInProgress();
  // The write of the old 7 completes: a term mismatch, nothing is stable.
  u.StableTo(7, 1);
  EXPECT_EQ(u.offset(), 5u);
  u.StableTo(6, 1);
  EXPECT_EQ(u.offset(), 7u);
  EXPECT_EQ(u.offset_in_progress(), 9u);
  // A snapshot is handed out once too.
  raftpb::Snapshot snap = SnapWithConf(20, 3, {1});
  u.Restore(snap);
  ASSERT_NE(u.NextSnapshot(), nullptr);
  u.AcceptInProgress();
  EXPECT_EQ(u.NextSnapshot(), nullptr);
  u.StableSnapTo(20);
  EXPECT_FALSE(u.snapshot().has_value());
}

// Storage responses are accepted only in asynchronous mode, and only for
// work raft handed out.
TEST(AsyncStorageWritesTest, RefusesBogusStorageResponses) {
  MemoryStorage s;
  absl::StatusOr<std::unique_ptr<RawNode>> sync = RawNode::New(NewTestConfig(1, {1}, 10, 1, &s));
  ASSERT_TRUE(sync.ok());
  raftpb::Message m;
  m.set_type(raftpb::MsgStorageApplyResp);
  m.set_from(kLocalApplyThread);
  m.set_to(1);
  *m.add_entries() = Ent(5, 1);
  EXPECT_TRUE(IsStepLocalMsg((*sync)->Step(m)));

  MemoryStorage s2;
  Config c = NewTestConfig(1, {1}, 10, 1, &s2);
  c.async_storage_writes = true;
  absl::StatusOr<std::unique_ptr<RawNode>> async = RawNode::New(c);
  ASSERT_TRUE(async.ok());
  // Entry 5 was never handed out for applying.
  EXPECT_TRUE(IsStepLocalMsg((*async)->Step(m)));
  // Nor may a peer send storage messages.
  m.set_from(2);
  EXPECT_TRUE(IsStepLocalMsg((*async)->Step(m)));
}

// Real threads: the loop thread owns the RawNode, an append thread writes
// to the MemoryStorage and an apply thread applies; their responses come
// back through the loop's inbox.
TEST(AsyncStorageWritesTest, ThreadedSingleNodeAppliesEverything) {
  constexpr int kEntries = 2000;
  MemoryStorage storage;
  Config c = NewTestConfig(1, {1}, 10, 1, &storage);
  c.async_storage_writes = true;
  absl::StatusOr<std::unique_ptr<RawNode>> made = RawNode::New(c);
  ASSERT_TRUE(made.ok());
  RawNode& rn = **made;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<raftpb::Message> inbox, append_q, apply_q;  // guarded by mu
  bool stop = false;                                     // guarded by mu
  std::vector<std::string> applied;                      // apply thread only

  auto worker = [&](std::deque<raftpb::Message>* q, bool is_append) {
    for (;;) {
      raftpb::Message m;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stop || !q->empty(); });
        if (q->empty()) return;
        m = std::move(q->front());
        q->pop_front();
      }
      if (is_append) {
        if (!IsEmptySnap(m.snapshot())) ASSERT_TRUE(storage.ApplySnapshot(m.snapshot()).ok());
        ASSERT_TRUE(
            storage.Append(std::vector<raftpb::Entry>(m.entries().begin(), m.entries().end()))
                .ok());
        raftpb::HardState hs = HS(m.term(), m.vote(), m.commit());
        if (!IsEmptyHardState(hs)) ASSERT_TRUE(storage.SetHardState(hs).ok());
      } else {
        for (const raftpb::Entry& e : m.entries()) {
          if (!e.data().empty()) applied.push_back(e.data());
        }
      }
      std::lock_guard<std::mutex> l(mu);
      for (raftpb::Message& r : *m.mutable_responses()) inbox.push_back(std::move(r));
      cv.notify_all();
    }
  };
  std::thread append_thread(worker, &append_q, true);
  std::thread apply_thread(worker, &apply_q, false);

  ASSERT_TRUE(rn.Campaign().ok());
  int proposed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (rn.raft().raft_log().applied() < static_cast<uint64_t>(kEntries) + 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "applied " << rn.raft().raft_log().applied();
    std::deque<raftpb::Message> in;
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::milliseconds(10), [&] { return !inbox.empty(); });
      in.swap(inbox);
    }
    for (raftpb::Message& m : in) ASSERT_TRUE(rn.Step(std::move(m)).ok());
    // Keep a few proposals in flight.
    for (int k = 0; k < 16 && proposed < kEntries && rn.raft().state() == StateType::kLeader; ++k) {
      ASSERT_TRUE(rn.Propose(absl::StrCat("p", proposed++)).ok());
    }
    while (rn.HasReady()) {
      Ready rd = rn.GetReady();
      std::lock_guard<std::mutex> l(mu);
      for (raftpb::Message& m : rd.messages) {
        if (m.to() == kLocalAppendThread) {
          append_q.push_back(std::move(m));
        } else if (m.to() == kLocalApplyThread) {
          apply_q.push_back(std::move(m));
        }
      }
      cv.notify_all();
    }
  }
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
    cv.notify_all();
  }
  append_thread.join();
  apply_thread.join();
  ASSERT_EQ(applied.size(), static_cast<size_t>(kEntries));
  for (int i = 0; i < kEntries; ++i) ASSERT_EQ(applied[i], absl::StrCat("p", i));
  absl::StatusOr<uint64_t> last = storage.LastIndex();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, static_cast<uint64_t>(kEntries) + 1);
}

}  // namespace
}  // namespace etcd::raft::testing
