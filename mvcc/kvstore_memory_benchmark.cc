// Memory per key: puts N keys of 8 bytes with 256-byte values (one revision
// each) and reports the growth of the process's resident memory per key,
// split into anonymous memory (the index, buffers, allocator) and pages of
// the memory-mapped database file.
//
//   bazel run -c opt //mvcc:kvstore_memory_benchmark -- [keys=1000000]

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "mvcc/backend/backend.h"
#include "mvcc/kvstore.h"
#include "pkg/testutil/temp_dir.h"

namespace {

struct Rss {
  int64_t anon = 0;  // bytes
  int64_t file = 0;
};

Rss ReadRss() {
  Rss rss;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb = 0;
    if (line.rfind("RssAnon:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8, line.size() - 8 - 3)), &kb)) {
      rss.anon = kb * 1024;
    }
    if (line.rfind("RssFile:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8, line.size() - 8 - 3)), &kb)) {
      rss.file = kb * 1024;
    }
  }
  return rss;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etcd::mvcc;  // NOLINT: a small benchmark program
  int64_t n = 1000000;
  if (argc > 1 && !absl::SimpleAtoi(argv[1], &n)) {
    std::fprintf(stderr, "usage: %s [keys]\n", argv[0]);
    return 2;
  }
  auto dir = etcd::testutil::TempDir::Create("kvstore_memory");
  if (!dir.ok()) return 1;
  backend::BackendOptions options;
  options.path = dir->Join("db");
  auto be = backend::Backend::Open(options);
  if (!be.ok()) return 1;
  auto store = Store::Open(be->get());
  if (!store.ok()) return 1;

  const std::string value(256, 'v');
  const Rss before = ReadRss();
  const absl::Time start = absl::Now();
  char key[9];
  for (int64_t i = 0; i < n; ++i) {
    // 8-byte keys, spread over the key space like random ones.
    const uint64_t k = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
    for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(k >> (8 * b));
    (*store)->Put(absl::string_view(key, 8), value, kNoLease);
  }
  (*store)->Commit();
  const absl::Duration took = absl::Now() - start;
  const Rss after = ReadRss();

  const double anon = static_cast<double>(after.anon - before.anon) / n;
  const double file = static_cast<double>(after.file - before.file) / n;
  std::printf("keys: %lld, puts took %s (%.0f puts/s)\n", static_cast<long long>(n),
              absl::FormatDuration(took).c_str(), n / absl::ToDoubleSeconds(took));
  std::printf("index keys: %zu, database file: %.1f MiB\n", (*store)->index().KeyCount(),
              (*be)->Size() / 1048576.0);
  std::printf(
      "RSS per key: %.1f bytes anonymous (index, buffers) + %.1f bytes file-mapped = %.1f\n", anon,
      file, anon + file);
  (*store)->Close().IgnoreError();
  store->reset();
  (*be)->Close().IgnoreError();
  return 0;
}
