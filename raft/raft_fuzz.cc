// Fuzz target for //raft: the input is decoded into a sequence of operations
// on a simulated 3-node cluster of RawNodes (rafttest::Sim): ticks,
// campaigns, proposals, conf changes (v1 and v2, valid or not), leader
// transfers, read requests, snapshot reports, crashes and restarts,
// snapshots and compaction, partitions, delivering, dropping and duplicating
// messages in flight, and hostile messages (any type, term, index, log term,
// commit, entries, snapshot and context, partly relative to the receiver's
// state so that they reach deep into it) stepped into a node through
// RawNode::Step.
//
// Checked after every operation:
//   - nothing aborts: RawNode::Step refuses messages that would break an
//     invariant (ErrStepInvalidMsg), the application checks conf changes;
//   - the application contract (rafttest::Sim::status());
//   - local invariants that no message may break: a node's term and its
//     durable term never decrease, its vote in a term never changes, its
//     commit index never decreases, applied <= committed <= last index;
//   - while the input has sent no hostile message, the Raft paper's safety
//     properties (rafttest::SafetyChecker) over the whole cluster.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "raft/rafttest/safety.h"
#include "raft/rafttest/sim.h"
#include "raft/rawnode.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

constexpr size_t kMaxOps = 512;
constexpr uint64_t kMaxId = 6;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return empty() ? 0 : data_[pos_++]; }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Byte() % n; }
  bool Bit() { return (Byte() & 1) != 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return v;
  }
  std::string Bytes(size_t max) {
    size_t n = Below(max + 1);
    std::string out;
    for (size_t i = 0; i < n && !empty(); ++i) out.push_back(static_cast<char>(Byte()));
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

[[noreturn]] void Violation(const std::string& what) {
  std::fprintf(stderr, "raft_fuzz: %s\n", what.c_str());
  std::abort();
}

class Fuzzer {
 public:
  explicit Fuzzer(Reader* in) : in_(in), sim_(Options(in), &checker_) {}

  void Run() {
    Check();
    for (size_t op = 0; op < kMaxOps && !in_->empty(); ++op) {
      Step();
      Check();
    }
  }

 private:
  static rafttest::SimOptions Options(Reader* in) {
    rafttest::SimOptions o;
    o.seed = 1 + in->Byte();
    o.nodes = 3;
    o.faults = false;
    o.reorder = in->Bit();
    o.pre_vote = in->Bit();
    o.check_quorum = in->Bit();
    o.max_size_per_msg = in->Bit() ? 64 : kNoLimit;
    o.max_inflight_msgs = in->Bit() ? 2 : 64;
    o.snapshot_interval = in->Below(8);
    o.compaction_margin = in->Below(3);
    o.early_send = in->Bit() ? rafttest::EarlySend::kSafe : rafttest::EarlySend::kNever;
    o.logger = DiscardLoggerInstance();
    return o;
  }

  uint64_t Id() { return 1 + in_->Below(kMaxId); }

  void Step() {
    switch (in_->Below(20)) {
      case 0:
      case 1:
        sim_.Tick(Id());
        break;
      case 2:
        sim_.TickAll();
        break;
      case 3:
      case 4:
        sim_.Deliver();
        break;
      case 5:
        sim_.DeliverAt(in_->Below(16));
        break;
      case 6:
        if (in_->Bit()) {
          sim_.DropAt(in_->Below(16));
        } else {
          sim_.DuplicateAt(in_->Below(16));
        }
        break;
      case 7:
        (void)sim_.Propose(Id(), in_->Bytes(16));
        break;
      case 8:
        ProposeConfChange();
        break;
      case 9:
        (void)sim_.Campaign(Id());
        break;
      case 10:
        sim_.TransferLeader(Id(), in_->Below(kMaxId + 1));
        break;
      case 11:
        LocalOp();
        break;
      case 12:
        CrashOrRestart();
        break;
      case 13:
        sim_.Snapshot(Id());
        break;
      case 14:
        if (in_->Bit()) {
          sim_.Heal();
        } else {
          sim_.Isolate(Id());
        }
        break;
      case 15:
        sim_.DeliverAll(64);
        break;
      case 16:
        MutateInFlight();
        break;
      default:
        HostileMessage();
        break;
    }
  }

  void ProposeConfChange() {
    uint64_t id = Id();
    if (in_->Bit()) {
      raftpb::ConfChange cc;
      cc.set_type(static_cast<raftpb::ConfChangeType>(in_->Below(4)));
      cc.set_node_id(in_->Below(kMaxId + 1));
      (void)sim_.ProposeConfChange(id, cc);
      return;
    }
    raftpb::ConfChangeV2 cc;
    cc.set_transition(static_cast<raftpb::ConfChangeTransition>(in_->Below(3)));
    for (uint64_t n = in_->Below(4); n > 0; --n) {
      raftpb::ConfChangeSingle* c = cc.add_changes();
      c->set_type(static_cast<raftpb::ConfChangeType>(in_->Below(4)));
      c->set_node_id(in_->Below(kMaxId + 1));
    }
    (void)sim_.ProposeConfChange(id, cc);
  }

  void LocalOp() {
    uint64_t id = Id();
    uint64_t other = in_->Below(kMaxId + 1);
    switch (in_->Below(4)) {
      case 0: {
        std::string ctx = in_->Bytes(8);
        (void)sim_.Do(id, [&ctx](RawNode& rn) {
          rn.ReadIndex(ctx);
          return absl::OkStatus();
        });
        break;
      }
      case 1:
        (void)sim_.Do(id, [other](RawNode& rn) {
          rn.ReportUnreachable(other);
          return absl::OkStatus();
        });
        break;
      case 2: {
        SnapshotStatus status = in_->Bit() ? SnapshotStatus::kFinish : SnapshotStatus::kFailure;
        (void)sim_.Do(id, [other, status](RawNode& rn) {
          rn.ReportSnapshot(other, status);
          return absl::OkStatus();
        });
        break;
      }
      default:
        (void)sim_.Do(id, [](RawNode& rn) {
          rn.TickQuiesced();
          return absl::OkStatus();
        });
        break;
    }
  }

  void CrashOrRestart() {
    uint64_t id = Id();
    if (!sim_.IsUp(id)) {
      sim_.Restart(id);
    } else if (in_->Bit()) {
      sim_.Crash(id);
    } else {
      sim_.CrashDuringReady(id, static_cast<rafttest::CrashPoint>(in_->Below(3)));
    }
  }

  // Enters hostile mode: the safety properties no longer hold (a lying
  // peer can forge a commit), only the local invariants are checked.
  void GoHostile() {
    if (hostile_) return;
    hostile_ = true;
    sim_.set_honest(false);
    sim_.set_checker(nullptr);
  }

  // A term near `base` or anywhere.
  uint64_t TermNear(uint64_t base) {
    switch (in_->Below(6)) {
      case 0:
        return 0;
      case 1:
        return base;
      case 2:
        return base + 1;
      case 3:
        return base > 0 ? base - 1 : 0;
      case 4:
        return base + in_->Below(4);
      default:
        return in_->U64();
    }
  }

  // An index near the receiver's last or commit index, or anywhere.
  uint64_t IndexNear(const RaftLog& log) {
    switch (in_->Below(7)) {
      case 0:
        return 0;
      case 1:
        return log.LastIndex();
      case 2:
        return log.LastIndex() + in_->Below(4);
      case 3:
        return log.committed();
      case 4: {
        uint64_t d = in_->Below(4);
        return log.committed() > d ? log.committed() - d : 0;
      }
      case 5:
        return log.FirstIndex() > 0 ? log.FirstIndex() - 1 : 0;
      default:
        return in_->U64();
    }
  }

  std::string EntryData(raftpb::EntryType type) {
    if (type == raftpb::EntryConfChange && in_->Bit()) {
      raftpb::ConfChange cc;
      cc.set_type(static_cast<raftpb::ConfChangeType>(in_->Below(4)));
      cc.set_node_id(in_->Below(kMaxId + 1));
      return MarshalConfChange(cc);
    }
    if (type == raftpb::EntryConfChangeV2 && in_->Bit()) {
      raftpb::ConfChangeV2 cc;
      cc.set_transition(static_cast<raftpb::ConfChangeTransition>(in_->Below(3)));
      for (uint64_t n = in_->Below(3); n > 0; --n) {
        raftpb::ConfChangeSingle* c = cc.add_changes();
        c->set_type(static_cast<raftpb::ConfChangeType>(in_->Below(4)));
        c->set_node_id(in_->Below(kMaxId + 1));
      }
      return MarshalConfChange(cc);
    }
    return in_->Bytes(12);
  }

  void AddIds(google::protobuf::RepeatedField<uint64_t>* ids) {
    uint8_t bits = in_->Byte();
    for (uint64_t id = 1; id <= kMaxId; ++id) {
      if ((bits >> (id - 1)) & 1) ids->Add(id);
    }
  }

  void HostileMessage() {
    uint64_t to = Id();
    RawNode* rn = sim_.node(to);
    if (rn == nullptr) return;
    GoHostile();
    const Raft& r = rn->raft();
    const RaftLog& log = r.raft_log();
    raftpb::Message m;
    m.set_to(to);
    m.set_from(in_->Below(kMaxId + 1));
    m.set_type(static_cast<raftpb::MessageType>(in_->Below(raftpb::MessageType_MAX + 1)));
    m.set_term(TermNear(r.term()));
    m.set_index(IndexNear(log));
    if (in_->Bit()) {
      m.set_logterm(log.ZeroTermOnErrCompacted(log.Term(m.index())));
    } else {
      m.set_logterm(TermNear(log.LastTerm()));
    }
    m.set_commit(IndexNear(log));
    m.set_reject(in_->Bit());
    m.set_rejecthint(IndexNear(log));
    const bool contiguous = in_->Below(4) != 0;
    for (uint64_t n = in_->Below(5), k = 0; k < n; ++k) {
      raftpb::Entry* e = m.add_entries();
      e->set_index(contiguous ? m.index() + 1 + k : IndexNear(log));
      e->set_term(in_->Bit() ? m.term() : TermNear(m.logterm()));
      e->set_type(static_cast<raftpb::EntryType>(in_->Below(3)));
      e->set_data(EntryData(e->type()));
    }
    if (m.type() == raftpb::MsgSnap || in_->Below(8) == 0) {
      raftpb::SnapshotMetadata* md = m.mutable_snapshot()->mutable_metadata();
      md->set_index(IndexNear(log));
      md->set_term(TermNear(r.term()));
      raftpb::ConfState* cs = md->mutable_conf_state();
      AddIds(cs->mutable_voters());
      if (in_->Bit()) AddIds(cs->mutable_learners());
      if (in_->Bit()) {
        AddIds(cs->mutable_voters_outgoing());
        AddIds(cs->mutable_learners_next());
        cs->set_auto_leave(in_->Bit());
      }
      m.mutable_snapshot()->set_data(
          in_->Bit() ? rafttest::EncodeSimSnapshot(md->index(), in_->U64(), {}) : in_->Bytes(8));
    }
    if (in_->Below(4) == 0) {
      m.set_context(in_->Bit() ? std::string(CampaignTypeName(CampaignType::kTransfer))
                               : in_->Bytes(8));
    }
    (void)sim_.StepRaw(std::move(m));
  }

  // Replays a message in flight with one field changed.
  void MutateInFlight() {
    const std::vector<rafttest::InFlight>& q = sim_.in_flight();
    if (q.empty()) return;
    raftpb::Message m = q[in_->Below(q.size())].msg;
    GoHostile();
    switch (in_->Below(6)) {
      case 0:
        m.set_term(m.term() + in_->Below(3) - 1);
        break;
      case 1:
        m.set_index(m.index() + in_->Below(5) - 2);
        break;
      case 2:
        m.set_logterm(m.logterm() + in_->Below(3) - 1);
        break;
      case 3:
        m.set_commit(m.commit() + in_->Below(5) - 2);
        break;
      case 4:
        m.set_to(Id());
        break;
      default:
        if (m.entries_size() > 0) {
          raftpb::Entry* e = m.mutable_entries(static_cast<int>(in_->Below(m.entries_size())));
          e->set_term(e->term() + in_->Below(3) - 1);
        }
        break;
    }
    (void)sim_.StepRaw(std::move(m));
  }

  // What is remembered of each node to check that it only moves forward.
  struct Seen {
    uint64_t incarnation_term = 0;  // in-memory, reset on restart
    uint64_t committed = 0;
    uint64_t durable_term = 0;
    std::map<uint64_t, uint64_t> votes;  // durable vote per term
    bool up = false;
  };

  void Check() {
    if (!sim_.status().ok()) Violation(std::string(sim_.status().message()));
    for (uint64_t id : sim_.NodeIds()) {
      Seen& seen = seen_[id];
      raftpb::HardState hs = sim_.storage(id)->InitialState()->hard_state;
      if (hs.term() < seen.durable_term) {
        Violation("node " + std::to_string(id) + ": durable term went back");
      }
      seen.durable_term = hs.term();
      if (hs.vote() != kNone) {
        auto [it, inserted] = seen.votes.emplace(hs.term(), hs.vote());
        if (!inserted && it->second != hs.vote()) {
          Violation("node " + std::to_string(id) + ": voted twice in term " +
                    std::to_string(hs.term()));
        }
      }
      RawNode* rn = sim_.node(id);
      if (rn == nullptr) {
        seen.up = false;
        continue;
      }
      const Raft& r = rn->raft();
      if (!seen.up) {
        seen = Seen{0, 0, seen.durable_term, std::move(seen.votes), true};
      }
      if (r.term() < seen.incarnation_term) {
        Violation("node " + std::to_string(id) + ": term went back");
      }
      seen.incarnation_term = r.term();
      const RaftLog& log = r.raft_log();
      if (log.committed() < seen.committed) {
        Violation("node " + std::to_string(id) + ": commit index went back");
      }
      seen.committed = log.committed();
      if (log.applied() > log.committed() || log.committed() > log.LastIndex()) {
        Violation("node " + std::to_string(id) +
                  ": applied <= committed <= last index broken: " + log.String());
      }
    }
    if (!hostile_) {
      absl::Status s = checker_.CheckAll(sim_.Views());
      if (!s.ok()) Violation(std::string(s.message()) + "\n" + sim_.DebugString());
    }
  }

  Reader* in_;
  rafttest::SafetyChecker checker_;
  rafttest::Sim sim_;
  bool hostile_ = false;
  std::map<uint64_t, Seen> seen_;
};

}  // namespace
}  // namespace etcd::raft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  etcd::raft::Reader in(data, size);
  etcd::raft::Fuzzer fuzzer(&in);
  fuzzer.Run();
  return 0;
}
