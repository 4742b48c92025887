#include "mvcc/watch_checker.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mvcc/errors.h"
#include "pkg/status/status_macros.h"
#include "pkg/testutil/poll.h"

namespace etcd::mvcc {

namespace {

const char* const kKeys[] = {"a", "ab", "b", "c", "d", "e"};
constexpr int kKeyCount = 6;

bool InRange(const std::string& k, const WatchSpec& spec) {
  if (spec.end.empty()) return k == spec.key;
  if (spec.end == std::string(1, '\0')) return k >= spec.key;
  return k >= spec.key && k < spec.end;
}

std::string ShowKv(const mvccpb::KeyValue& kv) {
  return absl::StrCat(absl::CEscape(kv.key()), "=", absl::CEscape(kv.value()), " c",
                      kv.create_revision(), " m", kv.mod_revision(), " v", kv.version(), " l",
                      kv.lease());
}

std::string ShowEvent(const mvccpb::Event& ev) {
  std::string out =
      absl::StrCat(ev.type() == mvccpb::Event::PUT ? "PUT " : "DELETE ", ShowKv(ev.kv()));
  if (ev.has_prev_kv()) absl::StrAppend(&out, " prev{", ShowKv(ev.prev_kv()), "}");
  return out;
}

std::string ShowSpec(const WatchSpec& s) {
  return absl::StrCat("[", absl::CEscape(s.key), ", ", absl::CEscape(s.end), ") from ", s.from_rev,
                      s.options.no_put ? " noput" : "", s.options.no_delete ? " nodelete" : "",
                      s.options.prev_kv ? " prev_kv" : "");
}

bool SameKv(const mvccpb::KeyValue& a, const mvccpb::KeyValue& b) {
  return a.key() == b.key() && a.value() == b.value() &&
         a.create_revision() == b.create_revision() && a.mod_revision() == b.mod_revision() &&
         a.version() == b.version() && a.lease() == b.lease();
}

}  // namespace

std::vector<mvccpb::Event> ExpectedEvents(const KvModel& model, const WatchSpec& spec) {
  std::vector<std::tuple<int64_t, int64_t, mvccpb::Event>> found;
  for (const auto& [key, versions] : model.history()) {
    if (!InRange(key, spec)) continue;
    for (const KvModel::Version& v : versions) {
      if (v.main < spec.from_rev) continue;
      mvccpb::Event ev;
      if (v.deleted) {
        if (spec.options.no_delete) continue;
        ev.set_type(mvccpb::Event::DELETE);
        ev.mutable_kv()->set_key(key);
        ev.mutable_kv()->set_mod_revision(v.main);
      } else {
        if (spec.options.no_put) continue;
        ev.set_type(mvccpb::Event::PUT);
        *ev.mutable_kv() = v.kv;
      }
      if (spec.options.prev_kv) {
        if (const mvccpb::KeyValue* prev = model.Get(key, v.main - 1))
          *ev.mutable_prev_kv() = *prev;
      }
      found.emplace_back(v.main, v.sub, std::move(ev));
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  std::vector<mvccpb::Event> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(std::get<2>(f)));
  return out;
}

absl::Status CheckWatchResponses(const KvModel& model, const WatchSpec& spec,
                                 const std::vector<WatchResponse>& responses,
                                 const std::set<int64_t>& compactions, bool complete) {
  const std::vector<mvccpb::Event> want = ExpectedEvents(model, spec);
  const int64_t final_compact = compactions.empty() ? 0 : *compactions.rbegin();
  auto fail = [&](const std::string& what) {
    return absl::InternalError(absl::StrCat("watcher ", ShowSpec(spec), ": ", what));
  };
  auto same = [&](const mvccpb::Event& got, const mvccpb::Event& exp) {
    if (got.type() != exp.type() || !SameKv(got.kv(), exp.kv())) return false;
    if (!exp.has_prev_kv()) return !got.has_prev_kv();
    if (!got.has_prev_kv()) return exp.kv().mod_revision() - 1 < final_compact;
    return SameKv(got.prev_kv(), exp.prev_kv());
  };
  auto tolerated = [&](size_t pos, int64_t rev) {
    return compactions.count(want[pos].kv().mod_revision()) != 0 &&
           want[pos].kv().mod_revision() <= rev;
  };

  size_t pos = 0;
  int64_t last_rev = 0;
  bool compacted = false;
  for (size_t i = 0; i < responses.size(); ++i) {
    const WatchResponse& r = responses[i];
    const std::vector<mvccpb::Event>& events = r.Events();
    if (compacted) return fail(absl::StrCat("response ", i, " after the compaction notice"));
    if (r.compact_revision != 0) {
      if (!events.empty()) return fail("a compaction notice with events");
      if (compactions.count(r.compact_revision) == 0) {
        return fail(absl::StrCat("compaction notice at ", r.compact_revision,
                                 ", which was never compacted at"));
      }
      if (last_rev >= r.compact_revision) {
        return fail(absl::StrCat("compaction notice at ", r.compact_revision,
                                 " after events up to ", last_rev));
      }
      compacted = true;
      continue;
    }
    if (events.empty()) {
      if (r.revision < last_rev) return fail("a progress notification going back");
      continue;
    }
    if (events.front().kv().mod_revision() <= last_rev) {
      return fail(absl::StrCat("response ", i, " starts at revision ",
                               events.front().kv().mod_revision(), " after events up to ", last_rev,
                               " (a revision split, repeated or out of order)"));
    }
    int64_t prev_rev = 0;
    for (const mvccpb::Event& ev : events) {
      const int64_t rev = ev.kv().mod_revision();
      if (rev < prev_rev) return fail("events out of order inside a response");
      prev_rev = rev;
      while (pos < want.size() && !same(ev, want[pos]) && tolerated(pos, rev)) ++pos;
      if (pos >= want.size()) return fail(absl::StrCat("unexpected event ", ShowEvent(ev)));
      if (!same(ev, want[pos])) {
        return fail(absl::StrCat("got ", ShowEvent(ev), ", want ", ShowEvent(want[pos])));
      }
      ++pos;
    }
    last_rev = events.back().kv().mod_revision();
    if (r.revision < last_rev) return fail("response revision below its events'");
  }
  if (complete && !compacted) {
    while (pos < want.size() && tolerated(pos, want[pos].kv().mod_revision())) ++pos;
    if (pos < want.size()) {
      return fail(
          absl::StrCat("missing ", want.size() - pos, " events from ", ShowEvent(want[pos])));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WatchChecker>> WatchChecker::Create(const std::string& dir) {
  std::unique_ptr<WatchChecker> c(new WatchChecker());
  backend::BackendOptions bopts;
  bopts.path = dir + "/db";
  bopts.batch_interval = absl::Milliseconds(5);
  bopts.batch_limit = 7;
  bopts.initial_map_size = 32 << 20;
  ASSIGN_OR_RETURN(c->backend_, backend::Backend::Open(bopts));
  WatchableStoreOptions options;
  options.store.compaction_batch_limit = 2;
  options.store.compaction_sleep_interval = absl::Microseconds(100);
  options.sync_interval = absl::Milliseconds(2);
  options.max_watchers_per_sync = 3;
  options.sync_read_limit = 5;
  options.max_revisions_per_response = 2;
  options.victim_retry_interval = absl::Milliseconds(2);
  ASSIGN_OR_RETURN(c->store_, WatchableStore::Open(c->backend_.get(), options));
  for (size_t capacity : {1, 4, 1000}) {
    WatchStreamOptions so;
    so.queue_capacity = capacity;
    c->streams_.push_back(c->store_->NewWatchStream(so));
  }
  return c;
}

WatchChecker::~WatchChecker() {
  streams_.clear();
  if (store_ != nullptr) store_->Close().IgnoreError();
  store_.reset();
  if (backend_ != nullptr) backend_->Close().IgnoreError();
}

void WatchChecker::Log(std::string line) { trace_.push_back(std::move(line)); }

std::string WatchChecker::Trace() const { return absl::StrJoin(trace_, "\n"); }

void WatchChecker::Drain(size_t stream, size_t max) {
  for (size_t n = 0; n < max; ++n) {
    std::optional<WatchResponse> r = streams_[stream]->Poll();
    if (!r.has_value()) return;
    if (r->watch_id == kProgressAllWatchID) continue;
    for (Tracked& t : watchers_) {
      if (t.stream == stream && t.id == r->watch_id && !t.canceled) {
        t.responses.push_back(std::move(*r));
        break;
      }
    }
  }
}

absl::Status WatchChecker::Step(Choices& c) {
  auto key = [&c]() { return std::string(kKeys[c.Next(kKeyCount)]); };
  const uint32_t op = c.Next(100);
  if (op < 30) {
    const std::string k = key();
    const std::string v = absl::StrCat("v", trace_.size());
    const int64_t lease = c.Next(4) == 0 ? 1 + c.Next(3) : kNoLease;
    Log(absl::StrCat("put ", k, " ", v));
    model_.Put(k, v, lease);
    store_->Put(k, v, lease);
  } else if (op < 40) {
    std::string k = key();
    std::string e = c.Next(2) == 0 ? "" : key();
    if (!e.empty() && e <= k) e = std::string(1, '\0');
    Log(absl::StrCat("delete [", k, ", ", absl::CEscape(e), ")"));
    model_.DeleteRange(k, e);
    store_->DeleteRange(k, e);
  } else if (op < 50) {
    std::unique_ptr<TxnWrite> txn = store_->Write();
    KvModel::Txn mtxn = model_.Begin();
    const uint32_t n = 1 + c.Next(4);
    std::string line = "txn:";
    for (uint32_t i = 0; i < n; ++i) {
      const std::string k = key();
      if (c.Next(3) == 0) {
        absl::StrAppend(&line, " del ", k);
        txn->DeleteRange(k, "");
        mtxn.DeleteRange(k, "");
      } else {
        const std::string v = absl::StrCat("t", trace_.size(), ".", i);
        absl::StrAppend(&line, " put ", k, "=", v);
        txn->Put(k, v, kNoLease);
        mtxn.Put(k, v, kNoLease);
      }
    }
    Log(line);
    txn->End();
    mtxn.End();
  } else if (op < 54) {
    const int64_t lo = std::max<int64_t>(model_.compact_rev(), 0) + 1;
    const int64_t cur = model_.current_rev();
    if (cur < lo) return absl::OkStatus();
    const int64_t rev = lo + c.Next(static_cast<uint32_t>(cur - lo + 1));
    Log(absl::StrCat("compact ", rev));
    RETURN_IF_ERROR(model_.Compact(rev));
    absl::StatusOr<std::shared_ptr<CompactionFuture>> f = store_->Compact(rev);
    if (!f.ok()) return f.status();
    compactions_.insert(rev);
  } else if (op < 70) {
    Tracked t;
    t.stream = c.Next(static_cast<uint32_t>(streams_.size()));
    switch (c.Next(3)) {
      case 0:
        t.spec.key = key();
        break;
      case 1:
        t.spec.key = key();
        t.spec.end = key();
        if (t.spec.end <= t.spec.key) t.spec.end = t.spec.key + "z";
        break;
      default:
        t.spec.key = c.Next(2) == 0 ? "" : key();
        t.spec.end = std::string(1, '\0');
        break;
    }
    const int64_t cur = model_.current_rev();
    int64_t start = 0;
    switch (c.Next(4)) {
      case 0:
        break;
      case 1:
        start = cur + 1 + c.Next(3);
        break;
      default:
        start = 1 + c.Next(static_cast<uint32_t>(cur));
        break;
    }
    t.spec.from_rev = (start == 0 || start > cur) ? std::max(cur + 1, start) : start;
    t.spec.options.no_put = c.Next(6) == 0;
    t.spec.options.no_delete = c.Next(6) == 0;
    t.spec.options.prev_kv = c.Next(2) == 0;
    WatchID id = c.Next(3) == 0 ? 1 + c.Next(8) : kAutoWatchID;
    bool taken = false;
    for (const Tracked& o : watchers_) {
      taken |= o.stream == t.stream && o.id == id && !o.canceled && id != kAutoWatchID;
    }
    Log(absl::StrCat("watch s", t.stream, " id ", id, " ", ShowSpec(t.spec), " start ", start));
    absl::StatusOr<WatchID> got =
        streams_[t.stream]->Watch(id, t.spec.key, t.spec.end, start, t.spec.options);
    if (taken) {
      if (!IsWatcherDuplicateID(got.status())) {
        return absl::InternalError(
            absl::StrCat("duplicate ID accepted: ", got.status().ToString()));
      }
      return absl::OkStatus();
    }
    if (!got.ok()) return got.status();
    t.id = *got;
    watchers_.push_back(std::move(t));
  } else if (op < 76) {
    if (watchers_.empty()) return absl::OkStatus();
    Tracked& t = watchers_[c.Next(static_cast<uint32_t>(watchers_.size()))];
    if (t.canceled) return absl::OkStatus();
    Log(absl::StrCat("cancel s", t.stream, " id ", t.id));
    Drain(t.stream, c.Next(3));
    RETURN_IF_ERROR(streams_[t.stream]->Cancel(t.id));
    t.canceled = true;
    if (!IsWatcherNotExist(streams_[t.stream]->Cancel(t.id))) {
      return absl::InternalError("a second cancel did not fail");
    }
  } else if (op < 92) {
    const size_t s = c.Next(static_cast<uint32_t>(streams_.size()));
    Drain(s, 1 + c.Next(6));
  } else if (op < 97) {
    if (watchers_.empty()) return absl::OkStatus();
    Tracked& t = watchers_[c.Next(static_cast<uint32_t>(watchers_.size()))];
    if (!t.canceled) streams_[t.stream]->RequestProgress(t.id);
  } else {
    streams_[c.Next(static_cast<uint32_t>(streams_.size()))]->RequestProgressAll();
  }
  return absl::OkStatus();
}

absl::Status WatchChecker::Finish() {
  const bool settled = testutil::WaitUntil(
      [&] {
        for (size_t s = 0; s < streams_.size(); ++s) Drain(s, SIZE_MAX);
        const WatchableStore::WatcherCounts counts = store_->Counts();
        if (counts.unsynced != 0 || counts.victims != 0) return false;
        for (const auto& s : streams_) {
          if (s->QueuedResponses() != 0) return false;
        }
        return true;
      },
      absl::Seconds(60), absl::Milliseconds(1));
  if (!settled) {
    const WatchableStore::WatcherCounts counts = store_->Counts();
    return absl::DeadlineExceededError(absl::StrCat("watchers did not catch up: ", counts.unsynced,
                                                    " unsynced, ", counts.victims, " victims"));
  }
  for (const Tracked& t : watchers_) {
    absl::Status status =
        CheckWatchResponses(model_, t.spec, t.responses, compactions_, !t.canceled);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("stream ", t.stream, " id ", t.id, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace etcd::mvcc
