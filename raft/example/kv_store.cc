#include "raft/example/kv_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace etcd::raftexample {
namespace {

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads `bytes` little-endian bytes from the front of `in`.
bool GetFixed(absl::string_view* in, int bytes, uint64_t* v) {
  if (in->size() < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) {
    *v |= static_cast<uint64_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  }
  in->remove_prefix(bytes);
  return true;
}

// A 4-byte length and that many bytes.
bool GetString(absl::string_view* in, absl::string_view* s) {
  uint64_t n;
  if (!GetFixed(in, 4, &n) || in->size() < n) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeProposal(const Proposal& proposal) {
  std::string out;
  out.reserve(12 + proposal.key.size() + proposal.value.size());
  PutFixed(&out, proposal.request_id, 8);
  PutFixed(&out, proposal.key.size(), 4);
  out.append(proposal.key);
  out.append(proposal.value);
  return out;
}

absl::StatusOr<Proposal> DecodeProposal(absl::string_view data) {
  Proposal p;
  absl::string_view key;
  if (!GetFixed(&data, 8, &p.request_id) || !GetString(&data, &key)) {
    return absl::InvalidArgumentError("raftexample: truncated proposal");
  }
  p.key = std::string(key);
  p.value = std::string(data);
  return p;
}

std::optional<std::string> KvStore::Get(absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

void KvStore::Put(std::string key, std::string value) {
  absl::MutexLock lock(&mu_);
  data_[std::move(key)] = std::move(value);
}

size_t KvStore::Size() const {
  absl::MutexLock lock(&mu_);
  return data_.size();
}

std::string KvStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [key, value] : data_) {
    PutFixed(&out, key.size(), 4);
    out.append(key);
    PutFixed(&out, value.size(), 4);
    out.append(value);
  }
  return out;
}

absl::Status KvStore::Restore(absl::string_view snapshot) {
  std::map<std::string, std::string, std::less<>> restored;
  while (!snapshot.empty()) {
    absl::string_view key, value;
    if (!GetString(&snapshot, &key) || !GetString(&snapshot, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("raftexample: corrupt snapshot data after ", restored.size(), " keys"));
    }
    restored.emplace(std::string(key), std::string(value));
  }
  absl::MutexLock lock(&mu_);
  data_ = std::move(restored);
  return absl::OkStatus();
}

}  // namespace etcd::raftexample
