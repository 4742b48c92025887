#include "wal/fault_file_system.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pkg/status/status_macros.h"

namespace etcd::wal {

struct FaultFileSystem::Node {
  bool is_dir = false;
  // Files.
  std::string data;
  std::string durable;
  // Opens holding the lock (0 or 1).
  int locks = 0;
  // Directories.
  std::map<std::string, std::shared_ptr<Node>> children;
  std::map<std::string, std::shared_ptr<Node>> durable_children;
};

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    parts.emplace_back(part);
  }
  return parts;
}

absl::Status NotFound(absl::string_view op, const std::string& path) {
  return absl::NotFoundError(absl::StrCat(op, " ", path, ": No such file or directory"));
}

// The WAL pipeline's preallocated files, "<digits>.tmp".
bool IsPipelineFile(const std::string& path) {
  const size_t slash = path.rfind('/');
  absl::string_view base =
      absl::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
  if (!absl::ConsumeSuffix(&base, ".tmp") || base.empty()) return false;
  return std::all_of(base.begin(), base.end(), [](char c) { return absl::ascii_isdigit(c); });
}

std::string Locked(const std::string& path) {
  return absl::StrCat("lock ", path, ": file already locked");
}

}  // namespace

class FaultFileSystem::FaultFile : public File {
 public:
  FaultFile(FaultFileSystem* fs, std::shared_ptr<Node> node, std::string path, bool locked,
            bool writable)
      : fs_(fs),
        node_(std::move(node)),
        path_(std::move(path)),
        locked_(locked),
        writable_(writable) {}
  ~FaultFile() override { Close().IgnoreError(); }

  absl::StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    absl::MutexLock lock(&fs_->mu_);
    if (closed_) return absl::FailedPreconditionError("read of a closed file");
    RETURN_IF_ERROR(fs_->Admit(false));
    const std::string& data = node_->data;
    if (offset < 0) return absl::InvalidArgumentError("negative offset");
    if (static_cast<size_t>(offset) >= data.size()) return size_t{0};
    const size_t got = std::min(n, data.size() - static_cast<size_t>(offset));
    std::memcpy(buf, data.data() + offset, got);
    return got;
  }

  absl::Status WriteAt(int64_t offset, absl::string_view bytes) override {
    absl::MutexLock lock(&fs_->mu_);
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(fs_->Admit(true));
    std::string& data = node_->data;
    const size_t end = static_cast<size_t>(offset) + bytes.size();
    if (data.size() < end) data.resize(end, '\0');
    if (!bytes.empty()) std::memcpy(data.data() + offset, bytes.data(), bytes.size());
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    absl::MutexLock lock(&fs_->mu_);
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(fs_->Admit(true));
    if (!fs_->sync_error_.ok()) return fs_->sync_error_;
    node_->durable = node_->data;
    ++fs_->file_syncs_;
    return absl::OkStatus();
  }

  absl::Status Truncate(int64_t size) override {
    absl::MutexLock lock(&fs_->mu_);
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(fs_->Admit(true));
    node_->data.resize(static_cast<size_t>(size), '\0');
    return absl::OkStatus();
  }

  absl::Status Preallocate(int64_t size) override {
    absl::MutexLock lock(&fs_->mu_);
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(fs_->Admit(!IsPipelineFile(path_)));
    if (node_->data.size() < static_cast<size_t>(size)) {
      node_->data.resize(static_cast<size_t>(size), '\0');
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> Size() override {
    absl::MutexLock lock(&fs_->mu_);
    if (closed_) return absl::FailedPreconditionError("stat of a closed file");
    RETURN_IF_ERROR(fs_->Admit(false));
    return static_cast<int64_t>(node_->data.size());
  }

  absl::Status Close() override {
    absl::MutexLock lock(&fs_->mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    if (locked_) --node_->locks;
    return absl::OkStatus();
  }

 private:
  absl::Status CheckWritable() const {
    if (closed_) return absl::FailedPreconditionError("write to a closed file");
    if (!writable_) return absl::PermissionDeniedError(absl::StrCat(path_, " is read-only"));
    return absl::OkStatus();
  }

  FaultFileSystem* const fs_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const bool locked_;
  const bool writable_;
  bool closed_ = false;
};

FaultFileSystem::FaultFileSystem() : root_(std::make_shared<Node>()) { root_->is_dir = true; }

FaultFileSystem::~FaultFileSystem() = default;

absl::Status FaultFileSystem::Admit(bool count) {
  if (crash_at_ >= 0 && ops_ >= crash_at_) {
    return absl::UnavailableError("simulated crash: the file system is gone");
  }
  if (count) ++ops_;
  return absl::OkStatus();
}

std::shared_ptr<FaultFileSystem::Node> FaultFileSystem::Lookup(const std::string& path) const {
  std::shared_ptr<Node> node = root_;
  for (const std::string& part : SplitPath(path)) {
    if (!node->is_dir) return nullptr;
    auto it = node->children.find(part);
    if (it == node->children.end()) return nullptr;
    node = it->second;
  }
  return node;
}

absl::StatusOr<std::unique_ptr<File>> FaultFileSystem::OpenForRead(const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(false));
  std::shared_ptr<Node> node = Lookup(path);
  if (node == nullptr) return NotFound("open", path);
  if (node->is_dir) return absl::FailedPreconditionError(absl::StrCat(path, " is a directory"));
  return std::unique_ptr<File>(std::make_unique<FaultFile>(this, node, path, false, false));
}

absl::StatusOr<std::unique_ptr<File>> FaultFileSystem::OpenLocked(const std::string& path,
                                                                  const OpenOptions& options) {
  absl::MutexLock lock(&mu_);
  const bool mutates = options.create || options.truncate;
  RETURN_IF_ERROR(Admit(mutates && !IsPipelineFile(path)));
  std::shared_ptr<Node> node = Lookup(path);
  if (node == nullptr) {
    if (!options.create) return NotFound("open", path);
    const size_t slash = path.rfind('/');
    std::shared_ptr<Node> parent = Lookup(slash == 0 ? "/" : path.substr(0, slash));
    if (parent == nullptr || !parent->is_dir) return NotFound("open", path);
    node = std::make_shared<Node>();
    parent->children[path.substr(slash + 1)] = node;
  }
  if (node->is_dir) return absl::FailedPreconditionError(absl::StrCat(path, " is a directory"));
  if (node->locks > 0) {
    if (!options.wait_for_lock) {
      // The same error fileutil's TryLockFile gives, so IsLocked works.
      absl::Status status = absl::UnavailableError(Locked(path));
      status.SetPayload("type.etcd.io/etcd.fileutil.Locked", absl::Cord());
      return status;
    }
    mu_.Await(absl::Condition(
        +[](Node* n) { return n->locks == 0; }, node.get()));
    RETURN_IF_ERROR(Admit(false));
  }
  ++node->locks;
  if (options.truncate) node->data.clear();
  return std::unique_ptr<File>(std::make_unique<FaultFile>(this, node, path, true, true));
}

absl::StatusOr<std::vector<std::string>> FaultFileSystem::ReadDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(false));
  std::shared_ptr<Node> node = Lookup(dir);
  if (node == nullptr) return NotFound("open directory", dir);
  if (!node->is_dir) return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  std::vector<std::string> names;
  for (const auto& [name, child] : node->children) names.push_back(name);
  return names;
}

bool FaultFileSystem::Exists(const std::string& path) {
  absl::MutexLock lock(&mu_);
  if (!Admit(false).ok()) return false;
  return Lookup(path) != nullptr;
}

absl::Status FaultFileSystem::CreateDirAllLocked(const std::string& dir, bool durable) {
  std::shared_ptr<Node> node = root_;
  for (const std::string& part : SplitPath(dir)) {
    if (!node->is_dir) return absl::FailedPreconditionError(absl::StrCat(dir, ": not a directory"));
    std::shared_ptr<Node>& child = node->children[part];
    if (child == nullptr) {
      child = std::make_shared<Node>();
      child->is_dir = true;
    }
    if (durable) node->durable_children[part] = child;
    node = child;
  }
  if (!node->is_dir) return absl::FailedPreconditionError(absl::StrCat(dir, ": not a directory"));
  return absl::OkStatus();
}

absl::Status FaultFileSystem::CreateDirAll(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(true));
  return CreateDirAllLocked(dir, /*durable=*/false);
}

void FaultFileSystem::MakeDurableDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  CreateDirAllLocked(dir, /*durable=*/true).IgnoreError();
}

absl::Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(true));
  const size_t from_slash = from.rfind('/');
  const size_t to_slash = to.rfind('/');
  std::shared_ptr<Node> from_dir = Lookup(from.substr(0, std::max<size_t>(from_slash, 1)));
  std::shared_ptr<Node> to_dir = Lookup(to.substr(0, std::max<size_t>(to_slash, 1)));
  if (from_dir == nullptr || to_dir == nullptr) return NotFound("rename", from);
  const std::string from_name = from.substr(from_slash + 1);
  const std::string to_name = to.substr(to_slash + 1);
  auto it = from_dir->children.find(from_name);
  if (it == from_dir->children.end()) return NotFound("rename", from);
  std::shared_ptr<Node> node = it->second;
  auto existing = to_dir->children.find(to_name);
  if (existing != to_dir->children.end() && existing->second->is_dir &&
      !existing->second->children.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rename ", from, " to ", to, ": Directory not empty"));
  }
  from_dir->children.erase(it);
  to_dir->children[to_name] = node;
  return absl::OkStatus();
}

absl::Status FaultFileSystem::Remove(const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(true));
  const size_t slash = path.rfind('/');
  std::shared_ptr<Node> dir = Lookup(path.substr(0, std::max<size_t>(slash, 1)));
  if (dir == nullptr) return NotFound("remove", path);
  auto it = dir->children.find(path.substr(slash + 1));
  if (it == dir->children.end()) return NotFound("remove", path);
  if (it->second->is_dir && !it->second->children.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("remove ", path, ": Directory not empty"));
  }
  dir->children.erase(it);
  return absl::OkStatus();
}

absl::Status FaultFileSystem::RemoveAll(const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(true));
  const size_t slash = path.rfind('/');
  std::shared_ptr<Node> dir = Lookup(path.substr(0, std::max<size_t>(slash, 1)));
  if (dir == nullptr) return absl::OkStatus();
  dir->children.erase(path.substr(slash + 1));
  return absl::OkStatus();
}

absl::Status FaultFileSystem::SyncDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Admit(true));
  std::shared_ptr<Node> node = Lookup(dir);
  if (node == nullptr) return NotFound("open", dir);
  if (!node->is_dir) return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  node->durable_children = node->children;
  return absl::OkStatus();
}

void FaultFileSystem::CrashAfter(int64_t ops) {
  absl::MutexLock lock(&mu_);
  crash_at_ = ops < 0 ? -1 : ops_ + ops;
}

bool FaultFileSystem::crashed() const {
  absl::MutexLock lock(&mu_);
  return crash_at_ >= 0 && ops_ >= crash_at_;
}

int64_t FaultFileSystem::ops() const {
  absl::MutexLock lock(&mu_);
  return ops_;
}

int64_t FaultFileSystem::file_syncs() const {
  absl::MutexLock lock(&mu_);
  return file_syncs_;
}

void FaultFileSystem::SetSyncError(absl::Status error) {
  absl::MutexLock lock(&mu_);
  sync_error_ = std::move(error);
}

std::vector<FaultFileSystem::UnsyncedFile> FaultFileSystem::UnsyncedFiles() const {
  absl::MutexLock lock(&mu_);
  std::vector<UnsyncedFile> out;
  std::function<void(const std::shared_ptr<Node>&, const std::string&)> walk =
      [&](const std::shared_ptr<Node>& dir, const std::string& path) {
        for (const auto& [name, child] : dir->durable_children) {
          const std::string child_path = path == "/" ? "/" + name : path + "/" + name;
          if (child->is_dir) {
            walk(child, child_path);
            continue;
          }
          const std::string& a = child->durable;
          const std::string& b = child->data;
          if (a == b) continue;
          size_t first = 0;
          while (first < a.size() && first < b.size() && a[first] == b[first]) ++first;
          size_t end = std::max(a.size(), b.size());
          while (end > first && end <= a.size() && end <= b.size() && a[end - 1] == b[end - 1]) {
            --end;
          }
          out.push_back({child_path, static_cast<int64_t>(first), static_cast<int64_t>(end)});
        }
      };
  walk(root_, "/");
  return out;
}

std::unique_ptr<FaultFileSystem> FaultFileSystem::CloneAfterCrash(const CrashPolicy& policy) const {
  absl::MutexLock lock(&mu_);
  auto clone = std::make_unique<FaultFileSystem>();
  std::unordered_map<const Node*, std::shared_ptr<Node>> copies;
  std::function<std::shared_ptr<Node>(const std::shared_ptr<Node>&, const std::string&)> copy =
      [&](const std::shared_ptr<Node>& node, const std::string& path) -> std::shared_ptr<Node> {
    auto found = copies.find(node.get());
    if (found != copies.end()) return found->second;
    auto out = std::make_shared<Node>();
    copies[node.get()] = out;
    out->is_dir = node->is_dir;
    if (node->is_dir) {
      for (const auto& [name, child] : node->durable_children) {
        out->children[name] = copy(child, path == "/" ? "/" + name : path + "/" + name);
      }
      out->durable_children = out->children;
    } else {
      out->data =
          node->data == node->durable ? node->durable : policy(path, node->durable, node->data);
      out->durable = out->data;
    }
    return out;
  };
  std::shared_ptr<Node> root = copy(root_, "/");
  absl::MutexLock clone_lock(&clone->mu_);
  clone->root_ = root;
  return clone;
}

absl::StatusOr<std::string> FaultFileSystem::ReadFile(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<Node> node = Lookup(path);
  if (node == nullptr || node->is_dir) return NotFound("read", path);
  return node->data;
}

absl::Status FaultFileSystem::WriteFile(const std::string& path, const std::string& content) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<Node> node = Lookup(path);
  if (node == nullptr || node->is_dir) return NotFound("write", path);
  node->data = content;
  node->durable = content;
  return absl::OkStatus();
}

std::string FaultFileSystem::KeepPrefix(const std::string& durable, const std::string& current,
                                        int64_t n) {
  const size_t keep = std::min(static_cast<size_t>(std::max<int64_t>(n, 0)), current.size());
  if (keep == current.size()) return current;
  std::string out = current.substr(0, keep);
  if (durable.size() > keep) out.append(durable, keep, std::string::npos);
  return out;
}

std::string FaultFileSystem::LoseSector(const std::string& durable, const std::string& current,
                                        int64_t sector) {
  std::string out = current;
  const size_t begin = static_cast<size_t>(sector) * 512;
  const size_t end = std::min(begin + 512, out.size());
  for (size_t i = begin; i < end; ++i) out[i] = i < durable.size() ? durable[i] : '\0';
  return out;
}

}  // namespace etcd::wal
