#include "raft/rafttest/network.h"

#include <cstdlib>
#include <deque>
#include <utility>

#include "raft/util.h"

namespace etcd::raft::rafttest {
namespace {

double NextDouble(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

}  // namespace

Logger* TestLogger() {
  static Logger* const logger = [] {
    if (std::getenv("RAFT_TEST_LOG") != nullptr) {
      auto* l = new StderrLogger();
      l->EnableDebug();
      return static_cast<Logger*>(l);
    }
    return DiscardLoggerInstance();
  }();
  return logger;
}

std::vector<uint64_t> IdsBySize(size_t size) {
  std::vector<uint64_t> ids(size);
  for (size_t i = 0; i < size; ++i) ids[i] = i + 1;
  return ids;
}

std::vector<std::unique_ptr<StateMachine>> NewPeers(size_t n) {
  std::vector<std::unique_ptr<StateMachine>> out(n);
  return out;
}

Config NewTestConfig(uint64_t id, std::vector<uint64_t> peers, int election, int heartbeat,
                     Storage* storage) {
  Config c;
  c.id = id;
  c.peers = std::move(peers);
  c.election_tick = election;
  c.heartbeat_tick = heartbeat;
  c.storage = storage;
  c.max_size_per_msg = kNoLimit;
  c.max_inflight_msgs = 256;
  c.logger = TestLogger();
  return c;
}

std::unique_ptr<RaftPeer> NewRaftPeer(Config config, std::unique_ptr<MemoryStorage> storage) {
  absl::StatusOr<std::unique_ptr<Raft>> r = Raft::New(std::move(config));
  if (!r.ok()) {
    TestLogger()->Panicf("cannot create test raft: %s", r.status().ToString());
  }
  return std::make_unique<RaftPeer>(std::move(storage), *std::move(r));
}

std::unique_ptr<RaftPeer> NewTestRaft(uint64_t id, std::vector<uint64_t> peers, int election,
                                      int heartbeat, std::unique_ptr<MemoryStorage> storage) {
  if (storage == nullptr) storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(id, std::move(peers), election, heartbeat, storage.get());
  return NewRaftPeer(std::move(c), std::move(storage));
}

std::unique_ptr<RaftPeer> NewTestLearnerRaft(uint64_t id, std::vector<uint64_t> peers,
                                             std::vector<uint64_t> learners, int election,
                                             int heartbeat,
                                             std::unique_ptr<MemoryStorage> storage) {
  if (storage == nullptr) storage = std::make_unique<MemoryStorage>();
  Config c = NewTestConfig(id, std::move(peers), election, heartbeat, storage.get());
  c.learners = std::move(learners);
  return NewRaftPeer(std::move(c), std::move(storage));
}

std::unique_ptr<RaftPeer> EntsWithConfig(const ConfigFunc& configure,
                                         std::initializer_list<uint64_t> terms) {
  auto storage = std::make_unique<MemoryStorage>();
  uint64_t i = 1;
  for (uint64_t term : terms) {
    raftpb::Entry e;
    e.set_index(i++);
    e.set_term(term);
    (void)storage->Append({e});
  }
  Config c = NewTestConfig(1, {}, 5, 1, storage.get());
  if (configure) configure(&c);
  std::unique_ptr<RaftPeer> peer = NewRaftPeer(std::move(c), std::move(storage));
  peer->raft()->Reset(*(terms.end() - 1));
  return peer;
}

std::unique_ptr<RaftPeer> VotedWithConfig(const ConfigFunc& configure, uint64_t vote,
                                          uint64_t term) {
  auto storage = std::make_unique<MemoryStorage>();
  raftpb::HardState hs;
  hs.set_vote(vote);
  hs.set_term(term);
  (void)storage->SetHardState(hs);
  Config c = NewTestConfig(1, {}, 5, 1, storage.get());
  if (configure) configure(&c);
  std::unique_ptr<RaftPeer> peer = NewRaftPeer(std::move(c), std::move(storage));
  peer->raft()->Reset(term);
  return peer;
}

void PreVoteConfig(Config* c) { c->pre_vote = true; }

raftpb::Message Msg(uint64_t from, uint64_t to, raftpb::MessageType type, uint64_t term) {
  raftpb::Message m;
  m.set_from(from);
  m.set_to(to);
  m.set_type(type);
  m.set_term(term);
  return m;
}

raftpb::Message Hup(uint64_t id) { return Msg(id, id, raftpb::MsgHup); }

raftpb::Message Beat(uint64_t id) { return Msg(id, id, raftpb::MsgBeat); }

raftpb::Message Prop(uint64_t id, const std::string& data) {
  raftpb::Message m = Msg(id, id, raftpb::MsgProp);
  m.add_entries()->set_data(data);
  return m;
}

Network::Network(std::vector<std::unique_ptr<StateMachine>> peers)
    : Network(nullptr, std::move(peers)) {}

Network::Network(const ConfigFunc& configure, std::vector<std::unique_ptr<StateMachine>> peers) {
  std::vector<uint64_t> addrs = IdsBySize(peers.size());
  for (size_t j = 0; j < peers.size(); ++j) {
    uint64_t id = addrs[j];
    std::unique_ptr<StateMachine>& p = peers[j];
    if (p == nullptr) {
      auto storage = std::make_unique<MemoryStorage>();
      Config c = NewTestConfig(id, addrs, 10, 1, storage.get());
      if (configure) configure(&c);
      peers_[id] = NewRaftPeer(std::move(c), std::move(storage));
      continue;
    }
    if (Raft* v = p->raft(); v != nullptr) {
      // Renumber the node and give it the network's configuration, keeping
      // its learners.
      quorum::MajorityConfig learners = v->prs().config.learners;
      v->set_id(id);
      v->prs() = tracker::ProgressTracker(v->prs().max_inflight);
      for (uint64_t addr : addrs) {
        tracker::Progress pr;
        if (learners.Contains(addr)) {
          pr.is_learner = true;
          v->prs().config.learners.Insert(addr);
        } else {
          v->prs().config.voters.incoming().Insert(addr);
        }
        v->prs().progress[addr] = pr;
      }
      v->Reset(v->term());
    }
    peers_[id] = std::move(p);
  }
}

void Network::Send(std::vector<raftpb::Message> msgs) {
  std::deque<raftpb::Message> queue(std::make_move_iterator(msgs.begin()),
                                    std::make_move_iterator(msgs.end()));
  while (!queue.empty()) {
    raftpb::Message m = std::move(queue.front());
    queue.pop_front();
    StateMachine* p = peer(m.to());
    if (p == nullptr) continue;
    (void)p->Step(std::move(m));
    for (raftpb::Message& out : Filter(p->ReadMessages())) queue.push_back(std::move(out));
  }
}

void Network::Drop(uint64_t from, uint64_t to, double perc) { dropm_[{from, to}] = perc; }

void Network::Cut(uint64_t one, uint64_t other) {
  Drop(one, other, 2.0);
  Drop(other, one, 2.0);
}

void Network::Isolate(uint64_t id) {
  for (size_t i = 0; i < peers_.size(); ++i) {
    uint64_t nid = i + 1;
    if (nid != id) {
      Drop(id, nid, 1.0);
      Drop(nid, id, 1.0);
    }
  }
}

void Network::Ignore(raftpb::MessageType t) { ignorem_.insert(t); }

void Network::Recover() {
  dropm_.clear();
  ignorem_.clear();
}

std::vector<raftpb::Message> Network::Filter(std::vector<raftpb::Message> msgs) {
  std::vector<raftpb::Message> out;
  for (raftpb::Message& m : msgs) {
    if (ignorem_.count(m.type()) > 0) continue;
    if (m.type() == raftpb::MsgHup) {
      // Hups never travel over the network.
      TestLogger()->Panicf("unexpected msgHup");
    }
    auto it = dropm_.find({m.from(), m.to()});
    double perc = it == dropm_.end() ? 0.0 : it->second;
    if (NextDouble(&rand_state_) < perc) continue;
    if (msg_hook_ && !msg_hook_(m)) continue;
    out.push_back(std::move(m));
  }
  return out;
}

StateMachine* Network::peer(uint64_t id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

Raft* Network::raft(uint64_t id) {
  StateMachine* p = peer(id);
  return p == nullptr ? nullptr : p->raft();
}

MemoryStorage* Network::storage(uint64_t id) {
  StateMachine* p = peer(id);
  return p == nullptr ? nullptr : p->storage();
}

}  // namespace etcd::raft::rafttest
