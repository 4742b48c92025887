// Error construction shared by the fileutil sources (not part of the API).

#ifndef ETCD_PKG_FILEUTIL_ERRORS_H_
#define ETCD_PKG_FILEUTIL_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace etcd::fileutil::internal {

// "<op> <what>: <strerror(err)>" with the code errno maps to, e.g.
// "open /data/member/wal/0.wal: No such file or directory" (NotFound).
absl::Status ErrnoError(int err, absl::string_view op, absl::string_view what);

// ErrnoError for the current errno and the path descriptor `fd` refers to.
// Reads errno before anything can clobber it.
absl::Status FdError(absl::string_view op, int fd);

// The path an open descriptor refers to, for messages; "fd N" if unknown.
std::string DescribeFd(int fd);

// dir + "/" + name without doubling a trailing slash.
std::string JoinPath(absl::string_view dir, absl::string_view name);

}  // namespace etcd::fileutil::internal

#endif  // ETCD_PKG_FILEUTIL_ERRORS_H_
