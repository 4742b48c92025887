// A data-driven harness that drives a set of RawNodes by hand (etcd's
// rafttest.InteractionEnv): nodes are created, made to campaign, propose,
// tick, process their Ready and exchange messages one command at a time,
// and every step prints what happened, so a test is a transcript of inputs
// and expected output (see raft/testdata/*.txt and //pkg/datadriven).
//
//   for (const std::string& path : datadriven::ListTestFiles("raft/testdata")) {
//     rafttest::InteractionEnv env;                 // a fresh env per file
//     datadriven::RunTest(path, [&](const datadriven::TestData& d) {
//       return env.Handle(d);
//     });
//   }
//
// Commands (the first argument is usually a node ID; IDs are 1, 2, ... in
// the order nodes were added):
//
//   add-nodes <n> [voters=(1 2)] [learners=(3)] [index=<i>] [content=<s>]
//             [prevote=true] [checkquorum=true] [read-only=lease-based]
//             [max-committed-size-per-ready=<n>] [inflight=<n>]
//             [disable-proposal-forwarding=true] [async-storage-writes=true]
//       n new nodes; with voters/learners/index they start from a snapshot
//       at that index (which must be > 1), otherwise empty.
//   campaign <id>                 propose <id> <data>
//   propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit]
//     <changes, e.g. "v1 l2 r3">  (the input; empty leaves a joint config)
//   process-ready <id>...         deliver-msgs <id>... [drop=(<id>...)] [type=MsgApp]
//   stabilize [<id>...]           tick-heartbeat <id>     tick-election <id>
//   set-randomized-election-timeout <id> timeout=<n>
//   transfer-leadership from=<id> to=<id>                 read-index <id> <ctx>
//   report-unreachable <id> <peer>                        report-snapshot <id> <peer> [failure]
//   compact <id> <new-first-index>                        raft-log <id>
//   status <id>                   raft-state              log-level <level>
//   process-append-thread <id>... process-apply-thread <id>... (asynchronous writes)
//
// Any command but propose-conf-change may list further commands, one per
// line, in its input; their output is concatenated.
//
// Output: the Ready and messages in etcd's Describe* formats, plus the raft
// log lines at or above the current log level (DEBUG by default; NONE
// silences everything but errors and prints "ok (quiet)").
//
// Not thread-safe. Test-only.

#ifndef ETCD_RAFT_RAFTTEST_INTERACTION_ENV_H_
#define ETCD_RAFT_RAFTTEST_INTERACTION_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pkg/datadriven/datadriven.h"
#include "raft/logger.h"
#include "raft/raft.h"
#include "raft/raftpb/raft.pb.h"
#include "raft/rawnode.h"
#include "raft/storage.h"

namespace etcd::raft::rafttest {

// A Logger that appends "LEVEL message\n" lines to a string buffer, the way
// etcd's harness prints raft's log into the transcript.
class RedirectLogger : public Logger {
 public:
  // Levels as the harness numbers them: DEBUG, INFO, WARN, ERROR, FATAL,
  // NONE. Panics print as FATAL.
  static constexpr int kNumLevels = 6;
  static constexpr int kNone = 5;

  void Log(Level level, absl::string_view message) override;
  bool Enabled(Level level) const override;

  // The buffer lines are appended to; borrowed, must outlive the logging.
  void set_output(std::string* output) { output_ = output; }
  std::string* output() const { return output_; }
  int level() const { return level_; }
  // Sets the threshold by name (case-insensitive); false if unknown.
  bool SetLevel(absl::string_view name);
  bool quiet() const { return level_ == kNone; }

 private:
  std::string* output_ = nullptr;
  int level_ = 0;
};

// The storage of a harness node: a MemoryStorage whose Snapshot() is the
// latest entry of the node's history, i.e. the state of its "appender"
// state machine after the last applied entry.
class HistoryStorage : public MemoryStorage {
 public:
  explicit HistoryStorage(const std::vector<raftpb::Snapshot>* history) : history_(history) {}
  absl::StatusOr<raftpb::Snapshot> Snapshot() override { return history_->back(); }

 private:
  const std::vector<raftpb::Snapshot>* history_;  // the owning node's
};

// One node of the environment.
struct InteractionNode {
  std::unique_ptr<RawNode> raw_node;
  Config config;
  // Every state of the node's state machine, one per applied entry (plus the
  // initial one). The state machine concatenates entry payloads.
  std::vector<raftpb::Snapshot> history;
  std::unique_ptr<HistoryStorage> storage;  // reads `history`

  // With Config::async_storage_writes: the messages to the local append and
  // apply "threads", in order, worked off by process-append-thread and
  // process-apply-thread.
  std::vector<raftpb::Message> append_work;
  std::vector<raftpb::Message> apply_work;
};

class InteractionEnv {
 public:
  struct Options {
    // Called on each new node's config before the node is created; it must
    // not change the ID or set a logger.
    std::function<void(Config*)> on_config;
  };

  // A message recipient for DeliverMsgs; dropped messages are printed but
  // not stepped.
  struct Recipient {
    uint64_t id = 0;
    bool drop = false;
  };

  InteractionEnv() : InteractionEnv(Options()) {}
  explicit InteractionEnv(Options options);
  InteractionEnv(const InteractionEnv&) = delete;
  InteractionEnv& operator=(const InteractionEnv&) = delete;

  // Runs one test case and returns its output ("ok" when there is none).
  // Malformed commands record a googletest failure.
  std::string Handle(const datadriven::TestData& d);

  // The operations behind the commands, for tests that drive the env in
  // code. Output goes to the current output buffer; `idx` is the node's
  // index (ID - 1). Errors are what the command prints.
  absl::Status AddNodes(int n, const Config& config_template, const raftpb::Snapshot& snap);
  absl::Status Campaign(int idx);
  absl::Status Compact(int idx, uint64_t new_first_index);
  // Returns the number of messages delivered or dropped. `type` < 0 means
  // every type.
  int DeliverMsgs(const std::vector<Recipient>& recipients, int type = -1);
  absl::Status ProcessReady(int idx);
  // Handles the oldest message of node idx's append (apply) thread and
  // queues its responses.
  absl::Status ProcessAppendThread(int idx);
  absl::Status ProcessApplyThread(int idx);
  absl::Status Propose(int idx, std::string data);
  absl::Status ProposeConfChange(int idx, const raftpb::ConfChangeV2& cc, bool v1);
  absl::Status RaftLog(int idx);
  absl::Status Stabilize(std::vector<int> idxs);
  absl::Status PrintStatus(int idx);
  void PrintRaftState();
  void Tick(int idx, int n);

  std::vector<std::unique_ptr<InteractionNode>>& nodes() { return nodes_; }
  std::vector<raftpb::Message>& messages() { return messages_; }
  RedirectLogger& logger() { return logger_; }

 private:
  absl::Status HandleSingle(const std::string& cmd, const std::vector<datadriven::CmdArg>& args,
                            const std::string& input);
  absl::Status HandleAddNodes(const std::vector<datadriven::CmdArg>& args);
  absl::Status HandleDeliverMsgs(const std::vector<datadriven::CmdArg>& args);
  absl::Status HandleProposeConfChange(const std::vector<datadriven::CmdArg>& args,
                                       const std::string& input);

  // Parses args[0] as a node ID and returns its index, or -1 after
  // recording a failure.
  int NodeIdx(const std::vector<datadriven::CmdArg>& args);

  // Applies one committed entry to node idx's state machine.
  absl::Status ApplyEntry(int idx, const raftpb::Entry& entry);

  // Runs `f` with a fresh output buffer, then appends its lines to the
  // current one, indented by two spaces.
  void WithIndent(const std::function<void()>& f);

  void Write(absl::string_view s);

  // Whether node idx has work to do in stabilize.
  bool HasWork(int idx) const;

  Options options_;
  std::vector<std::unique_ptr<InteractionNode>> nodes_;
  // Messages in flight, in the order they were sent.
  std::vector<raftpb::Message> messages_;
  std::string output_;
  RedirectLogger logger_;
  const datadriven::TestData* current_ = nullptr;  // for failure messages
};

}  // namespace etcd::raft::rafttest

#endif  // ETCD_RAFT_RAFTTEST_INTERACTION_ENV_H_
