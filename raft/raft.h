// The raft state machine (etcd's raft.go) and its configuration.
//
// Applications use RawNode (rawnode.h), which wraps this class; `Raft` is
// the deterministic core, exposed for RawNode, the library's tests and test
// harnesses. It does no I/O, has no threads and no clock: it changes state
// only in Step (a message) and Tick (a unit of logical time), and queues the
// messages it wants sent, which the owner collects.
//
//   etcd::raft::MemoryStorage storage;
//   etcd::raft::Config c;
//   c.id = 1;
//   c.election_tick = 10;
//   c.heartbeat_tick = 1;
//   c.storage = &storage;
//   c.max_size_per_msg = 1 << 20;
//   c.max_inflight_msgs = 256;
//   auto raft = etcd::raft::Raft::New(c);   // StatusOr<unique_ptr<Raft>>
//
// Roles are implemented as step functions swapped on each transition
// (StepFollower, StepCandidate, StepLeader), as in etcd.
//
// Thread-safety: none; one thread drives an instance.

#ifndef ETCD_RAFT_RAFT_H_
#define ETCD_RAFT_RAFT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "raft/log.h"
#include "raft/logger.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/read_only.h"
#include "raft/ready.h"
#include "raft/storage.h"
#include "raft/tracker/tracker.h"

namespace etcd::raft {

// The parameters of a raft instance.
struct Config {
  // The identity of the local node. Must not be 0 (kNone).
  uint64_t id = 0;

  // The number of Tick calls that must pass between elections: a follower
  // that hears nothing from a leader of the current term for this long (in
  // fact for a randomized timeout in [election_tick, 2*election_tick))
  // becomes a candidate. Must be greater than heartbeat_tick; 10 times it is
  // suggested to avoid needless leader changes.
  int election_tick = 0;

  // The number of Tick calls between the heartbeats a leader sends to keep
  // its leadership. Must be positive.
  int heartbeat_tick = 0;

  // Where raft reads the persisted log, HardState and ConfState (on start)
  // from. Borrowed: must outlive the raft instance (and the RawNode owning
  // it). The application writes to it after each Ready. Required.
  Storage* storage = nullptr;

  // The last applied index; set only when restarting. Raft does not return
  // entries at or below it in Ready::committed_entries. Leaving it 0 on a
  // restart may make raft return entries the application already applied.
  uint64_t applied = 0;

  // The maximum byte size of each append message (kNoLimit for none; 0
  // means at most one entry per message). Smaller values lower the cost of
  // probing and of lost messages; larger ones raise replication throughput.
  uint64_t max_size_per_msg = 0;

  // The maximum byte size of the committed entries one Ready carries.
  // 0 means the same as max_size_per_msg.
  uint64_t max_committed_size_per_ready = 0;

  // The maximum aggregate byte size (payloads only) of uncommitted entries a
  // leader will hold in its log; proposals beyond it fail with
  // ErrProposalDropped. A proposal is always accepted while nothing is
  // uncommitted. 0 means no limit.
  uint64_t max_uncommitted_entries_size = 0;

  // The maximum number of append messages in flight to one follower during
  // optimistic replication. The transport usually has its own buffer; this
  // keeps raft from overflowing it. Must be positive.
  int max_inflight_msgs = 0;

  // Whether the leader checks that a quorum was active in each election
  // timeout, stepping down if not.
  bool check_quorum = false;

  // Whether to run the Pre-Vote phase (Raft thesis 9.6) before an election,
  // so that a node rejoining after a partition does not disrupt the cluster
  // by raising the term.
  bool pre_vote = false;

  // How read-only requests (ReadIndex) are served. kSafe (the default)
  // confirms leadership with a quorum; kLeaseBased relies on the leader
  // lease and so on bounded clock drift, and requires check_quorum.
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;

  // Where this instance logs; borrowed, must outlive it. Null means
  // DefaultLogger(). Several raft groups in one process may log separately.
  Logger* logger = nullptr;

  // If true, followers drop proposals (ErrProposalDropped) instead of
  // forwarding them to the leader; useful when the leader must compute the
  // proposal's data itself (e.g. a timestamp from its clock).
  bool disable_proposal_forwarding = false;

  // Asynchronous storage writes (etcd-io/raft 3.6's AsyncStorageWrites).
  // Instead of persisting and applying each Ready and calling Advance, the
  // application receives that work as local messages in Ready::messages: a
  // MsgStorageAppend to kLocalAppendThread (entries, HardState, snapshot to
  // write) and a MsgStorageApply to kLocalApplyThread (committed entries to
  // apply). Each thread handles its messages in order and, once the work is
  // done, sends the messages in the message's `responses` to their
  // recipients (steps those addressed to this node back into it). Other
  // messages of a Ready may be sent at once. Advance must not be called.
  // Answers that depend on durable state (appends, votes) travel as
  // responses of the append message, and committed entries are handed out
  // only once persisted locally. Several Readies may be out at once.
  bool async_storage_writes = false;

  // Seed of the generator behind the randomized election timeout. The same
  // seed gives the same sequence of timeouts; 0 picks a random seed.
  // (Not in etcd, where the generator is process-wide.)
  uint64_t random_seed = 0;

  // For tests only (like etcd's unexported fields): the initial voters and
  // learners of a new cluster, used instead of the storage's ConfState
  // (which must then be empty).
  std::vector<uint64_t> peers;
  std::vector<uint64_t> learners;

  // Checks the configuration and fills defaults (max_uncommitted_entries_size
  // 0 -> kNoLimit, max_committed_size_per_ready 0 -> max_size_per_msg, logger
  // null -> DefaultLogger()). Errors carry etcd's texts.
  absl::Status Validate();
};

// Why a node campaigns.
enum class CampaignType {
  kPreElection,  // the Pre-Vote phase
  kElection,     // a normal (timeout) election
  kTransfer,     // a leader transfer (MsgTimeoutNow)
};

// "CampaignPreElection", "CampaignElection" or "CampaignTransfer"; the last
// is the context of the votes of a leader transfer.
absl::string_view CampaignTypeName(CampaignType t);

class Raft {
 public:
  // Creates an instance from `config` (validated; see Config::Validate),
  // restoring its HardState and ConfState from the storage. Errors for an
  // invalid config or a failing storage. The instance starts as a follower.
  static absl::StatusOr<std::unique_ptr<Raft>> New(Config config);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Advances the state machine with a message (from a peer, or a local one
  // such as MsgHup or MsgProp). Returns ErrProposalDropped for a proposal
  // that was not accepted; other messages return OK.
  absl::Status Step(raftpb::Message m);

  // One unit of logical time: elections for followers and candidates,
  // heartbeats and quorum checks for leaders.
  void Tick();

  // Role transitions (etcd's becomeFollower, ...). Aborts on an invalid
  // transition (e.g. leader -> candidate, follower -> leader).
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();

  // Starts a campaign of type `t`. Callers check that this node may campaign.
  void Campaign(CampaignType t);

  // Resets the volatile state for `term` (votes, timers, progress, ...).
  void Reset(uint64_t term);

  // Applies a configuration change (the application committed it) and
  // returns the resulting configuration. Aborts if the change is invalid.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);

  // Records that entries up to `index` (with `payload` bytes of entry data
  // not yet counted) were applied, and leaves a joint configuration that
  // asked for it.
  void AppliedTo(uint64_t index, uint64_t payload);
  // The application wrote and applied `snapshot` (asynchronous writes).
  void AppliedSnap(const raftpb::Snapshot& snapshot);

  // Updates the log after the application processed `rd` (RawNode::Advance):
  // applied index, stable entries and snapshot, uncommitted size, and the
  // automatic leave of a joint configuration.
  void Advance(const Ready& rd) { Advance(ReadySummary::Of(rd)); }
  void Advance(const ReadySummary& rd);

  // Restores the state machine from a snapshot sent by the leader; false if
  // it was ignored (obsolete, or this node is not in it).
  bool Restore(const raftpb::Snapshot& snapshot);

  // Appends entries proposed on this leader (setting their term and index);
  // false if the uncommitted size limit refused them.
  bool AppendEntry(std::vector<raftpb::Entry> entries);

  // Advances the commit index to what a quorum has; true if it moved.
  bool MaybeCommit();

  // Sends an append (or a snapshot) to `to`; returns whether a message was
  // queued. With send_if_empty false, nothing is sent if there are no
  // entries to send.
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  void SendAppend(uint64_t to) { MaybeSendAppend(to, true); }
  void BcastAppend();
  void BcastHeartbeat();

  // Followers and candidates: handle an append, heartbeat or snapshot from
  // the leader, answering it.
  void HandleAppendEntries(const raftpb::Message& m);
  void HandleHeartbeat(const raftpb::Message& m);
  void HandleSnapshot(const raftpb::Message& m);

  // Whether this node may become leader: it is a voter of the current
  // configuration.
  bool Promotable() const;

  // Whether the elapsed ticks reached the randomized election timeout.
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  void ResetRandomizedElectionTimeout();

  // Loads a persisted HardState; aborts if its commit is out of range.
  void LoadState(const raftpb::HardState& state);

  SoftState GetSoftState() const { return SoftState{lead_, state_}; }
  raftpb::HardState GetHardState() const;

  // Takes the queued outgoing messages.
  std::vector<raftpb::Message> ReadMessages();

  // --- State, exposed for RawNode, Status and tests. ---
  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t lead() const { return lead_; }
  StateType state() const { return state_; }
  bool is_learner() const { return is_learner_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  uint64_t uncommitted_size() const { return uncommitted_size_; }
  int election_elapsed() const { return election_elapsed_; }
  int heartbeat_elapsed() const { return heartbeat_elapsed_; }
  int election_timeout() const { return election_timeout_; }
  int heartbeat_timeout() const { return heartbeat_timeout_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  bool check_quorum() const { return check_quorum_; }
  bool pre_vote() const { return pre_vote_; }
  Logger* logger() const { return logger_; }

  RaftLog& raft_log() { return *raft_log_; }
  const RaftLog& raft_log() const { return *raft_log_; }
  tracker::ProgressTracker& prs() { return prs_; }
  const tracker::ProgressTracker& prs() const { return prs_; }
  std::vector<raftpb::Message>& msgs() { return msgs_; }
  // With asynchronous writes: messages to send once the current unstable
  // state is durable (the responses of the next MsgStorageAppend).
  std::vector<raftpb::Message>& msgs_after_append() { return msgs_after_append_; }
  const std::vector<raftpb::Message>& msgs_after_append() const { return msgs_after_append_; }
  bool async_storage_writes() const { return async_storage_writes_; }
  const std::vector<raftpb::Message>& msgs() const { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  const std::vector<ReadState>& read_states() const { return read_states_; }
  ReadOnly& read_only() { return *read_only_; }
  const std::vector<raftpb::Message>& pending_read_index_messages() const {
    return pending_read_index_messages_;
  }

  // Mutators for tests and harnesses that set up a particular state.
  void set_id(uint64_t id) { id_ = id; }
  void set_term(uint64_t term) { term_ = term; }
  void set_vote(uint64_t vote) { vote_ = vote; }
  void set_lead(uint64_t lead) { lead_ = lead; }
  void set_election_elapsed(int n) { election_elapsed_ = n; }
  void set_heartbeat_elapsed(int n) { heartbeat_elapsed_ = n; }
  void set_randomized_election_timeout(int n) { randomized_election_timeout_ = n; }
  void set_check_quorum(bool v) { check_quorum_ = v; }
  void set_pre_vote(bool v) { pre_vote_ = v; }
  void set_lead_transferee(uint64_t id) { lead_transferee_ = id; }
  void set_pending_conf_index(uint64_t i) { pending_conf_index_ = i; }
  void set_uncommitted_size(uint64_t n) { uncommitted_size_ = n; }
  void set_read_only_option(ReadOnlyOption option);
  void set_raft_log(std::unique_ptr<RaftLog> log) { raft_log_ = std::move(log); }
  // Sets the role and its step function only (no other state changes).
  void SetStateForTesting(StateType state);
  // Exposed for tests.
  void ReduceUncommittedSizeForTesting(const std::vector<raftpb::Entry>& entries) {
    ReduceUncommittedSize(entries);
  }

 private:
  using StepFunc = absl::Status (*)(Raft* r, raftpb::Message& m);

  explicit Raft(const Config& c);

  static absl::Status StepLeader(Raft* r, raftpb::Message& m);
  static absl::Status StepCandidate(Raft* r, raftpb::Message& m);
  static absl::Status StepFollower(Raft* r, raftpb::Message& m);

  void TickElection();
  void TickHeartbeat();

  void Send(raftpb::Message m);
  void SendHeartbeat(uint64_t to, const std::string& ctx);
  void BcastHeartbeatWithCtx(const std::string& ctx);
  void SendTimeoutNow(uint64_t to);
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }

  // Records a (pre)vote from `id` and returns the tally.
  tracker::VoteTally Poll(uint64_t id, raftpb::MessageType t, bool v);

  // Installs a configuration computed by confchange; returns it as a
  // ConfState and reacts to it when leader (commit, probe new nodes).
  raftpb::ConfState SwitchToConfig(tracker::Config cfg, tracker::ProgressMap prs);

  bool CommittedEntryInCurrentTerm() const;
  raftpb::Message ResponseToReadIndexReq(const raftpb::Message& req, uint64_t read_index);
  void ReleasePendingReadIndexMessages();
  void SendMsgReadIndexResponse(const raftpb::Message& m);

  bool IncreaseUncommittedSize(const std::vector<raftpb::Entry>& entries);
  void ReduceUncommittedSize(const std::vector<raftpb::Entry>& entries);
  void ReduceUncommittedSize(uint64_t payload);

  // A pseudo-random integer in [0, n).
  int RandomInt(int n);

  uint64_t id_;
  uint64_t term_ = 0;
  uint64_t vote_ = kNone;

  std::vector<ReadState> read_states_;

  std::unique_ptr<RaftLog> raft_log_;

  uint64_t max_msg_size_;
  uint64_t max_uncommitted_size_;
  tracker::ProgressTracker prs_;

  StateType state_ = StateType::kFollower;

  // Whether this node is a learner of the current configuration.
  bool is_learner_ = false;

  // Messages to send, collected by the owner.
  std::vector<raftpb::Message> msgs_;
  std::vector<raftpb::Message> msgs_after_append_;
  bool async_storage_writes_ = false;

  // The leader of the current term, or kNone.
  uint64_t lead_ = kNone;
  // The target of a leader transfer in progress (Raft thesis 3.10), or kNone.
  uint64_t lead_transferee_ = kNone;
  // At most one conf change may be pending (in the log, not yet applied):
  // proposals of conf changes are refused while the applied index is below
  // this index, which is >= that of the latest pending conf change.
  uint64_t pending_conf_index_ = 0;
  // An estimate of the payload bytes of the uncommitted log tail; leader
  // only, reset on term changes.
  uint64_t uncommitted_size_ = 0;

  std::unique_ptr<ReadOnly> read_only_;

  // Leader and candidate: ticks since the last election timeout. Follower:
  // ticks since then or since the last valid message from the leader.
  int election_elapsed_ = 0;
  // Leader only: ticks since the last heartbeat timeout.
  int heartbeat_elapsed_ = 0;

  bool check_quorum_;
  bool pre_vote_;

  int heartbeat_timeout_;
  int election_timeout_;
  // In [election_timeout, 2*election_timeout); re-drawn on becoming
  // follower or candidate.
  int randomized_election_timeout_ = 0;
  bool disable_proposal_forwarding_;

  void (Raft::*tick_)() = &Raft::TickElection;
  StepFunc step_ = &Raft::StepFollower;

  Logger* logger_;

  // MsgReadIndex requests a new leader received before committing an entry
  // of its term; answered once it has.
  std::vector<raftpb::Message> pending_read_index_messages_;

  uint64_t rand_state_;
};

}  // namespace etcd::raft

#endif  // ETCD_RAFT_RAFT_H_
