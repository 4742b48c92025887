#include "pkg/datadriven/datadriven.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace etcd::datadriven {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<CmdArg> MustParseLine(absl::string_view line, std::string* cmd) {
  std::vector<CmdArg> args;
  absl::Status s = ParseLine(line, cmd, &args);
  EXPECT_TRUE(s.ok()) << s;
  return args;
}

TEST(ParseLineTest, CommandOnly) {
  std::string cmd;
  EXPECT_TRUE(MustParseLine("  stabilize  ", &cmd).empty());
  EXPECT_EQ(cmd, "stabilize");
}

TEST(ParseLineTest, BlankLineHasNoCommand) {
  std::string cmd = "x";
  EXPECT_TRUE(MustParseLine("   ", &cmd).empty());
  EXPECT_EQ(cmd, "");
}

TEST(ParseLineTest, ArgumentForms) {
  std::string cmd;
  std::vector<CmdArg> args =
      MustParseLine("add-nodes 3 voters=(1,2, 3) index=2 empty= flag learners=()", &cmd);
  EXPECT_EQ(cmd, "add-nodes");
  ASSERT_EQ(args.size(), 6u);
  EXPECT_EQ(args[0].key, "3");
  EXPECT_TRUE(args[0].vals.empty());
  EXPECT_EQ(args[1].key, "voters");
  EXPECT_THAT(args[1].vals, ElementsAre("1", "2", "3"));
  EXPECT_EQ(args[2].key, "index");
  EXPECT_THAT(args[2].vals, ElementsAre("2"));
  EXPECT_EQ(args[3].key, "empty");
  EXPECT_THAT(args[3].vals, ElementsAre(""));
  EXPECT_EQ(args[4].key, "flag");
  EXPECT_TRUE(args[4].vals.empty());
  EXPECT_EQ(args[5].key, "learners");
  EXPECT_THAT(args[5].vals, ElementsAre(""));
}

TEST(ParseLineTest, NestedParentheses) {
  std::string cmd;
  std::vector<CmdArg> args = MustParseLine("eval exprs=(a + (b, c), d) x=1", &cmd);
  ASSERT_EQ(args.size(), 2u);
  EXPECT_THAT(args[0].vals, ElementsAre("a + (b, c)", "d"));
  EXPECT_EQ(args[0].ToString(), "exprs=(a + (b, c), d)");
  EXPECT_EQ(args[1].ToString(), "x=1");
}

TEST(ParseLineTest, Errors) {
  std::string cmd;
  std::vector<CmdArg> args;
  absl::Status s = ParseLine("cmd a=(1, 2", &cmd, &args);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("cannot parse directive at column 7: cmd a=(1, 2"));
  EXPECT_EQ(cmd, "");
  EXPECT_FALSE(ParseLine("cmd =3", &cmd, &args).ok());
}

TEST(ParseTest, CommentsBlankLinesInputAndExpected) {
  const char* kFile =
      "# a comment\n"
      "\n"
      "  # indented comment\n"
      "first a=1\n"
      "----\n"
      "one\n"
      "two\n"
      "\n"
      "\n"
      "second\n"
      "line one\n"
      "\n"
      "  line two  \n"
      "----\n"
      "out\n";
  absl::StatusOr<TestFile> file = Parse(kFile, "f.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->cases.size(), 2u);
  const TestData& a = file->cases[0];
  EXPECT_EQ(a.cmd, "first");
  EXPECT_EQ(a.pos, "f.txt:4");
  EXPECT_EQ(a.line, 4);
  EXPECT_EQ(a.input, "");
  EXPECT_EQ(a.expected, "one\ntwo\n");
  const TestData& b = file->cases[1];
  EXPECT_EQ(b.cmd, "second");
  EXPECT_EQ(b.pos, "f.txt:10");
  EXPECT_EQ(b.input, "line one\n\n  line two");
  EXPECT_EQ(b.expected, "out\n");
}

TEST(ParseTest, EmptyExpectedOutput) {
  absl::StatusOr<TestFile> file = Parse("a\n----\n\nb\n----\n", "f");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->cases.size(), 2u);
  EXPECT_EQ(file->cases[0].expected, "");
  EXPECT_EQ(file->cases[1].expected, "");
}

TEST(ParseTest, DoubleSeparatorAllowsBlankLines) {
  const char* kFile =
      "cmd\n"
      "----\n"
      "----\n"
      "para one\n"
      "\n"
      "----\n"
      "para two\n"
      "----\n"
      "----\n"
      "\n"
      "next\n"
      "----\n"
      "x\n";
  absl::StatusOr<TestFile> file = Parse(kFile, "f");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->cases.size(), 2u);
  EXPECT_EQ(file->cases[0].expected, "para one\n\n----\npara two\n");
  EXPECT_EQ(file->cases[1].cmd, "next");
  EXPECT_EQ(file->cases[1].expected, "x\n");
}

TEST(ParseTest, DoubleSeparatorMustBeFollowedByBlankLine) {
  absl::StatusOr<TestFile> file = Parse("cmd\n----\n----\nx\n----\n----\ny\n", "f");
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("non-blank line"));
}

TEST(ParseTest, LineContinuationAndMissingSeparator) {
  absl::StatusOr<TestFile> file = Parse("cmd a=1 \\\n  b=2\ninput\n", "f");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->cases.size(), 1u);
  EXPECT_EQ(file->cases[0].DirectiveLine(), "cmd a=1 b=2");
  EXPECT_EQ(file->cases[0].input, "input");
  EXPECT_EQ(file->cases[0].expected, "");
}

TEST(ParseTest, CarriageReturnsAreDropped) {
  absl::StatusOr<TestFile> file = Parse("cmd\r\n----\r\nok\r\n", "f");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->cases[0].expected, "ok\n");
}

TEST(ParseTest, ParseErrorNamesPosition) {
  absl::StatusOr<TestFile> file = Parse("ok\n----\nx\n\nbad a=(\n----\n", "f.txt");
  EXPECT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("f.txt:5"));
}

TEST(ScanArgsTest, ScansTypedValues) {
  absl::StatusOr<TestFile> file =
      Parse("cmd id=7 big=18446744073709551615 neg=-3 b=true s=x list=(1, 2)\n", "f");
  ASSERT_TRUE(file.ok());
  const TestData& d = file->cases[0];
  int id = 0;
  uint64_t big = 0;
  int64_t neg = 0;
  bool b = false;
  std::string s;
  uint64_t l1 = 0, l2 = 0;
  EXPECT_TRUE(d.ScanArgs("id", &id).ok());
  EXPECT_TRUE(d.ScanArgs("big", &big).ok());
  EXPECT_TRUE(d.ScanArgs("neg", &neg).ok());
  EXPECT_TRUE(d.ScanArgs("b", &b).ok());
  EXPECT_TRUE(d.ScanArgs("s", &s).ok());
  EXPECT_TRUE(d.ScanArgs("list", &l1, &l2).ok());
  EXPECT_EQ(id, 7);
  EXPECT_EQ(big, UINT64_MAX);
  EXPECT_EQ(neg, -3);
  EXPECT_TRUE(b);
  EXPECT_EQ(s, "x");
  EXPECT_EQ(l1, 1u);
  EXPECT_EQ(l2, 2u);
  EXPECT_TRUE(d.HasArg("list"));
  EXPECT_FALSE(d.HasArg("nope"));
}

TEST(ScanArgsTest, Errors) {
  absl::StatusOr<TestFile> file = Parse("cmd id=x list=(1, 2) neg=-1\n", "f.txt");
  ASSERT_TRUE(file.ok());
  const TestData& d = file->cases[0];
  int i = 0;
  uint64_t u = 0;
  absl::Status missing = d.ScanArgs("nope", &i);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("f.txt:1: missing argument: nope"));
  EXPECT_FALSE(d.ScanArgs("id", &i).ok());
  EXPECT_FALSE(d.ScanArgs("list", &i).ok());
  EXPECT_FALSE(d.ScanArgs("neg", &u).ok());
}

TEST(DiffTest, ShowsChangedLinesWithContext) {
  std::string diff = Diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n", 1);
  EXPECT_EQ(diff, "@@ -3,3 +3,3 @@\n c\n-d\n+X\n e\n");
}

TEST(DiffTest, AddedAndRemovedLines) {
  EXPECT_EQ(Diff("a\n", "a\nb\n"), "@@ -1,1 +1,2 @@\n a\n+b\n");
  EXPECT_EQ(Diff("a\nb\n", ""), "@@ -1,2 +1,0 @@\n-a\n-b\n");
  EXPECT_EQ(Diff("same\n", "same\n"), "");
}

std::string Echo(const TestData& d) { return d.input; }

TEST(RunnerTest, MatchingFilePasses) {
  absl::StatusOr<RunResult> r =
      RunFromString("echo\nhello\n----\nhello\n\necho\n----\n", "f", Echo);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->cases_run, 2);
  EXPECT_TRUE(r->completed);
}

TEST(RunnerTest, MismatchReportsPositionAndDiff) {
  Options options;
  options.allow_rewrite = false;
  absl::StatusOr<RunResult> r = RunFromString(
      "echo\nok\n----\nok\n\necho\nbad\n----\ngood\n\necho\nx\n----\nx\n", "t.txt", Echo, options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->mismatches.size(), 1u);
  EXPECT_EQ(r->mismatches[0].line, 6);
  EXPECT_THAT(r->mismatches[0].message, HasSubstr("t.txt:6: output didn't match expected"));
  EXPECT_THAT(r->mismatches[0].message, HasSubstr("-good\n+bad\n"));
  // Stopped at the first mismatch.
  EXPECT_EQ(r->cases_run, 2);
  EXPECT_FALSE(r->completed);

  options.stop_at_first_mismatch = false;
  r = RunFromString("echo\na\n----\nb\n\necho\nc\n----\nd\n", "t.txt", Echo, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mismatches.size(), 2u);
}

TEST(RunnerTest, NormalizeDropsLinesOnBothSides) {
  Options options;
  options.allow_rewrite = false;
  options.normalize = DropLines([](absl::string_view line) {
    return absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "INFO ");
  });
  // Expected has a log line the handler does not produce, and vice versa.
  absl::StatusOr<RunResult> r = RunFromString(
      "run\n----\nINFO 1 became leader\nresult\n  INFO indented\n", "f",
      [](const TestData&) { return "INFO something else\nresult"; }, options);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->mismatches[0].message;

  r = RunFromString(
      "run\n----\nINFO x\nresult\n", "f", [](const TestData&) { return "other\n"; }, options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
}

TEST(RunnerTest, RewrittenReproducesFileForSameOutputs) {
  const char* kFile =
      "# header\n"
      "\n"
      "a x=(1, 2)\n"
      "in\n"
      "----\n"
      "out\n"
      "\n"
      "\n"
      "# between\n"
      "b\n"
      "----\n"
      "----\n"
      "p1\n"
      "\n"
      "p2\n"
      "----\n"
      "----\n"
      "\n"
      "c\n"
      "----\n"
      "last\n";
  absl::StatusOr<TestFile> file = Parse(kFile, "f");
  ASSERT_TRUE(file.ok());
  RunResult r = RunCases(*file, [](const TestData& d) { return d.expected; });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.rewritten, kFile);
}

TEST(RunnerTest, RewrittenUsesDoubleSeparatorForBlankLines) {
  absl::StatusOr<TestFile> file = Parse("a\n----\nold\n\nb\n----\nold\n", "f");
  ASSERT_TRUE(file.ok());
  Options options;
  options.stop_at_first_mismatch = false;
  RunResult r = RunCases(
      *file,
      [](const TestData& d) { return d.cmd == "a" ? std::string("new\n\nlines") : std::string(); },
      options);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.rewritten, "a\n----\n----\nnew\n\nlines\n----\n----\n\nb\n----\n");
}

TEST(RunnerTest, RewriteAddsMissingSeparator) {
  absl::StatusOr<TestFile> file = Parse("a\n", "f");
  ASSERT_TRUE(file.ok());
  Options options;
  options.stop_at_first_mismatch = false;
  RunResult r = RunCases(
      *file, [](const TestData&) { return "x"; }, options);
  EXPECT_EQ(r.rewritten, "a\n----\nx\n");
}

TEST(RunnerTest, GtestWrapperReportsMismatch) {
  EXPECT_NONFATAL_FAILURE(RunTestFromString("echo\nyes\n----\nno\n", Echo),
                          "output didn't match expected");
}

TEST(RunnerTest, StopCallbackEndsTheRun) {
  absl::StatusOr<TestFile> file = Parse("a\n----\n\nb\n----\n", "f");
  ASSERT_TRUE(file.ok());
  int calls = 0;
  RunResult r = RunCases(
      *file,
      [&](const TestData&) {
        ++calls;
        return std::string();
      },
      Options{}, [] { return true; });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.cases_run, 1);
  EXPECT_FALSE(r.completed);
  EXPECT_TRUE(r.mismatches.empty());
}

std::string TempDir() {
  const char* dir = getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : std::filesystem::temp_directory_path().string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void WriteAll(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
}

TEST(RunnerTest, RewriteModeWritesActualOutput) {
  std::string dir = absl::StrCat(TempDir(), "/rewrite");
  std::filesystem::create_directories(dir);
  std::string path = dir + "/case.txt";
  WriteAll(path, "# keep me\necho\nnew\n----\nstale\n");

  setenv("DATADRIVEN_REWRITE", "1", 1);
  RunTest(path, Echo);
  // Not allowed: left alone.
  Options no_rewrite;
  no_rewrite.allow_rewrite = false;
  std::string other = dir + "/other.txt";
  WriteAll(other, "echo\nnew\n----\nstale\n");
  EXPECT_NONFATAL_FAILURE(RunTest(other, Echo, no_rewrite), "output didn't match");
  unsetenv("DATADRIVEN_REWRITE");

  EXPECT_EQ(ReadAll(path), "# keep me\necho\nnew\n----\nnew\n");
  EXPECT_EQ(ReadAll(other), "echo\nnew\n----\nstale\n");
  RunTest(path, Echo);  // now passes
}

TEST(RunnerTest, MissingFileFails) {
  EXPECT_NONFATAL_FAILURE(RunTest("/nonexistent/x.txt", Echo), "cannot open");
}

TEST(ListTestFilesTest, SortedRecursiveWithoutTempFiles) {
  std::string dir = absl::StrCat(TempDir(), "/list");
  std::filesystem::create_directories(dir + "/sub");
  for (const char* name : {"b.txt", "a.txt", ".hidden", "x~", "#y#", "sub/c.txt"}) {
    WriteAll(dir + "/" + name, "x\n");
  }
  EXPECT_THAT(ListTestFiles(dir), ElementsAre(dir + "/a.txt", dir + "/b.txt", dir + "/sub/c.txt"));
  EXPECT_TRUE(ListTestFiles(dir + "/missing").empty());
}

TEST(TestNameTest, StripsDirectoryAndExtension) {
  EXPECT_EQ(TestName("a/b/joint_commit.txt"), "joint_commit");
  EXPECT_EQ(TestName("x-y.z.txt"), "x_y_z");
  EXPECT_EQ(TestName("plain"), "plain");
}

// etcd's own transcripts (when installed) parse, and writing back their own
// expected outputs reproduces them byte for byte: the reader and the writer
// agree with the format as etcd's files use it.
TEST(EtcdFilesTest, RoundTrip) {
  const std::string root = "/usr/share/gocode/src/go.etcd.io/etcd/raft";
  int files = 0;
  for (const char* sub : {"/testdata", "/quorum/testdata", "/confchange/testdata"}) {
    for (const std::string& path : ListTestFiles(root + sub)) {
      SCOPED_TRACE(path);
      std::string contents = ReadAll(path);
      absl::StatusOr<TestFile> file = Parse(contents, path);
      ASSERT_TRUE(file.ok()) << file.status();
      EXPECT_FALSE(file->cases.empty());
      Options options;
      options.allow_rewrite = false;
      RunResult r = RunCases(
          *file, [](const TestData& d) { return d.expected; }, options);
      EXPECT_TRUE(r.ok());
      EXPECT_EQ(r.rewritten, contents);
      ++files;
    }
  }
  if (files == 0) GTEST_SKIP() << "etcd's sources (golang-etcd-server-dev) are not installed";
}

}  // namespace
}  // namespace etcd::datadriven
