#include "mvcc/model_checker.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mvcc/errors.h"
#include "mvcc/kv_codec.h"
#include "mvcc/revision.h"
#include "pkg/crc/crc.h"
#include "pkg/status/status_macros.h"

namespace etcd::mvcc {
namespace {

const std::string kUnbounded(1, '\0');

absl::Status Mismatch(const std::string& what, const std::string& diff) {
  return absl::InternalError(absl::StrCat(what, ": ", diff));
}

std::string Esc(absl::string_view s) { return absl::CEscape(s); }

}  // namespace

int64_t FakeLessor::GetLease(absl::string_view key) {
  auto it = leases_.find(key);
  return it == leases_.end() ? kNoLease : it->second;
}

absl::Status FakeLessor::Attach(int64_t lease, absl::string_view key) {
  leases_[std::string(key)] = lease;
  return absl::OkStatus();
}

absl::Status FakeLessor::Detach(int64_t lease, absl::string_view key) {
  auto it = leases_.find(key);
  if (it == leases_.end() || it->second != lease) {
    return absl::NotFoundError(
        absl::StrCat("detach of ", key, " from lease ", lease, " which it is not attached to"));
  }
  leases_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ModelChecker>> ModelChecker::Create(Options options) {
  std::unique_ptr<ModelChecker> checker(new ModelChecker(std::move(options)));
  RETURN_IF_ERROR(checker->Open());
  return checker;
}

ModelChecker::~ModelChecker() { Close(); }

absl::Status ModelChecker::Open() {
  backend::BackendOptions bopts;
  bopts.path = options_.dir + "/db";
  bopts.batch_limit = options_.batch_limit;
  bopts.batch_interval = absl::Milliseconds(50);
  bopts.initial_map_size = 1 << 20;  // grows during long runs
  ASSIGN_OR_RETURN(backend_, backend::Backend::Open(bopts));
  StoreOptions sopts;
  sopts.compaction_batch_limit = options_.compaction_batch_limit;
  sopts.compaction_sleep_interval = absl::ZeroDuration();
  sopts.lessor = &lessor_;
  ASSIGN_OR_RETURN(store_, Store::Open(backend_.get(), sopts));
  return absl::OkStatus();
}

void ModelChecker::Close() {
  if (store_ != nullptr) store_->Close().IgnoreError();
  store_.reset();
  if (backend_ != nullptr) backend_->Close().IgnoreError();
  backend_.reset();
}

absl::Status ModelChecker::Restart() {
  Close();
  lessor_ = FakeLessor();
  RETURN_IF_ERROR(Open());
  return CheckLeases();
}

void ModelChecker::Note(std::string op) {
  trace_.push_back(absl::StrCat("#", step_, " ", op));
  if (trace_.size() > 12) trace_.pop_front();
}

std::string ModelChecker::Trace() const {
  return absl::StrCat("last operations:\n  ", absl::StrJoin(trace_, "\n  "));
}

std::string ModelChecker::PickKey(Choices& c) {
  return absl::StrCat("k", c.Next(options_.key_space));
}

std::pair<std::string, std::string> ModelChecker::PickRange(Choices& c) {
  switch (c.Next(5)) {
    case 0:
    case 1:
      return {PickKey(c), ""};
    case 2:
      return {"", kUnbounded};
    case 3:
      return {PickKey(c), kUnbounded};
    default: {
      std::string a = PickKey(c), b = PickKey(c);
      if (b < a) std::swap(a, b);
      return {a, b};
    }
  }
}

int64_t ModelChecker::PickRev(Choices& c) {
  const int64_t cur = model_.current_rev();
  switch (c.Next(6)) {
    case 0:
      return 0;
    case 1:
      return cur;
    case 2:
      return cur + 1 + c.Next(3);  // future
    case 3:
      return std::max<int64_t>(1, model_.compact_rev() - static_cast<int64_t>(c.Next(3)));
    default:
      return 1 + static_cast<int64_t>(c.Next(static_cast<uint32_t>(cur)));
  }
}

RangeOptions ModelChecker::PickRangeOptions(Choices& c) {
  RangeOptions options;
  options.rev = PickRev(c);
  const int64_t limits[] = {0, 0, 1, 2, 5};
  options.limit = limits[c.Next(5)];
  options.count = c.Next(6) == 0;
  return options;
}

absl::Status ModelChecker::CompareRange(const std::string& what, const std::string& key,
                                        const std::string& end, const RangeOptions& options) {
  const std::string diff =
      DiffRangeResults(store_->Range(key, end, options), model_.Range(key, end, options));
  if (!diff.empty()) {
    return Mismatch(absl::StrCat(what, " range [", Esc(key), ", ", Esc(end), ") rev=", options.rev,
                                 " limit=", options.limit, " count=", options.count),
                    diff);
  }
  return absl::OkStatus();
}

absl::Status ModelChecker::DoPut(Choices& c) {
  const std::string key = PickKey(c);
  const std::string value = absl::StrCat("v", step_, std::string(c.Next(40), 'x'));
  const int64_t lease = c.Next(3) == 0 ? 1 + c.Next(3) : kNoLease;
  Note(absl::StrCat("put ", key, " lease=", lease));
  const int64_t got = store_->Put(key, value, lease);
  const int64_t want = model_.Put(key, value, lease);
  if (got != want) return Mismatch("put revision", absl::StrCat(got, " != ", want));
  return absl::OkStatus();
}

absl::Status ModelChecker::DoDelete(Choices& c) {
  auto [key, end] = PickRange(c);
  Note(absl::StrCat("delete [", Esc(key), ", ", Esc(end), ")"));
  const DeleteResult got = store_->DeleteRange(key, end);
  const DeleteResult want = model_.DeleteRange(key, end);
  if (got.deleted != want.deleted || got.rev != want.rev) {
    return Mismatch("delete", absl::StrCat("got (", got.deleted, ", ", got.rev, ") want (",
                                           want.deleted, ", ", want.rev, ")"));
  }
  return absl::OkStatus();
}

absl::Status ModelChecker::DoTxn(Choices& c) {
  const int ops = 1 + c.Next(5);
  std::vector<std::string> notes;
  std::unique_ptr<TxnWrite> txn = store_->Write();
  KvModel::Txn mtxn = model_.Begin();
  if (txn->Rev() != mtxn.Rev()) {
    return Mismatch("txn begin revision", absl::StrCat(txn->Rev(), " != ", mtxn.Rev()));
  }
  absl::Status status;
  for (int i = 0; i < ops && status.ok(); ++i) {
    switch (c.Next(3)) {
      case 0: {
        const std::string key = PickKey(c);
        const std::string value = absl::StrCat("t", step_, "-", i);
        const int64_t lease = c.Next(4) == 0 ? 1 + c.Next(2) : kNoLease;
        notes.push_back(absl::StrCat("put ", key));
        const int64_t got = txn->Put(key, value, lease);
        const int64_t want = mtxn.Put(key, value, lease);
        if (got != want) status = Mismatch("txn put", absl::StrCat(got, " != ", want));
        break;
      }
      case 1: {
        auto [key, end] = PickRange(c);
        notes.push_back(absl::StrCat("delete [", Esc(key), ", ", Esc(end), ")"));
        const DeleteResult got = txn->DeleteRange(key, end);
        const DeleteResult want = mtxn.DeleteRange(key, end);
        if (got.deleted != want.deleted || got.rev != want.rev) {
          status = Mismatch("txn delete", absl::StrCat(got.deleted, "@", got.rev,
                                                       " != ", want.deleted, "@", want.rev));
        }
        break;
      }
      default: {
        auto [key, end] = PickRange(c);
        RangeOptions options = PickRangeOptions(c);
        notes.push_back(absl::StrCat("range [", Esc(key), ", ", Esc(end), ") rev=", options.rev));
        const std::string diff =
            DiffRangeResults(txn->Range(key, end, options), mtxn.Range(key, end, options));
        if (!diff.empty()) status = Mismatch("txn range", diff);
        break;
      }
    }
  }
  Note(absl::StrCat("txn {", absl::StrJoin(notes, "; "), "}"));
  if (status.ok()) {
    const auto& got = txn->Changes();
    const auto& want = mtxn.Changes();
    if (got.size() != want.size()) {
      status = Mismatch("txn changes", absl::StrCat(got.size(), " != ", want.size()));
    }
    for (size_t i = 0; status.ok() && i < got.size(); ++i) {
      if (got[i].SerializeAsString() != want[i].SerializeAsString()) {
        status = Mismatch("txn change", absl::StrCat("#", i, " differs"));
      }
    }
  }
  txn->End();
  mtxn.End();
  return status;
}

absl::Status ModelChecker::DoRange(Choices& c) {
  auto [key, end] = PickRange(c);
  const RangeOptions options = PickRangeOptions(c);
  Note(absl::StrCat("range [", Esc(key), ", ", Esc(end), ") rev=", options.rev));
  // Through a read transaction too: FirstRev and Rev.
  std::unique_ptr<TxnRead> txn = store_->Read();
  if (txn->Rev() != model_.current_rev() || txn->FirstRev() != model_.compact_rev()) {
    return Mismatch("read txn revisions",
                    absl::StrCat(txn->Rev(), "/", txn->FirstRev(), " != ", model_.current_rev(),
                                 "/", model_.compact_rev()));
  }
  const std::string diff =
      DiffRangeResults(txn->Range(key, end, options), model_.Range(key, end, options));
  txn->End();
  if (!diff.empty()) return Mismatch("range", diff);
  return absl::OkStatus();
}

absl::Status ModelChecker::DoCompact(Choices& c) {
  const int64_t rev =
      1 + static_cast<int64_t>(c.Next(static_cast<uint32_t>(model_.current_rev() + 1)));
  const bool wait = c.Next(2) == 0;
  Note(absl::StrCat("compact ", rev, wait ? " (wait)" : ""));
  absl::StatusOr<std::shared_ptr<CompactionFuture>> got = store_->Compact(rev);
  const absl::Status want = model_.Compact(rev);
  if (got.status() != want) {
    return Mismatch("compact", absl::StrCat(got.status().ToString(), " != ", want.ToString()));
  }
  if (got.ok() && wait) RETURN_IF_ERROR((*got)->Wait());
  return absl::OkStatus();
}

std::optional<uint32_t> ModelChecker::ModelHash(int64_t rev) const {
  struct Entry {
    Revision rev;
    std::string key;  // the key bucket's key
    std::string value;
  };
  std::vector<Entry> entries;
  bool keep_empty = true;
  const int64_t compact = model_.compact_rev();
  for (const auto& [key, versions] : model_.history()) {
    // Compaction at `rev` keeps each key's newest version at or below it,
    // unless that is a deletion.
    const KvModel::Version* newest = nullptr;
    for (const KvModel::Version& v : versions) {
      if (v.main <= rev) newest = &v;
    }
    if (newest != nullptr && !newest->deleted) keep_empty = false;
    for (const KvModel::Version& v : versions) {
      if (v.main > rev) break;
      if (v.main <= compact && !(&v == newest && !v.deleted)) continue;
      Entry e;
      e.rev = Revision{v.main, v.sub};
      if (v.deleted) {
        e.key = TombstoneKey(e.rev);
        KeyValueFields f;
        f.key = key;
        EncodeKeyValue(f, &e.value);
      } else {
        e.key = std::string(RevToBytes(e.rev).view());
        e.value = v.kv.SerializeAsString();
      }
      entries.push_back(std::move(e));
    }
  }
  // With nothing kept, etcd hashes whatever old revisions the physical
  // compaction has not removed yet: not determined by the history.
  if (keep_empty && compact >= 1) return std::nullopt;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.rev < b.rev; });
  uint32_t crc = crc::Update(0, "key", 3);
  for (const Entry& e : entries) {
    crc = crc::Update(crc, e.key.data(), e.key.size());
    crc = crc::Update(crc, e.value.data(), e.value.size());
  }
  return crc;
}

absl::Status ModelChecker::DoHash(Choices& c) {
  const int64_t rev = PickRev(c);
  Note(absl::StrCat("hashkv ", rev));
  absl::StatusOr<HashKVResult> got = store_->HashByRev(rev);
  absl::Status want_status;
  if (rev > 0 && rev <= model_.compact_rev()) want_status = CompactedError();
  if (rev > 0 && rev > model_.current_rev()) want_status = FutureRevError();
  if (got.status() != want_status) {
    return Mismatch("hashkv",
                    absl::StrCat(got.status().ToString(), " != ", want_status.ToString()));
  }
  if (!got.ok()) return absl::OkStatus();
  if (got->current_rev != model_.current_rev() || got->compact_rev != model_.compact_rev()) {
    return Mismatch("hashkv revisions", "differ");
  }
  std::optional<uint32_t> want = ModelHash(rev == 0 ? model_.current_rev() : rev);
  if (want.has_value() && *want != got->hash) {
    return Mismatch("hashkv", absl::StrCat("hash ", got->hash, " != model's ", *want));
  }
  return absl::OkStatus();
}

absl::Status ModelChecker::CheckLeases() {
  const std::map<std::string, int64_t> want = model_.Leases();
  if (lessor_.leases() != want) {
    return Mismatch("leases", absl::StrCat("lessor has ", lessor_.leases().size(),
                                           " attachments, model ", want.size()));
  }
  return absl::OkStatus();
}

absl::Status ModelChecker::CheckAll() {
  if (store_->CurrentRev() != model_.current_rev()) {
    return Mismatch("current revision",
                    absl::StrCat(store_->CurrentRev(), " != ", model_.current_rev()));
  }
  if (store_->CompactRev() != model_.compact_rev()) {
    return Mismatch("compact revision",
                    absl::StrCat(store_->CompactRev(), " != ", model_.compact_rev()));
  }
  const int64_t first = std::max<int64_t>(1, model_.compact_rev());
  for (int64_t rev = first; rev <= model_.current_rev(); ++rev) {
    RangeOptions options;
    options.rev = rev;
    RETURN_IF_ERROR(CompareRange("full", "", kUnbounded, options));
  }
  return CheckLeases();
}

absl::Status ModelChecker::Step(Choices& c) {
  ++step_;
  absl::Status status;
  const uint32_t op = c.Next(100);
  if (op < 30) {
    status = DoPut(c);
  } else if (op < 40) {
    status = DoDelete(c);
  } else if (op < 60) {
    status = DoTxn(c);
  } else if (op < 80) {
    status = DoRange(c);
  } else if (op < 88) {
    status = DoCompact(c);
  } else if (op < 95) {
    status = DoHash(c);
  } else if (options_.restarts) {
    Note("restart");
    status = Restart();
  }
  RETURN_IF_ERROR(status);
  // After every step: the current state and one random older revision.
  RETURN_IF_ERROR(CompareRange("current", "", kUnbounded, RangeOptions()));
  RangeOptions older;
  older.rev = std::max<int64_t>(
      std::max<int64_t>(1, model_.compact_rev()),
      1 + static_cast<int64_t>(c.Next(static_cast<uint32_t>(model_.current_rev()))));
  RETURN_IF_ERROR(CompareRange("older", "", kUnbounded, older));
  return CheckLeases();
}

}  // namespace etcd::mvcc
