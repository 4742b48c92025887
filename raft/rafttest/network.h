// An in-memory network of raft state machines for tests (etcd's `network`
// in raft_test.go).
//
//   rafttest::Network nt({nullptr, nullptr, nullptr});   // three new nodes
//   nt.Send(rafttest::Hup(1));                           // 1 campaigns
//   EXPECT_EQ(nt.raft(1)->state(), StateType::kLeader);
//   nt.Isolate(1);                                       // drop 1's traffic
//
// Send delivers a message and then, breadth-first, every message the
// recipients produce, until the network is quiet; messages are dropped by
// the filters (Drop, Cut, Isolate, Ignore, the message hook). Drop
// percentages use a fixed-seed generator, so runs are reproducible.
//
// Not thread-safe. Test-only.

#ifndef ETCD_RAFT_RAFTTEST_NETWORK_H_
#define ETCD_RAFT_RAFTTEST_NETWORK_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "raft/raft.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/storage.h"

namespace etcd::raft::rafttest {

// A participant of a Network.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual absl::Status Step(raftpb::Message m) = 0;
  // Takes the messages produced since the last call.
  virtual std::vector<raftpb::Message> ReadMessages() = 0;
  // The raft state machine, or null for other participants.
  virtual Raft* raft() { return nullptr; }
  // Its storage, if it owns one.
  virtual MemoryStorage* storage() { return nullptr; }
};

// A raft state machine together with the storage it reads from (which it
// owns, so the pair can be handed around as one).
class RaftPeer : public StateMachine {
 public:
  RaftPeer(std::unique_ptr<MemoryStorage> storage, std::unique_ptr<Raft> raft)
      : storage_(std::move(storage)), raft_(std::move(raft)) {}

  absl::Status Step(raftpb::Message m) override { return raft_->Step(std::move(m)); }
  std::vector<raftpb::Message> ReadMessages() override { return raft_->ReadMessages(); }
  Raft* raft() override { return raft_.get(); }
  MemoryStorage* storage() override { return storage_.get(); }

  Raft* operator->() { return raft_.get(); }

 private:
  std::unique_ptr<MemoryStorage> storage_;  // outlives raft_
  std::unique_ptr<Raft> raft_;
};

// Swallows every message and says nothing.
class BlackHole : public StateMachine {
 public:
  absl::Status Step(raftpb::Message) override { return absl::OkStatus(); }
  std::vector<raftpb::Message> ReadMessages() override { return {}; }
};

using ConfigFunc = std::function<void(Config*)>;

class Network {
 public:
  // Nodes 1..n, one per element of `peers`: null makes a new raft (election
  // tick 10, heartbeat tick 1, all nodes voters, a fresh MemoryStorage);
  // a RaftPeer is renumbered and given the network's voters (keeping its
  // learners) as etcd's tests do; anything else is used as is.
  explicit Network(std::vector<std::unique_ptr<StateMachine>> peers);
  // Like above; `configure` adjusts the config of the rafts it creates.
  Network(const ConfigFunc& configure, std::vector<std::unique_ptr<StateMachine>> peers);

  // Delivers `msgs` and everything they cause.
  void Send(std::vector<raftpb::Message> msgs);
  void Send(raftpb::Message m) { Send(std::vector<raftpb::Message>{std::move(m)}); }

  // Drops messages from `from` to `to` with probability `perc` (>= 1: all).
  void Drop(uint64_t from, uint64_t to, double perc);
  // Drops all messages between the two nodes, both ways.
  void Cut(uint64_t one, uint64_t other);
  // Drops all messages to and from `id`.
  void Isolate(uint64_t id);
  // Drops all messages of type `t`.
  void Ignore(raftpb::MessageType t);
  // Removes all drops and ignores.
  void Recover();
  // Called for each message that passed the other filters; returning false
  // drops it. Null removes the hook.
  void SetMsgHook(std::function<bool(const raftpb::Message&)> hook) { msg_hook_ = std::move(hook); }

  // The messages of `msgs` that the filters let through.
  std::vector<raftpb::Message> Filter(std::vector<raftpb::Message> msgs);

  StateMachine* peer(uint64_t id);
  // Null if `id` is not a raft.
  Raft* raft(uint64_t id);
  MemoryStorage* storage(uint64_t id);
  size_t size() const { return peers_.size(); }

 private:
  std::map<uint64_t, std::unique_ptr<StateMachine>> peers_;
  std::map<std::pair<uint64_t, uint64_t>, double> dropm_;
  std::set<raftpb::MessageType> ignorem_;
  std::function<bool(const raftpb::Message&)> msg_hook_;
  uint64_t rand_state_ = 1;
};

// Peers for Network's constructor, e.g. Peers(nullptr, BlackHolePeer(), ...).
template <typename... Ts>
std::vector<std::unique_ptr<StateMachine>> Peers(Ts&&... peers) {
  std::vector<std::unique_ptr<StateMachine>> out;
  (out.push_back(std::forward<Ts>(peers)), ...);
  return out;
}
// `n` new rafts.
std::vector<std::unique_ptr<StateMachine>> NewPeers(size_t n);
inline std::unique_ptr<StateMachine> BlackHolePeer() { return std::make_unique<BlackHole>(); }

// 1, 2, ..., size.
std::vector<uint64_t> IdsBySize(size_t size);

// The logger of test rafts: discards, unless RAFT_TEST_LOG is set in the
// environment (then stderr, debug included).
Logger* TestLogger();

// etcd's newTestConfig: MaxSizePerMsg unlimited, 256 inflight messages.
Config NewTestConfig(uint64_t id, std::vector<uint64_t> peers, int election, int heartbeat,
                     Storage* storage);
// A new raft owning `storage` (a new MemoryStorage if null). Aborts if the
// config is invalid.
std::unique_ptr<RaftPeer> NewTestRaft(uint64_t id, std::vector<uint64_t> peers, int election,
                                      int heartbeat,
                                      std::unique_ptr<MemoryStorage> storage = nullptr);
std::unique_ptr<RaftPeer> NewTestLearnerRaft(uint64_t id, std::vector<uint64_t> peers,
                                             std::vector<uint64_t> learners, int election,
                                             int heartbeat,
                                             std::unique_ptr<MemoryStorage> storage = nullptr);
// A raft from a config (whose storage must be `storage`, which it will own).
std::unique_ptr<RaftPeer> NewRaftPeer(Config config, std::unique_ptr<MemoryStorage> storage);

// A raft (id 1, no peers) whose log holds entries 1.. with the given terms,
// reset to the last term (etcd's entsWithConfig).
std::unique_ptr<RaftPeer> EntsWithConfig(const ConfigFunc& configure,
                                         std::initializer_list<uint64_t> terms);
// A raft (id 1, no peers, empty log) that voted for `vote` in `term`
// (etcd's votedWithConfig).
std::unique_ptr<RaftPeer> VotedWithConfig(const ConfigFunc& configure, uint64_t vote,
                                          uint64_t term);

// Enables PreVote.
void PreVoteConfig(Config* c);

// Local messages, as tests send them.
raftpb::Message Hup(uint64_t id);
raftpb::Message Beat(uint64_t id);
raftpb::Message Prop(uint64_t id, const std::string& data);
raftpb::Message Msg(uint64_t from, uint64_t to, raftpb::MessageType type, uint64_t term = 0);

}  // namespace etcd::raft::rafttest

#endif  // ETCD_RAFT_RAFTTEST_NETWORK_H_
