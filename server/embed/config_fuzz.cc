// Fuzzes the command-line parser and the config-file reader: neither may
// crash, hang or leak on any input. The first byte picks the reader; for the
// command line, the rest is split into arguments at NUL bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "server/embed/config_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  etcd::embed::ParseOptions options;
  if (data[0] % 2 == 0) {
    std::vector<std::string> args = absl::StrSplit(input, '\0');
    etcd::embed::ParseResult result = etcd::embed::ParseCommandLine(args, options);
    (void)result.exit_code();
  } else {
    (void)etcd::embed::ConfigFromYaml(input, "fuzz.yml", options);
  }
  return 0;
}
