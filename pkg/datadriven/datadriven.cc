#include "pkg/datadriven/datadriven.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace etcd::datadriven {
namespace {

constexpr absl::string_view kSeparator = "----";

absl::Status ScanError(const CmdArg& arg, size_t i, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse \"", arg.vals[i], "\" as ", what, " (", arg.key, ")"));
}

absl::Status CheckIndex(const CmdArg& arg, size_t i) {
  if (i >= arg.vals.size()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot scan index ", i, " of key ", arg.key));
  }
  return absl::OkStatus();
}

// Splits like a line scanner: a trailing newline does not start another line,
// and a '\r' before a newline is dropped.
std::vector<std::string> SplitLines(absl::string_view contents) {
  std::vector<std::string> lines;
  if (contents.empty()) return lines;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
  }
  if (absl::EndsWith(contents, "\n")) lines.pop_back();
  return lines;
}

// Whether some line of `s` (each terminated by '\n') is empty or blank.
bool HasBlankLine(absl::string_view s) {
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == absl::string_view::npos) return false;
    absl::string_view line = s.substr(start, end - start);
    if (line.find_first_not_of(" \t") == absl::string_view::npos) return true;
    start = end + 1;
  }
  return false;
}

std::vector<absl::string_view> OutputLines(absl::string_view s) {
  std::vector<absl::string_view> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == absl::string_view::npos) end = s.size();
    lines.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Consumes what follows a "----" line at lines[*i]; returns the expected text.
absl::StatusOr<std::string> ReadExpected(const std::vector<std::string>& lines, size_t* i,
                                         absl::string_view source_name) {
  const size_t n = lines.size();
  std::string out;
  std::string line;
  bool double_separator = false;
  if (*i < n) {
    line = lines[(*i)++];
    double_separator = (line == kSeparator);
  }
  if (!double_separator) {
    // Ends at the first blank line, which belongs to this case.
    while (absl::StripAsciiWhitespace(line) != "") {
      absl::StrAppend(&out, line, "\n");
      if (*i >= n) break;
      line = lines[(*i)++];
    }
    return out;
  }
  // Ends at two consecutive separator lines, followed by a blank line or the
  // end of the file.
  while (*i < n) {
    line = lines[(*i)++];
    if (line == kSeparator && *i < n) {
      const std::string& next = lines[(*i)++];
      if (next == kSeparator) {
        if (*i < n) {
          const std::string& after = lines[(*i)++];
          if (!after.empty()) {
            return absl::InvalidArgumentError(
                absl::StrCat(source_name, ":", *i,
                             ": non-blank line after end of double ---- separator section"));
          }
        }
        return out;
      }
      absl::StrAppend(&out, line, "\n", next, "\n");
      continue;
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatOutput(const std::string& actual) {
  std::string out = absl::StrCat(kSeparator, "\n");
  if (HasBlankLine(actual)) {
    absl::StrAppend(&out, kSeparator, "\n", actual, kSeparator, "\n", kSeparator, "\n\n");
  } else {
    absl::StrAppend(&out, actual, "\n");
  }
  return out;
}

std::string Rewritten(const TestFile& file, const std::vector<std::string>& outputs) {
  std::string out;
  size_t next_line = 0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    for (; next_line < file.expected_begin[k]; ++next_line) {
      absl::StrAppend(&out, file.lines[next_line], "\n");
    }
    absl::StrAppend(&out, FormatOutput(outputs[k]));
    next_line = file.expected_end[k];
  }
  for (; next_line < file.lines.size(); ++next_line) {
    absl::StrAppend(&out, file.lines[next_line], "\n");
  }
  if (absl::EndsWith(out, "\n\n")) out.pop_back();
  return out;
}

std::string MismatchMessage(const TestData& d, const std::string& expected,
                            const std::string& actual) {
  std::string msg =
      absl::StrCat(d.pos, ": output didn't match expected\n", d.DirectiveLine(), "\n");
  if (!d.input.empty()) absl::StrAppend(&msg, d.input, "\n");
  absl::StrAppend(&msg, "--- expected\n+++ actual\n", Diff(expected, actual));
  return msg;
}

bool IsTempFileName(const std::string& name) {
  if (name.empty() || name[0] == '.') return true;
  if (name.back() == '~') return true;
  return name.size() >= 2 && name.front() == '#' && name.back() == '#';
}

void ListInto(const std::filesystem::path& dir, std::vector<std::string>* out) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (IsTempFileName(entry.path().filename().string())) continue;
    if (entry.is_directory(ec)) {
      ListInto(entry.path(), out);
    } else if (entry.is_regular_file(ec)) {
      out->push_back(entry.path().string());
    }
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return buf.str();
}

// Where rewrite mode writes `path`: relative paths under `bazel run` are
// resolved against the workspace, symbolic links are followed.
absl::StatusOr<std::string> RewriteTarget(const std::string& path) {
  std::filesystem::path target(path);
  const char* workspace = getenv("BUILD_WORKSPACE_DIRECTORY");
  if (target.is_relative() && workspace != nullptr && *workspace != '\0') {
    target = std::filesystem::path(workspace) / target;
  }
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::canonical(target, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot resolve ", path, ": ", ec.message()));
  if (absl::StartsWith(resolved.string(), "/usr/")) {
    return absl::PermissionDeniedError(
        absl::StrCat("refusing to rewrite ", resolved.string(), ": not a project file"));
  }
  return resolved.string();
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  out << contents;
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Counts the failed test parts recorded so far in the running googletest.
int FailureCount() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return 0;
  const ::testing::TestResult* result = info->result();
  int failures = 0;
  for (int i = 0; i < result->total_part_count(); ++i) {
    if (result->GetTestPartResult(i).failed()) ++failures;
  }
  return failures;
}

void RunParsed(const TestFile& file, const std::string& path, const Handler& handler,
               const Options& options, bool may_write) {
  const int failures_before = FailureCount();
  RunResult result =
      RunCases(file, handler, options, [&] { return FailureCount() > failures_before; });
  for (const Mismatch& mismatch : result.mismatches) {
    ADD_FAILURE_AT(path.c_str(), mismatch.line) << mismatch.message;
  }
  if (!result.rewrite || !may_write || !result.completed) return;
  absl::StatusOr<std::string> target = RewriteTarget(path);
  if (!target.ok()) {
    ADD_FAILURE() << target.status();
    return;
  }
  if (absl::Status s = WriteFile(*target, result.rewritten); !s.ok()) {
    ADD_FAILURE() << s;
  }
}

}  // namespace

std::string CmdArg::ToString() const {
  switch (vals.size()) {
    case 0:
      return key;
    case 1:
      return absl::StrCat(key, "=", vals[0]);
    default:
      return absl::StrCat(key, "=(", absl::StrJoin(vals, ", "), ")");
  }
}

absl::Status CmdArg::Scan(size_t i, std::string* dest) const {
  if (absl::Status s = CheckIndex(*this, i); !s.ok()) return s;
  *dest = vals[i];
  return absl::OkStatus();
}

absl::Status CmdArg::Scan(size_t i, bool* dest) const {
  if (absl::Status s = CheckIndex(*this, i); !s.ok()) return s;
  const std::string& v = vals[i];
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") {
    *dest = true;
  } else if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    *dest = false;
  } else {
    return ScanError(*this, i, "bool");
  }
  return absl::OkStatus();
}

absl::Status CmdArg::Scan(size_t i, int* dest) const {
  if (absl::Status s = CheckIndex(*this, i); !s.ok()) return s;
  if (!absl::SimpleAtoi(vals[i], dest)) return ScanError(*this, i, "int");
  return absl::OkStatus();
}

absl::Status CmdArg::Scan(size_t i, int64_t* dest) const {
  if (absl::Status s = CheckIndex(*this, i); !s.ok()) return s;
  if (!absl::SimpleAtoi(vals[i], dest)) return ScanError(*this, i, "int64");
  return absl::OkStatus();
}

absl::Status CmdArg::Scan(size_t i, uint64_t* dest) const {
  if (absl::Status s = CheckIndex(*this, i); !s.ok()) return s;
  if (!absl::SimpleAtoi(vals[i], dest)) return ScanError(*this, i, "uint64");
  return absl::OkStatus();
}

bool TestData::HasArg(absl::string_view key) const { return Arg(key) != nullptr; }

const CmdArg* TestData::Arg(absl::string_view key) const {
  for (const CmdArg& arg : cmd_args) {
    if (arg.key == key) return &arg;
  }
  return nullptr;
}

std::string TestData::DirectiveLine() const {
  std::string line = cmd;
  for (const CmdArg& arg : cmd_args) absl::StrAppend(&line, " ", arg.ToString());
  return line;
}

absl::Status TestData::Error(const std::string& msg) const {
  return absl::InvalidArgumentError(absl::StrCat(pos, ": ", msg));
}

absl::Status ParseLine(absl::string_view line, std::string* cmd, std::vector<CmdArg>* args) {
  cmd->clear();
  args->clear();
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return absl::OkStatus();
  const absl::string_view orig = line;
  auto fail = [&]() {
    cmd->clear();
    args->clear();
    return absl::InvalidArgumentError(absl::StrCat("cannot parse directive at column ",
                                                   orig.size() - line.size() + 1, ": ", orig));
  };
  // Removes and returns the prefix of `line` up to any of `chars`.
  auto until = [&](absl::string_view chars) {
    size_t idx = line.find_first_of(chars);
    if (idx == absl::string_view::npos) idx = line.size();
    absl::string_view prefix = line.substr(0, idx);
    line.remove_prefix(idx);
    return prefix;
  };

  *cmd = std::string(until(" "));
  line = absl::StripAsciiWhitespace(line);
  while (!line.empty()) {
    CmdArg arg;
    arg.key = std::string(until(" ="));
    if (arg.key.empty()) return fail();
    if (!line.empty() && line[0] == '=') {
      line.remove_prefix(1);
      if (line.empty() || line[0] == ' ') {
        arg.vals.emplace_back();
      } else if (line[0] != '(') {
        arg.vals.emplace_back(until(" "));
      } else {
        size_t pos = 1;
        int depth = 1;
        size_t val_start = pos;
        while (depth > 0) {
          if (pos == line.size()) return fail();
          char c = line[pos++];
          if (c == ',' && depth == 1) {
            arg.vals.emplace_back(line.substr(val_start, pos - 1 - val_start));
            while (pos < line.size() && line[pos] == ' ') ++pos;
            val_start = pos;
          } else if (c == '(') {
            ++depth;
          } else if (c == ')') {
            --depth;
          }
        }
        arg.vals.emplace_back(line.substr(val_start, pos - 1 - val_start));
        line.remove_prefix(pos);
      }
    }
    args->push_back(std::move(arg));
    line = absl::StripAsciiWhitespace(line);
  }
  return absl::OkStatus();
}

absl::StatusOr<TestFile> Parse(absl::string_view contents, absl::string_view source_name) {
  TestFile file;
  file.source_name = std::string(source_name);
  file.lines = SplitLines(contents);
  const std::vector<std::string>& lines = file.lines;
  const size_t n = lines.size();
  size_t i = 0;
  while (i < n) {
    TestData d;
    d.line = static_cast<int>(i + 1);
    d.pos = absl::StrCat(source_name, ":", d.line);
    std::string line(absl::StripAsciiWhitespace(lines[i++]));
    if (absl::StartsWith(line, "#")) continue;
    while (absl::EndsWith(line, "\\") && i < n) {
      line.pop_back();
      absl::StrAppend(&line, " ", absl::StripAsciiWhitespace(lines[i++]));
    }
    if (absl::Status s = ParseLine(line, &d.cmd, &d.cmd_args); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(d.pos, ": ", s.message()));
    }
    if (d.cmd.empty()) continue;

    std::string input;
    bool separator = false;
    while (i < n) {
      const std::string& l = lines[i++];
      if (l == kSeparator) {
        separator = true;
        break;
      }
      absl::StrAppend(&input, l, "\n");
    }
    d.input = std::string(absl::StripAsciiWhitespace(input));
    if (separator) {
      file.expected_begin.push_back(i - 1);
      absl::StatusOr<std::string> expected = ReadExpected(lines, &i, source_name);
      if (!expected.ok()) return expected.status();
      d.expected = *std::move(expected);
    } else {
      file.expected_begin.push_back(i);
    }
    file.expected_end.push_back(i);
    file.cases.push_back(std::move(d));
  }
  return file;
}

std::function<std::string(absl::string_view)> DropLines(
    std::function<bool(absl::string_view line)> drop) {
  return [drop = std::move(drop)](absl::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      bool has_newline = end != absl::string_view::npos;
      if (!has_newline) end = text.size();
      absl::string_view line = text.substr(start, end - start);
      if (!drop(line)) {
        out.append(line.data(), line.size());
        if (has_newline) out.push_back('\n');
      }
      start = end + 1;
    }
    return out;
  };
}

std::string Diff(absl::string_view expected, absl::string_view actual, int context) {
  const std::vector<absl::string_view> a = OutputLines(expected);
  const std::vector<absl::string_view> b = OutputLines(actual);
  const size_t n = a.size();
  const size_t m = b.size();
  if (n * m > 16'000'000) {
    std::string out;
    for (absl::string_view l : a) absl::StrAppend(&out, "-", l, "\n");
    for (absl::string_view l : b) absl::StrAppend(&out, "+", l, "\n");
    return out;
  }
  // lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:].
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Op {
    char kind;  // ' ', '-', '+'
    absl::string_view text;
    size_t a_line;  // 1-based position in `expected` at this op
    size_t b_line;  // 1-based position in `actual` at this op
  };
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', a[i], i + 1, j + 1});
      ++i;
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', a[i], i + 1, j + 1});
      ++i;
    } else {
      ops.push_back({'+', b[j], i + 1, j + 1});
      ++j;
    }
  }
  // Emit hunks: runs of changes with up to `context` unchanged lines around.
  std::string out;
  const size_t ctx = context < 0 ? 0 : static_cast<size_t>(context);
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t begin = k >= ctx ? k - ctx : 0;
    size_t end = k;
    // Extend the hunk while the next change is within 2*ctx unchanged lines.
    while (true) {
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      size_t gap = end;
      while (gap < ops.size() && ops[gap].kind == ' ') ++gap;
      if (gap < ops.size() && gap - end <= 2 * ctx) {
        end = gap;
        continue;
      }
      end = std::min(ops.size(), end + ctx);
      break;
    }
    size_t a_count = 0, b_count = 0;
    for (size_t x = begin; x < end; ++x) {
      if (ops[x].kind != '+') ++a_count;
      if (ops[x].kind != '-') ++b_count;
    }
    absl::StrAppend(&out, "@@ -", ops[begin].a_line, ",", a_count, " +", ops[begin].b_line, ",",
                    b_count, " @@\n");
    for (size_t x = begin; x < end; ++x) {
      absl::StrAppend(&out, std::string(1, ops[x].kind), ops[x].text, "\n");
    }
    k = end;
  }
  if (absl::EndsWith(expected, "\n") != absl::EndsWith(actual, "\n") && !expected.empty() &&
      !actual.empty()) {
    absl::StrAppend(&out, "(the outputs differ in their final newline)\n");
  }
  return out;
}

bool RewriteRequested() {
  const char* v = getenv("DATADRIVEN_REWRITE");
  if (v == nullptr) return false;
  std::string value = absl::AsciiStrToLower(v);
  return value == "1" || value == "true" || value == "t" || value == "yes";
}

RunResult RunCases(const TestFile& file, const Handler& handler, const Options& options,
                   const std::function<bool()>& stop) {
  RunResult result;
  result.rewrite = options.allow_rewrite && RewriteRequested();
  std::vector<std::string> outputs;
  outputs.reserve(file.cases.size());
  for (const TestData& original : file.cases) {
    TestData d = original;
    d.rewrite = result.rewrite;
    std::string actual = handler(d);
    ++result.cases_run;
    if (!actual.empty() && actual.back() != '\n') actual.push_back('\n');
    if (stop && stop()) return result;
    if (!result.rewrite) {
      std::string want = options.normalize ? options.normalize(d.expected) : d.expected;
      std::string got = options.normalize ? options.normalize(actual) : actual;
      if (want != got) {
        result.mismatches.push_back({d.line, MismatchMessage(d, want, got)});
        if (options.stop_at_first_mismatch) return result;
      }
    }
    outputs.push_back(std::move(actual));
  }
  result.completed = true;
  result.rewritten = Rewritten(file, outputs);
  return result;
}

absl::StatusOr<RunResult> RunFromString(absl::string_view contents, absl::string_view source_name,
                                        const Handler& handler, const Options& options) {
  absl::StatusOr<TestFile> file = Parse(contents, source_name);
  if (!file.ok()) return file.status();
  return RunCases(*file, handler, options);
}

void RunTest(const std::string& path, const Handler& handler, const Options& options) {
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    ADD_FAILURE() << contents.status();
    return;
  }
  absl::StatusOr<TestFile> file = Parse(*contents, path);
  if (!file.ok()) {
    ADD_FAILURE() << file.status();
    return;
  }
  if (file->cases.empty()) {
    ADD_FAILURE() << path << ": no test cases";
    return;
  }
  RunParsed(*file, path, handler, options, /*may_write=*/true);
}

void RunTestFromString(absl::string_view contents, const Handler& handler, const Options& options) {
  absl::StatusOr<TestFile> file = Parse(contents, "<string>");
  if (!file.ok()) {
    ADD_FAILURE() << file.status();
    return;
  }
  Options compare_only = options;
  compare_only.allow_rewrite = false;
  RunParsed(*file, "<string>", handler, compare_only, /*may_write=*/false);
}

std::vector<std::string> ListTestFiles(const std::string& dir) {
  std::vector<std::string> files;
  ListInto(std::filesystem::path(dir), &files);
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(absl::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash != absl::string_view::npos) path.remove_prefix(slash + 1);
  size_t dot = path.find_last_of('.');
  if (dot != absl::string_view::npos && dot > 0) path = path.substr(0, dot);
  std::string name(path);
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return name;
}

}  // namespace etcd::datadriven
