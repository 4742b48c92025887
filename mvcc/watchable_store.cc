#include "mvcc/watchable_store.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "mvcc/errors.h"
#include "mvcc/kv_codec.h"
#include "mvcc/revision.h"
#include "pkg/log/log.h"

namespace etcd::mvcc {

namespace {

constexpr char kDuplicateID[] = "mvcc: duplicate watch ID provided on the WatchStream";
constexpr char kEmptyRange[] = "mvcc: watcher range is empty";
constexpr char kNotExist[] = "mvcc: watcher does not exist";

bool Filtered(const WatchOptions& options, const mvccpb::Event& ev) {
  return ev.type() == mvccpb::Event::PUT ? options.no_put : options.no_delete;
}

}  // namespace

absl::Status WatcherDuplicateIDError() { return absl::AlreadyExistsError(kDuplicateID); }
absl::Status EmptyWatcherRangeError() { return absl::InvalidArgumentError(kEmptyRange); }
absl::Status WatcherNotExistError() { return absl::NotFoundError(kNotExist); }
bool IsWatcherDuplicateID(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAlreadyExists && s.message() == kDuplicateID;
}
bool IsEmptyWatcherRange(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument && s.message() == kEmptyRange;
}
bool IsWatcherNotExist(const absl::Status& s) {
  return s.code() == absl::StatusCode::kNotFound && s.message() == kNotExist;
}

const std::vector<mvccpb::Event>& WatchResponse::Events() const {
  static const std::vector<mvccpb::Event>* const kNone = new std::vector<mvccpb::Event>();
  return events == nullptr ? *kNone : *events;
}

namespace internal {

enum class WatcherState { kSynced, kUnsynced, kVictim, kCompacted };

// A watcher. Every field is guarded by the store's mu_.
struct Watcher : GroupMember {
  WatcherState state = WatcherState::kUnsynced;
  WatchID id = 0;
  StreamCore* stream = nullptr;
  // The next revision this watcher needs.
  int64_t min_rev = 0;
  WatchOptions options;
  std::string key;
  std::string end;
  // While a victim: the response waiting for room, and the links of the
  // stream's victim list (oldest first).
  WatchResponse parked;
  Watcher* victim_prev = nullptr;
  Watcher* victim_next = nullptr;
};

// A stream's watchers by ID: automatic IDs are small and dense, so they index
// a vector (one memory access per lookup); other IDs go to a hash map.
class WatcherTable {
 public:
  Watcher* Find(WatchID id) const {
    if (IsDense(id) && static_cast<size_t>(id) < dense_.size() && dense_[id] != nullptr) {
      return dense_[id].get();
    }
    if (sparse_.empty()) return nullptr;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : it->second.get();
  }
  void Insert(WatchID id, std::unique_ptr<Watcher> w) {
    if (IsDense(id) && static_cast<size_t>(id) < 2 * dense_.size() + 1024) {
      if (static_cast<size_t>(id) >= dense_.size()) dense_.resize(id + 1);
      dense_[id] = std::move(w);
    } else {
      sparse_[id] = std::move(w);
    }
    ++size_;
  }
  void Erase(WatchID id) {
    if (IsDense(id) && static_cast<size_t>(id) < dense_.size() && dense_[id] != nullptr) {
      dense_[id].reset();
    } else {
      sparse_.erase(id);
    }
    --size_;
  }
  template <typename F>
  void ForEach(F f) const {
    for (const auto& w : dense_) {
      if (w != nullptr) f(w.get());
    }
    for (const auto& [id, w] : sparse_) f(w.get());
  }
  void Clear() {
    dense_.clear();
    sparse_.clear();
    size_ = 0;
  }
  size_t size() const { return size_; }

 private:
  static bool IsDense(WatchID id) { return id >= 0 && id < (WatchID{1} << 26); }

  std::vector<std::unique_ptr<Watcher>> dense_;
  absl::flat_hash_map<WatchID, std::unique_ptr<Watcher>> sparse_;
  size_t size_ = 0;
};

// The shared state of a WatchStream. The queue is guarded by q_mu_, the
// callback by cb_mu_, the watchers and victims by the store's mu_.
class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  StreamCore(WatchableStore* store, size_t capacity)
      : store(store), capacity(std::max<size_t>(capacity, 1)) {}

  std::optional<WatchResponse> Poll() {
    std::optional<WatchResponse> out;
    bool kick = false;
    {
      absl::MutexLock lock(&q_mu);
      if (queue.empty()) return out;
      out.emplace(std::move(queue.front()));
      queue.pop_front();
      kick = ShouldKickLocked();
    }
    if (kick) store->KickVictims();
    return out;
  }

  size_t PollBatch(size_t max, std::vector<WatchResponse>* out) {
    size_t n = 0;
    bool kick = false;
    {
      absl::MutexLock lock(&q_mu);
      while (n < max && !queue.empty()) {
        out->push_back(std::move(queue.front()));
        queue.pop_front();
        ++n;
      }
      kick = ShouldKickLocked();
    }
    if (kick) store->KickVictims();
    return n;
  }

  // Victims wait for this stream once a push failed; retry them when half
  // the queue is free.
  bool ShouldKickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(q_mu) {
    if (!victims_waiting || queue.size() > capacity / 2) return false;
    victims_waiting = false;
    return true;
  }

  void Wake() {
    absl::MutexLock lock(&cb_mu);
    if (callback) callback();
  }

  WatchableStore* const store;
  const size_t capacity;

  mutable absl::Mutex q_mu;
  std::deque<WatchResponse> queue ABSL_GUARDED_BY(q_mu);
  bool q_closed ABSL_GUARDED_BY(q_mu) = false;
  // A push failed since the victims were last retried.
  bool victims_waiting ABSL_GUARDED_BY(q_mu) = false;

  absl::Mutex cb_mu;
  std::function<void()> callback ABSL_GUARDED_BY(cb_mu);

  // Guarded by the store's mu_.
  WatcherTable watchers;
  WatchID next_id = 0;
  bool closed = false;
  Watcher* victims_head = nullptr;
  Watcher* victims_tail = nullptr;
};

namespace {

// Pushes responses into stream queues, keeping the last stream's queue lock
// across consecutive pushes to it (the watchers of one stream are usually
// adjacent in a group).
class Pusher {
 public:
  explicit Pusher(Wakes* wakes) : wakes_(wakes) {}
  ~Pusher() { Release(); }

  // Moves `response` into the queue of `stream` unless it is full (then
  // false, and `response` is untouched). A closed stream swallows it.
  bool Push(StreamCore* stream, WatchResponse& response) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (stream != locked_) {
      Release();
      stream->q_mu.Lock();
      locked_ = stream;
    }
    if (stream->q_closed) return true;
    if (stream->queue.size() >= stream->capacity) {
      stream->victims_waiting = true;
      return false;
    }
    stream->queue.push_back(std::move(response));
    if (stream->queue.size() == 1) wakes_->push_back(stream->shared_from_this());
    return true;
  }

  void Release() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (locked_ == nullptr) return;
    locked_->q_mu.Unlock();
    locked_ = nullptr;
  }

 private:
  Wakes* const wakes_;
  StreamCore* locked_ = nullptr;
};

Watcher* AsWatcher(GroupMember* m) { return static_cast<Watcher*>(m); }

}  // namespace
}  // namespace internal

using internal::AsWatcher;
using internal::Pusher;
using internal::StreamCore;
using internal::Watcher;
using internal::WatcherState;

// ---- Write transactions -------------------------------------------------------

class WatchableStore::TxnWriteWrapper final : public TxnWrite {
 public:
  TxnWriteWrapper(WatchableStore* store, std::unique_ptr<TxnWrite> inner)
      : store_(store), inner_(std::move(inner)) {}
  ~TxnWriteWrapper() override { End(); }

  int64_t FirstRev() override { return inner_->FirstRev(); }
  int64_t Rev() override { return inner_->Rev(); }
  absl::StatusOr<RangeResult> Range(absl::string_view key, absl::string_view end,
                                    const RangeOptions& options) override {
    return inner_->Range(key, end, options);
  }
  DeleteResult DeleteRange(absl::string_view key, absl::string_view end) override {
    return inner_->DeleteRange(key, end);
  }
  int64_t Put(absl::string_view key, absl::string_view value, int64_t lease) override {
    return inner_->Put(key, value, lease);
  }
  const std::vector<mvccpb::KeyValue>& Changes() const override { return inner_->Changes(); }

  void End() override {
    if (ended_) return;
    ended_ = true;
    Wakes wakes;
    const std::vector<mvccpb::KeyValue>& changes = inner_->Changes();
    if (!changes.empty()) {
      const int64_t rev = inner_->Rev() + 1;
      absl::MutexLock lock(&store_->mu_);
      if (!store_->synced_.empty()) {
        std::vector<mvccpb::Event> events(changes.size());
        for (size_t i = 0; i < changes.size(); ++i) {
          mvccpb::Event& ev = events[i];
          if (changes[i].mod_revision() == 0) {  // a deletion: the key only
            ev.set_type(mvccpb::Event::DELETE);
            ev.mutable_kv()->set_key(changes[i].key());
            ev.mutable_kv()->set_mod_revision(rev);
          } else {
            ev.set_type(mvccpb::Event::PUT);
            *ev.mutable_kv() = changes[i];
          }
        }
        auto prev = [this, rev](const mvccpb::KeyValue& kv) -> std::optional<mvccpb::KeyValue> {
          RangeOptions options;
          options.rev = rev - 1;
          absl::StatusOr<RangeResult> r = inner_->Range(kv.key(), "", options);
          if (!r.ok() || r->kvs.empty()) return std::nullopt;
          return std::move(r->kvs[0]);
        };
        store_->NotifyLocked(rev, events, prev, &wakes);
      }
      store_->notified_rev_ = rev;
    }
    inner_->End();
    FireWakes(&wakes);
  }

 private:
  WatchableStore* const store_;
  const std::unique_ptr<TxnWrite> inner_;
  bool ended_ = false;
};

// ---- The store ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<WatchableStore>> WatchableStore::Open(
    backend::Backend* backend, WatchableStoreOptions options) {
  if (options.max_watchers_per_sync <= 0 || options.sync_read_limit <= 0 ||
      options.max_revisions_per_response <= 0) {
    return absl::InvalidArgumentError("mvcc: watchable store limits must be positive");
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(backend, options.store);
  if (!store.ok()) return store.status();
  return std::unique_ptr<WatchableStore>(new WatchableStore(*std::move(store), std::move(options)));
}

WatchableStore::WatchableStore(std::unique_ptr<Store> store, WatchableStoreOptions options)
    : options_(std::move(options)), store_(std::move(store)) {
  {
    absl::MutexLock lock(&mu_);
    notified_rev_ = store_->CurrentRev();
  }
  if (options_.run_sync_loop) sync_thread_ = std::thread([this] { SyncLoop(); });
  victim_thread_ = std::thread([this] { VictimLoop(); });
}

WatchableStore::~WatchableStore() {
  Close().IgnoreError();
  absl::MutexLock lock(&mu_);
  if (open_streams_ != 0) {
    log::Panic("mvcc: a WatchStream outlived its WatchableStore",
               {{"open-streams", static_cast<int64_t>(open_streams_)}});
  }
}

absl::Status WatchableStore::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  {
    absl::MutexLock lock(&kick_mu_);
    stopping_ = true;
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  if (victim_thread_.joinable()) victim_thread_.join();
  return store_->Close();
}

std::unique_ptr<TxnRead> WatchableStore::Read() { return store_->Read(); }
std::unique_ptr<TxnWrite> WatchableStore::Write() {
  return std::make_unique<TxnWriteWrapper>(this, store_->Write());
}
int64_t WatchableStore::FirstRev() { return store_->FirstRev(); }
int64_t WatchableStore::Rev() { return store_->Rev(); }
absl::StatusOr<RangeResult> WatchableStore::Range(absl::string_view key, absl::string_view end,
                                                  const RangeOptions& options) {
  return store_->Range(key, end, options);
}
DeleteResult WatchableStore::DeleteRange(absl::string_view key, absl::string_view end) {
  return Write()->DeleteRange(key, end);
}
int64_t WatchableStore::Put(absl::string_view key, absl::string_view value, int64_t lease) {
  return Write()->Put(key, value, lease);
}
absl::StatusOr<HashResult> WatchableStore::Hash() { return store_->Hash(); }
absl::StatusOr<HashKVResult> WatchableStore::HashByRev(int64_t rev) {
  return store_->HashByRev(rev);
}
absl::StatusOr<std::shared_ptr<CompactionFuture>> WatchableStore::Compact(int64_t rev) {
  return store_->Compact(rev);
}
void WatchableStore::Commit() { store_->Commit(); }

absl::Status WatchableStore::Restore(backend::Backend* backend) {
  absl::Status status;
  {
    // The caller guarantees no write transaction is open (a writer would
    // wait for mu_ while the store waits for it to end).
    absl::MutexLock lock(&mu_);
    status = store_->Restore(backend);
    std::vector<internal::GroupMember*> members;
    synced_.ForEachMember([&](internal::GroupMember* m) { members.push_back(m); });
    for (internal::GroupMember* m : members) {
      Watcher* w = AsWatcher(m);
      synced_.Remove(w);
      w->state = WatcherState::kUnsynced;
      unsynced_.Add(w, w->key, w->end);
    }
    notified_rev_ = store_->CurrentRev();
  }
  KickSync();
  return status;
}

WatchableStore::WatcherCounts WatchableStore::Counts() const {
  absl::MutexLock lock(&mu_);
  return WatcherCounts{synced_.size(), unsynced_.size(), victim_count_};
}

std::unique_ptr<WatchStream> WatchableStore::NewWatchStream(WatchStreamOptions options) {
  auto core = std::make_shared<StreamCore>(this, options.queue_capacity);
  {
    absl::MutexLock lock(&mu_);
    ++open_streams_;
  }
  return std::unique_ptr<WatchStream>(new WatchStream(this, std::move(core)));
}

absl::StatusOr<WatchID> WatchableStore::AddWatcher(StreamCore* stream, WatchID id,
                                                   absl::string_view key, absl::string_view end,
                                                   int64_t start_rev, const WatchOptions& options) {
  const bool from_key = end == absl::string_view("\0", 1);
  if (end.empty() ? key.empty() : (!from_key && key >= end)) return EmptyWatcherRangeError();
  if (start_rev < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mvcc: negative watch start revision ", start_rev));
  }
  bool unsynced = false;
  {
    absl::MutexLock lock(&mu_);
    if (stream->closed) return ClosedError();
    if (id == kAutoWatchID) {
      while (stream->watchers.Find(stream->next_id) != nullptr) ++stream->next_id;
      id = stream->next_id++;
    } else if (stream->watchers.Find(id) != nullptr) {
      return WatcherDuplicateIDError();
    }
    auto owned = std::make_unique<Watcher>();
    Watcher* w = owned.get();
    w->key = std::string(key);
    w->end = std::string(end);
    w->id = id;
    w->options = options;
    w->stream = stream;
    if (start_rev == 0 || start_rev > notified_rev_) {
      w->min_rev = std::max(notified_rev_ + 1, start_rev);
      w->state = WatcherState::kSynced;
      synced_.Add(w, w->key, w->end);
    } else {
      w->min_rev = start_rev;
      w->state = WatcherState::kUnsynced;
      unsynced_.Add(w, w->key, w->end);
      unsynced = true;
    }
    stream->watchers.Insert(id, std::move(owned));
  }
  if (unsynced) KickSync();
  return id;
}

void WatchableStore::RemoveWatcherLocked(Watcher* w) {
  switch (w->state) {
    case WatcherState::kSynced:
      synced_.Remove(w);
      break;
    case WatcherState::kUnsynced:
      unsynced_.Remove(w);
      break;
    case WatcherState::kVictim: {
      StreamCore* s = w->stream;
      (w->victim_prev ? w->victim_prev->victim_next : s->victims_head) = w->victim_next;
      (w->victim_next ? w->victim_next->victim_prev : s->victims_tail) = w->victim_prev;
      w->victim_prev = w->victim_next = nullptr;
      --victim_count_;
      if (s->victims_head == nullptr) victim_streams_.erase(s);
      break;
    }
    case WatcherState::kCompacted:
      break;
  }
}

absl::Status WatchableStore::CancelWatcher(StreamCore* stream, WatchID id) {
  absl::MutexLock lock(&mu_);
  Watcher* w = stream->watchers.Find(id);
  if (w == nullptr) return WatcherNotExistError();
  RemoveWatcherLocked(w);
  stream->watchers.Erase(id);
  absl::MutexLock q_lock(&stream->q_mu);
  auto& q = stream->queue;
  q.erase(
      std::remove_if(q.begin(), q.end(), [id](const WatchResponse& r) { return r.watch_id == id; }),
      q.end());
  return absl::OkStatus();
}

void WatchableStore::Progress(StreamCore* stream, WatchID id, Wakes* wakes) {
  absl::MutexLock lock(&mu_);
  Watcher* w = stream->watchers.Find(id);
  if (w == nullptr || w->state != WatcherState::kSynced) return;
  WatchResponse r;
  r.watch_id = id;
  r.revision = store_->CurrentRev();
  Pusher(wakes).Push(stream, r);
}

bool WatchableStore::ProgressAll(StreamCore* stream, Wakes* wakes) {
  absl::MutexLock lock(&mu_);
  if (stream->closed) return false;
  bool all_synced = true;
  stream->watchers.ForEach([&](Watcher* w) { all_synced &= w->state == WatcherState::kSynced; });
  if (!all_synced) return false;
  WatchResponse r;
  r.watch_id = kProgressAllWatchID;
  r.revision = store_->CurrentRev();
  return Pusher(wakes).Push(stream, r);
}

void WatchableStore::CloseStream(StreamCore* stream) {
  {
    absl::MutexLock lock(&mu_);
    if (stream->closed) return;
    stream->closed = true;
    stream->watchers.ForEach([this](Watcher* w)
                                 ABSL_NO_THREAD_SAFETY_ANALYSIS { RemoveWatcherLocked(w); });
    stream->watchers.Clear();
    --open_streams_;
    absl::MutexLock q_lock(&stream->q_mu);
    stream->q_closed = true;
    stream->queue.clear();
  }
  absl::MutexLock cb_lock(&stream->cb_mu);
  stream->callback = nullptr;
}

void WatchableStore::AddVictimLocked(Watcher* w, WatchResponse response) {
  StreamCore* s = w->stream;
  w->state = WatcherState::kVictim;
  w->parked = std::move(response);
  w->victim_next = nullptr;
  w->victim_prev = s->victims_tail;
  (s->victims_tail ? s->victims_tail->victim_next : s->victims_head) = w;
  s->victims_tail = w;
  ++victim_count_;
  victim_streams_.insert(s);
}

void WatchableStore::NotifyLocked(
    int64_t rev, const std::vector<mvccpb::Event>& events,
    const std::function<std::optional<mvccpb::KeyValue>(const mvccpb::KeyValue&)>& prev,
    Wakes* wakes) {
  using EventsPtr = std::shared_ptr<const std::vector<mvccpb::Event>>;
  // Which events each watcher gets (indices), after filters.
  std::vector<std::pair<Watcher*, std::vector<uint32_t>>> matches;
  absl::flat_hash_map<Watcher*, size_t> slot;
  const bool single = events.size() == 1;
  for (uint32_t i = 0; i < events.size(); ++i) {
    const mvccpb::Event& ev = events[i];
    synced_.ForEachMatch(ev.kv().key(), [&](internal::GroupMember* m) {
      Watcher* w = AsWatcher(m);
      if (rev < w->min_rev || Filtered(w->options, ev)) return;
      if (single) {
        matches.emplace_back(w, std::vector<uint32_t>());
        return;
      }
      auto [it, inserted] = slot.try_emplace(w, matches.size());
      if (inserted) matches.emplace_back(w, std::vector<uint32_t>());
      matches[it->second].second.push_back(i);
    });
  }
  if (matches.empty()) return;

  // Shared event lists: one per distinct (indices, prev_kv) choice.
  std::vector<std::optional<mvccpb::KeyValue>> prevs;
  bool have_prevs = false;
  auto build = [&](const std::vector<uint32_t>* idx, bool with_prev) -> EventsPtr {
    auto out = std::make_shared<std::vector<mvccpb::Event>>();
    if (with_prev && !have_prevs) {
      prevs.resize(events.size());
      for (size_t i = 0; i < events.size(); ++i) prevs[i] = prev(events[i].kv());
      have_prevs = true;
    }
    auto add = [&](uint32_t i) {
      mvccpb::Event& ev = out->emplace_back(events[i]);
      if (with_prev && prevs[i].has_value()) *ev.mutable_prev_kv() = *prevs[i];
    };
    if (idx == nullptr) {
      add(0);
    } else {
      for (uint32_t i : *idx) add(i);
    }
    return out;
  };
  EventsPtr single_lists[2];
  absl::flat_hash_map<std::string, EventsPtr> lists;

  std::vector<std::pair<Watcher*, WatchResponse>> failed;
  {
    Pusher pusher(wakes);
    for (auto& [w, idx] : matches) {
      const bool with_prev = w->options.prev_kv;
      EventsPtr list;
      if (single) {
        if (single_lists[with_prev] == nullptr) single_lists[with_prev] = build(nullptr, with_prev);
        list = single_lists[with_prev];
      } else {
        std::string key(reinterpret_cast<const char*>(idx.data()), idx.size() * sizeof(uint32_t));
        key.push_back(with_prev ? 'p' : '-');
        EventsPtr& cached = lists[key];
        if (cached == nullptr) cached = build(&idx, with_prev);
        list = cached;
      }
      WatchResponse r;
      r.watch_id = w->id;
      r.events = std::move(list);
      r.revision = rev;
      if (!pusher.Push(w->stream, r)) failed.emplace_back(w, std::move(r));
      w->min_rev = rev + 1;
    }
  }
  for (auto& [w, r] : failed) {
    synced_.Remove(w);
    AddVictimLocked(w, std::move(r));
  }
}

size_t WatchableStore::MoveVictimsLocked(Wakes* wakes) {
  size_t moved = 0;
  bool to_unsynced = false;
  Pusher pusher(wakes);
  for (auto it = victim_streams_.begin(); it != victim_streams_.end();) {
    StreamCore* s = *it;
    while (Watcher* w = s->victims_head) {
      if (!pusher.Push(s, w->parked)) break;
      s->victims_head = w->victim_next;
      (s->victims_head ? s->victims_head->victim_prev : s->victims_tail) = nullptr;
      w->victim_next = w->victim_prev = nullptr;
      w->parked = WatchResponse();
      --victim_count_;
      ++moved;
      if (w->min_rev > notified_rev_) {
        w->state = WatcherState::kSynced;
        synced_.Add(w, w->key, w->end);
      } else {
        w->state = WatcherState::kUnsynced;
        unsynced_.Add(w, w->key, w->end);
        to_unsynced = true;
      }
    }
    if (s->victims_head == nullptr) {
      victim_streams_.erase(it++);
    } else {
      ++it;
    }
  }
  if (to_unsynced) KickSync();
  return moved;
}

bool WatchableStore::SyncWatchersLocked(Wakes* wakes) {
  if (unsynced_.empty()) return false;
  // The published revision first: the snapshot taken after it holds every
  // change up to `cur`, and every compaction that could have removed one is
  // reflected in the compacted revision read after the snapshot. (Restore
  // holds mu_, so the backend cannot change under the round.)
  const int64_t cur = store_->CurrentRev();
  std::unique_ptr<backend::ReadTx> tx = store_->backend()->ConcurrentReadTx();
  const int64_t compact = store_->CompactRev();
  // The value of `key` before `rev`, if still retained.
  auto prev_of = [&](absl::string_view key, int64_t rev) -> std::optional<mvccpb::KeyValue> {
    KeyIndexEntry entry;
    if (!store_->index().Get(key, rev - 1, &entry)) return std::nullopt;
    std::optional<absl::string_view> value =
        tx->UnsafeGet(backend::Bucket::kKey, RevToBytes(entry.modified));
    mvccpb::KeyValue kv;
    if (!value.has_value() || !DecodeKeyValue(*value, &kv)) return std::nullopt;
    if (rev - 1 < store_->CompactRev()) return std::nullopt;  // the index moved on
    return kv;
  };

  bool progress = false;
  internal::WatcherGroup chosen;
  std::vector<Watcher*> picked;
  int64_t min_rev = std::numeric_limits<int64_t>::max();
  Pusher pusher(wakes);
  {
    const std::vector<internal::GroupMember*>& all = unsynced_.members();
    const size_t n = all.size();
    const size_t take = std::min(n, static_cast<size_t>(options_.max_watchers_per_sync));
    const size_t start = sync_cursor_ % n;
    std::vector<Watcher*> candidates;
    candidates.reserve(take);
    for (size_t k = 0; k < take; ++k) candidates.push_back(AsWatcher(all[(start + k) % n]));
    sync_cursor_ = start + take;
    for (Watcher* w : candidates) {
      if (w->min_rev < compact) {
        WatchResponse r;
        r.watch_id = w->id;
        r.revision = cur;
        r.compact_revision = compact;
        if (pusher.Push(w->stream, r)) {  // else: retried next round
          unsynced_.Remove(w);
          w->state = WatcherState::kCompacted;
          progress = true;
        }
        continue;
      }
      unsynced_.Remove(w);
      chosen.Add(w, w->key, w->end);
      picked.push_back(w);
      min_rev = std::min(min_rev, w->min_rev);
    }
  }
  pusher.Release();
  if (picked.empty()) return progress;

  // The changes from min_rev up to cur, at most sync_read_limit of them but
  // always whole revisions.
  int64_t upto = cur;
  std::vector<backend::KeyValueView> kvs;
  if (min_rev <= cur) {
    const size_t limit = static_cast<size_t>(options_.sync_read_limit);
    kvs = tx->UnsafeRange(backend::Bucket::kKey, RevToBytes(Revision{min_rev, 0}),
                          RevToBytes(Revision{cur + 1, 0}), static_cast<int64_t>(limit));
    if (kvs.size() >= limit) {
      const Revision last = BytesToRev(kvs.back().key);
      std::vector<backend::KeyValueView> rest =
          tx->UnsafeRange(backend::Bucket::kKey, RevToBytes(Revision{last.main, last.sub + 1}),
                          RevToBytes(Revision{last.main + 1, 0}), 0);
      kvs.insert(kvs.end(), rest.begin(), rest.end());
      upto = last.main;
    }
  }

  struct Batch {
    std::vector<mvccpb::Event> events;
    int64_t revs = 0;
    int64_t last_rev = 0;
    int64_t more_rev = 0;  // the first revision left out
  };
  absl::flat_hash_map<Watcher*, Batch> batches;
  for (const backend::KeyValueView& kv : kvs) {
    absl::StatusOr<RevisionKey> rk = ParseRevisionKey(kv.key);
    mvccpb::Event ev;
    if (!rk.ok() || !DecodeKeyValue(kv.value, ev.mutable_kv())) {
      log::Panic("mvcc: corrupt record in the key bucket while syncing watchers");
    }
    const int64_t rev = rk->rev.main;
    if (rk->tombstone) {
      ev.set_type(mvccpb::Event::DELETE);
      ev.mutable_kv()->set_mod_revision(rev);
    } else {
      ev.set_type(mvccpb::Event::PUT);
    }
    std::optional<mvccpb::KeyValue> prev;
    bool have_prev = false;
    chosen.ForEachMatch(ev.kv().key(), [&](internal::GroupMember* m) {
      Watcher* w = AsWatcher(m);
      if (rev < w->min_rev) return;
      Batch& b = batches[w];
      if (b.more_rev != 0) return;
      if (rev != b.last_rev) {
        if (b.revs == options_.max_revisions_per_response) {
          b.more_rev = rev;
          return;
        }
        ++b.revs;
        b.last_rev = rev;
      }
      if (Filtered(w->options, ev)) return;
      mvccpb::Event& out = b.events.emplace_back(ev);
      if (w->options.prev_kv) {
        if (!have_prev) {
          prev = prev_of(ev.kv().key(), rev);
          have_prev = true;
        }
        if (prev.has_value()) *out.mutable_prev_kv() = *prev;
      }
    });
  }

  for (Watcher* w : picked) {
    chosen.Remove(w);
    auto it = batches.find(w);
    Batch* b = it == batches.end() ? nullptr : &it->second;
    const int64_t next =
        std::max(w->min_rev, (b != nullptr && b->more_rev != 0) ? b->more_rev : upto + 1);
    if (next != w->min_rev) progress = true;
    w->min_rev = next;
    if (b != nullptr && !b->events.empty()) {
      WatchResponse r;
      r.watch_id = w->id;
      r.events = std::make_shared<const std::vector<mvccpb::Event>>(std::move(b->events));
      r.revision = cur;
      progress = true;
      if (!pusher.Push(w->stream, r)) {
        AddVictimLocked(w, std::move(r));
        continue;
      }
    }
    if (next > notified_rev_) {
      w->state = WatcherState::kSynced;
      synced_.Add(w, w->key, w->end);
      progress = true;
    } else {
      w->state = WatcherState::kUnsynced;
      unsynced_.Add(w, w->key, w->end);
      // Only a revision notified but not yet published holds it back:
      // retry soon.
      if (next > cur) progress = true;
    }
  }
  return progress;
}

void WatchableStore::SyncLoop() {
  absl::Duration wait = options_.sync_interval;
  while (true) {
    {
      absl::MutexLock lock(&kick_mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(kick_mu_) {
        return stopping_ || sync_kicked_;
      };
      kick_mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
      if (stopping_) return;
      sync_kicked_ = false;
    }
    const absl::Time start = absl::Now();
    Wakes wakes;
    bool progress;
    bool remaining;
    {
      absl::MutexLock lock(&mu_);
      progress = SyncWatchersLocked(&wakes);
      remaining = !unsynced_.empty();
    }
    FireWakes(&wakes);
    // More to do: yield as long as the round took, then go on.
    wait = (remaining && progress) ? std::max(absl::Now() - start, absl::Microseconds(100))
                                   : options_.sync_interval;
  }
}

void WatchableStore::VictimLoop() {
  while (true) {
    {
      absl::MutexLock lock(&kick_mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(kick_mu_) {
        return stopping_ || victims_kicked_;
      };
      kick_mu_.AwaitWithTimeout(absl::Condition(&woken), options_.victim_retry_interval);
      if (stopping_) return;
      victims_kicked_ = false;
    }
    Wakes wakes;
    {
      absl::MutexLock lock(&mu_);
      if (victim_count_ != 0) MoveVictimsLocked(&wakes);
    }
    FireWakes(&wakes);
  }
}

void WatchableStore::KickSync() {
  absl::MutexLock lock(&kick_mu_);
  sync_kicked_ = true;
}

void WatchableStore::KickVictims() {
  absl::MutexLock lock(&kick_mu_);
  victims_kicked_ = true;
}

void WatchableStore::FireWakes(Wakes* wakes) {
  for (const std::shared_ptr<StreamCore>& s : *wakes) s->Wake();
  wakes->clear();
}

// ---- WatchStream ----------------------------------------------------------------

WatchStream::WatchStream(WatchableStore* store, std::shared_ptr<StreamCore> core)
    : store_(store), core_(std::move(core)) {}

WatchStream::~WatchStream() { Close(); }

absl::StatusOr<WatchID> WatchStream::Watch(WatchID id, absl::string_view key, absl::string_view end,
                                           int64_t start_rev, const WatchOptions& options) {
  return store_->AddWatcher(core_.get(), id, key, end, start_rev, options);
}

absl::Status WatchStream::Cancel(WatchID id) { return store_->CancelWatcher(core_.get(), id); }

void WatchStream::RequestProgress(WatchID id) {
  internal::Wakes wakes;
  store_->Progress(core_.get(), id, &wakes);
  WatchableStore::FireWakes(&wakes);
}

bool WatchStream::RequestProgressAll() {
  internal::Wakes wakes;
  const bool sent = store_->ProgressAll(core_.get(), &wakes);
  WatchableStore::FireWakes(&wakes);
  return sent;
}

std::optional<WatchResponse> WatchStream::Poll() { return core_->Poll(); }

size_t WatchStream::PollBatch(size_t max, std::vector<WatchResponse>* out) {
  return core_->PollBatch(max, out);
}

bool WatchStream::WaitForResponse(absl::Duration timeout) {
  absl::MutexLock lock(&core_->q_mu);
  StreamCore* core = core_.get();
  auto ready = [core]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core->q_mu) {
    return !core->queue.empty() || core->q_closed;
  };
  core->q_mu.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return !core->queue.empty();
}

size_t WatchStream::QueuedResponses() const {
  absl::MutexLock lock(&core_->q_mu);
  return core_->queue.size();
}

void WatchStream::SetNotifyCallback(std::function<void()> callback) {
  absl::MutexLock lock(&core_->cb_mu);
  core_->callback = std::move(callback);
}

int64_t WatchStream::Rev() const { return store_->store()->CurrentRev(); }

void WatchStream::Close() { store_->CloseStream(core_.get()); }

}  // namespace etcd::mvcc
