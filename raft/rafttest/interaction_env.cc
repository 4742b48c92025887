#include "raft/rafttest/interaction_env.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "raft/confchange/raftpb_helpers.h"
#include "raft/status.h"
#include "raft/tracker/progress.h"
#include "raft/util.h"

namespace etcd::raft::rafttest {
namespace {

constexpr absl::string_view kLevelNames[RedirectLogger::kNumLevels] = {"DEBUG", "INFO",  "WARN",
                                                                       "ERROR", "FATAL", "NONE"};

int LevelIndex(Logger::Level level) {
  switch (level) {
    case Logger::Level::kDebug:
      return 0;
    case Logger::Level::kInfo:
      return 1;
    case Logger::Level::kWarning:
      return 2;
    case Logger::Level::kError:
      return 3;
    case Logger::Level::kFatal:
    case Logger::Level::kPanic:
      return 4;
  }
  return 4;
}

// The harness formats entry payloads with Go's %q.
std::string FormatEntryData(absl::string_view data) { return GoQuote(data); }

}  // namespace

// --- RedirectLogger ---

void RedirectLogger::Log(Level level, absl::string_view message) {
  if (!Enabled(level) || output_ == nullptr) return;
  absl::StrAppend(output_, kLevelNames[LevelIndex(level)], " ", message);
  if (message.empty() || message.back() != '\n') output_->push_back('\n');
}

bool RedirectLogger::Enabled(Level level) const { return level_ <= LevelIndex(level); }

bool RedirectLogger::SetLevel(absl::string_view name) {
  for (int i = 0; i < kNumLevels; ++i) {
    if (absl::AsciiStrToUpper(name) == kLevelNames[i]) {
      level_ = i;
      return true;
    }
  }
  return false;
}

// --- InteractionEnv ---

InteractionEnv::InteractionEnv(Options options) : options_(std::move(options)) {
  logger_.set_output(&output_);
}

void InteractionEnv::Write(absl::string_view s) { logger_.output()->append(s.data(), s.size()); }

void InteractionEnv::WithIndent(const std::function<void()>& f) {
  std::string* orig = logger_.output();
  std::string inner;
  logger_.set_output(&inner);
  f();
  logger_.set_output(orig);
  for (absl::string_view line : absl::StrSplit(inner, '\n')) {
    if (line.empty()) continue;
    absl::StrAppend(orig, "  ", line, "\n");
  }
}

std::string InteractionEnv::Handle(const datadriven::TestData& d) {
  output_.clear();
  logger_.set_output(&output_);
  current_ = &d;
  absl::Status err;
  if (d.cmd == "propose-conf-change") {
    err = HandleSingle(d.cmd, d.cmd_args, d.input);
  } else {
    err = HandleSingle(d.cmd, d.cmd_args, "");
    if (err.ok()) {
      for (absl::string_view line : absl::StrSplit(d.input, '\n', absl::SkipWhitespace())) {
        std::string cmd;
        std::vector<datadriven::CmdArg> args;
        if (absl::Status s = datadriven::ParseLine(line, &cmd, &args); !s.ok()) {
          ADD_FAILURE() << d.pos << ": cannot parse command line \"" << line << "\": " << s;
          break;
        }
        absl::Status s = HandleSingle(cmd, args, "");
        if (!s.ok()) {
          if (logger_.quiet()) {
            err = s;
            break;
          }
          Write(s.message());
        }
      }
    }
  }
  current_ = nullptr;
  if (!err.ok()) Write(err.message());
  // The NONE level silences the handlers too (setup can be chatty), but
  // errors always show.
  if (output_.empty()) return "ok";
  if (logger_.quiet()) return err.ok() ? "ok (quiet)" : std::string(err.message());
  return output_;
}

int InteractionEnv::NodeIdx(const std::vector<datadriven::CmdArg>& args) {
  uint64_t id = 0;
  if (args.empty() || !args[0].vals.empty() || !absl::SimpleAtoi(args[0].key, &id) || id == 0 ||
      id > nodes_.size()) {
    ADD_FAILURE() << (current_ != nullptr ? current_->pos : "") << ": expected a node ID, got "
                  << (args.empty() ? "nothing" : args[0].ToString());
    return -1;
  }
  return static_cast<int>(id - 1);
}

absl::Status InteractionEnv::HandleSingle(const std::string& cmd,
                                          const std::vector<datadriven::CmdArg>& args,
                                          const std::string& input) {
  const std::string pos = current_ != nullptr ? current_->pos : "";
  auto bad = [&](const std::string& why) {
    ADD_FAILURE() << pos << ": " << cmd << ": " << why;
    return absl::OkStatus();
  };
  if (cmd == "_breakpoint") return absl::OkStatus();
  if (cmd == "add-nodes") return HandleAddNodes(args);
  if (cmd == "deliver-msgs") return HandleDeliverMsgs(args);
  if (cmd == "propose-conf-change") return HandleProposeConfChange(args, input);
  if (cmd == "log-level") {
    if (args.empty()) return bad("missing level");
    if (!logger_.SetLevel(args[0].key)) {
      return absl::InvalidArgumentError(
          "log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]");
    }
    return absl::OkStatus();
  }
  if (cmd == "raft-state") {
    PrintRaftState();
    return absl::OkStatus();
  }
  if (cmd == "stabilize") {
    std::vector<int> idxs;
    for (const datadriven::CmdArg& a : args) {
      if (!a.vals.empty()) continue;
      int idx = NodeIdx({a});
      if (idx < 0) return absl::OkStatus();
      idxs.push_back(idx);
    }
    return Stabilize(std::move(idxs));
  }
  if (cmd == "transfer-leadership") {
    uint64_t from = 0, to = 0;
    for (const datadriven::CmdArg& a : args) {
      if (a.key == "from" && a.vals.size() == 1) (void)a.Scan(0, &from);
      if (a.key == "to" && a.vals.size() == 1) (void)a.Scan(0, &to);
    }
    if (from == 0 || from > nodes_.size() || to == 0) return bad("need from=<id> to=<id>");
    nodes_[from - 1]->raw_node->TransferLeader(to);
    return absl::OkStatus();
  }

  // The remaining commands start with a node ID.
  static const absl::flat_hash_set<std::string>* const kNodeCommands =
      new absl::flat_hash_set<std::string>{"campaign",
                                           "compact",
                                           "process-ready",
                                           "process-append-thread",
                                           "process-apply-thread",
                                           "propose",
                                           "raft-log",
                                           "status",
                                           "tick-heartbeat",
                                           "tick-election",
                                           "set-randomized-election-timeout",
                                           "report-unreachable",
                                           "report-snapshot",
                                           "read-index"};
  if (kNodeCommands->count(cmd) == 0) return absl::InvalidArgumentError("unknown command");
  int idx = NodeIdx(args);
  if (idx < 0) return absl::OkStatus();
  InteractionNode& node = *nodes_[idx];
  auto second_u64 = [&](uint64_t* v) {
    return args.size() >= 2 && args[1].vals.empty() && absl::SimpleAtoi(args[1].key, v);
  };
  if (cmd == "campaign") return Campaign(idx);
  if (cmd == "compact") {
    uint64_t index = 0;
    if (!second_u64(&index)) return bad("need a new first index");
    return Compact(idx, index);
  }
  if (cmd == "process-ready" || cmd == "process-append-thread" || cmd == "process-apply-thread") {
    // Several nodes may be named; each one's output gets a header then.
    std::vector<int> idxs;
    for (const datadriven::CmdArg& a : args) {
      int i = NodeIdx({a});
      if (i < 0) return absl::OkStatus();
      idxs.push_back(i);
    }
    for (int i : idxs) {
      auto run = [&]() -> absl::Status {
        if (cmd == "process-ready") return ProcessReady(i);
        if (cmd == "process-append-thread") return ProcessAppendThread(i);
        return ProcessApplyThread(i);
      };
      absl::Status s;
      if (idxs.size() == 1) {
        s = run();
      } else {
        const char* what = cmd == "process-ready"           ? "handling Ready"
                           : cmd == "process-append-thread" ? "processing append thread"
                                                            : "processing apply thread";
        Write(absl::StrCat("> ", i + 1, " ", what, "\n"));
        WithIndent([&] { s = run(); });
      }
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (cmd == "propose") {
    if (args.size() != 2 || !args[1].vals.empty())
      return bad("expected exactly one key with no vals");
    return Propose(idx, args[1].key);
  }
  if (cmd == "raft-log") return RaftLog(idx);
  if (cmd == "status") return PrintStatus(idx);
  if (cmd == "tick-heartbeat") {
    Tick(idx, node.config.heartbeat_tick);
    return absl::OkStatus();
  }
  if (cmd == "tick-election") {
    Tick(idx, node.config.election_tick);
    return absl::OkStatus();
  }
  if (cmd == "set-randomized-election-timeout") {
    int timeout = 0;
    const datadriven::CmdArg* a = nullptr;
    for (const datadriven::CmdArg& x : args) {
      if (x.key == "timeout") a = &x;
    }
    if (a == nullptr || a->vals.size() != 1 || !a->Scan(0, &timeout).ok()) {
      return bad("need timeout=<n>");
    }
    node.raw_node->raft().set_randomized_election_timeout(timeout);
    return absl::OkStatus();
  }
  if (cmd == "report-unreachable") {
    uint64_t peer = 0;
    if (!second_u64(&peer)) return bad("need a peer ID");
    node.raw_node->ReportUnreachable(peer);
    return absl::OkStatus();
  }
  if (cmd == "report-snapshot") {
    uint64_t peer = 0;
    if (!second_u64(&peer)) return bad("need a peer ID");
    bool failure = args.size() >= 3 && args[2].key == "failure";
    node.raw_node->ReportSnapshot(peer,
                                  failure ? SnapshotStatus::kFailure : SnapshotStatus::kFinish);
    return absl::OkStatus();
  }
  if (cmd == "read-index") {
    if (args.size() != 2 || !args[1].vals.empty()) return bad("need a request context");
    node.raw_node->ReadIndex(args[1].key);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown command");
}

// --- add-nodes ---

absl::Status InteractionEnv::HandleAddNodes(const std::vector<datadriven::CmdArg>& args) {
  int n = 0;
  if (args.empty() || !absl::SimpleAtoi(args[0].key, &n)) {
    ADD_FAILURE() << "add-nodes: expected a number of nodes";
    return absl::OkStatus();
  }
  raftpb::Snapshot snap;
  Config cfg;
  for (size_t a = 1; a < args.size(); ++a) {
    const datadriven::CmdArg& arg = args[a];
    for (size_t i = 0; i < arg.vals.size(); ++i) {
      absl::Status s;
      uint64_t u = 0;
      if (arg.key == "voters") {
        s = arg.Scan(i, &u);
        snap.mutable_metadata()->mutable_conf_state()->add_voters(u);
      } else if (arg.key == "learners") {
        s = arg.Scan(i, &u);
        snap.mutable_metadata()->mutable_conf_state()->add_learners(u);
      } else if (arg.key == "index") {
        s = arg.Scan(i, &u);
        snap.mutable_metadata()->set_index(u);
      } else if (arg.key == "content") {
        std::string c;
        s = arg.Scan(i, &c);
        snap.set_data(c);
      } else if (arg.key == "inflight") {
        s = arg.Scan(i, &cfg.max_inflight_msgs);
      } else if (arg.key == "prevote") {
        s = arg.Scan(i, &cfg.pre_vote);
      } else if (arg.key == "checkquorum") {
        s = arg.Scan(i, &cfg.check_quorum);
      } else if (arg.key == "max-committed-size-per-ready") {
        s = arg.Scan(i, &cfg.max_committed_size_per_ready);
      } else if (arg.key == "disable-proposal-forwarding") {
        s = arg.Scan(i, &cfg.disable_proposal_forwarding);
      } else if (arg.key == "async-storage-writes") {
        s = arg.Scan(i, &cfg.async_storage_writes);
      } else if (arg.key == "read-only") {
        if (arg.vals[i] == "safe") {
          cfg.read_only_option = ReadOnlyOption::kSafe;
        } else if (arg.vals[i] == "lease-based") {
          cfg.read_only_option = ReadOnlyOption::kLeaseBased;
        } else {
          return absl::InvalidArgumentError(
              absl::StrFormat("invalid read-only option %s", GoQuote(arg.vals[i])));
        }
      } else {
        s = absl::InvalidArgumentError("unknown argument");
      }
      if (!s.ok()) {
        ADD_FAILURE() << "add-nodes: " << arg.ToString() << ": " << s;
        return absl::OkStatus();
      }
    }
  }
  return AddNodes(n, cfg, snap);
}

absl::Status InteractionEnv::AddNodes(int n, const Config& config_template,
                                      const raftpb::Snapshot& snap_in) {
  raftpb::Snapshot snap = snap_in;
  const bool bootstrap = snap.ByteSizeLong() != 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t id = nodes_.size() + 1;
    auto node = std::make_unique<InteractionNode>();
    node->storage = std::make_unique<HistoryStorage>(&node->history);
    if (bootstrap) {
      // MemoryStorage cannot represent a snapshot at index 1 well, and
      // nothing is lost by requiring more.
      if (snap.metadata().index() <= 1) {
        return absl::InvalidArgumentError("index must be specified as > 1 due to bootstrap");
      }
      snap.mutable_metadata()->set_term(1);
      if (absl::Status s = node->storage->ApplySnapshot(snap); !s.ok()) return s;
      absl::StatusOr<uint64_t> fi = node->storage->FirstIndex();
      if (!fi.ok()) return fi.status();
      if (*fi != snap.metadata().index() + 1) {
        return absl::InternalError(absl::StrFormat("failed to establish first index %d; got %d",
                                                   snap.metadata().index() + 1, *fi));
      }
    }
    Config cfg = config_template;
    cfg.id = id;
    cfg.applied = snap.metadata().index();
    if (cfg.election_tick == 0) cfg.election_tick = 3;
    if (cfg.heartbeat_tick == 0) cfg.heartbeat_tick = 1;
    cfg.storage = node->storage.get();
    if (cfg.max_size_per_msg == 0) cfg.max_size_per_msg = kNoLimit;
    if (cfg.max_inflight_msgs == 0) cfg.max_inflight_msgs = std::numeric_limits<int>::max();
    // Elections in transcripts must be reproducible.
    if (cfg.random_seed == 0) cfg.random_seed = id;
    if (options_.on_config) {
      options_.on_config(&cfg);
      if (cfg.id != id) return absl::InvalidArgumentError("OnConfig must not change the ID");
    }
    if (cfg.logger != nullptr) return absl::InvalidArgumentError("OnConfig must not set Logger");
    cfg.logger = &logger_;
    node->config = cfg;
    node->history.push_back(snap);
    absl::StatusOr<std::unique_ptr<RawNode>> rn = RawNode::New(cfg);
    if (!rn.ok()) return rn.status();
    node->raw_node = *std::move(rn);
    nodes_.push_back(std::move(node));
  }
  return absl::OkStatus();
}

// --- simple operations ---

absl::Status InteractionEnv::Campaign(int idx) { return nodes_[idx]->raw_node->Campaign(); }

absl::Status InteractionEnv::Propose(int idx, std::string data) {
  return nodes_[idx]->raw_node->Propose(std::move(data));
}

void InteractionEnv::Tick(int idx, int n) {
  for (int i = 0; i < n; ++i) nodes_[idx]->raw_node->Tick();
}

absl::Status InteractionEnv::Compact(int idx, uint64_t new_first_index) {
  if (absl::Status s = nodes_[idx]->storage->Compact(new_first_index); !s.ok()) return s;
  return RaftLog(idx);
}

absl::Status InteractionEnv::RaftLog(int idx) {
  MemoryStorage& s = *nodes_[idx]->storage;
  absl::StatusOr<uint64_t> fi = s.FirstIndex();
  if (!fi.ok()) return fi.status();
  absl::StatusOr<uint64_t> li = s.LastIndex();
  if (!li.ok()) return li.status();
  if (*li < *fi) {
    // What MemoryStorage reports for a log that holds nothing.
    Write(absl::StrFormat("log is empty: first index=%d, last index=%d", *fi, *li));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<raftpb::Entry>> ents = s.Entries(*fi, *li + 1, kNoLimit);
  if (!ents.ok()) return ents.status();
  Write(DescribeEntries(*ents, FormatEntryData));
  return absl::OkStatus();
}

absl::Status InteractionEnv::PrintStatus(int idx) {
  Status st = nodes_[idx]->raw_node->GetStatus();
  Write(tracker::ProgressMapString(st.progress));
  return absl::OkStatus();
}

void InteractionEnv::PrintRaftState() {
  for (const std::unique_ptr<InteractionNode>& n : nodes_) {
    Status st = n->raw_node->GetStatus();
    const uint64_t id = st.basic.id;
    const bool voter = st.config.voters.IDs().Contains(id);
    Write(absl::StrFormat(
        "%d: %s %s Term:%d Lead:%d\n", id, StateTypeName(st.basic.soft_state.raft_state),
        voter ? "(Voter)" : "(Non-Voter)", st.basic.hard_state.term(), st.basic.soft_state.lead));
  }
}

// --- propose-conf-change ---

absl::Status InteractionEnv::HandleProposeConfChange(const std::vector<datadriven::CmdArg>& args,
                                                     const std::string& input) {
  int idx = NodeIdx(args);
  if (idx < 0) return absl::OkStatus();
  bool v1 = false;
  raftpb::ConfChangeTransition transition = raftpb::ConfChangeTransitionAuto;
  for (size_t a = 1; a < args.size(); ++a) {
    for (size_t i = 0; i < args[a].vals.size(); ++i) {
      const std::string& val = args[a].vals[i];
      if (args[a].key == "v1") {
        if (!args[a].Scan(i, &v1).ok()) {
          return absl::InvalidArgumentError(
              absl::StrFormat("strconv.ParseBool: parsing %s: invalid syntax", GoQuote(val)));
        }
      } else if (args[a].key == "transition") {
        if (val == "auto") {
          transition = raftpb::ConfChangeTransitionAuto;
        } else if (val == "implicit") {
          transition = raftpb::ConfChangeTransitionJointImplicit;
        } else if (val == "explicit") {
          transition = raftpb::ConfChangeTransitionJointExplicit;
        } else {
          return absl::InvalidArgumentError(absl::StrCat("unknown transition ", val));
        }
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown command ", args[a].key));
      }
    }
  }
  absl::StatusOr<std::vector<raftpb::ConfChangeSingle>> ccs = ConfChangesFromString(input);
  if (!ccs.ok()) return ccs.status();
  raftpb::ConfChangeV2 cc;
  cc.set_transition(transition);
  for (raftpb::ConfChangeSingle& c : *ccs) *cc.add_changes() = std::move(c);
  return ProposeConfChange(idx, cc, v1);
}

absl::Status InteractionEnv::ProposeConfChange(int idx, const raftpb::ConfChangeV2& cc, bool v1) {
  if (v1) {
    if (cc.changes_size() != 1 || cc.transition() != raftpb::ConfChangeTransitionAuto) {
      return absl::InvalidArgumentError(
          "v1 conf change can only have one operation and no transition");
    }
    raftpb::ConfChange v1cc;
    v1cc.set_type(cc.changes(0).type());
    v1cc.set_node_id(cc.changes(0).node_id());
    return nodes_[idx]->raw_node->ProposeConfChange(v1cc);
  }
  return nodes_[idx]->raw_node->ProposeConfChange(cc);
}

// --- process-ready ---

absl::Status InteractionEnv::ApplyEntry(int idx, const raftpb::Entry& ent) {
  InteractionNode& node = *nodes_[idx];
  std::string update;
  std::optional<raftpb::ConfState> cs;
  if (ent.type() == raftpb::EntryConfChange) {
    raftpb::ConfChange cc;
    if (!cc.ParseFromString(ent.data())) return absl::DataLossError("bad ConfChange");
    update = cc.context();
    cs = node.raw_node->ApplyConfChange(cc);
  } else if (ent.type() == raftpb::EntryConfChangeV2) {
    raftpb::ConfChangeV2 cc;
    if (!cc.ParseFromString(ent.data())) return absl::DataLossError("bad ConfChangeV2");
    update = cc.context();
    cs = node.raw_node->ApplyConfChange(cc);
  } else {
    update = ent.data();
  }
  // The state machine appends every payload to its state.
  const raftpb::Snapshot& last = node.history.back();
  raftpb::Snapshot snap;
  snap.set_data(last.data() + update);
  snap.mutable_metadata()->set_index(ent.index());
  snap.mutable_metadata()->set_term(ent.term());
  *snap.mutable_metadata()->mutable_conf_state() =
      cs.has_value() ? *cs : last.metadata().conf_state();
  node.history.push_back(std::move(snap));
  return absl::OkStatus();
}

absl::Status InteractionEnv::ProcessReady(int idx) {
  InteractionNode& node = *nodes_[idx];
  Ready rd = node.raw_node->GetReady();
  Write(DescribeReady(rd, FormatEntryData));
  if (node.config.async_storage_writes) {
    // The storage work goes to the node's threads; nothing is advanced.
    for (raftpb::Message& m : rd.messages) {
      if (m.to() == kLocalAppendThread) {
        node.append_work.push_back(std::move(m));
      } else if (m.to() == kLocalApplyThread) {
        node.apply_work.push_back(std::move(m));
      } else {
        messages_.push_back(std::move(m));
      }
    }
    return absl::OkStatus();
  }
  // The order (hard state before entries) is etcd's harness's.
  if (!IsEmptyHardState(rd.hard_state)) {
    if (absl::Status s = node.storage->SetHardState(rd.hard_state); !s.ok()) return s;
  }
  if (absl::Status s = node.storage->Append(rd.entries); !s.ok()) return s;
  if (!IsEmptySnap(rd.snapshot)) {
    if (absl::Status s = node.storage->ApplySnapshot(rd.snapshot); !s.ok()) return s;
  }
  for (const raftpb::Entry& ent : rd.committed_entries) {
    if (absl::Status s = ApplyEntry(idx, ent); !s.ok()) return s;
  }
  for (const raftpb::Message& m : rd.messages) messages_.push_back(m);
  node.raw_node->Advance(rd);
  return absl::OkStatus();
}

absl::Status InteractionEnv::ProcessAppendThread(int idx) {
  InteractionNode& node = *nodes_[idx];
  if (node.append_work.empty()) {
    Write("no append work to perform");
    return absl::OkStatus();
  }
  raftpb::Message m = std::move(node.append_work.front());
  node.append_work.erase(node.append_work.begin());
  std::vector<raftpb::Message> resps(m.responses().begin(), m.responses().end());
  m.clear_responses();
  Write(absl::StrCat("Processing:\n", DescribeMessage(m, FormatEntryData), "\n"));
  raftpb::HardState st;
  st.set_term(m.term());
  st.set_vote(m.vote());
  st.set_commit(m.commit());
  if (!IsEmptyHardState(st)) {
    if (absl::Status s = node.storage->SetHardState(st); !s.ok()) return s;
  }
  if (!IsEmptySnap(m.snapshot())) {
    if (m.entries_size() > 0) {
      return absl::InvalidArgumentError("can't apply snapshot and entries at the same time");
    }
    if (absl::Status s = node.storage->ApplySnapshot(m.snapshot()); !s.ok()) return s;
  } else {
    std::vector<raftpb::Entry> ents(m.entries().begin(), m.entries().end());
    if (absl::Status s = node.storage->Append(ents); !s.ok()) return s;
  }
  Write("Responses:\n");
  for (raftpb::Message& r : resps) {
    Write(absl::StrCat(DescribeMessage(r, FormatEntryData), "\n"));
    messages_.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::Status InteractionEnv::ProcessApplyThread(int idx) {
  InteractionNode& node = *nodes_[idx];
  if (node.apply_work.empty()) {
    Write("no apply work to perform");
    return absl::OkStatus();
  }
  raftpb::Message m = std::move(node.apply_work.front());
  node.apply_work.erase(node.apply_work.begin());
  std::vector<raftpb::Message> resps(m.responses().begin(), m.responses().end());
  m.clear_responses();
  Write(absl::StrCat("Processing:\n", DescribeMessage(m, FormatEntryData), "\n"));
  for (const raftpb::Entry& ent : m.entries()) {
    if (absl::Status s = ApplyEntry(idx, ent); !s.ok()) return s;
  }
  Write("Responses:\n");
  for (raftpb::Message& r : resps) {
    Write(absl::StrCat(DescribeMessage(r, FormatEntryData), "\n"));
    messages_.push_back(std::move(r));
  }
  return absl::OkStatus();
}

// --- deliver-msgs and stabilize ---

absl::Status InteractionEnv::HandleDeliverMsgs(const std::vector<datadriven::CmdArg>& args) {
  std::vector<Recipient> rs;
  int type = -1;
  for (const datadriven::CmdArg& arg : args) {
    if (arg.vals.empty()) {
      uint64_t id = 0;
      if (!absl::SimpleAtoi(arg.key, &id)) {
        ADD_FAILURE() << "deliver-msgs: bad ID " << arg.key;
        return absl::OkStatus();
      }
      rs.push_back({id, false});
    }
    for (size_t i = 0; i < arg.vals.size(); ++i) {
      if (arg.key == "drop") {
        uint64_t id = 0;
        if (!arg.Scan(i, &id).ok()) {
          ADD_FAILURE() << "deliver-msgs: bad ID " << arg.vals[i];
          return absl::OkStatus();
        }
        for (const Recipient& r : rs) {
          if (r.id == id) {
            ADD_FAILURE() << "can't both deliver and drop msgs to " << id;
            return absl::OkStatus();
          }
        }
        rs.push_back({id, true});
      } else if (arg.key == "type") {
        raftpb::MessageType t;
        if (!raftpb::MessageType_Parse(arg.vals[i], &t)) {
          ADD_FAILURE() << "unknown message type " << arg.vals[i];
          return absl::OkStatus();
        }
        type = t;
      }
    }
  }
  if (DeliverMsgs(rs, type) == 0) Write("no messages\n");
  return absl::OkStatus();
}

int InteractionEnv::DeliverMsgs(const std::vector<Recipient>& recipients, int type) {
  int n = 0;
  for (const Recipient& r : recipients) {
    // Take this recipient's messages, keeping the order of the rest.
    std::vector<raftpb::Message> mine, rest;
    for (raftpb::Message& m : messages_) {
      if (m.to() == r.id && (type < 0 || m.type() == type)) {
        mine.push_back(std::move(m));
      } else {
        rest.push_back(std::move(m));
      }
    }
    messages_ = std::move(rest);
    n += static_cast<int>(mine.size());
    for (raftpb::Message& m : mine) {
      if (r.drop) Write("dropped: ");
      Write(DescribeMessage(m, FormatEntryData));
      Write("\n");
      // Messages to nodes that do not exist yet may be dropped.
      if (r.drop) continue;
      if (m.to() == 0 || m.to() > nodes_.size()) {
        Write(absl::StrCat("no node ", m.to(), "\n"));
        continue;
      }
      absl::Status s = nodes_[m.to() - 1]->raw_node->Step(std::move(m));
      // etcd 3.4 printed the error without a newline; 3.6 prints a line.
      if (!s.ok()) Write(absl::StrCat(s.message(), "\n"));
    }
  }
  return n;
}

bool InteractionEnv::HasWork(int idx) const {
  const uint64_t id = static_cast<uint64_t>(idx) + 1;
  return std::any_of(messages_.begin(), messages_.end(),
                     [id](const raftpb::Message& m) { return m.to() == id; });
}

absl::Status InteractionEnv::Stabilize(std::vector<int> idxs) {
  if (idxs.empty()) {
    for (size_t i = 0; i < nodes_.size(); ++i) idxs.push_back(static_cast<int>(i));
  }
  for (;;) {
    bool done = true;
    for (int idx : idxs) {
      if (nodes_[idx]->raw_node->HasReady()) {
        done = false;
        Write(absl::StrCat("> ", idx + 1, " handling Ready\n"));
        WithIndent([&] { (void)ProcessReady(idx); });
      }
    }
    for (int idx : idxs) {
      if (HasWork(idx)) {
        done = false;
        const uint64_t id = static_cast<uint64_t>(idx) + 1;
        Write(absl::StrCat("> ", id, " receiving messages\n"));
        WithIndent([&] { DeliverMsgs({{id, false}}); });
      }
    }
    for (int idx : idxs) {
      InteractionNode& node = *nodes_[idx];
      if (node.append_work.empty()) continue;
      done = false;
      Write(absl::StrCat("> ", idx + 1, " processing append thread\n"));
      while (!node.append_work.empty()) WithIndent([&] { (void)ProcessAppendThread(idx); });
    }
    for (int idx : idxs) {
      InteractionNode& node = *nodes_[idx];
      if (node.apply_work.empty()) continue;
      done = false;
      Write(absl::StrCat("> ", idx + 1, " processing apply thread\n"));
      while (!node.apply_work.empty()) WithIndent([&] { (void)ProcessApplyThread(idx); });
    }
    if (done) return absl::OkStatus();
  }
}

}  // namespace etcd::raft::rafttest
