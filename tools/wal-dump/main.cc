// wal-dump: prints the raft log of an etcd data directory, like etcd's
// etcd-dump-logs.
//
//   wal-dump [-start-snap NAME | -start-index N] [-entry-type TYPES] [-wal-dir DIR] DATA_DIR
//
// Flags take Go's forms: -flag value, -flag=value, --flag=value.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/wal-dump/dump.h"

namespace {

constexpr char kUsage[] =
    "Usage: wal-dump [flags] DATA_DIR\n"
    "  -entry-type string\n"
    "        If set, filters output by entry type. Must be one or more than one of:\n"
    "        ConfigChange, Normal, Request, InternalRaftRequest,\n"
    "        IRRRange, IRRPut, IRRDeleteRange, IRRTxn,\n"
    "        IRRCompaction, IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint\n"
    "        (default \"Normal,ConfigChange\")\n"
    "  -start-index uint\n"
    "        The index to start dumping\n"
    "  -start-snap string\n"
    "        The base name of snapshot file to start dumping\n"
    "  -wal-dir string\n"
    "        If set, dumps WAL from the informed path, rather than following the standard\n"
    "        'data_dir/member/wal/' location\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  etcd::tools::DumpOptions options;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      args.push_back(arg);
      continue;
    }
    arg = arg.substr(arg[1] == '-' ? 2 : 1);
    if (arg == "h" || arg == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::string name = arg, value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Fail(absl::StrCat("flag needs an argument: -", name, "\n", kUsage));
    }
    if (name == "start-snap") {
      options.start_snap = value;
    } else if (name == "start-index") {
      if (!absl::SimpleAtoi(value, &options.start_index)) {
        Fail(absl::StrCat("invalid value \"", value, "\" for flag -start-index"));
      }
    } else if (name == "entry-type") {
      options.entry_types = value;
    } else if (name == "wal-dir") {
      options.wal_dir = value;
    } else {
      Fail(absl::StrCat("flag provided but not defined: -", name, "\n", kUsage));
    }
  }
  if (args.size() != 1) {
    Fail(absl::StrCat("Must provide data-dir argument (got ", args.size(), " arguments)"));
  }
  options.data_dir = args[0];
  std::string out;
  absl::Status status = etcd::tools::DumpDataDir(options, &out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!status.ok()) Fail(std::string(status.message()));
  return 0;
}
