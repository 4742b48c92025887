// Test helpers: scratch directories and whole-file reads and writes.
//
//   std::string dir = etcd::fileutil::testing::MakeTempDir();
//   etcd::fileutil::testing::WriteFile(dir + "/a", "data");
//
// Aborts on any failure, since a test cannot proceed without its fixtures.
// Thread-safe.

#ifndef ETCD_PKG_FILEUTIL_FILEUTIL_TESTING_H_
#define ETCD_PKG_FILEUTIL_FILEUTIL_TESTING_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace etcd::fileutil::testing {

// A new empty directory under $TEST_TMPDIR (set by Bazel), or /tmp.
inline std::string MakeTempDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(root != nullptr && *root != '\0' ? root : "/tmp") + "/fileutil_test.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 ||
      write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    std::perror(path.c_str());
    std::abort();
  }
  close(fd);
}

inline std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace etcd::fileutil::testing

#endif  // ETCD_PKG_FILEUTIL_FILEUTIL_TESTING_H_
