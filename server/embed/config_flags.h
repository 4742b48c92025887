// Reading a member's Config the way etcd's server reads it: command-line
// flags, ETCD_* environment variables, or a --config-file YAML file.
//
//   etcd::embed::ParseResult result = etcd::embed::ParseCommandLine(
//       std::vector<std::string>(argv + 1, argv + argc),
//       etcd::embed::ParseOptions::FromProcess());
//   switch (result.outcome) {
//     case etcd::embed::ParseOutcome::kHelp:     // print UsageText(), FlagsHelpText()
//     case etcd::embed::ParseOutcome::kVersion:  // print VersionText()
//     case etcd::embed::ParseOutcome::kFlagError:
//     case etcd::embed::ParseOutcome::kConfigError:  // print result.status
//       return result.exit_code();
//     case etcd::embed::ParseOutcome::kRun:
//       StartServer(result.config);
//   }
//
// The rules are etcd 3.5's (etcdmain/config.go, pkg/flags):
//  - Flags follow Go's `flag` package: `--name=v`, `-name v`, `--bool`,
//    `--bool=false`; a repeated flag's last value wins. Syntax errors, unknown
//    flags and unparsable values are kFlagError (exit 2).
//  - `ETCD_<FLAG>` (upper case, '-' -> '_') sets a flag that is not on the
//    command line. A variable for a flag that *is* on the command line is an
//    error (`conflicting environment variable "ETCD_NAME" is shadowed by
//    corresponding command-line flag ...`); unknown ETCD_* variables are
//    reported as notices.
//  - `--config-file` (or ETCD_CONFIG_FILE) loads a YAML file with etcd's
//    keys; then every other flag and variable is ignored. Unknown keys are
//    ignored (with a notice).
//  - Then etcd's validation (Config::Validate); its errors, leftover
//    arguments, environment conflicts and config-file errors are
//    kConfigError (exit 1, as etcd exits there).
//  - Finally, as etcd does before starting: an unchanged --initial-cluster
//    follows a changed --name ("infra0=<advertised peer URL>"), an empty
//    --data-dir becomes "<name>.etcd", --snapshot-count 0 becomes 100000,
//    an out-of-range --bcrypt-cost becomes 10 and raft timeouts under 5s
//    become 5s (each with a notice).
//  - When the environment has BUILD_WORKING_DIRECTORY (set by `bazel run`),
//    relative file paths (data and WAL dirs, config file, TLS files, log
//    files) are made absolute against it; otherwise they stay relative to
//    the working directory.
//
// Functions only; thread-safe (they read no process state except through
// ParseOptions::FromProcess and the config file).

#ifndef ETCD_SERVER_EMBED_CONFIG_FLAGS_H_
#define ETCD_SERVER_EMBED_CONFIG_FLAGS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "pkg/log/level.h"
#include "server/embed/config.h"

namespace etcd::embed {

struct ParseOptions {
  // "KEY=VALUE" entries, as in environ(7). ETCD_* variables, ETCD_CONFIG_FILE
  // and BUILD_WORKING_DIRECTORY are read from here.
  std::vector<std::string> environment;

  // This process's environment.
  static ParseOptions FromProcess();
};

// Something worth logging that is not an error, e.g. "recognized and used
// environment variable" with fields {"variable-name", "ETCD_NAME"}.
struct Notice {
  log::Level level = log::Level::kInfo;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};

enum class ParseOutcome {
  // `config` is valid: start the member.
  kRun,
  // -h/--help: print UsageText() to stderr and FlagsHelpText() to stdout.
  kHelp,
  // --version: print VersionText() to stdout.
  kVersion,
  // A flag syntax or value error: print `status` and UsageText() to stderr.
  kFlagError,
  // The configuration is wrong (validation, environment, config file):
  // report `status`.
  kConfigError,
};

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::kRun;
  // The error of kFlagError and kConfigError.
  absl::Status status;
  // The effective configuration (complete for kRun).
  Config config;
  // The config file read, if any (absolute when resolved).
  std::string config_file;
  // In the order they happened.
  std::vector<Notice> notices;

  // etcd's exit status: 0 for help and version, 2 for flag errors, 1 for
  // configuration errors; 0 for kRun.
  int exit_code() const;
};

// Parses `args` (the command line without the program name).
ParseResult ParseCommandLine(absl::Span<const std::string> args, const ParseOptions& options);

// Reads a config file as --config-file does, validates it and applies the
// final defaults. `path` is resolved as ParseCommandLine resolves it.
absl::StatusOr<Config> ConfigFromFile(const std::string& path, const ParseOptions& options,
                                      std::vector<Notice>* notices = nullptr);
// The same for the YAML `text` of a file named `path` (used in messages).
absl::StatusOr<Config> ConfigFromYaml(absl::string_view text, const std::string& path,
                                      const ParseOptions& options,
                                      std::vector<Notice>* notices = nullptr);

// The "Usage:" block etcd prints for -h and flag errors.
std::string UsageText();
// The flag list of --help: every flag by section, with its default.
std::string FlagsHelpText();
// --version output: "etcd Version: 3.5.0\nGit SHA: ...\nGo Version: ...\n
// Go OS/Arch: linux/amd64\n", with this build's equivalents.
std::string VersionText();

// Every flag name ParseCommandLine accepts (without dashes), including
// hidden and ignored ones, sorted.
std::vector<std::string> KnownFlagNames();
// The default of `flag` as FlagsHelpText() shows it; NotFound if unknown.
absl::StatusOr<std::string> FlagDefaultText(absl::string_view flag);

}  // namespace etcd::embed

#endif  // ETCD_SERVER_EMBED_CONFIG_FLAGS_H_
