#include "mvcc/backend/backend.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "mvcc/backend/tx_buffer.h"
#include "pkg/crc/crc.h"
#include "pkg/fileutil/fileutil.h"
#include "pkg/log/log.h"
#include "pkg/status/status_macros.h"

namespace etcd::mvcc::backend {

namespace internal {

// One committed state plus the writes made on top of it since: an LMDB read
// transaction opened right after a commit (shared by every reader of this
// generation; LMDB read transactions opened with MDB_NOTLS may be used from any
// thread, and once each database handle has been touched a lookup only reads
// the transaction) and the buffer of the batch in progress.
class Generation {
 public:
  Generation(Backend* backend, MDB_txn* txn, const MDB_dbi* dbis, std::shared_ptr<TxBuffer> buffer)
      : backend_(backend), txn_(txn), buffer_(std::move(buffer)) {
    std::copy(dbis, dbis + kNumBuckets, dbis_);
  }
  ~Generation() {
    mdb_txn_abort(txn_);
    backend_->ReleaseReadTxn();
  }
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  MDB_txn* txn() const { return txn_; }
  MDB_dbi dbi(Bucket bucket) const { return dbis_[BucketIndex(bucket)]; }
  TxBuffer& buffer() const { return *buffer_; }
  const std::shared_ptr<TxBuffer>& shared_buffer() const { return buffer_; }

 private:
  Backend* const backend_;
  MDB_txn* const txn_;
  MDB_dbi dbis_[kNumBuckets];
  const std::shared_ptr<TxBuffer> buffer_;
};

}  // namespace internal

namespace {

using internal::Generation;
using internal::TxBuffer;

constexpr int64_t kMapSizeGranularity = int64_t{1} << 20;

absl::string_view DefragTempSuffix() { return ".defrag.tmp"; }

MDB_val ToVal(absl::string_view bytes) {
  MDB_val val;
  val.mv_size = bytes.size();
  val.mv_data = const_cast<char*>(bytes.data());
  return val;
}

absl::string_view FromVal(const MDB_val& val) {
  return absl::string_view(static_cast<const char*>(val.mv_data), val.mv_size);
}

absl::StatusCode LmdbCode(int rc) {
  switch (rc) {
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case ENOMEM:
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
      return absl::StatusCode::kResourceExhausted;
    case EAGAIN:
      return absl::StatusCode::kUnavailable;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_DBI:
      return absl::StatusCode::kDataLoss;
    case MDB_VERSION_MISMATCH:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

// "backend: <op> <path>: <LMDB's text>[ (hint)]".
absl::Status LmdbError(int rc, absl::string_view op, absl::string_view path) {
  std::string message = absl::StrCat("backend: ", op, " ", path, ": ", mdb_strerror(rc));
  if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) {
    absl::StrAppend(&message, " (the database file is corrupt or not an LMDB database)");
  }
  return absl::Status(LmdbCode(rc), message);
}

[[noreturn]] void FatalLmdb(absl::string_view what, int rc, absl::string_view path) {
  log::Fatal(what, {{"path", path}, {"error", std::string(mdb_strerror(rc))}});
}

// The same status with `prefix` before its message, payloads kept.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// etcd's bolt files carry this magic right after the first page header.
bool LooksLikeBolt(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char header[20];
  const ssize_t n = pread(fd, header, sizeof(header), 0);
  close(fd);
  if (n != static_cast<ssize_t>(sizeof(header))) return false;
  const uint32_t magic = header[16] | (header[17] << 8) | (header[18] << 16) |
                         (static_cast<uint32_t>(header[19]) << 24);
  return magic == 0xED0CDAED;
}

int64_t RoundUp(int64_t n, int64_t granularity) {
  return (n + granularity - 1) / granularity * granularity;
}

void CheckKey(absl::string_view key) {
  if (key.empty() || key.size() > Backend::MaxKeySize()) {
    log::Panic("backend: key size out of range [1, 511]", {{"size", key.size()}});
  }
}

std::optional<absl::string_view> ReadGet(const Generation& gen, uint64_t seq, Bucket bucket,
                                         absl::string_view key) {
  absl::string_view value;
  switch (gen.buffer().Get(bucket, key, seq, &value)) {
    case TxBuffer::Lookup::kPresent:
      return value;
    case TxBuffer::Lookup::kDeleted:
      return std::nullopt;
    case TxBuffer::Lookup::kAbsent:
      break;
  }
  if (key.empty() || key.size() > Backend::MaxKeySize()) return std::nullopt;
  MDB_val k = ToVal(key);
  MDB_val v;
  const int rc = mdb_get(gen.txn(), gen.dbi(bucket), &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) FatalLmdb("backend: read failed", rc, BucketName(bucket));
  return FromVal(v);
}

// Merges the buffer's writes over the LMDB snapshot. `end` empty: just `key`;
// `unbounded`: every key from `key` on.
std::vector<KeyValueView> ReadRange(const Generation& gen, uint64_t seq, Bucket bucket,
                                    absl::string_view key, absl::string_view end, bool unbounded,
                                    int64_t limit) {
  std::vector<KeyValueView> out;
  if (end.empty() && !unbounded) {
    std::optional<absl::string_view> value = ReadGet(gen, seq, bucket, key);
    if (value.has_value()) out.push_back(KeyValueView{key, *value});
    return out;
  }
  std::vector<TxBuffer::Entry> buffered;
  if (unbounded) {
    // The buffer has no key above the largest LMDB key.
    static const std::string kPastEveryKey(Backend::MaxKeySize() + 1, '\xff');
    gen.buffer().Range(bucket, key, kPastEveryKey, seq, limit, &buffered);
  } else {
    gen.buffer().Range(bucket, key, end, seq, limit, &buffered);
  }

  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(gen.txn(), gen.dbi(bucket), &cursor);
  if (rc != 0) FatalLmdb("backend: open cursor failed", rc, BucketName(bucket));
  MDB_val k, v;
  if (key.empty()) {
    rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
  } else {
    k = ToVal(key.substr(0, Backend::MaxKeySize()));
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    // Only a key longer than LMDB's limit was cut: skip what sorts before it.
    while (rc == 0 && FromVal(k) < key) rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  size_t next_buffered = 0;
  while (limit <= 0 || static_cast<int64_t>(out.size()) < limit) {
    if (rc != 0 && rc != MDB_NOTFOUND) FatalLmdb("backend: range failed", rc, BucketName(bucket));
    const bool db_valid = rc == 0 && (unbounded || FromVal(k) < end);
    const bool buffer_valid = next_buffered < buffered.size();
    if (!db_valid && !buffer_valid) break;
    if (buffer_valid && (!db_valid || buffered[next_buffered].key <= FromVal(k))) {
      const TxBuffer::Entry& entry = buffered[next_buffered++];
      if (db_valid && entry.key == FromVal(k)) rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
      if (!entry.deleted) out.push_back(KeyValueView{entry.key, entry.value});
    } else {
      out.push_back(KeyValueView{FromVal(k), FromVal(v)});
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
  }
  mdb_cursor_close(cursor);
  return out;
}

absl::Status ReadForEach(
    const Generation& gen, uint64_t seq, Bucket bucket,
    absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view value)> visit) {
  for (const KeyValueView& kv :
       ReadRange(gen, seq, bucket, absl::string_view(), absl::string_view(),
                 /*unbounded=*/true, /*limit=*/0)) {
    RETURN_IF_ERROR(visit(kv.key, kv.value));
  }
  return absl::OkStatus();
}

// A snapshot reader: a generation and the buffer sequence it captured.
class ConcurrentReadTxImpl final : public ReadTx {
 public:
  ConcurrentReadTxImpl(std::shared_ptr<Generation> gen, uint64_t seq)
      : gen_(std::move(gen)), seq_(seq) {}

  std::optional<absl::string_view> UnsafeGet(Bucket bucket, absl::string_view key) override {
    return ReadGet(*gen_, seq_, bucket, key);
  }
  std::vector<KeyValueView> UnsafeRange(Bucket bucket, absl::string_view key, absl::string_view end,
                                        int64_t limit) override {
    return ReadRange(*gen_, seq_, bucket, key, end, /*unbounded=*/false, limit);
  }
  absl::Status UnsafeForEach(
      Bucket bucket,
      absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view value)> visit)
      override {
    return ReadForEach(*gen_, seq_, bucket, visit);
  }

 private:
  const std::shared_ptr<Generation> gen_;
  const uint64_t seq_;
};

}  // namespace

// ---- BatchTx ---------------------------------------------------------------

void BatchTx::Lock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  backend_->batch_mu_.Lock();
  if (backend_->closed_) log::Panic("backend: BatchTx used after Close");
}

void BatchTx::Unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  backend_->writer_gen_->buffer().Publish();
  if (backend_->pending_ >= backend_->options_.batch_limit) {
    backend_->CommitLocked(/*force=*/false, /*closing=*/false);
  }
  backend_->batch_mu_.Unlock();
}

void BatchTx::Publish() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  backend_->writer_gen_->buffer().Publish();
}

void BatchTx::UnsafePut(Bucket bucket, absl::string_view key,
                        absl::string_view value) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  CheckKey(key);
  TxBuffer& buffer = backend_->writer_gen_->buffer();
  buffer.Put(bucket, key, value, buffer.published() + 1);
  ++backend_->pending_;
}

void BatchTx::UnsafeSeqPut(Bucket bucket, absl::string_view key, absl::string_view value) {
  // The commit detects runs of keys above the bucket's last key and appends
  // them; no separate path is needed here.
  UnsafePut(bucket, key, value);
}

void BatchTx::UnsafeDelete(Bucket bucket, absl::string_view key) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  CheckKey(key);
  TxBuffer& buffer = backend_->writer_gen_->buffer();
  buffer.Delete(bucket, key, buffer.published() + 1);
  ++backend_->pending_;
}

std::optional<absl::string_view> BatchTx::UnsafeGet(Bucket bucket, absl::string_view key)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return ReadGet(*backend_->writer_gen_, TxBuffer::kLatest, bucket, key);
}

std::vector<KeyValueView> BatchTx::UnsafeRange(Bucket bucket, absl::string_view key,
                                               absl::string_view end,
                                               int64_t limit) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return ReadRange(*backend_->writer_gen_, TxBuffer::kLatest, bucket, key, end,
                   /*unbounded=*/false, limit);
}

absl::Status BatchTx::UnsafeForEach(
    Bucket bucket,
    absl::FunctionRef<absl::Status(absl::string_view key, absl::string_view value)> visit)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return ReadForEach(*backend_->writer_gen_, TxBuffer::kLatest, bucket, visit);
}

void BatchTx::Commit() {
  absl::MutexLock lock(&backend_->batch_mu_);
  if (backend_->closed_) return;
  backend_->CommitLocked(/*force=*/false, /*closing=*/false);
}

void BatchTx::CommitLocked() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  backend_->CommitLocked(/*force=*/false, /*closing=*/false);
}

int BatchTx::pending() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return backend_->pending_; }

// ---- Snapshot --------------------------------------------------------------

Snapshot::~Snapshot() {
  mdb_txn_abort(static_cast<MDB_txn*>(txn_));
  close(fd_);
  backend_->ReleaseReadTxn();
}

absl::Status Snapshot::WriteTo(absl::FunctionRef<absl::Status(absl::string_view chunk)> sink) {
  // LMDB's own (non-compacting) copy does the same: the meta pages as they
  // were when the read transaction began, then every page up to the last
  // one in use. Pages reachable from the snapshot cannot change while the
  // read transaction pins them; pages that were free at the time may be
  // reused meanwhile, and are free in the copy too.
  RETURN_IF_ERROR(sink(meta_));
  constexpr int64_t kChunk = int64_t{1} << 20;
  std::string buffer;
  for (int64_t offset = static_cast<int64_t>(meta_.size()); offset < size_;) {
    const int64_t n = std::min(kChunk, size_ - offset);
    buffer.resize(n);
    int64_t done = 0;
    while (done < n) {
      const ssize_t r = pread(fd_, buffer.data() + done, n - done, offset + done);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        return absl::ErrnoToStatus(errno,
                                   absl::StrCat("backend: snapshot read ", backend_->path()));
      }
      if (r == 0) {
        return absl::DataLossError(
            absl::StrCat("backend: snapshot read ", backend_->path(), ": unexpected end of file"));
      }
      done += r;
    }
    RETURN_IF_ERROR(sink(buffer));
    offset += n;
  }
  return absl::OkStatus();
}

absl::Status Snapshot::WriteTo(int fd) {
  return WriteTo([fd](absl::string_view chunk) -> absl::Status {
    while (!chunk.empty()) {
      const ssize_t w = write(fd, chunk.data(), chunk.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return absl::ErrnoToStatus(errno, "backend: snapshot write");
      chunk.remove_prefix(w);
    }
    return absl::OkStatus();
  });
}

// ---- Backend ---------------------------------------------------------------

Backend::Backend(BackendOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Backend>> Backend::Open(BackendOptions options) {
  if (options.path.empty()) return absl::InvalidArgumentError("backend: empty path");
  if (options.batch_limit <= 0) {
    return absl::InvalidArgumentError("backend: batch limit must be positive");
  }
  if (options.batch_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("backend: batch interval must be positive");
  }
  if (options.initial_map_size <= 0) {
    return absl::InvalidArgumentError("backend: initial map size must be positive");
  }
  if (options.max_readers <= 0) {
    return absl::InvalidArgumentError("backend: max readers must be positive");
  }
  const std::string path = options.path;
  const std::string dir = DirName(path);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("backend: open ", path, ": directory ", dir));
  }
  if (LooksLikeBolt(path)) {
    return absl::DataLossError(absl::StrCat(
        "backend: open ", path,
        ": this is an etcd (bbolt) database; this member stores LMDB databases and cannot open "
        "it (restore an etcdctl snapshot of this project instead)"));
  }

  std::unique_ptr<Backend> backend(new Backend(std::move(options)));
  {
    absl::MutexLock lock(&backend->batch_mu_);
    absl::StatusOr<fileutil::LockedFile> locked =
        fileutil::TryLockFile(path, O_RDWR | O_CREAT, fileutil::kPrivateFileMode);
    if (!locked.ok()) {
      if (fileutil::IsLocked(locked.status())) {
        return Prefixed(locked.status(), "backend: the database is in use by another process: ");
      }
      return Prefixed(locked.status(), "backend: ");
    }
    backend->lock_file_.emplace(std::move(locked).value());
    // A crash during Defrag can leave its copy behind; the database itself is
    // intact then. (Only the lock holder may remove it.)
    unlink((path + std::string(DefragTempSuffix())).c_str());
    absl::Status status = backend->OpenEnvLocked();
    if (status.ok()) {
      status = backend->NewGenerationLocked();
      if (!status.ok()) {
        mdb_env_close(backend->env_);
        backend->env_ = nullptr;
      }
    }
    if (!status.ok()) {
      backend->closed_ = true;
      {
        absl::MutexLock env_lock(&backend->env_mu_);
        backend->env_closed_ = true;
      }
      backend->lock_file_.reset();
      return status;
    }
  }
  backend->committer_ = std::thread([b = backend.get()] { b->Run(); });
  return backend;
}

absl::Status Backend::OpenEnvLocked() {
  const std::string& path = options_.path;
  struct stat st;
  if (fstat(lock_file_->fd(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("backend: stat ", path));
  }
  const int64_t file_size = st.st_size;
  int64_t map_size = std::max<int64_t>(map_size_.load(), options_.initial_map_size);
  map_size = RoundUp(std::max(map_size, file_size * 2), kMapSizeGranularity);

  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return LmdbError(rc, "create environment for", path);
  auto fail = [&](int code, absl::string_view op) {
    mdb_env_close(env);
    return LmdbError(code, op, path);
  };
  if ((rc = mdb_env_set_maxdbs(env, kNumBuckets + 2)) != 0) return fail(rc, "configure");
  if ((rc = mdb_env_set_maxreaders(env, options_.max_readers)) != 0) return fail(rc, "configure");
  if ((rc = mdb_env_set_mapsize(env, map_size)) != 0) return fail(rc, "configure");
  unsigned int flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (options_.unsafe_no_fsync) flags |= MDB_NOSYNC;
  if ((rc = mdb_env_open(env, path.c_str(), flags, fileutil::kPrivateFileMode)) != 0) {
    return fail(rc, "open");
  }

  MDB_envinfo info;
  MDB_stat env_stat;
  mdb_env_info(env, &info);
  mdb_env_stat(env, &env_stat);
  const int64_t needed = (static_cast<int64_t>(info.me_last_pgno) + 1) * env_stat.ms_psize;
  if (file_size > 0 && file_size < needed) {
    mdb_env_close(env);
    return absl::DataLossError(absl::StrCat("backend: open ", path, ": the database file is ",
                                            file_size, " bytes but its last page ends at ", needed,
                                            " (truncated or corrupt)"));
  }

  MDB_txn* txn = nullptr;
  if ((rc = mdb_txn_begin(env, nullptr, 0, &txn)) != 0) return fail(rc, "begin transaction on");
  MDB_dbi dbis[kNumBuckets];
  for (Bucket bucket : kAllBuckets) {
    const std::string name(BucketName(bucket));
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &dbis[BucketIndex(bucket)]);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return fail(rc, absl::StrCat("open bucket \"", name, "\" of"));
    }
  }
  if ((rc = mdb_txn_commit(txn)) != 0) return fail(rc, "create buckets in");

  env_ = env;
  std::copy(dbis, dbis + kNumBuckets, dbis_);
  mdb_env_info(env, &info);
  map_size_.store(static_cast<int64_t>(info.me_mapsize));
  return absl::OkStatus();
}

absl::Status Backend::NewGenerationLocked() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return LmdbError(rc, "begin read transaction on", options_.path);
  // Touch every database handle now, before the transaction is shared: the
  // first use of a handle in a transaction writes to it.
  for (Bucket bucket : kAllBuckets) {
    MDB_stat stat;
    rc = mdb_stat(txn, dbis_[BucketIndex(bucket)], &stat);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError(rc, absl::StrCat("read bucket \"", BucketName(bucket), "\" of"),
                       options_.path);
    }
  }
  UpdateSizesLocked(txn);
  AddReadTxn();
  auto gen = std::make_shared<Generation>(this, txn, dbis_, std::make_shared<TxBuffer>());
  std::shared_ptr<Generation> old;
  {
    absl::MutexLock lock(&env_mu_);
    old = std::exchange(current_, gen);
    readers_blocked_ = false;
  }
  writer_gen_ = std::move(gen);
  return absl::OkStatus();
}

void Backend::UpdateSizesLocked(void* opaque_txn) {
  MDB_txn* txn = static_cast<MDB_txn*>(opaque_txn);
  int fd = -1;
  struct stat st;
  if (mdb_env_get_fd(env_, &fd) == 0 && fstat(fd, &st) == 0) {
    size_.store(st.st_size, std::memory_order_relaxed);
  }
  MDB_envinfo info;
  MDB_stat env_stat;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &env_stat);
  // Free pages are listed in LMDB's free database (handle 0): each record is
  // a page-number list whose first word is its length.
  int64_t free_pages = 0;
  MDB_cursor* cursor = nullptr;
  if (mdb_cursor_open(txn, 0, &cursor) == 0) {
    MDB_val k, v;
    while (mdb_cursor_get(cursor, &k, &v, MDB_NEXT) == 0) {
      if (v.mv_size >= sizeof(size_t)) {
        size_t count;
        std::memcpy(&count, v.mv_data, sizeof(count));
        free_pages += static_cast<int64_t>(count);
      }
    }
    mdb_cursor_close(cursor);
  }
  const int64_t pages = static_cast<int64_t>(info.me_last_pgno) + 1;
  size_in_use_.store(std::max<int64_t>(0, pages - free_pages) * env_stat.ms_psize,
                     std::memory_order_relaxed);
}

int Backend::ApplyAndCommitLocked(const TxBuffer& buffer) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return rc;
  for (Bucket bucket : kAllBuckets) {
    if (buffer.KeyCount(bucket) == 0) continue;
    const MDB_dbi dbi = dbis_[BucketIndex(bucket)];
    MDB_cursor* cursor = nullptr;
    if ((rc = mdb_cursor_open(txn, dbi, &cursor)) != 0) break;
    MDB_val k, v;
    std::string last;
    const bool has_last = mdb_cursor_get(cursor, &k, &v, MDB_LAST) == 0;
    if (has_last) last = std::string(FromVal(k));
    // Keys come in ascending order; once one sorts after the bucket's last
    // key, all the rest do too and LMDB can append them.
    bool appending = false;
    buffer.ForEachLatest(bucket, [&](const TxBuffer::Entry& entry) {
      if (rc != 0) return;
      if (!appending && (!has_last || entry.key > last)) appending = true;
      MDB_val key = ToVal(entry.key);
      if (entry.deleted) {
        if (appending) return;  // never stored
        rc = mdb_del(txn, dbi, &key, nullptr);
        if (rc == MDB_NOTFOUND) rc = 0;
        return;
      }
      MDB_val value = ToVal(entry.value);
      rc = appending ? mdb_cursor_put(cursor, &key, &value, MDB_APPEND)
                     : mdb_put(txn, dbi, &key, &value, 0);
    });
    mdb_cursor_close(cursor);
    if (rc != 0) break;
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return rc;
  }
  return mdb_txn_commit(txn);
}

void Backend::CommitLocked(bool force, bool closing) {
  std::shared_ptr<TxBuffer> buffer = writer_gen_->shared_buffer();
  buffer->Publish();
  if (pending_ == 0 && !force) return;
  const absl::Time start = absl::Now();
  while (true) {
    const int rc = ApplyAndCommitLocked(*buffer);
    if (rc == 0) break;
    if (rc == MDB_MAP_FULL) {
      GrowMapLocked();
      continue;
    }
    if (rc == MDB_MAP_RESIZED) {
      // Another process grew the map (not expected: the file is locked).
      DrainReadersLocked();
      const int set = mdb_env_set_mapsize(env_, 0);
      if (set != 0) FatalLmdb("backend: failed to adopt the new map size", set, options_.path);
      continue;
    }
    FatalLmdb("backend: failed to commit a batch", rc, options_.path);
  }
  pending_ = 0;
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (options_.on_commit) options_.on_commit(absl::Now() - start);
  if (closing) return;
  absl::Status status = NewGenerationLocked();
  if (!status.ok()) {
    log::Fatal("backend: failed to begin a read transaction", {{"error", status}});
  }
}

void Backend::AddReadTxn() {
  absl::MutexLock lock(&env_mu_);
  ++open_read_txns_;
}

void Backend::ReleaseReadTxn() {
  absl::MutexLock lock(&env_mu_);
  --open_read_txns_;
}

int64_t Backend::OpenReadTxN() const {
  absl::MutexLock lock(&env_mu_);
  return open_read_txns_;
}

void Backend::DrainReadersLocked() {
  std::shared_ptr<Generation> old;
  {
    absl::MutexLock lock(&env_mu_);
    readers_blocked_ = true;
    old = std::move(current_);
  }
  old.reset();
  writer_gen_.reset();
  absl::MutexLock lock(&env_mu_);
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(env_mu_) { return open_read_txns_ == 0; };
  while (!env_mu_.AwaitWithTimeout(absl::Condition(&drained), absl::Seconds(10))) {
    log::Warn("backend: waiting for read transactions to end",
              {{"path", options_.path}, {"open-read-txns", open_read_txns_}});
  }
}

void Backend::GrowMapLocked() {
  DrainReadersLocked();
  const int64_t old_size = map_size_.load();
  const int64_t new_size = RoundUp(old_size * 2, kMapSizeGranularity);
  const int rc = mdb_env_set_mapsize(env_, new_size);
  if (rc != 0) FatalLmdb("backend: failed to grow the map", rc, options_.path);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_.store(static_cast<int64_t>(info.me_mapsize));
  log::Info("backend: grew the database map",
            {{"path", options_.path}, {"old-map-size", old_size}, {"new-map-size", new_size}});
}

std::unique_ptr<ReadTx> Backend::ConcurrentReadTx() {
  std::shared_ptr<Generation> gen;
  {
    absl::ReaderMutexLock lock(&env_mu_);
    if (!readers_blocked_) gen = current_;
  }
  if (gen == nullptr) {
    absl::MutexLock lock(&env_mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(env_mu_) {
      return !readers_blocked_ || env_closed_;
    };
    env_mu_.Await(absl::Condition(&ready));
    if (!env_closed_) gen = current_;
  }
  if (gen == nullptr) log::Panic("backend: ConcurrentReadTx after Close");
  const uint64_t seq = gen->buffer().published();
  return std::make_unique<ConcurrentReadTxImpl>(std::move(gen), seq);
}

void Backend::ForceCommit() { batch_tx_.Commit(); }

absl::StatusOr<std::unique_ptr<Snapshot>> Backend::NewSnapshot() {
  absl::MutexLock lock(&batch_mu_);
  if (closed_) return absl::FailedPreconditionError("backend: closed");
  CommitLocked(/*force=*/false, /*closing=*/false);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return LmdbError(rc, "begin snapshot transaction on", options_.path);
  MDB_envinfo info;
  MDB_stat env_stat;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &env_stat);
  const int64_t page = env_stat.ms_psize;
  const int64_t size = (static_cast<int64_t>(info.me_last_pgno) + 1) * page;
  int env_fd = -1;
  mdb_env_get_fd(env_, &env_fd);
  const int fd = fcntl(env_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    mdb_txn_abort(txn);
    return absl::ErrnoToStatus(err, absl::StrCat("backend: snapshot ", options_.path));
  }
  // No commit can run while the batch lock is held, so the meta pages on
  // disk describe exactly the state the read transaction sees.
  std::string meta(2 * page, '\0');
  if (pread(fd, meta.data(), meta.size(), 0) != static_cast<ssize_t>(meta.size())) {
    const int err = errno;
    mdb_txn_abort(txn);
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("backend: snapshot ", options_.path));
  }
  AddReadTxn();
  return std::unique_ptr<Snapshot>(new Snapshot(this, txn, fd, std::move(meta), size));
}

absl::StatusOr<uint32_t> Backend::Hash(absl::Span<const IgnoreKey> ignores) {
  std::unique_ptr<ReadTx> tx = ConcurrentReadTx();
  uint32_t crc = 0;
  for (Bucket bucket : BucketsByName()) {
    const absl::string_view name = BucketName(bucket);
    crc = crc::Update(crc, name.data(), name.size());
    RETURN_IF_ERROR(tx->UnsafeForEach(
        bucket, [&](absl::string_view key, absl::string_view value) -> absl::Status {
          for (const IgnoreKey& ignore : ignores) {
            if (ignore.bucket == bucket && ignore.key == key) return absl::OkStatus();
          }
          crc = crc::Update(crc, key.data(), key.size());
          crc = crc::Update(crc, value.data(), value.size());
          return absl::OkStatus();
        }));
  }
  return crc;
}

absl::Status Backend::Defrag() {
  absl::MutexLock lock(&batch_mu_);
  if (closed_) return absl::FailedPreconditionError("backend: closed");
  return DefragLocked();
}

absl::Status Backend::CopyPackedLocked(const std::string& temp) {
  // LMDB's compacting copy (MDB_CP_COMPACT) drops free pages but keeps the
  // tree's pages as they are, half-empty ones included, so after deleting
  // most keys it barely shrinks the file. Like etcd's defrag, rewrite every
  // pair in key order instead: appends fill each page completely.
  MDB_env* dst = nullptr;
  int rc = mdb_env_create(&dst);
  if (rc != 0) return LmdbError(rc, "defrag: create", temp);
  auto fail = [&](int code, absl::string_view op, MDB_txn* src_txn, MDB_txn* dst_txn) {
    if (dst_txn != nullptr) mdb_txn_abort(dst_txn);
    if (src_txn != nullptr) mdb_txn_abort(src_txn);
    mdb_env_close(dst);
    return LmdbError(code, op, temp);
  };
  const int64_t map_size = std::max(map_size_.load(), RoundUp(2 * Size(), kMapSizeGranularity));
  if ((rc = mdb_env_set_maxdbs(dst, kNumBuckets + 2)) != 0 ||
      (rc = mdb_env_set_mapsize(dst, map_size)) != 0) {
    return fail(rc, "defrag: configure", nullptr, nullptr);
  }
  // The copy is private until renamed: no lock file, one sync at the end.
  rc = mdb_env_open(dst, temp.c_str(), MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC,
                    fileutil::kPrivateFileMode);
  if (rc != 0) return fail(rc, "defrag: open", nullptr, nullptr);
  MDB_txn* src_txn = nullptr;
  if ((rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &src_txn)) != 0) {
    return fail(rc, "defrag: read", nullptr, nullptr);
  }
  MDB_txn* dst_txn = nullptr;
  if ((rc = mdb_txn_begin(dst, nullptr, 0, &dst_txn)) != 0) {
    return fail(rc, "defrag: write", src_txn, nullptr);
  }
  // etcd commits its defrag copy every 10000 pairs to bound memory.
  constexpr int kPairsPerTxn = 10000;
  int in_txn = 0;
  for (Bucket bucket : kAllBuckets) {
    const std::string name(BucketName(bucket));
    MDB_dbi dst_dbi;
    if ((rc = mdb_dbi_open(dst_txn, name.c_str(), MDB_CREATE, &dst_dbi)) != 0) {
      return fail(rc, "defrag: create bucket in", src_txn, dst_txn);
    }
    MDB_cursor* cursor = nullptr;
    if ((rc = mdb_cursor_open(src_txn, dbis_[BucketIndex(bucket)], &cursor)) != 0) {
      return fail(rc, "defrag: read", src_txn, dst_txn);
    }
    MDB_val k, v;
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
      if (in_txn == kPairsPerTxn) {
        rc = mdb_txn_commit(dst_txn);
        dst_txn = nullptr;  // freed by the commit either way
        if (rc != 0) break;
        if ((rc = mdb_txn_begin(dst, nullptr, 0, &dst_txn)) != 0) break;
        in_txn = 0;
      }
      if ((rc = mdb_put(dst_txn, dst_dbi, &k, &v, MDB_APPEND)) != 0) break;
      ++in_txn;
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND) return fail(rc, "defrag: copy to", src_txn, dst_txn);
  }
  mdb_txn_abort(src_txn);
  if ((rc = mdb_txn_commit(dst_txn)) != 0) return fail(rc, "defrag: commit", nullptr, nullptr);
  if ((rc = mdb_env_sync(dst, 1)) != 0) return fail(rc, "defrag: sync", nullptr, nullptr);
  mdb_env_close(dst);
  return absl::OkStatus();
}

absl::Status Backend::DefragLocked() {
  const absl::Time start = absl::Now();
  const std::string& path = options_.path;
  CommitLocked(/*force=*/false, /*closing=*/false);
  const int64_t size_before = Size();
  const int64_t in_use_before = SizeInUse();

  const std::string temp = path + std::string(DefragTempSuffix());
  absl::StatusOr<fileutil::LockedFile> temp_file =
      fileutil::TryLockFile(temp, O_RDWR | O_CREAT | O_TRUNC, fileutil::kPrivateFileMode);
  if (!temp_file.ok()) return Prefixed(temp_file.status(), "backend: defrag: ");
  auto discard = [&] {
    temp_file->Close().IgnoreError();
    unlink(temp.c_str());
  };
  absl::Status status = CopyPackedLocked(temp);
  if (!status.ok()) {
    discard();
    return status;
  }
  status = fileutil::Fsync(temp_file->fd());
  if (!status.ok()) {
    discard();
    return Prefixed(status, "backend: defrag: ");
  }

  status = SwapInLocked(temp, std::move(temp_file).value(), "defrag");
  if (!status.ok()) {
    unlink(temp.c_str());
    return status;
  }
  log::Info("backend: defragmented",
            {{"path", path},
             {"current-db-size-bytes-diff", Size() - size_before},
             {"current-db-size-bytes", Size()},
             {"current-db-size-in-use-bytes-diff", SizeInUse() - in_use_before},
             {"current-db-size-in-use-bytes", SizeInUse()},
             {"took", absl::Now() - start}});
  return absl::OkStatus();
}

absl::Status Backend::SwapInLocked(const std::string& temp, fileutil::LockedFile temp_file,
                                   absl::string_view op) {
  const std::string& path = options_.path;
  DrainReadersLocked();
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    temp_file.Close().IgnoreError();
    absl::Status status = NewGenerationLocked();
    if (!status.ok()) log::Fatal("backend: failed to reopen", {{"error", status}});
    return absl::ErrnoToStatus(err,
                               absl::StrCat("backend: ", op, ": rename ", temp, " to ", path));
  }
  absl::Status status = fileutil::SyncDir(DirName(path));
  if (!status.ok()) log::Warn(absl::StrCat("backend: ", op, ": sync directory"), {{"error", status}});
  mdb_env_close(env_);
  env_ = nullptr;
  // The new file carries the lock taken on it; closing the old descriptor
  // releases the lock on the replaced file.
  lock_file_ = std::move(temp_file);
  status = OpenEnvLocked();
  if (!status.ok()) log::Fatal("backend: failed to reopen", {{"error", status}});
  status = NewGenerationLocked();
  if (!status.ok()) log::Fatal("backend: failed to reopen", {{"error", status}});
  return absl::OkStatus();
}

absl::Status Backend::ReplaceWith(const std::string& file) {
  {
    // A read-only look first: a file that is not a database of ours must
    // not replace one.
    MDB_env* env = nullptr;
    int rc = mdb_env_create(&env);
    if (rc != 0) return LmdbError(rc, "create environment for", file);
    auto fail = [&](int code, absl::string_view what) {
      mdb_env_close(env);
      return absl::DataLossError(absl::StrCat("backend: ", file, " is not a usable database (",
                                              what, ": ", mdb_strerror(code), ")"));
    };
    if ((rc = mdb_env_set_maxdbs(env, kNumBuckets + 2)) != 0) return fail(rc, "configure");
    rc = mdb_env_open(env, file.c_str(), MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY,
                      fileutil::kPrivateFileMode);
    if (rc != 0) return fail(rc, "open");
    MDB_txn* txn = nullptr;
    if ((rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) != 0) return fail(rc, "read");
    MDB_dbi dbi;
    const std::string meta(BucketName(Bucket::kMeta));
    rc = mdb_dbi_open(txn, meta.c_str(), 0, &dbi);
    mdb_txn_abort(txn);
    if (rc != 0) return fail(rc, "meta bucket");
    mdb_env_close(env);
  }
  absl::MutexLock lock(&batch_mu_);
  if (closed_) return absl::FailedPreconditionError("backend: closed");
  CommitLocked(/*force=*/false, /*closing=*/false);
  absl::StatusOr<fileutil::LockedFile> locked =
      fileutil::TryLockFile(file, O_RDWR, fileutil::kPrivateFileMode);
  if (!locked.ok()) return Prefixed(locked.status(), "backend: replace: ");
  if (absl::Status s = fileutil::Fsync(locked->fd()); !s.ok()) {
    return Prefixed(s, "backend: replace: ");
  }
  if (absl::Status s = SwapInLocked(file, std::move(locked).value(), "replace"); !s.ok()) return s;
  log::Info("backend: replaced the database", {{"path", options_.path}, {"from", file},
                                                {"current-db-size-bytes", Size()}});
  return absl::OkStatus();
}

void Backend::Run() {
  while (!stop_.WaitForNotificationWithTimeout(options_.batch_interval)) {
    absl::MutexLock lock(&batch_mu_);
    if (closed_) return;
    if (pending_ > 0) CommitLocked(/*force=*/false, /*closing=*/false);
  }
}

absl::Status Backend::Close() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (committer_.joinable()) committer_.join();
  absl::MutexLock lock(&batch_mu_);
  if (closed_ || env_ == nullptr) {
    closed_ = true;  // also after a failed Open
    return absl::OkStatus();
  }
  closed_ = true;
  CommitLocked(/*force=*/false, /*closing=*/true);
  std::shared_ptr<Generation> old;
  {
    absl::MutexLock env_lock(&env_mu_);
    readers_blocked_ = true;
    env_closed_ = true;
    old = std::move(current_);
  }
  old.reset();
  writer_gen_.reset();
  {
    absl::MutexLock env_lock(&env_mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(env_mu_) { return open_read_txns_ == 0; };
    if (!env_mu_.AwaitWithTimeout(absl::Condition(&drained), absl::Seconds(30))) {
      log::Panic(
          "backend: Close with read transactions still open (destroy every ReadTx and "
          "Snapshot before the Backend)",
          {{"open-read-txns", open_read_txns_}});
    }
  }
  mdb_env_close(env_);
  env_ = nullptr;
  absl::Status status = lock_file_->Close();
  lock_file_.reset();
  return status;
}

Backend::~Backend() { Close().IgnoreError(); }

bool IsLocked(const absl::Status& status) { return fileutil::IsLocked(status); }

}  // namespace etcd::mvcc::backend
