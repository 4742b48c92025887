// File helpers for tests: whole-file reads and writes, and the path of a
// data dependency in the test's runfiles.
//
//   ASSERT_OK_AND_ASSIGN(std::string golden,
//                        etcd::testutil::ReadFile(etcd::testutil::RunfilePath(
//                            "pkg/testutil/testdata/hello.txt")));
//   ASSERT_OK(etcd::testutil::WriteFile(dir.Join("conf.yml"), "name: m1\n"));
//
// Functions only; thread-safe (concurrent writes to one file race as usual).

#ifndef ETCD_PKG_TESTUTIL_FILES_H_
#define ETCD_PKG_TESTUTIL_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::testutil {

// The whole contents of `path`. NotFound if it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Creates or truncates `path` (mode 0644 less the umask) and writes
// `contents`.
absl::Status WriteFile(const std::string& path, absl::string_view contents);

// The path of `relative` (a workspace-relative path such as
// "e2e/testdata/server.crt") among the runfiles of the running test:
// $TEST_SRCDIR/$TEST_WORKSPACE/relative under `bazel test`, then
// $RUNFILES_DIR/etcd_cpp/relative, then <binary>.runfiles/etcd_cpp/relative,
// and finally `relative` itself (the current directory of a test is its
// workspace's runfiles root).
std::string RunfilePath(absl::string_view relative);

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_FILES_H_
