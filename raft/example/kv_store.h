// The replicated state of raftexample: an in-memory map from keys to values,
// changed only by applying committed raft entries, and the encodings of what
// goes through raft (a Proposal per entry) and into snapshots (the whole map).
//
//   KvStore kv;
//   kv.Put("k", "v");                          // from the apply path only
//   std::optional<std::string> v = kv.Get("k");
//   std::string snap = kv.Snapshot();          // bytes for raftpb::Snapshot::data
//   RETURN_IF_ERROR(other.Restore(snap));      // replaces other's contents
//
// Thread-safe: reads (HTTP threads) and writes (the raft thread) take a mutex.

#ifndef ETCD_RAFT_EXAMPLE_KV_STORE_H_
#define ETCD_RAFT_EXAMPLE_KV_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace etcd::raftexample {

// What a normal raft entry carries: a write, and the ID of the request that
// proposed it (so the proposing node can answer its client once applied).
struct Proposal {
  uint64_t request_id = 0;
  std::string key;
  std::string value;
};

// Little-endian request ID (8 bytes), key length (4 bytes), key, value.
std::string EncodeProposal(const Proposal& proposal);
// InvalidArgument for bytes EncodeProposal cannot have produced.
absl::StatusOr<Proposal> DecodeProposal(absl::string_view data);

class KvStore {
 public:
  KvStore() = default;
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  std::optional<std::string> Get(absl::string_view key) const;
  void Put(std::string key, std::string value);
  size_t Size() const;

  // The whole map: for each key in order, its length (4 bytes LE), the key,
  // the value's length and the value.
  std::string Snapshot() const;
  // Replaces the map with a Snapshot(). On error (InvalidArgument) the map
  // is unchanged.
  absl::Status Restore(absl::string_view snapshot);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string, std::less<>> data_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::raftexample

#endif  // ETCD_RAFT_EXAMPLE_KV_STORE_H_
