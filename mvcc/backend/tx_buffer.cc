#include "mvcc/backend/tx_buffer.h"

#include <cstring>

namespace etcd::mvcc::backend::internal {

absl::string_view Arena::Copy(absl::string_view bytes) {
  if (bytes.empty()) return absl::string_view();
  used_ += bytes.size();
  if (bytes.size() > kBlockSize / 4) {
    // Large values get a block of their own, leaving the current one in use.
    blocks_.push_back(std::make_unique<char[]>(bytes.size()));
    std::memcpy(blocks_.back().get(), bytes.data(), bytes.size());
    return absl::string_view(blocks_.back().get(), bytes.size());
  }
  if (bytes.size() > left_) {
    blocks_.push_back(std::make_unique<char[]>(kBlockSize));
    next_ = blocks_.back().get();
    left_ = kBlockSize;
  }
  char* out = next_;
  std::memcpy(out, bytes.data(), bytes.size());
  next_ += bytes.size();
  left_ -= bytes.size();
  return absl::string_view(out, bytes.size());
}

void TxBuffer::Put(Bucket bucket, absl::string_view key, absl::string_view value, uint64_t seq) {
  Write(bucket, key, value, /*deleted=*/false, seq);
}

void TxBuffer::Delete(Bucket bucket, absl::string_view key, uint64_t seq) {
  Write(bucket, key, absl::string_view(), /*deleted=*/true, seq);
}

void TxBuffer::Write(Bucket bucket, absl::string_view key, absl::string_view value, bool deleted,
                     uint64_t seq) {
  absl::MutexLock lock(&mu_);
  Map& map = maps_[BucketIndex(bucket)];
  auto it = map.find(key);
  if (it == map.end()) {
    it = map.emplace(arena_.Copy(key), Versions()).first;
  }
  const absl::string_view stored = arena_.Copy(value);
  Versions& versions = it->second;
  if (!versions.empty() && versions.back().seq == seq) {
    // Not yet published: no reader can see the version being replaced.
    versions.back().value = stored;
    versions.back().deleted = deleted;
  } else {
    versions.push_back(Version{seq, stored, deleted});
  }
  dirty_.store(true, std::memory_order_relaxed);
}

void TxBuffer::Publish() {
  if (!dirty_.load(std::memory_order_relaxed)) return;
  dirty_.store(false, std::memory_order_relaxed);
  published_.fetch_add(1, std::memory_order_release);
}

const TxBuffer::Version* TxBuffer::Visible(const Versions& versions, uint64_t seq) {
  for (size_t i = versions.size(); i > 0; --i) {
    if (versions[i - 1].seq <= seq) return &versions[i - 1];
  }
  return nullptr;
}

TxBuffer::Lookup TxBuffer::Get(Bucket bucket, absl::string_view key, uint64_t seq,
                               absl::string_view* value) const {
  absl::ReaderMutexLock lock(&mu_);
  const Map& map = maps_[BucketIndex(bucket)];
  auto it = map.find(key);
  if (it == map.end()) return Lookup::kAbsent;
  const Version* version = Visible(it->second, seq);
  if (version == nullptr) return Lookup::kAbsent;
  if (version->deleted) return Lookup::kDeleted;
  *value = version->value;
  return Lookup::kPresent;
}

void TxBuffer::Range(Bucket bucket, absl::string_view key, absl::string_view end, uint64_t seq,
                     int64_t limit, std::vector<Entry>* out) const {
  absl::ReaderMutexLock lock(&mu_);
  const Map& map = maps_[BucketIndex(bucket)];
  if (end.empty()) {
    auto it = map.find(key);
    if (it == map.end()) return;
    const Version* version = Visible(it->second, seq);
    if (version != nullptr) out->push_back(Entry{it->first, version->value, version->deleted});
    return;
  }
  int64_t present = 0;
  for (auto it = map.lower_bound(key); it != map.end() && it->first < end; ++it) {
    const Version* version = Visible(it->second, seq);
    if (version == nullptr) continue;
    out->push_back(Entry{it->first, version->value, version->deleted});
    if (!version->deleted && limit > 0 && ++present >= limit) return;
  }
}

void TxBuffer::ForEachLatest(Bucket bucket, absl::FunctionRef<void(const Entry&)> visit) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [key, versions] : maps_[BucketIndex(bucket)]) {
    const Version& version = versions.back();
    visit(Entry{key, version.value, version.deleted});
  }
}

size_t TxBuffer::KeyCount(Bucket bucket) const {
  absl::ReaderMutexLock lock(&mu_);
  return maps_[BucketIndex(bucket)].size();
}

bool TxBuffer::empty() const {
  absl::ReaderMutexLock lock(&mu_);
  for (const Map& map : maps_) {
    if (!map.empty()) return false;
  }
  return true;
}

}  // namespace etcd::mvcc::backend::internal
