#include "pkg/log/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace etcd::log {

void StringSink::Write(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  contents_.append(line.data(), line.size());
}

std::string StringSink::contents() const {
  absl::MutexLock lock(&mu_);
  return contents_;
}

std::vector<std::string> StringSink::Lines() const {
  absl::MutexLock lock(&mu_);
  absl::string_view text = contents_;
  if (text.empty()) return {};
  if (text.back() == '\n') text.remove_suffix(1);
  return absl::StrSplit(text, '\n');
}

void StringSink::Clear() {
  absl::MutexLock lock(&mu_);
  contents_.clear();
}

FdSink::~FdSink() {
  if (owned_) close(fd_);
}

void FdSink::Write(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  while (!line.empty()) {
    const ssize_t n = write(fd_, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    line.remove_prefix(static_cast<size_t>(n));
  }
}

absl::Status FdSink::Sync() {
  absl::MutexLock lock(&mu_);
  struct stat st;
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return absl::OkStatus();
  if (fsync(fd_) != 0) {
    return absl::InternalError(absl::StrCat("fsync log output: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::shared_ptr<Sink> StderrSink() {
  static const auto* const sink = new std::shared_ptr<Sink>(new FdSink(STDERR_FILENO, false));
  return *sink;
}

std::shared_ptr<Sink> StdoutSink() {
  static const auto* const sink = new std::shared_ptr<Sink>(new FdSink(STDOUT_FILENO, false));
  return *sink;
}

absl::StatusOr<std::shared_ptr<Sink>> OpenFileSink(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open log output \"", path, "\": ", std::strerror(err)));
  }
  return std::shared_ptr<Sink>(new FdSink(fd, true));
}

absl::StatusOr<std::vector<std::shared_ptr<Sink>>> OpenOutputs(
    absl::Span<const std::string> outputs) {
  std::set<std::string> names;
  for (const std::string& output : outputs) {
    names.insert(output == "default" ? "stderr" : output);
  }
  if (names.empty()) names.insert("stderr");
  if (names.count("/dev/null") != 0) return std::vector<std::shared_ptr<Sink>>{};

  std::vector<std::shared_ptr<Sink>> sinks;
  for (const std::string& name : names) {
    if (name == "stderr") {
      sinks.push_back(StderrSink());
    } else if (name == "stdout") {
      sinks.push_back(StdoutSink());
    } else if (name == "journal") {
      return absl::UnimplementedError("log output \"journal\" (systemd) is not supported");
    } else {
      absl::StatusOr<std::shared_ptr<Sink>> file = OpenFileSink(name);
      if (!file.ok()) return file.status();
      sinks.push_back(*std::move(file));
    }
  }
  return sinks;
}

}  // namespace etcd::log
