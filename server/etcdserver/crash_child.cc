// The process crash_test kills: starts an EtcdServer on <dir> and issues
// sequential puts, txns and deletes through it until killed, reporting on
// stdout (each line written with one write(2), so a SIGKILL never loses a
// line that was reported):
//
//   ready <revision>                   the member has a leader
//   try <op> put <key> <value>         about to call Put
//   try <op> del <key>                 about to call DeleteRange
//   try <op> txn <key> <value> <key2>  about to call Txn: put key, delete key2
//   ack <op> <revision>                the call returned OK (acknowledged)
//   snap <count>                       snapshots saved so far went up
//
// Values are unique ("r<round>o<op>"), so the test can tell whether an
// operation that was in flight at the kill was applied.
//
// Usage: crash_child <data-dir> <round> <snapshot-count> <wal-segment-bytes>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/etcdserver/etcdserver.h"

namespace {

void Say(const std::string& line) {
  std::string l = line + "\n";
  const char* p = l.data();
  size_t left = l.size();
  while (left > 0) {
    ssize_t n = ::write(1, p, left);
    if (n <= 0) std::abort();
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using etcd::etcdserver::EtcdServer;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <data-dir> <round> <snapshot-count> <wal-segment-bytes>\n",
                 argv[0]);
    return 2;
  }
  const int round = std::atoi(argv[2]);
  etcd::etcdserver::ServerOptions options;
  options.data_dir = argv[1];
  options.snapshot_count = std::strtoull(argv[3], nullptr, 10);
  options.snapshot_catchup_entries = 2;
  options.wal_segment_size_bytes = std::strtoll(argv[4], nullptr, 10);
  options.max_wals = 3;
  options.max_snapshots = 2;
  options.heartbeat_interval = absl::Milliseconds(10);
  options.backend_batch_interval = absl::Milliseconds(5);
  options.backend_batch_limit = 7;
  absl::StatusOr<std::unique_ptr<EtcdServer>> started = EtcdServer::Start(options);
  if (!started.ok()) Fail("start", started.status());
  std::unique_ptr<EtcdServer> server = *std::move(started);
  if (absl::Status s = server->WaitLeader(absl::Now() + absl::Seconds(30)); !s.ok()) {
    Fail("wait leader", s);
  }
  Say(absl::StrCat("ready ", server->Header().revision()));

  std::mt19937 rng(static_cast<unsigned>(round) * 7919u + 1u);
  auto key = [&] { return absl::StrCat("k", rng() % 40); };
  uint64_t snapshots = 0;
  etcd::etcdserver::RequestContext ctx;
  for (int op = 0;; ++op) {
    const std::string value = absl::StrCat("r", round, "o", op);
    int64_t rev = 0;
    const unsigned kind = rng() % 10;
    if (kind < 6) {
      etcdserverpb::PutRequest r;
      r.set_key(key());
      r.set_value(value);
      Say(absl::StrCat("try ", op, " put ", r.key(), " ", value));
      absl::StatusOr<etcdserverpb::PutResponse> resp = server->Put(r, ctx);
      if (!resp.ok()) Fail("put", resp.status());
      rev = resp->header().revision();
    } else if (kind < 8) {
      etcdserverpb::DeleteRangeRequest r;
      r.set_key(key());
      Say(absl::StrCat("try ", op, " del ", r.key()));
      absl::StatusOr<etcdserverpb::DeleteRangeResponse> resp = server->DeleteRange(r, ctx);
      if (!resp.ok()) Fail("delete", resp.status());
      rev = resp->header().revision();
    } else {
      const std::string k1 = key();
      std::string k2 = key();
      if (k2 == k1) k2 = k1 + "x";
      etcdserverpb::TxnRequest t;
      etcdserverpb::PutRequest* put = t.add_success()->mutable_request_put();
      put->set_key(k1);
      put->set_value(value);
      t.add_success()->mutable_request_delete_range()->set_key(k2);
      Say(absl::StrCat("try ", op, " txn ", k1, " ", value, " ", k2));
      absl::StatusOr<etcdserverpb::TxnResponse> resp = server->Txn(t, ctx);
      if (!resp.ok()) Fail("txn", resp.status());
      rev = resp->header().revision();
    }
    Say(absl::StrCat("ack ", op, " ", rev));
    const uint64_t now = server->Metrics().snapshot_count;
    if (now != snapshots) {
      snapshots = now;
      Say(absl::StrCat("snap ", now));
    }
  }
}
