#include "raft/raft.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "raft/confchange/confchange.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/confchange/restore.h"
#include "raft/errors.h"
#include "raft/util.h"

namespace etcd::raft {
namespace {

size_t NumOfPendingConf(const std::vector<raftpb::Entry>& entries) {
  size_t n = 0;
  for (const raftpb::Entry& e : entries) {
    if (e.type() == raftpb::EntryConfChange) ++n;
  }
  return n;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string HexIds(const std::vector<uint64_t>& ids) {
  return absl::StrJoin(ids, ",",
                       [](std::string* out, uint64_t id) { absl::StrAppendFormat(out, "%x", id); });
}

void AssertConfStatesEquivalent(Logger* logger, const raftpb::ConfState& a,
                                const raftpb::ConfState& b) {
  absl::Status st = confchange::Equivalent(a, b);
  if (!st.ok()) logger->Panicf("%s", st.message());
}

}  // namespace

absl::string_view CampaignTypeName(CampaignType t) {
  switch (t) {
    case CampaignType::kPreElection:
      return "CampaignPreElection";
    case CampaignType::kElection:
      return "CampaignElection";
    case CampaignType::kTransfer:
      return "CampaignTransfer";
  }
  return "";
}

absl::Status Config::Validate() {
  if (id == kNone) return absl::InvalidArgumentError("cannot use none as id");
  if (heartbeat_tick <= 0) {
    return absl::InvalidArgumentError("heartbeat tick must be greater than 0");
  }
  if (election_tick <= heartbeat_tick) {
    return absl::InvalidArgumentError("election tick must be greater than heartbeat tick");
  }
  if (storage == nullptr) return absl::InvalidArgumentError("storage cannot be nil");
  if (max_uncommitted_entries_size == 0) max_uncommitted_entries_size = kNoLimit;
  // Both limits used to be one parameter.
  if (max_committed_size_per_ready == 0) max_committed_size_per_ready = max_size_per_msg;
  if (max_inflight_msgs <= 0) {
    return absl::InvalidArgumentError("max inflight messages must be greater than 0");
  }
  if (logger == nullptr) logger = DefaultLogger();
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return absl::InvalidArgumentError(
        "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
  }
  return absl::OkStatus();
}

Raft::Raft(const Config& c)
    : id_(c.id),
      raft_log_(std::make_unique<RaftLog>(c.storage, c.logger, c.max_committed_size_per_ready)),
      max_msg_size_(c.max_size_per_msg),
      max_uncommitted_size_(c.max_uncommitted_entries_size),
      prs_(static_cast<size_t>(c.max_inflight_msgs)),
      read_only_(std::make_unique<ReadOnly>(c.read_only_option)),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      heartbeat_timeout_(c.heartbeat_tick),
      election_timeout_(c.election_tick),
      disable_proposal_forwarding_(c.disable_proposal_forwarding),
      logger_(c.logger),
      rand_state_(c.random_seed != 0 ? c.random_seed : absl::Uniform<uint64_t>(absl::BitGen())) {
  async_storage_writes_ = c.async_storage_writes;
}

absl::StatusOr<std::unique_ptr<Raft>> Raft::New(Config c) {
  absl::Status valid = c.Validate();
  if (!valid.ok()) return valid;
  absl::StatusOr<uint64_t> first = c.storage->FirstIndex();
  if (!first.ok()) return first.status();
  absl::StatusOr<uint64_t> last = c.storage->LastIndex();
  if (!last.ok()) return last.status();
  absl::StatusOr<InitialStateResult> initial = c.storage->InitialState();
  if (!initial.ok()) return initial.status();

  raftpb::ConfState cs = initial->conf_state;
  if (!c.peers.empty() || !c.learners.empty()) {
    if (cs.voters_size() > 0 || cs.learners_size() > 0) {
      // Test-only peers and a persisted configuration would contradict.
      return absl::InvalidArgumentError(
          "cannot specify both newRaft(peers, learners) and ConfState.(Voters, Learners)");
    }
    cs.mutable_voters()->Add(c.peers.begin(), c.peers.end());
    cs.mutable_learners()->Add(c.learners.begin(), c.learners.end());
  }

  std::unique_ptr<Raft> r(new Raft(c));
  absl::StatusOr<confchange::ChangeResult> restored =
      confchange::Restore(confchange::Changer(r->prs_, r->raft_log_->LastIndex()), cs);
  if (!restored.ok()) return restored.status();
  AssertConfStatesEquivalent(
      r->logger_, cs,
      r->SwitchToConfig(std::move(restored->config), std::move(restored->progress)));

  if (!IsEmptyHardState(initial->hard_state)) r->LoadState(initial->hard_state);
  if (c.applied > 0) r->raft_log_->AppliedTo(c.applied);
  r->BecomeFollower(r->term_, kNone);

  r->logger_->Infof(
      "newRaft %x [peers: [%s], term: %d, commit: %d, applied: %d, lastindex: %d, lastterm: %d]",
      r->id_, HexIds(r->prs_.VoterNodes()), r->term_, r->raft_log_->committed(),
      r->raft_log_->applied(), r->raft_log_->LastIndex(), r->raft_log_->LastTerm());
  return r;
}

raftpb::HardState Raft::GetHardState() const {
  raftpb::HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(raft_log_->committed());
  return hs;
}

std::vector<raftpb::Message> Raft::ReadMessages() {
  std::vector<raftpb::Message> out;
  out.swap(msgs_);
  return out;
}

void Raft::set_read_only_option(ReadOnlyOption option) {
  read_only_ = std::make_unique<ReadOnly>(option);
}

void Raft::SetStateForTesting(StateType state) {
  state_ = state;
  switch (state) {
    case StateType::kFollower:
      step_ = &Raft::StepFollower;
      break;
    case StateType::kCandidate:
    case StateType::kPreCandidate:
      step_ = &Raft::StepCandidate;
      break;
    case StateType::kLeader:
      step_ = &Raft::StepLeader;
      break;
  }
}

int Raft::RandomInt(int n) { return static_cast<int>(SplitMix64(&rand_state_) % n); }

void Raft::Send(raftpb::Message m) {
  m.set_from(id_);
  raftpb::MessageType t = m.type();
  if (t == raftpb::MsgVote || t == raftpb::MsgVoteResp || t == raftpb::MsgPreVote ||
      t == raftpb::MsgPreVoteResp) {
    // Campaign messages carry the term they are about: the campaign's term
    // for requests, the request's term for granted responses.
    if (m.term() == 0) {
      logger_->Panicf("term should be set when sending %s", MessageTypeName(t));
    }
  } else {
    if (m.term() != 0) {
      logger_->Panicf("term should not be set when sending %s (was %d)", MessageTypeName(t),
                      m.term());
    }
    // Proposals and read requests are forwarded to the leader like local
    // messages and carry no term.
    if (t != raftpb::MsgProp && t != raftpb::MsgReadIndex) m.set_term(term_);
  }
  if (async_storage_writes_ &&
      (t == raftpb::MsgAppResp || t == raftpb::MsgVoteResp || t == raftpb::MsgPreVoteResp)) {
    // These answers speak for state that must be durable first (entries, a
    // vote): they go out once the append thread has written it.
    msgs_after_append_.push_back(std::move(m));
    return;
  }
  if (async_storage_writes_ && m.to() == id_) {
    logger_->Panicf("message should not be self-addressed when sending %s", MessageTypeName(t));
  }
  msgs_.push_back(std::move(m));
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  auto it = prs_.progress.find(to);
  if (it == prs_.progress.end()) logger_->Panicf("%x has no progress for %x", id_, to);
  tracker::Progress& pr = it->second;
  if (pr.IsPaused()) return false;
  raftpb::Message m;
  m.set_to(to);

  absl::StatusOr<uint64_t> term = raft_log_->Term(pr.next - 1);
  absl::StatusOr<std::vector<raftpb::Entry>> ents = raft_log_->Entries(pr.next, max_msg_size_);
  // Like etcd, nothing is sent (not even a snapshot) when no entries came
  // back and empty messages are not wanted.
  if ((!ents.ok() || ents->empty()) && !send_if_empty) return false;

  if (!term.ok() || !ents.ok()) {
    // The entries are compacted: send a snapshot instead.
    if (!pr.recent_active) {
      logger_->Debugf("ignore sending snapshot to %x since it is not recently active", to);
      return false;
    }
    m.set_type(raftpb::MsgSnap);
    absl::StatusOr<raftpb::Snapshot> snapshot = raft_log_->Snapshot();
    if (!snapshot.ok()) {
      if (IsSnapshotTemporarilyUnavailable(snapshot.status())) {
        logger_->Debugf(
            "%x failed to send snapshot to %x because snapshot is temporarily unavailable", id_,
            to);
        return false;
      }
      logger_->Panicf("%x failed to get snapshot: %s", id_, snapshot.status().ToString());
    }
    if (IsEmptySnap(*snapshot)) logger_->Panicf("need non-empty snapshot");
    uint64_t sindex = snapshot->metadata().index();
    uint64_t sterm = snapshot->metadata().term();
    *m.mutable_snapshot() = *std::move(snapshot);
    logger_->Debugf("%x [firstindex: %d, commit: %d] sent snapshot[index: %d, term: %d] to %x [%s]",
                    id_, raft_log_->FirstIndex(), raft_log_->committed(), sindex, sterm, to,
                    pr.String());
    pr.BecomeSnapshot(sindex);
    logger_->Debugf("%x paused sending replication messages to %x [%s]", id_, to, pr.String());
  } else {
    m.set_type(raftpb::MsgApp);
    m.set_index(pr.next - 1);
    m.set_logterm(*term);
    m.set_commit(raft_log_->committed());
    if (!ents->empty()) {
      uint64_t last = ents->back().index();
      switch (pr.state) {
        case tracker::StateType::kReplicate:
          // Optimistically assume the follower will accept them.
          pr.OptimisticUpdate(last);
          pr.inflights.Add(last);
          break;
        case tracker::StateType::kProbe:
          pr.probe_sent = true;
          break;
        default:
          logger_->Panicf("%x is sending append in unhandled state %s", id_,
                          tracker::StateTypeString(pr.state));
      }
      m.mutable_entries()->Reserve(static_cast<int>(ents->size()));
      for (raftpb::Entry& e : *ents) *m.add_entries() = std::move(e);
    }
  }
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(uint64_t to, const std::string& ctx) {
  // The follower may not have everything the leader committed: never let it
  // commit past what it is known to hold.
  uint64_t commit = std::min(prs_.progress.at(to).match, raft_log_->committed());
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MsgHeartbeat);
  m.set_commit(commit);
  if (!ctx.empty()) m.set_context(ctx);
  Send(std::move(m));
}

void Raft::BcastAppend() {
  prs_.Visit([this](uint64_t id, tracker::Progress&) {
    if (id != id_) SendAppend(id);
  });
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithCtx(read_only_->LastPendingRequestCtx()); }

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  prs_.Visit([this, &ctx](uint64_t id, tracker::Progress&) {
    if (id != id_) SendHeartbeat(id, ctx);
  });
}

void Raft::Advance(const ReadySummary& rd) {
  // The applied index follows what the application processed; with commit
  // pagination that may be less than the new commit index.
  AppliedTo(rd.applied_cursor, rd.committed_payload);
  if (rd.last_entry_index != 0) raft_log_->StableTo(rd.last_entry_index, rd.last_entry_term);
  if (rd.snapshot_index != 0) raft_log_->StableSnapTo(rd.snapshot_index);
}

void Raft::AppliedSnap(const raftpb::Snapshot& snapshot) {
  const uint64_t index = snapshot.metadata().index();
  raft_log_->StableSnapTo(index);
  AppliedTo(index, 0);
}

void Raft::AppliedTo(uint64_t index, uint64_t payload) {
  if (index > 0) {
    const uint64_t applied = std::max(index, raft_log_->applied());
    raft_log_->AppliedTo(applied);
    if (prs_.config.auto_leave && applied >= pending_conf_index_ && state_ == StateType::kLeader) {
      // The joint configuration can be left now that it is applied.
      raftpb::Entry ent;
      ent.set_type(raftpb::EntryConfChangeV2);
      ent.set_data(MarshalConfChange(raftpb::ConfChangeV2()));
      if (!AppendEntry({std::move(ent)})) {
        // Try again later.
        pending_conf_index_ = raft_log_->LastIndex();
      } else {
        logger_->Infof("initiating automatic transition out of joint configuration %s",
                       prs_.config.String());
      }
    }
  }
  ReduceUncommittedSize(payload);
}

bool Raft::MaybeCommit() { return raft_log_->MaybeCommit(prs_.Committed(), term_); }

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  prs_.ResetVotes();
  uint64_t last = raft_log_->LastIndex();
  prs_.Visit([this, last](uint64_t id, tracker::Progress& pr) {
    bool is_learner = pr.is_learner;
    pr = tracker::Progress();
    pr.next = last + 1;
    pr.inflights = tracker::Inflights(prs_.max_inflight);
    pr.is_learner = is_learner;
    if (id == id_) pr.match = last;
  });
  pending_conf_index_ = 0;
  uncommitted_size_ = 0;
  read_only_ = std::make_unique<ReadOnly>(read_only_->option());
}

bool Raft::AppendEntry(std::vector<raftpb::Entry> entries) {
  uint64_t li = raft_log_->LastIndex();
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].set_term(term_);
    entries[i].set_index(li + 1 + i);
  }
  if (!IncreaseUncommittedSize(entries)) {
    logger_->Debugf(
        "%x appending new entries to log would exceed uncommitted entry size limit; dropping "
        "proposal",
        id_);
    return false;
  }
  li = raft_log_->AppendMoved(std::move(entries));
  if (async_storage_writes_) {
    // The leader's own acknowledgement comes once the entries are durable:
    // the append thread delivers this response after writing them.
    raftpb::Message ack;
    ack.set_to(id_);
    ack.set_type(raftpb::MsgAppResp);
    ack.set_index(li);
    Send(std::move(ack));
    return true;
  }
  auto self = prs_.progress.find(id_);
  if (self != prs_.progress.end()) self->second.MaybeUpdate(li);
  // The caller broadcasts whatever the commit index.
  MaybeCommit();
  return true;
}

void Raft::Tick() { (this->*tick_)(); }

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    raftpb::Message m;
    m.set_from(id_);
    m.set_type(raftpb::MsgHup);
    (void)Step(std::move(m));
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;

  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      raftpb::Message m;
      m.set_from(id_);
      m.set_type(raftpb::MsgCheckQuorum);
      (void)Step(std::move(m));
    }
    // A transfer that did not finish within an election timeout is dropped.
    if (state_ == StateType::kLeader && lead_transferee_ != kNone) AbortLeaderTransfer();
  }

  if (state_ != StateType::kLeader) return;

  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    raftpb::Message m;
    m.set_from(id_);
    m.set_type(raftpb::MsgBeat);
    (void)Step(std::move(m));
  }
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  step_ = &Raft::StepFollower;
  Reset(term);
  tick_ = &Raft::TickElection;
  lead_ = lead;
  state_ = StateType::kFollower;
  logger_->Infof("%x became follower at term %d", id_, term_);
}

void Raft::BecomeCandidate() {
  if (state_ == StateType::kLeader) logger_->Panicf("invalid transition [leader -> candidate]");
  step_ = &Raft::StepCandidate;
  Reset(term_ + 1);
  tick_ = &Raft::TickElection;
  vote_ = id_;
  state_ = StateType::kCandidate;
  logger_->Infof("%x became candidate at term %d", id_, term_);
}

void Raft::BecomePreCandidate() {
  if (state_ == StateType::kLeader) {
    logger_->Panicf("invalid transition [leader -> pre-candidate]");
  }
  // Only the role changes: the term and vote stay.
  step_ = &Raft::StepCandidate;
  prs_.ResetVotes();
  tick_ = &Raft::TickElection;
  lead_ = kNone;
  state_ = StateType::kPreCandidate;
  logger_->Infof("%x became pre-candidate at term %d", id_, term_);
}

void Raft::BecomeLeader() {
  if (state_ == StateType::kFollower) logger_->Panicf("invalid transition [follower -> leader]");
  step_ = &Raft::StepLeader;
  Reset(term_);
  tick_ = &Raft::TickHeartbeat;
  lead_ = id_;
  state_ = StateType::kLeader;
  // The leader trivially replicates to itself; Reset set its match already.
  auto self = prs_.progress.find(id_);
  if (self != prs_.progress.end()) self->second.BecomeReplicate();

  // Whether or not a conf change is pending, refusing new ones until the
  // whole current log is committed is safe and cheaper than scanning it.
  pending_conf_index_ = raft_log_->LastIndex();

  raftpb::Entry empty;
  if (!AppendEntry({empty})) {
    // Reset above cleared the uncommitted size, so this cannot happen.
    logger_->Panicf("empty entry was dropped");
  }
  // The initial empty entry does not count against the uncommitted quota, so
  // that one proposal larger than the quota still fits while nothing else is
  // uncommitted.
  ReduceUncommittedSize({empty});
  logger_->Infof("%x became leader at term %d", id_, term_);
}

void Raft::Campaign(CampaignType t) {
  if (!Promotable()) {
    // Callers check; defensive only.
    logger_->Warningf("%x is unpromotable; campaign() should have been called", id_);
  }
  uint64_t term;
  raftpb::MessageType vote_msg;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = raftpb::MsgPreVote;
    // Pre-votes are for the next term, which is not entered yet.
    term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_msg = raftpb::MsgVote;
    term = term_;
  }
  if (async_storage_writes_) {
    // Our own vote counts once it is durable: the append thread delivers
    // this response after writing the HardState.
    raftpb::Message self_vote;
    self_vote.set_to(id_);
    self_vote.set_term(term);
    self_vote.set_type(VoteRespMsgType(vote_msg));
    Send(std::move(self_vote));
  } else if (Poll(id_, VoteRespMsgType(vote_msg), true).result == quorum::VoteResult::kVoteWon) {
    // A single-voter cluster: our own vote wins.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  std::vector<uint64_t> ids = prs_.config.voters.IDs().Slice();
  for (uint64_t id : ids) {
    if (id == id_) continue;
    logger_->Infof("%x [logterm: %d, index: %d] sent %s request to %x at term %d", id_,
                   raft_log_->LastTerm(), raft_log_->LastIndex(), MessageTypeName(vote_msg), id,
                   term_);
    raftpb::Message m;
    m.set_term(term);
    m.set_to(id);
    m.set_type(vote_msg);
    m.set_index(raft_log_->LastIndex());
    m.set_logterm(raft_log_->LastTerm());
    if (t == CampaignType::kTransfer) m.set_context(std::string(CampaignTypeName(t)));
    Send(std::move(m));
  }
}

tracker::VoteTally Raft::Poll(uint64_t id, raftpb::MessageType t, bool v) {
  if (v) {
    logger_->Infof("%x received %s from %x at term %d", id_, MessageTypeName(t), id, term_);
  } else {
    logger_->Infof("%x received %s rejection from %x at term %d", id_, MessageTypeName(t), id,
                   term_);
  }
  prs_.RecordVote(id, v);
  return prs_.TallyVotes();
}

absl::Status Raft::Step(raftpb::Message m) {
  // First the term: a higher one may turn us into a follower.
  if (m.term() == 0) {
    // A local message.
  } else if (m.term() > term_) {
    if (m.type() == raftpb::MsgVote || m.type() == raftpb::MsgPreVote) {
      bool force = m.context() == CampaignTypeName(CampaignType::kTransfer);
      bool in_lease = check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        // Within the minimum election timeout of hearing from a leader:
        // neither update the term nor grant the vote.
        logger_->Infof(
            "%x [logterm: %d, index: %d, vote: %x] ignored %s from %x [logterm: %d, index: %d] at "
            "term %d: lease is not expired (remaining ticks: %d)",
            id_, raft_log_->LastTerm(), raft_log_->LastIndex(), vote_, MessageTypeName(m.type()),
            m.from(), m.logterm(), m.index(), term_, election_timeout_ - election_elapsed_);
        return absl::OkStatus();
      }
    }
    if (m.type() == raftpb::MsgPreVote) {
      // Never change the term for a pre-vote.
    } else if (m.type() == raftpb::MsgPreVoteResp && !m.reject()) {
      // A granted pre-vote carries our future term; the term changes only
      // once a quorum granted it. A rejection carries the rejecter's term,
      // which we adopt below.
    } else {
      logger_->Infof("%x [term: %d] received a %s message with higher term from %x [term: %d]", id_,
                     term_, MessageTypeName(m.type()), m.from(), m.term());
      if (m.type() == raftpb::MsgApp || m.type() == raftpb::MsgHeartbeat ||
          m.type() == raftpb::MsgSnap) {
        BecomeFollower(m.term(), m.from());
      } else {
        BecomeFollower(m.term(), kNone);
      }
    }
  } else if (m.term() < term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type() == raftpb::MsgHeartbeat || m.type() == raftpb::MsgApp)) {
      // A leader of a lower term: maybe just a delayed message, or we raised
      // our term while partitioned and cannot win. Answering lets that leader
      // learn our term and step down, which frees us (with CheckQuorum or
      // PreVote our votes would otherwise never raise its term).
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_type(raftpb::MsgAppResp);
      Send(std::move(resp));
    } else if (m.type() == raftpb::MsgPreVote) {
      // Rejecting (rather than ignoring) lets a pre-candidate with a higher
      // term but an older log learn of ours; otherwise a cluster migrating
      // to PreVote could deadlock.
      logger_->Infof(
          "%x [logterm: %d, index: %d, vote: %x] rejected %s from %x [logterm: %d, index: %d] at "
          "term %d",
          id_, raft_log_->LastTerm(), raft_log_->LastIndex(), vote_, MessageTypeName(m.type()),
          m.from(), m.logterm(), m.index(), term_);
      raftpb::Message resp;
      resp.set_to(m.from());
      resp.set_term(term_);
      resp.set_type(raftpb::MsgPreVoteResp);
      resp.set_reject(true);
      Send(std::move(resp));
    } else if (m.type() == raftpb::MsgStorageAppendResp) {
      if (m.index() != 0) {
        // The entries may have been replaced in the unstable log during a
        // later term: they cannot be taken as stable.
        logger_->Infof(
            "%x [term: %d] ignored entry appends from a %s message with lower term [term: %d]", id_,
            term_, MessageTypeName(m.type()), m.term());
      }
      // A snapshot is committed state, valid whatever the term.
      if (m.has_snapshot() && !IsEmptySnap(m.snapshot())) AppliedSnap(m.snapshot());
    } else {
      logger_->Infof("%x [term: %d] ignored a %s message with lower term from %x [term: %d]", id_,
                     term_, MessageTypeName(m.type()), m.from(), m.term());
    }
    return absl::OkStatus();
  }

  switch (m.type()) {
    case raftpb::MsgHup: {
      if (state_ == StateType::kLeader) {
        logger_->Debugf("%x ignoring MsgHup because already leader", id_);
        break;
      }
      if (!Promotable()) {
        logger_->Warningf("%x is unpromotable and can not campaign; ignoring MsgHup", id_);
        return absl::OkStatus();
      }
      absl::StatusOr<std::vector<raftpb::Entry>> ents =
          raft_log_->Slice(raft_log_->applied() + 1, raft_log_->committed() + 1, kNoLimit);
      if (!ents.ok()) {
        logger_->Panicf("unexpected error getting unapplied entries (%s)", ents.status().message());
      }
      size_t n = NumOfPendingConf(*ents);
      if (n != 0 && raft_log_->committed() > raft_log_->applied()) {
        logger_->Warningf(
            "%x cannot campaign at term %d since there are still %d pending configuration "
            "changes to apply",
            id_, term_, n);
        return absl::OkStatus();
      }
      logger_->Infof("%x is starting a new election at term %d", id_, term_);
      Campaign(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      break;
    }
    case raftpb::MsgVote:
    case raftpb::MsgPreVote: {
      // We can vote if this repeats a vote we cast, if we have not voted
      // and know no leader in this term, or if it is a pre-vote for a future
      // term...
      bool can_vote = vote_ == m.from() || (vote_ == kNone && lead_ == kNone) ||
                      (m.type() == raftpb::MsgPreVote && m.term() > term_);
      // ...and the candidate's log is at least as up to date as ours.
      if (can_vote && raft_log_->IsUpToDate(m.index(), m.logterm())) {
        // Learners vote too: a learner may have been promoted without
        // knowing it yet, and the cluster may need its vote.
        logger_->Infof(
            "%x [logterm: %d, index: %d, vote: %x] cast %s for %x [logterm: %d, index: %d] at "
            "term %d",
            id_, raft_log_->LastTerm(), raft_log_->LastIndex(), vote_, MessageTypeName(m.type()),
            m.from(), m.logterm(), m.index(), term_);
        // Respond with the message's term, not ours: for pre-votes ours may
        // be older, and the pre-candidate would ignore a stale response.
        raftpb::Message resp;
        resp.set_to(m.from());
        resp.set_term(m.term());
        resp.set_type(VoteRespMsgType(m.type()));
        Send(std::move(resp));
        if (m.type() == raftpb::MsgVote) {
          // Only real votes are recorded.
          election_elapsed_ = 0;
          vote_ = m.from();
        }
      } else {
        logger_->Infof(
            "%x [logterm: %d, index: %d, vote: %x] rejected %s from %x [logterm: %d, index: %d] "
            "at term %d",
            id_, raft_log_->LastTerm(), raft_log_->LastIndex(), vote_, MessageTypeName(m.type()),
            m.from(), m.logterm(), m.index(), term_);
        raftpb::Message resp;
        resp.set_to(m.from());
        resp.set_term(term_);
        resp.set_type(VoteRespMsgType(m.type()));
        resp.set_reject(true);
        Send(std::move(resp));
      }
      break;
    }
    case raftpb::MsgStorageAppendResp:
      // The append thread wrote everything up to (index, logterm).
      if (m.index() != 0) raft_log_->StableTo(m.index(), m.logterm());
      if (m.has_snapshot() && !IsEmptySnap(m.snapshot())) AppliedSnap(m.snapshot());
      break;
    case raftpb::MsgStorageApplyResp:
      // The apply thread applied these entries.
      if (m.entries_size() > 0) {
        uint64_t payload = 0;
        for (const raftpb::Entry& e : m.entries()) payload += PayloadSize(e);
        AppliedTo(m.entries(m.entries_size() - 1).index(), payload);
      }
      break;
    default:
      return step_(this, m);
  }
  return absl::OkStatus();
}

absl::Status Raft::StepLeader(Raft* r, raftpb::Message& m) {
  // Messages that need no progress of the sender.
  switch (m.type()) {
    case raftpb::MsgBeat:
      r->BcastHeartbeat();
      return absl::OkStatus();
    case raftpb::MsgCheckQuorum: {
      // The leader always counts itself as active (if it is still a member).
      auto self = r->prs_.progress.find(r->id_);
      if (self != r->prs_.progress.end()) self->second.recent_active = true;
      if (!r->prs_.QuorumActive()) {
        r->logger_->Warningf("%x stepped down to follower since quorum is not active", r->id_);
        r->BecomeFollower(r->term_, kNone);
      }
      // Everyone else must prove activity again before the next check.
      uint64_t self_id = r->id_;
      r->prs_.Visit([self_id](uint64_t id, tracker::Progress& pr) {
        if (id != self_id) pr.recent_active = false;
      });
      return absl::OkStatus();
    }
    case raftpb::MsgProp: {
      if (m.entries_size() == 0) r->logger_->Panicf("%x stepped empty MsgProp", r->id_);
      if (r->prs_.progress.count(r->id_) == 0) {
        // This leader was removed from the configuration: drop proposals.
        return ErrProposalDropped();
      }
      if (r->lead_transferee_ != kNone) {
        r->logger_->Debugf(
            "%x [term %d] transfer leadership to %x is in progress; dropping proposal", r->id_,
            r->term_, r->lead_transferee_);
        return ErrProposalDropped();
      }
      for (int i = 0; i < m.entries_size(); ++i) {
        const raftpb::Entry& e = m.entries(i);
        std::optional<raftpb::ConfChangeV2> cc;
        std::string described;
        if (e.type() == raftpb::EntryConfChange) {
          raftpb::ConfChange v1;
          if (!v1.ParseFromString(e.data())) {
            r->logger_->Panicf("%x cannot unmarshal proposed ConfChange", r->id_);
          }
          cc = confchange::AsV2(v1);
          described = GoFormat(v1);
        } else if (e.type() == raftpb::EntryConfChangeV2) {
          raftpb::ConfChangeV2 v2;
          if (!v2.ParseFromString(e.data())) {
            r->logger_->Panicf("%x cannot unmarshal proposed ConfChangeV2", r->id_);
          }
          described = GoFormat(v2);
          cc = std::move(v2);
        }
        if (!cc.has_value()) continue;
        bool already_pending = r->pending_conf_index_ > r->raft_log_->applied();
        bool already_joint = !r->prs_.config.voters.outgoing().empty();
        bool wants_leave_joint = cc->changes_size() == 0;

        std::string refused;
        if (already_pending) {
          refused = absl::StrFormat("possible unapplied conf change at index %d (applied to %d)",
                                    r->pending_conf_index_, r->raft_log_->applied());
        } else if (already_joint && !wants_leave_joint) {
          refused = "must transition out of joint config first";
        } else if (!already_joint && wants_leave_joint) {
          refused = "not in joint state; refusing empty conf change";
        }
        if (!refused.empty()) {
          r->logger_->Infof("%x ignoring conf change %s at config %s: %s", r->id_, described,
                            r->prs_.config.String(), refused);
          // Keep the position in the log with an empty normal entry.
          raftpb::Entry* replaced = m.mutable_entries(i);
          replaced->Clear();
          replaced->set_type(raftpb::EntryNormal);
        } else {
          r->pending_conf_index_ = r->raft_log_->LastIndex() + i + 1;
        }
      }
      std::vector<raftpb::Entry> entries;
      entries.reserve(m.entries_size());
      for (raftpb::Entry& e : *m.mutable_entries()) entries.push_back(std::move(e));
      if (!r->AppendEntry(std::move(entries))) return ErrProposalDropped();
      r->BcastAppend();
      return absl::OkStatus();
    }
    case raftpb::MsgReadIndex: {
      // The leader is the only voter: answer right away.
      if (r->prs_.IsSingleton()) {
        raftpb::Message resp = r->ResponseToReadIndexReq(m, r->raft_log_->committed());
        if (resp.to() != kNone) r->Send(std::move(resp));
        return absl::OkStatus();
      }
      // A new leader does not know the commit index until it committed an
      // entry of its own term: postpone.
      if (!r->CommittedEntryInCurrentTerm()) {
        r->pending_read_index_messages_.push_back(m);
        return absl::OkStatus();
      }
      r->SendMsgReadIndexResponse(m);
      return absl::OkStatus();
    }
    default:
      break;
  }

  // All other messages need the sender's progress.
  auto it = r->prs_.progress.find(m.from());
  if (it == r->prs_.progress.end()) {
    r->logger_->Debugf("%x no progress available for %x", r->id_, m.from());
    return absl::OkStatus();
  }
  tracker::Progress* pr = &it->second;
  switch (m.type()) {
    case raftpb::MsgAppResp: {
      pr->recent_active = true;
      if (m.reject()) {
        r->logger_->Debugf(
            "%x received MsgAppResp(MsgApp was rejected, lastindex: %d) from %x for "
            "index %d",
            r->id_, m.rejecthint(), m.from(), m.index());
        if (pr->MaybeDecrTo(m.index(), m.rejecthint())) {
          r->logger_->Debugf("%x decreased progress of %x to [%s]", r->id_, m.from(), pr->String());
          if (pr->state == tracker::StateType::kReplicate) pr->BecomeProbe();
          r->SendAppend(m.from());
        }
      } else {
        bool old_paused = pr->IsPaused();
        if (pr->MaybeUpdate(m.index())) {
          if (pr->state == tracker::StateType::kProbe) {
            pr->BecomeReplicate();
          } else if (pr->state == tracker::StateType::kSnapshot &&
                     pr->match >= pr->pending_snapshot) {
            r->logger_->Debugf(
                "%x recovered from needing snapshot, resumed sending replication messages to %x "
                "[%s]",
                r->id_, m.from(), pr->String());
            // Through probing (which accounts for the snapshot) straight to
            // replicating, so the status is consistent right away.
            pr->BecomeProbe();
            pr->BecomeReplicate();
          } else if (pr->state == tracker::StateType::kReplicate) {
            pr->inflights.FreeLE(m.index());
          }

          if (r->MaybeCommit()) {
            // An entry of this term is committed: pending reads can be
            // answered.
            r->ReleasePendingReadIndexMessages();
            r->BcastAppend();
          } else if (old_paused && m.from() != r->id_) {
            // The follower may have missed the latest commit index.
            r->SendAppend(m.from());
          }
          // Flow control may allow more (size-limited) appends now; send as
          // many as possible, but no empty ones. (With asynchronous writes
          // the leader acknowledges its own appends: nothing to send then.)
          while (m.from() != r->id_ && r->MaybeSendAppend(m.from(), false)) {
          }
          // A leader transfer waits for the transferee to catch up.
          if (m.from() == r->lead_transferee_ && pr->match == r->raft_log_->LastIndex()) {
            r->logger_->Infof("%x sent MsgTimeoutNow to %x after received MsgAppResp", r->id_,
                              m.from());
            r->SendTimeoutNow(m.from());
          }
        }
      }
      break;
    }
    case raftpb::MsgHeartbeatResp: {
      pr->recent_active = true;
      pr->probe_sent = false;
      // Free one slot of a full window so that replication can go on.
      if (pr->state == tracker::StateType::kReplicate && pr->inflights.Full()) {
        pr->inflights.FreeFirstOne();
      }
      if (pr->match < r->raft_log_->LastIndex()) r->SendAppend(m.from());

      if (r->read_only_->option() != ReadOnlyOption::kSafe || m.context().empty()) break;
      const quorum::VoteMap* acks = r->read_only_->RecvAck(m.from(), m.context());
      if (acks == nullptr ||
          r->prs_.config.voters.GetVoteResult(*acks) != quorum::VoteResult::kVoteWon) {
        break;
      }
      for (ReadIndexStatus& rs : r->read_only_->Advance(m)) {
        const raftpb::Message& req = rs.req;
        if (req.from() == kNone || req.from() == r->id_) {
          r->read_states_.push_back(ReadState{rs.index, req.entries(0).data()});
        } else {
          raftpb::Message resp;
          resp.set_to(req.from());
          resp.set_type(raftpb::MsgReadIndexResp);
          resp.set_index(rs.index);
          *resp.mutable_entries() = req.entries();
          r->Send(std::move(resp));
        }
      }
      break;
    }
    case raftpb::MsgSnapStatus: {
      if (pr->state != tracker::StateType::kSnapshot) break;
      if (!m.reject()) {
        pr->BecomeProbe();
        r->logger_->Debugf("%x snapshot succeeded, resumed sending replication messages to %x [%s]",
                           r->id_, m.from(), pr->String());
      } else {
        // Clear the pending snapshot first, or probing would start from the
        // snapshot's index although it was never applied.
        pr->pending_snapshot = 0;
        pr->BecomeProbe();
        r->logger_->Debugf("%x snapshot failed, resumed sending replication messages to %x [%s]",
                           r->id_, m.from(), pr->String());
      }
      // Success: wait for the follower's MsgAppResp before the next append.
      // Failure: wait for a heartbeat interval before retrying.
      pr->probe_sent = true;
      break;
    }
    case raftpb::MsgUnreachable:
      // Optimistic appends to an unreachable node were probably lost.
      if (pr->state == tracker::StateType::kReplicate) pr->BecomeProbe();
      r->logger_->Debugf("%x failed to send message to %x because it is unreachable [%s]", r->id_,
                         m.from(), pr->String());
      break;
    case raftpb::MsgTransferLeader: {
      if (pr->is_learner) {
        r->logger_->Debugf("%x is learner. Ignored transferring leadership", r->id_);
        return absl::OkStatus();
      }
      uint64_t transferee = m.from();
      uint64_t last_transferee = r->lead_transferee_;
      if (last_transferee != kNone) {
        if (last_transferee == transferee) {
          r->logger_->Infof(
              "%x [term %d] transfer leadership to %x is in progress, ignores request to same "
              "node %x",
              r->id_, r->term_, transferee, transferee);
          return absl::OkStatus();
        }
        r->AbortLeaderTransfer();
        r->logger_->Infof("%x [term %d] abort previous transferring leadership to %x", r->id_,
                          r->term_, last_transferee);
      }
      if (transferee == r->id_) {
        r->logger_->Debugf("%x is already leader. Ignored transferring leadership to self", r->id_);
        return absl::OkStatus();
      }
      r->logger_->Infof("%x [term %d] starts to transfer leadership to %x", r->id_, r->term_,
                        transferee);
      // The transfer must finish within an election timeout.
      r->election_elapsed_ = 0;
      r->lead_transferee_ = transferee;
      if (pr->match == r->raft_log_->LastIndex()) {
        r->SendTimeoutNow(transferee);
        r->logger_->Infof(
            "%x sends MsgTimeoutNow to %x immediately as %x already has up-to-date log", r->id_,
            transferee, transferee);
      } else {
        r->SendAppend(transferee);
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status Raft::StepCandidate(Raft* r, raftpb::Message& m) {
  // Only responses to our own kind of campaign count: a candidate may still
  // receive pre-vote responses from its pre-candidate phase.
  raftpb::MessageType my_vote_resp =
      r->state_ == StateType::kPreCandidate ? raftpb::MsgPreVoteResp : raftpb::MsgVoteResp;
  switch (m.type()) {
    case raftpb::MsgProp:
      r->logger_->Infof("%x no leader at term %d; dropping proposal", r->id_, r->term_);
      return ErrProposalDropped();
    case raftpb::MsgApp:
      r->BecomeFollower(m.term(), m.from());  // m.term() == term_ here
      r->HandleAppendEntries(m);
      break;
    case raftpb::MsgHeartbeat:
      r->BecomeFollower(m.term(), m.from());
      r->HandleHeartbeat(m);
      break;
    case raftpb::MsgSnap:
      r->BecomeFollower(m.term(), m.from());
      r->HandleSnapshot(m);
      break;
    case raftpb::MsgTimeoutNow:
      r->logger_->Debugf("%x [term %d state %s] ignored MsgTimeoutNow from %x", r->id_, r->term_,
                         StateTypeName(r->state_), m.from());
      break;
    default:
      if (m.type() == my_vote_resp) {
        tracker::VoteTally tally = r->Poll(m.from(), m.type(), !m.reject());
        r->logger_->Infof("%x has received %d %s votes and %d vote rejections", r->id_,
                          tally.granted, MessageTypeName(m.type()), tally.rejected);
        if (tally.result == quorum::VoteResult::kVoteWon) {
          if (r->state_ == StateType::kPreCandidate) {
            r->Campaign(CampaignType::kElection);
          } else {
            r->BecomeLeader();
            r->BcastAppend();
          }
        } else if (tally.result == quorum::VoteResult::kVoteLost) {
          // A pre-vote response carries a future term; keep ours.
          r->BecomeFollower(r->term_, kNone);
        }
      }
      break;
  }
  return absl::OkStatus();
}

absl::Status Raft::StepFollower(Raft* r, raftpb::Message& m) {
  switch (m.type()) {
    case raftpb::MsgProp:
      if (r->lead_ == kNone) {
        r->logger_->Infof("%x no leader at term %d; dropping proposal", r->id_, r->term_);
        return ErrProposalDropped();
      }
      if (r->disable_proposal_forwarding_) {
        r->logger_->Infof("%x not forwarding to leader %x at term %d; dropping proposal", r->id_,
                          r->lead_, r->term_);
        return ErrProposalDropped();
      }
      m.set_to(r->lead_);
      r->Send(std::move(m));
      break;
    case raftpb::MsgApp:
      r->election_elapsed_ = 0;
      r->lead_ = m.from();
      r->HandleAppendEntries(m);
      break;
    case raftpb::MsgHeartbeat:
      r->election_elapsed_ = 0;
      r->lead_ = m.from();
      r->HandleHeartbeat(m);
      break;
    case raftpb::MsgSnap:
      r->election_elapsed_ = 0;
      r->lead_ = m.from();
      r->HandleSnapshot(m);
      break;
    case raftpb::MsgTransferLeader:
      if (r->lead_ == kNone) {
        r->logger_->Infof("%x no leader at term %d; dropping leader transfer msg", r->id_,
                          r->term_);
        return absl::OkStatus();
      }
      m.set_to(r->lead_);
      r->Send(std::move(m));
      break;
    case raftpb::MsgTimeoutNow:
      if (r->Promotable()) {
        r->logger_->Infof(
            "%x [term %d] received MsgTimeoutNow from %x and starts an election to get "
            "leadership.",
            r->id_, r->term_, m.from());
        // A transfer never uses pre-vote: there is no partition to recover
        // from, so the extra round trip is useless.
        r->Campaign(CampaignType::kTransfer);
      } else {
        r->logger_->Infof("%x received MsgTimeoutNow from %x but is not promotable", r->id_,
                          m.from());
      }
      break;
    case raftpb::MsgReadIndex:
      if (r->lead_ == kNone) {
        r->logger_->Infof("%x no leader at term %d; dropping index reading msg", r->id_, r->term_);
        return absl::OkStatus();
      }
      m.set_to(r->lead_);
      r->Send(std::move(m));
      break;
    case raftpb::MsgReadIndexResp:
      if (m.entries_size() != 1) {
        r->logger_->Errorf("%x invalid format of MsgReadIndexResp from %x, entries count: %d",
                           r->id_, m.from(), m.entries_size());
        return absl::OkStatus();
      }
      r->read_states_.push_back(ReadState{m.index(), m.entries(0).data()});
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

void Raft::HandleAppendEntries(const raftpb::Message& m) {
  if (m.index() < raft_log_->committed()) {
    raftpb::Message resp;
    resp.set_to(m.from());
    resp.set_type(raftpb::MsgAppResp);
    resp.set_index(raft_log_->committed());
    Send(std::move(resp));
    return;
  }
  std::optional<uint64_t> last_new =
      raft_log_->MaybeAppend(m.index(), m.logterm(), m.commit(), m.entries());
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MsgAppResp);
  if (last_new.has_value()) {
    resp.set_index(*last_new);
  } else {
    logger_->Debugf("%x [logterm: %d, index: %d] rejected MsgApp [logterm: %d, index: %d] from %x",
                    id_, raft_log_->ZeroTermOnErrCompacted(raft_log_->Term(m.index())), m.index(),
                    m.logterm(), m.index(), m.from());
    resp.set_index(m.index());
    resp.set_reject(true);
    resp.set_rejecthint(raft_log_->LastIndex());
  }
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const raftpb::Message& m) {
  raft_log_->CommitTo(m.commit());
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MsgHeartbeatResp);
  if (m.has_context()) resp.set_context(m.context());
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const raftpb::Message& m) {
  uint64_t sindex = m.snapshot().metadata().index();
  uint64_t sterm = m.snapshot().metadata().term();
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MsgAppResp);
  if (Restore(m.snapshot())) {
    logger_->Infof("%x [commit: %d] restored snapshot [index: %d, term: %d]", id_,
                   raft_log_->committed(), sindex, sterm);
    resp.set_index(raft_log_->LastIndex());
  } else {
    logger_->Infof("%x [commit: %d] ignored snapshot [index: %d, term: %d]", id_,
                   raft_log_->committed(), sindex, sterm);
    resp.set_index(raft_log_->committed());
  }
  Send(std::move(resp));
}

bool Raft::Restore(const raftpb::Snapshot& s) {
  if (s.metadata().index() <= raft_log_->committed()) return false;
  if (state_ != StateType::kFollower) {
    // Defense in depth: a leader applying a snapshot could otherwise move to
    // a new term without becoming a follower. Should never happen.
    logger_->Warningf("%x attempted to restore snapshot as leader; should never happen", id_);
    BecomeFollower(term_ + 1, kNone);
    return false;
  }

  // Defense in depth: a snapshot that does not contain us would leave us
  // without a progress entry, which much of the code assumes exists. A voter
  // being removed by a joint configuration is only in voters_outgoing (and
  // learners_next implies voters_outgoing), as in etcd 3.5.
  const raftpb::ConfState& cs = s.metadata().conf_state();
  auto contains = [this](const google::protobuf::RepeatedField<uint64_t>& ids) {
    return std::find(ids.begin(), ids.end(), id_) != ids.end();
  };
  bool found = contains(cs.voters()) || contains(cs.learners()) || contains(cs.voters_outgoing());
  if (!found) {
    logger_->Warningf(
        "%x attempted to restore snapshot but it is not in the ConfState %s; should never happen",
        id_, confchange::ConfStateString(cs));
    return false;
  }

  // We already have the snapshot's last entry: just move the commit index.
  if (raft_log_->MatchTerm(s.metadata().index(), s.metadata().term())) {
    logger_->Infof(
        "%x [commit: %d, lastindex: %d, lastterm: %d] fast-forwarded commit to snapshot [index: "
        "%d, term: %d]",
        id_, raft_log_->committed(), raft_log_->LastIndex(), raft_log_->LastTerm(),
        s.metadata().index(), s.metadata().term());
    raft_log_->CommitTo(s.metadata().index());
    return false;
  }

  raft_log_->Restore(s);

  // Rebuild the configuration from the snapshot.
  prs_ = tracker::ProgressTracker(prs_.max_inflight);
  absl::StatusOr<confchange::ChangeResult> restored =
      confchange::Restore(confchange::Changer(prs_, raft_log_->LastIndex()), cs);
  if (!restored.ok()) {
    // A bug in conf change handling, or a corrupt ConfState from the client.
    logger_->Panicf("unable to restore config %s: %s", confchange::ConfStateString(cs),
                    restored.status().message());
  }
  AssertConfStatesEquivalent(
      logger_, cs, SwitchToConfig(std::move(restored->config), std::move(restored->progress)));

  tracker::Progress& pr = prs_.progress.at(id_);
  pr.MaybeUpdate(pr.next - 1);

  logger_->Infof(
      "%x [commit: %d, lastindex: %d, lastterm: %d] restored snapshot [index: %d, term: %d]", id_,
      raft_log_->committed(), raft_log_->LastIndex(), raft_log_->LastTerm(), s.metadata().index(),
      s.metadata().term());
  return true;
}

bool Raft::Promotable() const {
  auto it = prs_.progress.find(id_);
  return it != prs_.progress.end() && !it->second.is_learner;
}

raftpb::ConfState Raft::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  confchange::Changer changer(prs_, raft_log_->LastIndex());
  absl::StatusOr<confchange::ChangeResult> result;
  bool auto_leave = false;
  if (confchange::LeaveJoint(cc)) {
    result = changer.LeaveJoint();
  } else if (confchange::EnterJoint(cc, &auto_leave)) {
    result = changer.EnterJoint(auto_leave, cc.changes());
  } else {
    result = changer.Simple(cc.changes());
  }
  if (!result.ok()) {
    logger_->Panicf("%x cannot apply conf change %s: %s", id_, GoFormat(cc),
                    result.status().message());
  }
  return SwitchToConfig(std::move(result->config), std::move(result->progress));
}

raftpb::ConfState Raft::SwitchToConfig(tracker::Config cfg, tracker::ProgressMap prs) {
  prs_.config = std::move(cfg);
  prs_.progress = std::move(prs);

  logger_->Infof("%x switched to configuration %s", id_, prs_.config.String());
  raftpb::ConfState cs = prs_.ConfState();
  auto self = prs_.progress.find(id_);
  bool ok = self != prs_.progress.end();

  // Whether we are a learner now (false if removed).
  is_learner_ = ok && self->second.is_learner;

  if ((!ok || is_learner_) && state_ == StateType::kLeader) {
    // This leader was removed or demoted; it keeps leading until the next
    // term (demotions are not allowed at the time of writing).
    return cs;
  }

  // The rest only matters for a leader with other nodes.
  if (state_ != StateType::kLeader || cs.voters_size() == 0) return cs;

  if (MaybeCommit()) {
    // The new quorum commits more: tell everyone.
    BcastAppend();
  } else {
    // Probe newly added nodes right away instead of at the next heartbeat.
    prs_.Visit([this](uint64_t id, tracker::Progress&) { MaybeSendAppend(id, false); });
  }
  // A removed transferee ends the transfer.
  if (lead_transferee_ != kNone && prs_.progress.count(lead_transferee_) == 0) {
    AbortLeaderTransfer();
  }
  return cs;
}

void Raft::LoadState(const raftpb::HardState& state) {
  if (state.commit() < raft_log_->committed() || state.commit() > raft_log_->LastIndex()) {
    logger_->Panicf("%x state.commit %d is out of range [%d, %d]", id_, state.commit(),
                    raft_log_->committed(), raft_log_->LastIndex());
  }
  raft_log_->set_committed(state.commit());
  term_ = state.term();
  vote_ = state.vote();
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ = election_timeout_ + RandomInt(election_timeout_);
}

void Raft::SendTimeoutNow(uint64_t to) {
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MsgTimeoutNow);
  Send(std::move(m));
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return raft_log_->ZeroTermOnErrCompacted(raft_log_->Term(raft_log_->committed())) == term_;
}

raftpb::Message Raft::ResponseToReadIndexReq(const raftpb::Message& req, uint64_t read_index) {
  if (req.from() == kNone || req.from() == id_) {
    read_states_.push_back(ReadState{read_index, req.entries(0).data()});
    return raftpb::Message();
  }
  raftpb::Message resp;
  resp.set_type(raftpb::MsgReadIndexResp);
  resp.set_to(req.from());
  resp.set_index(read_index);
  *resp.mutable_entries() = req.entries();
  return resp;
}

void Raft::ReleasePendingReadIndexMessages() {
  if (!CommittedEntryInCurrentTerm()) {
    logger_->Errorf(
        "pending MsgReadIndex should be released only after first commit in current term");
    return;
  }
  std::vector<raftpb::Message> msgs;
  msgs.swap(pending_read_index_messages_);
  for (const raftpb::Message& m : msgs) SendMsgReadIndexResponse(m);
}

void Raft::SendMsgReadIndexResponse(const raftpb::Message& m) {
  switch (read_only_->option()) {
    case ReadOnlyOption::kSafe:
      // Confirm leadership with a heartbeat round carrying the request.
      read_only_->AddRequest(raft_log_->committed(), m);
      // We acknowledge our own request.
      read_only_->RecvAck(id_, m.entries(0).data());
      BcastHeartbeatWithCtx(m.entries(0).data());
      break;
    case ReadOnlyOption::kLeaseBased: {
      raftpb::Message resp = ResponseToReadIndexReq(m, raft_log_->committed());
      if (resp.to() != kNone) Send(std::move(resp));
      break;
    }
  }
}

bool Raft::IncreaseUncommittedSize(const std::vector<raftpb::Entry>& entries) {
  uint64_t s = 0;
  for (const raftpb::Entry& e : entries) s += PayloadSize(e);
  // With nothing uncommitted, any size goes; otherwise stay under the limit.
  if (uncommitted_size_ > 0 && uncommitted_size_ + s > max_uncommitted_size_) {
    return false;
  }
  uncommitted_size_ += s;
  return true;
}

void Raft::ReduceUncommittedSize(const std::vector<raftpb::Entry>& entries) {
  // Followers do not track it.
  if (uncommitted_size_ == 0) return;
  uint64_t s = 0;
  for (const raftpb::Entry& e : entries) s += PayloadSize(e);
  ReduceUncommittedSize(s);
}

void Raft::ReduceUncommittedSize(uint64_t s) {
  // The estimate may be low but never high: saturate at zero.
  uncommitted_size_ = s > uncommitted_size_ ? 0 : uncommitted_size_ - s;
}

}  // namespace etcd::raft
