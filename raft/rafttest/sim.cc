#include "raft/rafttest/sim.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "raft/errors.h"
#include "raft/rafttest/network.h"
#include "raft/util.h"

namespace etcd::raft::rafttest {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::set<uint64_t> Members(const raftpb::ConfState& cs) {
  std::set<uint64_t> ids;
  ids.insert(cs.voters().begin(), cs.voters().end());
  ids.insert(cs.voters_outgoing().begin(), cs.voters_outgoing().end());
  ids.insert(cs.learners().begin(), cs.learners().end());
  ids.insert(cs.learners_next().begin(), cs.learners_next().end());
  return ids;
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string EncodeSimSnapshot(uint64_t applied, uint64_t state, const std::set<uint64_t>& removed) {
  std::string out;
  PutU64(&out, applied);
  PutU64(&out, state);
  for (uint64_t id : removed) PutU64(&out, id);
  return out;
}

bool DecodeSimSnapshot(const std::string& data, uint64_t* applied, uint64_t* state,
                       std::set<uint64_t>* removed) {
  if (data.size() < 16 || data.size() % 8 != 0) return false;
  *applied = GetU64(data.data());
  *state = GetU64(data.data() + 8);
  removed->clear();
  for (size_t off = 16; off < data.size(); off += 8) removed->insert(GetU64(data.data() + off));
  return true;
}

struct Sim::Node {
  uint64_t id = 0;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> rn;  // null while down; destroyed before storage
  bool removed = false;
  uint64_t incarnation = 0;
  std::optional<CrashPoint> crash_at;

  // The replicated state machine (volatile).
  uint64_t applied = 0;
  uint64_t state = 0;
  uint64_t last_snapshot = 0;
  raftpb::ConfState conf;
  // IDs removed from the configuration (like etcd's membership store, part
  // of the state machine and its snapshots): they may not be added again,
  // and their messages are refused.
  std::set<uint64_t> removed_ids;

  // The log as stored: entries log_snap_index+1.. (kept in step with the
  // storage, so that views need not read it).
  uint64_t log_snap_index = 0;
  uint64_t log_snap_term = 0;
  std::vector<EntryView> log;

  uint64_t LastIndex() const { return log_snap_index + log.size(); }
  const EntryView* At(uint64_t i) const {
    if (i <= log_snap_index || i > LastIndex()) return nullptr;
    return &log[i - log_snap_index - 1];
  }
};

Sim::Sim(const SimOptions& options, SafetyChecker* checker)
    : options_(options),
      checker_(checker),
      rand_state_(options.seed * 0x2545f4914f6cdd1dULL + 1),
      next_id_(options.nodes + 1) {
  std::vector<Peer> peers;
  for (uint64_t id = 1; id <= options.nodes; ++id) peers.push_back(Peer{id, ""});
  for (uint64_t id = 1; id <= options.nodes; ++id) {
    auto n = std::make_unique<Node>();
    n->id = id;
    n->storage = std::make_unique<MemoryStorage>();
    StartNode(*n);
    if (n->rn != nullptr) {
      absl::Status s = n->rn->Bootstrap(peers);
      if (!s.ok()) Fail(s);
    }
    nodes_[id] = std::move(n);
  }
  for (auto& [id, n] : nodes_) ProcessReady(*n);
}

Sim::~Sim() = default;

uint64_t Sim::Rand(uint64_t n) { return n == 0 ? 0 : SplitMix64(&rand_state_) % n; }

bool Sim::Chance(double p) {
  if (p <= 0) return false;
  return static_cast<double>(SplitMix64(&rand_state_) >> 11) / static_cast<double>(1ULL << 53) < p;
}

void Sim::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
}

Sim::Node* Sim::Find(uint64_t id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

const Sim::Node* Sim::Find(uint64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Sim::Node* Sim::FindUp(uint64_t id) {
  Node* n = Find(id);
  return n != nullptr && n->rn != nullptr && !n->removed ? n : nullptr;
}

Config Sim::MakeConfig(const Node& n) const {
  Config c;
  c.id = n.id;
  c.election_tick = options_.election_tick;
  c.heartbeat_tick = options_.heartbeat_tick;
  c.storage = n.storage.get();
  c.applied = n.applied;
  c.max_size_per_msg = options_.max_size_per_msg;
  c.max_committed_size_per_ready = options_.max_committed_size_per_ready;
  c.max_uncommitted_entries_size = options_.max_uncommitted_entries_size;
  c.max_inflight_msgs = options_.max_inflight_msgs;
  c.check_quorum = options_.check_quorum;
  c.pre_vote = options_.pre_vote;
  c.disable_proposal_forwarding = options_.disable_proposal_forwarding;
  c.logger = options_.logger != nullptr ? options_.logger : TestLogger();
  uint64_t seed = options_.seed ^ (n.id * 0x9e3779b97f4a7c15ULL) ^ (n.incarnation << 40);
  c.random_seed = SplitMix64(&seed) | 1;
  return c;
}

void Sim::StartNode(Node& n) {
  // The state machine restarts from the latest snapshot.
  n.applied = 0;
  n.state = 0;
  n.conf.Clear();
  n.removed_ids.clear();
  absl::StatusOr<raftpb::Snapshot> snap = n.storage->Snapshot();
  if (snap.ok() && !IsEmptySnap(*snap)) {
    const raftpb::SnapshotMetadata& md = snap->metadata();
    uint64_t index = 0;
    if (!DecodeSimSnapshot(snap->data(), &index, &n.state, &n.removed_ids) || index != md.index()) {
      // Not one of ours (a hostile peer's): its digest stands for the state.
      n.state = EntryDigest(raftpb::Entry()) ^ std::hash<std::string>()(snap->data());
    }
    n.applied = md.index();
    n.conf = md.conf_state();
    if (checker_ != nullptr) {
      absl::Status s = checker_->CheckRestore(n.id, n.applied, n.state);
      if (!s.ok()) Fail(s);
    }
  }
  n.last_snapshot = n.applied;
  ++n.incarnation;
  absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(MakeConfig(n));
  if (!rn.ok()) {
    Fail(
        absl::InternalError(absl::StrCat("cannot start node ", n.id, ": ", rn.status().message())));
    return;
  }
  n.rn = *std::move(rn);
}

void Sim::BeginStep() { ++now_; }

void Sim::ProcessReady(Node& n) {
  while (n.rn != nullptr && n.rn->HasReady()) {
    Ready rd = n.rn->GetReady();
    bool early = false;
    if (n.rn->raft().state() == StateType::kLeader) {
      switch (options_.early_send) {
        case EarlySend::kNever:
          break;
        case EarlySend::kSafe:
          early = rd.entries.empty() ||
                  n.rn->raft().raft_log().committed() < rd.entries.front().index();
          break;
        case EarlySend::kAlways:
          early = true;
          break;
      }
    }
    if (early) Send(n, std::move(rd.messages));
    if (n.crash_at == CrashPoint::kBeforePersist) return DoCrash(n);
    Persist(n, rd);
    if (n.crash_at == CrashPoint::kAfterPersist) return DoCrash(n);
    if (!early) Send(n, std::move(rd.messages));
    if (n.crash_at == CrashPoint::kAfterSend) return DoCrash(n);
    Apply(n, rd);
    n.rn->Advance(rd);
    if (options_.snapshot_interval > 0 &&
        n.applied >= n.last_snapshot + options_.snapshot_interval) {
      SnapshotNode(n);
    }
  }
}

void Sim::Persist(Node& n, const Ready& rd) {
  if (!IsEmptySnap(rd.snapshot)) {
    absl::Status s = n.storage->ApplySnapshot(rd.snapshot);
    if (!s.ok()) {
      Fail(absl::InternalError(absl::StrFormat("node %d cannot persist snapshot %s: %s", n.id,
                                               DescribeSnapshot(rd.snapshot), s.message())));
    } else {
      n.log.clear();
      n.log_snap_index = rd.snapshot.metadata().index();
      n.log_snap_term = rd.snapshot.metadata().term();
    }
  }
  if (!rd.entries.empty()) {
    absl::Status s = n.storage->Append(rd.entries);
    if (!s.ok()) {
      Fail(absl::InternalError(absl::StrCat("node ", n.id, " cannot append: ", s.message())));
    }
    for (const raftpb::Entry& e : rd.entries) {
      if (e.index() <= n.log_snap_index) continue;
      uint64_t pos = e.index() - n.log_snap_index - 1;
      if (pos < n.log.size()) n.log.resize(pos);
      n.log.push_back(ViewOf(e));
    }
  }
  if (!IsEmptyHardState(rd.hard_state)) {
    if (rd.hard_state.commit() > n.LastIndex()) {
      Fail(absl::InternalError(
          absl::StrFormat("node %d: HardState %s commits past its persisted log (last index %d)",
                          n.id, DescribeHardState(rd.hard_state), n.LastIndex())));
    }
    (void)n.storage->SetHardState(rd.hard_state);
  }
}

void Sim::Apply(Node& n, const Ready& rd) {
  if (!IsEmptySnap(rd.snapshot)) {
    const raftpb::SnapshotMetadata& md = rd.snapshot.metadata();
    uint64_t index = 0;
    if (!DecodeSimSnapshot(rd.snapshot.data(), &index, &n.state, &n.removed_ids) ||
        index != md.index()) {
      if (honest_) {
        Fail(
            absl::InternalError(absl::StrFormat("node %d got a snapshot whose data does not "
                                                "match its metadata: %s",
                                                n.id, DescribeSnapshot(rd.snapshot))));
      }
      n.state = EntryDigest(raftpb::Entry()) ^ std::hash<std::string>()(rd.snapshot.data());
    }
    n.applied = md.index();
    n.last_snapshot = md.index();
    std::set<uint64_t> before = Members(n.conf);
    n.conf = md.conf_state();
    NoteRemovals(n, before);
    if (checker_ != nullptr) {
      absl::Status s = checker_->CheckRestore(n.id, n.applied, n.state);
      if (!s.ok()) Fail(s);
    }
  }
  for (const raftpb::Entry& e : rd.committed_entries) {
    if (e.index() != n.applied + 1) {
      Fail(absl::InternalError(
          absl::StrFormat("node %d applies index %d after %d", n.id, e.index(), n.applied)));
    }
    const EntryView view = ViewOf(e);
    const EntryView* stored = n.At(e.index());
    if (stored == nullptr || *stored != view) {
      Fail(absl::InternalError(
          absl::StrFormat("node %d applies entry %d/%d, which its storage does not hold", n.id,
                          e.index(), e.term())));
    }
    if (e.type() == raftpb::EntryConfChange || e.type() == raftpb::EntryConfChangeV2) {
      ApplyConfChangeEntry(n, e);
    }
    n.state = NextStateDigest(n.state, e.index(), view.digest);
    n.applied = e.index();
    if (checker_ != nullptr) {
      absl::Status s = checker_->CheckApply(n.id, view, n.state);
      if (!s.ok()) Fail(s);
    }
    if (apply_hook_) apply_hook_(n.id, e);
  }
}

void Sim::ApplyConfChangeEntry(Node& n, const raftpb::Entry& e) {
  raftpb::ConfChangeV2 cc;
  bool parsed;
  if (e.type() == raftpb::EntryConfChange) {
    raftpb::ConfChange v1;
    parsed = v1.ParseFromString(e.data());
    cc = AsV2(v1);
  } else {
    parsed = cc.ParseFromString(e.data());
  }
  std::set<uint64_t> before = Members(n.conf);
  // Like etcd's server: a removed ID is never added again.
  bool readds = false;
  for (const raftpb::ConfChangeSingle& c : cc.changes()) {
    if (c.type() != raftpb::ConfChangeRemoveNode && n.removed_ids.count(c.node_id()) > 0) {
      readds = true;
    }
  }
  if (parsed && !readds && n.rn->CheckConfChange(cc).ok()) {
    n.conf = n.rn->ApplyConfChange(cc);
  }
  // Otherwise rejected, as etcd's server rejects an invalid change, by not
  // applying it (etcd applies it with node ID 0 instead, a no-op only
  // outside a joint configuration).
  NoteRemovals(n, before);
}

void Sim::NoteRemovals(Node& n, const std::set<uint64_t>& before) {
  std::set<uint64_t> after = Members(n.conf);
  for (uint64_t id : before) {
    if (after.count(id) > 0) continue;
    n.removed_ids.insert(id);
    // The first node to apply a removal names who must learn of it.
    removals_.emplace(id, after);
  }
}

void Sim::SnapshotNode(Node& n) {
  if (n.rn == nullptr || n.applied == 0) return;
  absl::StatusOr<raftpb::Snapshot> snap = n.storage->CreateSnapshot(
      n.applied, &n.conf, EncodeSimSnapshot(n.applied, n.state, n.removed_ids));
  if (!snap.ok()) return;  // not newer than the one held
  n.last_snapshot = n.applied;
  if (n.applied <= options_.compaction_margin) return;
  uint64_t compact = n.applied - options_.compaction_margin;
  if (compact <= n.log_snap_index) return;
  uint64_t term = n.At(compact)->term;
  if (!n.storage->Compact(compact).ok()) return;
  n.log.erase(n.log.begin(), n.log.begin() + (compact - n.log_snap_index));
  n.log_snap_index = compact;
  n.log_snap_term = term;
}

void Sim::DoCrash(Node& n) {
  n.rn.reset();
  n.crash_at.reset();
}

void Sim::Remove(uint64_t id) {
  Node* n = Find(id);
  if (n == nullptr || n->removed) return;
  n->removed = true;
  n->rn.reset();
}

bool Sim::Connected(uint64_t from, uint64_t to) const {
  if (!partitioned_) return true;
  auto a = group_.find(from);
  auto b = group_.find(to);
  return a != group_.end() && b != group_.end() && a->second == b->second;
}

void Sim::Send(Node& from, std::vector<raftpb::Message> msgs) {
  for (raftpb::Message& m : msgs) {
    const Node* to = Find(m.to());
    if (to == nullptr || to->removed || from.removed_ids.count(m.to()) > 0) {
      Drop(m, /*unreachable=*/true);
      continue;
    }
    if (options_.faults && Chance(options_.drop_rate)) {
      Drop(m, /*unreachable=*/false);
      continue;
    }
    if (options_.faults && Chance(options_.duplicate_rate)) Enqueue(m);
    Enqueue(std::move(m));
  }
}

void Sim::Enqueue(raftpb::Message m) {
  uint64_t at = now_;
  if (options_.faults && options_.max_delay > 0 && Chance(options_.delay_rate)) {
    at += 1 + Rand(static_cast<uint64_t>(options_.max_delay));
  }
  queue_.push_back(InFlight{std::move(m), at});
}

void Sim::Drop(const raftpb::Message& m, bool unreachable) {
  const Node* from = Find(m.from());
  if (from == nullptr || from->rn == nullptr) return;
  if (m.type() == raftpb::MsgSnap) {
    reports_.push_back(Report{m.from(), from->incarnation, m.to(), true, SnapshotStatus::kFailure});
  } else if (unreachable && m.type() == raftpb::MsgApp) {
    reports_.push_back(
        Report{m.from(), from->incarnation, m.to(), false, SnapshotStatus::kFailure});
  }
}

void Sim::DeliverMessage(raftpb::Message m) {
  Node* to = FindUp(m.to());
  const Node* from = Find(m.from());
  if (to == nullptr || to->removed_ids.count(m.from()) > 0 || !Connected(m.from(), m.to())) {
    Drop(m, /*unreachable=*/true);
    return;
  }
  const bool snap = m.type() == raftpb::MsgSnap;
  const uint64_t sender = m.from();
  const uint64_t receiver = m.to();
  std::string described;
  if (honest_) described = DescribeMessage(m, nullptr);
  absl::Status s = to->rn->Step(std::move(m));
  if (honest_ && IsStepInvalidMsg(s)) {
    Fail(absl::InternalError(
        absl::StrFormat("node %d refused an honest message: %s", receiver, described)));
  }
  ProcessReady(*to);
  if (snap && from != nullptr) {
    reports_.push_back(Report{sender, from->incarnation, receiver, true, SnapshotStatus::kFinish});
  }
}

void Sim::FlushReports() {
  for (int round = 0; round < 100 && !reports_.empty(); ++round) {
    std::vector<Report> reports;
    reports.swap(reports_);
    for (const Report& r : reports) {
      Node* n = FindUp(r.reporter);
      if (n == nullptr || n->incarnation != r.incarnation) continue;
      if (r.snapshot) {
        n->rn->ReportSnapshot(r.about, r.status);
      } else {
        n->rn->ReportUnreachable(r.about);
      }
      ProcessReady(*n);
    }
  }
  // A removed node stops once every member of the configuration without it
  // applied its removal: until then it may be needed, to tell them that the
  // removal committed or to vote for one of them in the old configuration.
  for (auto it = removals_.begin(); it != removals_.end();) {
    bool done = true;
    for (uint64_t member : it->second) {
      const Node* m = Find(member);
      if (m != nullptr && !m->removed && m->removed_ids.count(it->first) == 0) done = false;
    }
    if (done) {
      Remove(it->first);
      it = removals_.erase(it);
    } else {
      ++it;
    }
  }
}

void Sim::Tick(uint64_t id) {
  BeginStep();
  if (Node* n = FindUp(id)) {
    n->rn->Tick();
    ProcessReady(*n);
  }
  FlushReports();
}

void Sim::TickAll() {
  BeginStep();
  for (auto& [id, n] : nodes_) {
    if (n->rn == nullptr || n->removed) continue;
    n->rn->Tick();
    ProcessReady(*n);
  }
  FlushReports();
}

bool Sim::Deliver() {
  BeginStep();
  std::vector<size_t> ready;
  for (size_t k = 0; k < queue_.size(); ++k) {
    if (queue_[k].deliver_at <= now_) {
      ready.push_back(k);
      if (!options_.reorder) break;
    }
  }
  if (ready.empty()) {
    FlushReports();
    return false;
  }
  size_t k = options_.reorder ? ready[Rand(ready.size())] : ready[0];
  raftpb::Message m = std::move(queue_[k].msg);
  queue_.erase(queue_.begin() + static_cast<ptrdiff_t>(k));
  DeliverMessage(std::move(m));
  FlushReports();
  return true;
}

bool Sim::DeliverAll(int max_steps) {
  for (int i = 0; i < max_steps && !queue_.empty(); ++i) {
    if (!Deliver()) continue;  // the clock moved on: delays run out
  }
  return queue_.empty();
}

absl::Status Sim::Campaign(uint64_t id) {
  BeginStep();
  Node* n = FindUp(id);
  if (n == nullptr) return absl::FailedPreconditionError("node is not up");
  absl::Status s = n->rn->Campaign();
  ProcessReady(*n);
  FlushReports();
  return s;
}

absl::Status Sim::Propose(uint64_t id, std::string data) {
  BeginStep();
  Node* n = FindUp(id);
  if (n == nullptr) return absl::FailedPreconditionError("node is not up");
  absl::Status s = n->rn->Propose(std::move(data));
  ProcessReady(*n);
  FlushReports();
  return s;
}

absl::Status Sim::ProposeConfChange(uint64_t id, const raftpb::ConfChangeV2& cc) {
  BeginStep();
  Node* n = FindUp(id);
  if (n == nullptr) return absl::FailedPreconditionError("node is not up");
  absl::Status s = n->rn->ProposeConfChange(cc);
  ProcessReady(*n);
  FlushReports();
  return s;
}

absl::Status Sim::ProposeConfChange(uint64_t id, const raftpb::ConfChange& cc) {
  BeginStep();
  Node* n = FindUp(id);
  if (n == nullptr) return absl::FailedPreconditionError("node is not up");
  absl::Status s = n->rn->ProposeConfChange(cc);
  ProcessReady(*n);
  FlushReports();
  return s;
}

void Sim::TransferLeader(uint64_t id, uint64_t transferee) {
  BeginStep();
  if (Node* n = FindUp(id)) {
    n->rn->TransferLeader(transferee);
    ProcessReady(*n);
  }
  FlushReports();
}

void Sim::Crash(uint64_t id) {
  BeginStep();
  if (Node* n = FindUp(id)) DoCrash(*n);
  FlushReports();
}

void Sim::CrashDuringReady(uint64_t id, CrashPoint point) {
  BeginStep();
  if (Node* n = FindUp(id)) n->crash_at = point;
  FlushReports();
}

void Sim::CancelCrashes() {
  for (auto& [id, n] : nodes_) n->crash_at.reset();
}

void Sim::Restart(uint64_t id) {
  BeginStep();
  Node* n = Find(id);
  if (n != nullptr && !n->removed && n->rn == nullptr) {
    StartNode(*n);
    ProcessReady(*n);
  }
  FlushReports();
}

uint64_t Sim::AddNode() {
  BeginStep();
  auto n = std::make_unique<Node>();
  n->id = next_id_++;
  n->storage = std::make_unique<MemoryStorage>();
  StartNode(*n);
  uint64_t id = n->id;
  nodes_[id] = std::move(n);
  FlushReports();
  return id;
}

void Sim::Snapshot(uint64_t id) {
  BeginStep();
  if (Node* n = FindUp(id)) SnapshotNode(*n);
  FlushReports();
}

void Sim::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  BeginStep();
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (uint64_t id : groups[g]) group_[id] = static_cast<int>(g);
  }
  partitioned_ = true;
  FlushReports();
}

void Sim::Isolate(uint64_t id) {
  std::vector<uint64_t> others;
  for (const auto& [other, n] : nodes_) {
    if (other != id) others.push_back(other);
  }
  Partition({others});
}

void Sim::Heal() {
  BeginStep();
  partitioned_ = false;
  group_.clear();
  FlushReports();
}

absl::Status Sim::Do(uint64_t id, const std::function<absl::Status(RawNode&)>& op) {
  BeginStep();
  Node* n = FindUp(id);
  if (n == nullptr) {
    FlushReports();
    return absl::FailedPreconditionError("node is not up");
  }
  absl::Status s = op(*n->rn);
  ProcessReady(*n);
  FlushReports();
  return s;
}

absl::Status Sim::StepRaw(raftpb::Message m) {
  BeginStep();
  Node* n = FindUp(m.to());
  if (n == nullptr) {
    FlushReports();
    return absl::FailedPreconditionError("node is not up");
  }
  absl::Status s = n->rn->Step(std::move(m));
  ProcessReady(*n);
  FlushReports();
  return s;
}

bool Sim::DeliverAt(size_t k) {
  BeginStep();
  if (k >= queue_.size()) return false;
  raftpb::Message m = std::move(queue_[k].msg);
  queue_.erase(queue_.begin() + static_cast<ptrdiff_t>(k));
  DeliverMessage(std::move(m));
  FlushReports();
  return true;
}

bool Sim::DropAt(size_t k) {
  BeginStep();
  if (k >= queue_.size()) return false;
  raftpb::Message m = std::move(queue_[k].msg);
  queue_.erase(queue_.begin() + static_cast<ptrdiff_t>(k));
  Drop(m, /*unreachable=*/false);
  FlushReports();
  return true;
}

bool Sim::DuplicateAt(size_t k) {
  BeginStep();
  if (k >= queue_.size()) return false;
  queue_.push_back(queue_[k]);
  FlushReports();
  return true;
}

std::vector<NodeView> Sim::Views() const {
  std::vector<NodeView> views;
  views.reserve(nodes_.size());
  for (const auto& [id, n] : nodes_) {
    if (n->removed) continue;
    NodeView& v = views.emplace_back();
    v.id = id;
    v.up = n->rn != nullptr;
    if (v.up) {
      const Raft& r = n->rn->raft();
      v.state = r.state();
      v.term = r.term();
      v.committed = r.raft_log().committed();
    } else {
      absl::StatusOr<InitialStateResult> init = n->storage->InitialState();
      if (init.ok()) {
        v.term = init->hard_state.term();
        v.committed = init->hard_state.commit();
      }
    }
    v.snapshot_index = n->log_snap_index;
    v.snapshot_term = n->log_snap_term;
    v.entries = n->log;
  }
  return views;
}

std::vector<uint64_t> Sim::NodeIds() const {
  std::vector<uint64_t> ids;
  for (const auto& [id, n] : nodes_) {
    if (!n->removed) ids.push_back(id);
  }
  return ids;
}

bool Sim::Exists(uint64_t id) const { return Find(id) != nullptr; }

bool Sim::IsUp(uint64_t id) const {
  const Node* n = Find(id);
  return n != nullptr && n->rn != nullptr && !n->removed;
}

bool Sim::IsRemoved(uint64_t id) const {
  const Node* n = Find(id);
  return n != nullptr && n->removed;
}

RawNode* Sim::node(uint64_t id) {
  Node* n = FindUp(id);
  return n == nullptr ? nullptr : n->rn.get();
}

MemoryStorage* Sim::storage(uint64_t id) {
  Node* n = Find(id);
  return n == nullptr ? nullptr : n->storage.get();
}

uint64_t Sim::applied(uint64_t id) const {
  const Node* n = Find(id);
  return n == nullptr ? 0 : n->applied;
}

uint64_t Sim::state_digest(uint64_t id) const {
  const Node* n = Find(id);
  return n == nullptr ? 0 : n->state;
}

raftpb::ConfState Sim::conf_state(uint64_t id) const {
  const Node* n = Find(id);
  return n == nullptr ? raftpb::ConfState() : n->conf;
}

uint64_t Sim::Leader() const {
  uint64_t leader = 0;
  uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n->rn == nullptr || n->removed) continue;
    const Raft& r = n->rn->raft();
    if (r.state() == StateType::kLeader && (leader == 0 || r.term() > term)) {
      leader = id;
      term = r.term();
    }
  }
  return leader;
}

absl::Status Sim::CheckLogs() const {
  for (const auto& [id, n] : nodes_) {
    if (n->removed) continue;
    MemoryStorage& s = *n->storage;
    uint64_t first = *s.FirstIndex();
    uint64_t last = *s.LastIndex();
    absl::StatusOr<uint64_t> term = s.Term(first - 1);
    if (first - 1 != n->log_snap_index || last != n->LastIndex() || !term.ok() ||
        *term != n->log_snap_term) {
      return absl::InternalError(absl::StrFormat(
          "node %d: storage holds (%d/%d, %d] but the view (%d/%d, %d]", id, first - 1,
          term.ok() ? *term : 0, last, n->log_snap_index, n->log_snap_term, n->LastIndex()));
    }
    std::vector<raftpb::Entry> stored;
    if (last >= first) stored = *s.Entries(first, last + 1, kNoLimit);
    std::vector<raftpb::Entry> in_raft;
    if (n->rn != nullptr) in_raft = n->rn->raft().raft_log().AllEntries();
    for (size_t k = 0; k < n->log.size(); ++k) {
      if (ViewOf(stored[k]) != n->log[k]) {
        return absl::InternalError(
            absl::StrFormat("node %d: storage and view differ at index %d", id, stored[k].index()));
      }
    }
    if (n->rn != nullptr && in_raft.size() != stored.size()) {
      return absl::InternalError(absl::StrFormat(
          "node %d: raft's log has %d entries, its storage %d", id, in_raft.size(), stored.size()));
    }
    for (size_t k = 0; k < in_raft.size(); ++k) {
      if (ViewOf(in_raft[k]) != n->log[k]) {
        return absl::InternalError(
            absl::StrFormat("node %d: raft's log and storage differ at "
                            "index %d",
                            id, in_raft[k].index()));
      }
    }
  }
  return absl::OkStatus();
}

std::string Sim::DebugString() const {
  std::string out;
  for (const auto& [id, n] : nodes_) {
    absl::StrAppendFormat(&out, "node %d: ", id);
    if (n->removed) {
      absl::StrAppend(&out, "removed\n");
      continue;
    }
    if (n->rn == nullptr) {
      absl::StrAppend(&out, "down, ");
    } else {
      const Raft& r = n->rn->raft();
      absl::StrAppendFormat(&out, "%s term %d lead %d commit %d, ", StateTypeName(r.state()),
                            r.term(), r.lead(), r.raft_log().committed());
    }
    absl::StrAppendFormat(&out, "applied %d, log (%d/%d, %d], conf %s\n", n->applied,
                          n->log_snap_index, n->log_snap_term, n->LastIndex(),
                          DescribeConfState(n->conf));
  }
  absl::StrAppendFormat(&out, "in flight: %d, step %d\n", queue_.size(), now_);
  return out;
}

}  // namespace etcd::raft::rafttest
