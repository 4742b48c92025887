// Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer.
//
// Usage: <binary> PATH...   where each PATH is a file or a directory whose
// regular files (recursively) are inputs. Exits non-zero when no input was
// found, so a test with a missing corpus cannot pass by accident.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

bool ReplayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy in its own allocation so out-of-bounds reads are caught by ASan.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.empty() && arg[0] == '-') continue;  // libFuzzer-style flags
    std::filesystem::path root(arg);
    std::error_code ec;
    if (std::filesystem::is_directory(root, ec)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) continue;
        if (!ReplayFile(entry.path())) return 1;
        ++replayed;
      }
    } else if (std::filesystem::is_regular_file(root, ec)) {
      if (!ReplayFile(root)) return 1;
      ++replayed;
    } else {
      std::fprintf(stderr, "no such corpus path: %s\n", arg.c_str());
      return 1;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  if (replayed == 0) {
    std::fprintf(stderr, "no fuzz inputs found\n");
    return 1;
  }
  return 0;
}
