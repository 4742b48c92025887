// Data-driven tests in the file format of cockroachdb/datadriven, the format
// of etcd raft's testdata/*.txt transcripts.
//
//   TEST(QuorumTest, DataDriven) {
//     for (const std::string& path : datadriven::ListTestFiles("testdata")) {
//       SCOPED_TRACE(path);
//       datadriven::RunTest(path, [&](const datadriven::TestData& d) {
//         uint64_t id = 0;
//         if (absl::Status s = d.ScanArgs("id", &id); !s.ok()) return s.ToString();
//         return Describe(id);  // compared with the text after "----"
//       });
//     }
//   }
//
// A file is a sequence of test cases. Each case is a directive line
//
//   <cmd> [key | key=value | key=(v1, v2, ...)]...
//
// optionally followed by input lines, a "----" separator line and the
// expected output, which ends at the first blank line (or at the end of the
// file):
//
//   committed cfg=(1,2,3) idx=(12,5,_)
//   ----
//   5
//
// Output that itself contains blank lines is written between doubled
// separators:
//
//   cmd
//   ----
//   ----
//   first paragraph
//
//   second paragraph
//   ----
//   ----
//
// Outside a case, blank lines and lines starting with '#' are ignored, and a
// directive line ending in '\' continues on the next line. Values in
// parentheses may nest parentheses; top-level commas separate them.
// (cockroachdb's "subtest" directive is not supported; etcd does not use it.)
//
// Rewrite mode: with DATADRIVEN_REWRITE=1 in the environment, RunTest writes
// the actual output of every case back into the file instead of comparing
// (`bazel test --test_env=DATADRIVEN_REWRITE=1 //x:y_test`, or `bazel run` with
// the variable set, where relative paths are resolved against the
// workspace). Symbolic links (Bazel's runfiles) are followed to the source
// file. Review the resulting diff before committing. Files outside the project
// (etcd's installed transcripts) are never rewritten: set
// Options::allow_rewrite = false for them; paths under /usr are refused
// regardless.
//
// Everything here is single-threaded: a TestData is a plain value, and the
// functions keep no global state beyond reading the environment.

#ifndef ETCD_PKG_DATADRIVEN_DATADRIVEN_H_
#define ETCD_PKG_DATADRIVEN_DATADRIVEN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::datadriven {

// One argument of a directive line: `key` (no values), `key=v` (one value) or
// `key=(v1, v2)` (several). `key=` has one empty value.
struct CmdArg {
  std::string key;
  std::vector<std::string> vals;

  // The argument as it would be written on a directive line.
  std::string ToString() const;

  // Parses vals[i] into `dest`. Supported: std::string, bool ("true"/"false",
  // "1"/"0", "t"/"f"), int, int64_t, uint64_t.
  absl::Status Scan(size_t i, std::string* dest) const;
  absl::Status Scan(size_t i, bool* dest) const;
  absl::Status Scan(size_t i, int* dest) const;
  absl::Status Scan(size_t i, int64_t* dest) const;
  absl::Status Scan(size_t i, uint64_t* dest) const;
};

// One parsed test case.
struct TestData {
  // "file:line" of the directive line, for messages.
  std::string pos;
  // The 1-based line number of the directive line.
  int line = 0;
  // The first word of the directive line.
  std::string cmd;
  std::vector<CmdArg> cmd_args;
  // The lines between the directive and the separator, whitespace-trimmed at
  // both ends as a whole.
  std::string input;
  // The text after the separator; every line ends in '\n' (empty if the
  // expected output is empty).
  std::string expected;
  // True when the file is being rewritten (DATADRIVEN_REWRITE=1).
  bool rewrite = false;

  // Whether an argument named `key` is present.
  bool HasArg(absl::string_view key) const;
  // The first argument named `key`, or nullptr.
  const CmdArg* Arg(absl::string_view key) const;

  // Scans the first argument named `key` into `dests`, one per value; fails
  // if the argument is missing, the number of values differs or a value does
  // not parse. Errors carry `pos`.
  template <typename... T>
  absl::Status ScanArgs(absl::string_view key, T*... dests) const {
    const CmdArg* arg = Arg(key);
    if (arg == nullptr) return Error("missing argument: " + std::string(key));
    if (arg->vals.size() != sizeof...(T)) {
      return Error(arg->key + ": got " + std::to_string(sizeof...(T)) + " destinations, but " +
                   std::to_string(arg->vals.size()) + " values");
    }
    absl::Status status;
    size_t i = 0;
    // Scans in order, stopping at the first failure.
    ((status.ok() ? (void)(status = arg->Scan(i++, dests)) : (void)0), ...);
    if (!status.ok()) return Error(arg->key + ": " + std::string(status.message()));
    return absl::OkStatus();
  }

  // The directive line, re-assembled from cmd and cmd_args.
  std::string DirectiveLine() const;

 private:
  absl::Status Error(const std::string& msg) const;
};

// Parses a directive line into `cmd` and `args`. A blank line gives an empty
// cmd. Errors name the column at which parsing failed.
absl::Status ParseLine(absl::string_view line, std::string* cmd, std::vector<CmdArg>* args);

// A parsed file: its cases plus what is needed to rewrite it.
struct TestFile {
  std::string source_name;
  std::vector<TestData> cases;

  // Where each case's expected output sits in the file's lines:
  // [expected_begin[i], expected_end[i]) is replaced when rewriting (the
  // separators and the terminating blank line included). A case without
  // separator has an empty range at the end of its input.
  std::vector<size_t> expected_begin;
  std::vector<size_t> expected_end;
  std::vector<std::string> lines;
};

// Parses `contents`; `source_name` prefixes positions ("name:line").
absl::StatusOr<TestFile> Parse(absl::string_view contents, absl::string_view source_name);

// Computes the actual output of one case. A non-empty result without a
// trailing newline gets one before comparing.
using Handler = std::function<std::string(const TestData&)>;

struct Options {
  // Applied to both the expected and the actual output before they are
  // compared, e.g. to drop free-text log lines (see DropLines). Not applied
  // to what rewrite mode writes.
  std::function<std::string(absl::string_view)> normalize;
  // Whether DATADRIVEN_REWRITE=1 may rewrite this file. Set to false for
  // files that are not the project's own.
  bool allow_rewrite = true;
  // Stop after the first mismatching case (later cases usually depend on the
  // state the mismatching one left behind). With false, all mismatches are
  // reported.
  bool stop_at_first_mismatch = true;
};

// A normalizer for Options::normalize that removes every line for which
// `drop` returns true. `drop` sees the line without its newline.
std::function<std::string(absl::string_view)> DropLines(
    std::function<bool(absl::string_view line)> drop);

// A line diff of `expected` against `actual` ("-" lines only in expected,
// "+" only in actual, " " in both), with `context` unchanged lines around
// each change.
std::string Diff(absl::string_view expected, absl::string_view actual, int context = 3);

// A case whose output differs from the expected one.
struct Mismatch {
  // The directive's 1-based line number in the file.
  int line = 0;
  // "file:line: output didn't match expected", the directive, its input and
  // a diff of the (normalized) expected and actual outputs.
  std::string message;
};

// The result of running one file.
struct RunResult {
  // Number of cases run.
  int cases_run = 0;
  std::vector<Mismatch> mismatches;
  // The file with every case's expected output replaced by its actual output
  // (meaningful only when `completed`).
  std::string rewritten;
  // Whether every case ran (no early stop).
  bool completed = false;
  // Whether the run was in rewrite mode (nothing compared).
  bool rewrite = false;

  bool ok() const { return mismatches.empty(); }
};

// Runs every case of a parsed file through `handler` and compares (unless in
// rewrite mode: Options::allow_rewrite and DATADRIVEN_REWRITE set). `stop`,
// when set, is asked after each case whether to abort the run (the gtest
// wrapper stops when the handler recorded a test failure). Writes nothing.
RunResult RunCases(const TestFile& file, const Handler& handler, const Options& options = {},
                   const std::function<bool()>& stop = nullptr);

// Parses `contents` and runs it; parse errors come back as the status.
absl::StatusOr<RunResult> RunFromString(absl::string_view contents, absl::string_view source_name,
                                        const Handler& handler, const Options& options = {});

// Whether DATADRIVEN_REWRITE is set to a true value ("1", "true").
bool RewriteRequested();

// The googletest entry point: runs the file at `path`, recording one test
// failure per mismatch (with file:line and a diff) or for an unreadable or
// malformed file. Stops when the handler records a fatal or non-fatal
// failure. In rewrite mode (and when allowed) writes the actual outputs back
// instead of comparing.
void RunTest(const std::string& path, const Handler& handler, const Options& options = {});

// Like RunTest, on a string (never rewritten).
void RunTestFromString(absl::string_view contents, const Handler& handler,
                       const Options& options = {});

// The regular files under `dir`, recursively, sorted by path; hidden and
// editor temporary files (".x", "x~", "#x#") are skipped. Empty if `dir` does
// not exist.
std::vector<std::string> ListTestFiles(const std::string& dir);

// The file name of `path` without directory and extension, with characters
// other than letters, digits and '_' replaced by '_' so that it can name a
// googletest case ("a/b/joint-commit.txt" -> "joint_commit").
std::string TestName(absl::string_view path);

}  // namespace etcd::datadriven

#endif  // ETCD_PKG_DATADRIVEN_DATADRIVEN_H_
