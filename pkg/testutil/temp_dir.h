// A temporary directory that removes itself.
//
//   ASSERT_OK_AND_ASSIGN(etcd::testutil::TempDir dir, etcd::testutil::TempDir::Create("wal"));
//   std::string data_dir = dir.Join("member");   // "<TEST_TMPDIR>/wal.XXXXXX/member"
//   // ... removed with everything in it when `dir` goes out of scope.
//
// Created under $TEST_TMPDIR when set (bazel test sets it), else under /tmp.
// Movable, not copyable; thread-compatible.

#ifndef ETCD_PKG_TESTUTIL_TEMP_DIR_H_
#define ETCD_PKG_TESTUTIL_TEMP_DIR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::testutil {

class TempDir {
 public:
  // Creates "<base>/<prefix>.XXXXXX" with mode 0700.
  static absl::StatusOr<TempDir> Create(absl::string_view prefix = "tmp");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Removes the directory and everything in it; errors are ignored.
  ~TempDir();

  // Absolute path, without a trailing '/'; empty after a move.
  const std::string& path() const { return path_; }

  // path() + "/" + relative.
  std::string Join(absl::string_view relative) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

// Removes `path` and, if it is a directory, everything below it (symlinks
// are removed, not followed; directories without write or search permission
// are made accessible first). A missing path is OK.
absl::Status RemoveAll(const std::string& path);

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_TEMP_DIR_H_
