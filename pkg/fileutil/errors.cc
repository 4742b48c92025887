#include "pkg/fileutil/errors.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace etcd::fileutil::internal {

absl::Status ErrnoError(int err, absl::string_view op, absl::string_view what) {
  return absl::ErrnoToStatus(err, absl::StrCat(op, " ", what));
}

absl::Status FdError(absl::string_view op, int fd) {
  const int err = errno;
  return ErrnoError(err, op, DescribeFd(fd));
}

std::string DescribeFd(int fd) {
  char buf[PATH_MAX];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  if (n <= 0 || n >= static_cast<ssize_t>(sizeof(buf))) return absl::StrCat("fd ", fd);
  return std::string(buf, static_cast<size_t>(n));
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

}  // namespace etcd::fileutil::internal
