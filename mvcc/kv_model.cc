#include "mvcc/kv_model.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "mvcc/errors.h"
#include "mvcc/index.h"

namespace etcd::mvcc {

KvModel::Txn::Txn(KvModel* model) : model_(model), begin_rev_(model->current_rev_) {}

KvModel::Txn::Txn(Txn&& other) noexcept
    : model_(other.model_),
      begin_rev_(other.begin_rev_),
      changes_(std::move(other.changes_)),
      ended_(std::exchange(other.ended_, true)) {}

KvModel::Txn::~Txn() { End(); }

int64_t KvModel::Txn::Put(absl::string_view key, absl::string_view value, int64_t lease) {
  const int64_t rev = begin_rev_ + 1;
  const mvccpb::KeyValue* prev = model_->Get(key, rev);
  Version v;
  v.main = rev;
  v.sub = static_cast<int64_t>(changes_.size());
  v.kv.set_key(std::string(key));
  v.kv.set_value(std::string(value));
  v.kv.set_create_revision(prev != nullptr ? prev->create_revision() : rev);
  v.kv.set_mod_revision(rev);
  v.kv.set_version(prev != nullptr ? prev->version() + 1 : 1);
  v.kv.set_lease(lease);
  changes_.push_back(v.kv);
  model_->history_[std::string(key)].push_back(std::move(v));
  return rev;
}

DeleteResult KvModel::Txn::DeleteRange(absl::string_view key, absl::string_view end) {
  const int64_t rrev = changes_.empty() ? begin_rev_ : begin_rev_ + 1;
  std::vector<std::string> keys;
  const bool unbounded = IsUnboundedEnd(end);
  for (const auto& [k, versions] : model_->history_) {
    const bool in = end.empty() ? k == key : (k >= key && (unbounded || k < end));
    if (in && model_->Get(k, rrev) != nullptr) keys.push_back(k);
  }
  for (const std::string& k : keys) {
    Version v;
    v.main = begin_rev_ + 1;
    v.sub = static_cast<int64_t>(changes_.size());
    v.deleted = true;
    mvccpb::KeyValue change;
    change.set_key(k);
    changes_.push_back(change);
    model_->history_[k].push_back(std::move(v));
  }
  const int64_t n = static_cast<int64_t>(keys.size());
  if (n != 0 || !changes_.empty()) return DeleteResult{n, begin_rev_ + 1};
  return DeleteResult{0, begin_rev_};
}

absl::StatusOr<RangeResult> KvModel::Txn::Range(absl::string_view key, absl::string_view end,
                                                const RangeOptions& options) const {
  return model_->RangeAt(key, end, options, changes_.empty() ? begin_rev_ : begin_rev_ + 1);
}

void KvModel::Txn::End() {
  if (ended_) return;
  ended_ = true;
  if (!changes_.empty()) ++model_->current_rev_;
}

int64_t KvModel::Put(absl::string_view key, absl::string_view value, int64_t lease) {
  return Begin().Put(key, value, lease);
}

DeleteResult KvModel::DeleteRange(absl::string_view key, absl::string_view end) {
  return Begin().DeleteRange(key, end);
}

absl::StatusOr<RangeResult> KvModel::Range(absl::string_view key, absl::string_view end,
                                           const RangeOptions& options) const {
  return RangeAt(key, end, options, current_rev_);
}

absl::StatusOr<RangeResult> KvModel::RangeAt(absl::string_view key, absl::string_view end,
                                             const RangeOptions& options, int64_t cur_rev) const {
  int64_t rev = options.rev;
  if (rev > cur_rev) return FutureRevError();
  if (rev <= 0) rev = cur_rev;
  if (rev < compact_rev_) return CompactedError();
  RangeResult result;
  result.rev = cur_rev;
  const bool unbounded = IsUnboundedEnd(end);
  for (const auto& [k, versions] : history_) {
    const bool in = end.empty() ? k == key : (k >= key && (unbounded || k < end));
    if (!in) continue;
    const mvccpb::KeyValue* kv = Get(k, rev);
    if (kv == nullptr) continue;
    ++result.count;
    if (options.count) continue;
    if (options.limit > 0 && static_cast<int64_t>(result.kvs.size()) >= options.limit) continue;
    result.kvs.push_back(*kv);
  }
  return result;
}

absl::Status KvModel::Compact(int64_t rev) {
  if (rev <= compact_rev_) return CompactedError();
  if (rev > current_rev_) return FutureRevError();
  compact_rev_ = rev;
  return absl::OkStatus();
}

const mvccpb::KeyValue* KvModel::Get(absl::string_view key, int64_t rev) const {
  auto it = history_.find(key);
  if (it == history_.end()) return nullptr;
  const Version* found = nullptr;
  for (const Version& v : it->second) {
    if (v.main > rev) break;
    found = &v;
  }
  if (found == nullptr || found->deleted) return nullptr;
  return &found->kv;
}

std::map<std::string, int64_t> KvModel::Leases() const {
  std::map<std::string, int64_t> out;
  for (const auto& [k, versions] : history_) {
    const mvccpb::KeyValue* kv = Get(k, current_rev_);
    if (kv != nullptr && kv->lease() != kNoLease) out[k] = kv->lease();
  }
  return out;
}

std::vector<std::string> KvModel::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, versions] : history_) keys.push_back(k);
  return keys;
}

namespace {

std::string Show(const mvccpb::KeyValue& kv) {
  return absl::StrCat("{key=\"", absl::CEscape(kv.key()), "\" value=\"",
                      absl::CEscape(kv.value().substr(0, 32)), "\" create=", kv.create_revision(),
                      " mod=", kv.mod_revision(), " ver=", kv.version(), " lease=", kv.lease(),
                      "}");
}

}  // namespace

std::string DiffRangeResults(const absl::StatusOr<RangeResult>& got,
                             const absl::StatusOr<RangeResult>& want) {
  if (got.ok() != want.ok() || (!got.ok() && got.status() != want.status())) {
    return absl::StrCat("status: got ", got.status().ToString(), ", want ",
                        want.status().ToString());
  }
  if (!got.ok()) return "";
  if (got->rev != want->rev) return absl::StrCat("rev: got ", got->rev, ", want ", want->rev);
  if (got->count != want->count) {
    return absl::StrCat("count: got ", got->count, ", want ", want->count);
  }
  if (got->kvs.size() != want->kvs.size()) {
    return absl::StrCat("kvs: got ", got->kvs.size(), ", want ", want->kvs.size());
  }
  for (size_t i = 0; i < got->kvs.size(); ++i) {
    if (got->kvs[i].SerializeAsString() != want->kvs[i].SerializeAsString()) {
      return absl::StrCat("kv #", i, ": got ", Show(got->kvs[i]), ", want ", Show(want->kvs[i]));
    }
  }
  return "";
}

}  // namespace etcd::mvcc
