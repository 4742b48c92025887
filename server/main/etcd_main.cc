// The etcd member binary. The server is not built yet (issue "The etcd
// member"); until then it reports its version and says so.

#include <cstdio>
#include <cstring>

#include "api/version/version.h"

int main(int argc, char** argv) {
  std::printf("etcd Version: %s\n", etcd::version::kServerVersion);
  std::printf("etcd-cpp Version: %s\n", etcd::version::kProjectVersion);
  std::printf("API Version: %s\n", etcd::version::kApiVersion);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-version") == 0) return 0;
  }
  std::fprintf(stderr, "etcd: the server is not implemented yet\n");
  return 1;
}
