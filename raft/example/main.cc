// raftexample: a replicated key-value store on //raft, //wal and //snap.
//
//   raftexample --id 1 --cluster
//   http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379 --port 12380
//
// Serves  PUT /<key> (body: value)  GET /<key>  POST /<id> (body: peer URL)
// DELETE /<id>  GET /-/status.  See raft/example/README.md.

#include <signal.h>
#include <time.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "pkg/types/url.h"
#include "raft/example/http.h"
#include "raft/example/kv_store.h"
#include "raft/example/raft_node.h"

ABSL_FLAG(uint64_t, id, 1, "this node's ID: its position (from 1) in --cluster");
ABSL_FLAG(std::string, cluster, "http://127.0.0.1:9021",
          "comma-separated peer URLs of every member, in ID order");
ABSL_FLAG(int, port, 9121, "port of the key-value HTTP API");
ABSL_FLAG(std::string, http_host, "127.0.0.1", "address the HTTP API listens on");
ABSL_FLAG(bool, join, false, "join an existing cluster (after POST /<id> there)");
ABSL_FLAG(std::string, data_dir, "", "data directory (default: raftexample-<id>)");
ABSL_FLAG(uint64_t, snapshot_count, 100, "applied entries between snapshots");
ABSL_FLAG(uint64_t, snapshot_catchup_entries, 10,
          "entries kept below a snapshot for slow followers");
ABSL_FLAG(int, tick_ms, 100, "raft tick interval in milliseconds");

namespace etcd::raftexample {
namespace {

constexpr char kStatusPath[] = "/-/status";

absl::StatusOr<HostPort> ParsePeerUrl(absl::string_view text) {
  absl::StatusOr<types::URL> url = types::ParseURL(text);
  if (!url.ok()) return url.status();
  int port = 0;
  if (url->scheme != "http" || url->host.empty() || !absl::SimpleAtoi(url->port, &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer URL \"", text, "\" is not http://host:port"));
  }
  return HostPort{url->host, port};
}

int HttpStatusOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 204;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

HttpResponse Reply(const absl::Status& s) {
  return {HttpStatusOf(s), s.ok() ? "" : std::string(s.message()) + "\n"};
}

HttpResponse Handle(const HttpRequest& req, KvStore& kv, RaftNode& node) {
  if (req.target == kStatusPath) {
    if (req.method != "GET") return {405, "method not allowed\n"};
    const NodeInfo i = node.Info();
    return {200, absl::StrFormat(
                     "{\"id\":%d,\"leader\":%d,\"term\":%d,\"commit\":%d,\"applied\":%d,"
                     "\"snapshot\":%d,\"keys\":%d}\n",
                     i.id, i.leader, i.term, i.commit, i.applied, i.snapshot_index, kv.Size())};
  }
  const std::string key = req.target.substr(1);
  if (key.empty()) return {400, "missing key\n"};
  if (absl::StartsWith(key, "-/")) return {404, "no such endpoint\n"};
  if (req.method == "GET") {
    std::optional<std::string> value = kv.Get(key);
    if (!value.has_value()) return {404, "key not found\n"};
    return {200, *std::move(value)};
  }
  if (req.method == "PUT") return Reply(node.Put(key, req.body));
  if (req.method == "POST" || req.method == "DELETE") {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(key, &id) || id == 0) return {400, "the path must be a node ID\n"};
    if (req.method == "DELETE") return Reply(node.RemoveNode(id));
    absl::StatusOr<HostPort> peer = ParsePeerUrl(req.body);
    if (!peer.ok()) return {400, std::string(peer.status().message()) + "\n"};
    return Reply(node.AddNode(id, *peer));
  }
  return {405, "method not allowed\n"};
}

int Main() {
  RaftNodeOptions options;
  options.id = absl::GetFlag(FLAGS_id);
  std::vector<std::string> urls = absl::StrSplit(absl::GetFlag(FLAGS_cluster), ',');
  for (size_t i = 0; i < urls.size(); ++i) {
    absl::StatusOr<HostPort> peer = ParsePeerUrl(urls[i]);
    if (!peer.ok()) {
      std::fprintf(stderr, "raftexample: --cluster: %s\n", peer.status().ToString().c_str());
      return 2;
    }
    options.peers[i + 1] = *peer;
  }
  if (options.id == 0 || options.id > urls.size()) {
    std::fprintf(stderr, "raftexample: --id must be between 1 and %zu\n", urls.size());
    return 2;
  }
  const int port = absl::GetFlag(FLAGS_port);
  const int tick_ms = absl::GetFlag(FLAGS_tick_ms);
  if (port <= 0 || port > 65535 || tick_ms <= 0) {
    std::fprintf(stderr, "raftexample: --port and --tick_ms must be positive\n");
    return 2;
  }
  options.join = absl::GetFlag(FLAGS_join);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (options.data_dir.empty()) options.data_dir = absl::StrCat("raftexample-", options.id);
  options.snapshot_count = std::max<uint64_t>(1, absl::GetFlag(FLAGS_snapshot_count));
  options.snapshot_catchup_entries = absl::GetFlag(FLAGS_snapshot_catchup_entries);
  options.tick_interval = absl::Milliseconds(tick_ms);

  // Signals are taken by sigtimedwait below; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  KvStore kv;
  absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(options, &kv);
  if (!node.ok()) {
    std::fprintf(stderr, "raftexample: %s\n", node.status().ToString().c_str());
    return 1;
  }
  HttpServer http([&kv, n = node->get()](const HttpRequest& req) { return Handle(req, kv, *n); });
  const std::string http_host = absl::GetFlag(FLAGS_http_host);
  if (absl::Status s = http.Start(http_host, port); !s.ok()) {
    std::fprintf(stderr, "raftexample: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "raftexample[%llu]: serving the key-value API on %s:%d\n",
               static_cast<unsigned long long>(options.id), http_host.c_str(), port);

  int signal = 0;
  while (!(*node)->WaitDone(absl::ZeroDuration())) {
    const timespec wait = {0, 200 * 1000 * 1000};
    const int s = sigtimedwait(&signals, nullptr, &wait);
    if (s > 0) {
      signal = s;
      break;
    }
  }
  if (signal != 0) std::fprintf(stderr, "raftexample: signal %d, shutting down\n", signal);
  http.Stop();
  (*node)->Stop();
  const absl::Status error = (*node)->error();
  return error.ok() ? 0 : 1;
}

}  // namespace
}  // namespace etcd::raftexample

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "a replicated key-value store on //raft, //wal and //snap (see raft/example/README.md)");
  absl::ParseCommandLine(argc, argv);
  return etcd::raftexample::Main();
}
