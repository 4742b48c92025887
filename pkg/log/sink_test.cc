#include "pkg/log/sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace etcd::log {
namespace {

std::string TestDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StringSinkTest, CollectsLines) {
  StringSink sink;
  EXPECT_TRUE(sink.Lines().empty());
  sink.Write("one\n");
  sink.Write("two\n");
  EXPECT_EQ(sink.contents(), "one\ntwo\n");
  EXPECT_EQ(sink.Lines(), (std::vector<std::string>{"one", "two"}));
  sink.Clear();
  EXPECT_EQ(sink.contents(), "");
}

TEST(FdSinkTest, WritesToDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    FdSink sink(fds[1], /*owned=*/true);
    sink.Write("hello\n");
    EXPECT_TRUE(sink.Sync().ok());  // A pipe: nothing to fsync.
  }
  // The owned write end is closed, so reading hits EOF after the data.
  char buf[64];
  std::string got;
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) got.append(buf, n);
  close(fds[0]);
  EXPECT_EQ(got, "hello\n");
}

TEST(FileSinkTest, AppendsAndCreates) {
  const std::string path = absl::StrCat(TestDir(), "/file_sink_test.log");
  unlink(path.c_str());
  {
    absl::StatusOr<std::shared_ptr<Sink>> sink = OpenFileSink(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    (*sink)->Write("first\n");
    EXPECT_TRUE((*sink)->Sync().ok());
  }
  {
    absl::StatusOr<std::shared_ptr<Sink>> sink = OpenFileSink(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    (*sink)->Write("second\n");
  }
  EXPECT_EQ(Slurp(path), "first\nsecond\n");
}

TEST(FileSinkTest, UnopenablePathIsAnError) {
  absl::StatusOr<std::shared_ptr<Sink>> sink = OpenFileSink("/nonexistent-dir/x.log");
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(sink.status().message().find("/nonexistent-dir/x.log"), absl::string_view::npos);
}

TEST(OpenOutputsTest, ResolvesEtcdNames) {
  absl::StatusOr<std::vector<std::shared_ptr<Sink>>> sinks = OpenOutputs({"default"});
  ASSERT_TRUE(sinks.ok());
  ASSERT_EQ(sinks->size(), 1u);
  EXPECT_EQ((*sinks)[0], StderrSink());

  // "default" and "stderr" are the same output; duplicates open once.
  sinks = OpenOutputs({"stderr", "default", "stdout", "stdout"});
  ASSERT_TRUE(sinks.ok());
  ASSERT_EQ(sinks->size(), 2u);
  EXPECT_EQ((*sinks)[0], StderrSink());
  EXPECT_EQ((*sinks)[1], StdoutSink());

  sinks = OpenOutputs({});
  ASSERT_TRUE(sinks.ok());
  ASSERT_EQ(sinks->size(), 1u);
  EXPECT_EQ((*sinks)[0], StderrSink());
}

TEST(OpenOutputsTest, DevNullDiscardsEverything) {
  absl::StatusOr<std::vector<std::shared_ptr<Sink>>> sinks =
      OpenOutputs({"stderr", "/dev/null", "stdout"});
  ASSERT_TRUE(sinks.ok());
  EXPECT_TRUE(sinks->empty());
}

TEST(OpenOutputsTest, FilesAndErrors) {
  const std::string path = absl::StrCat(TestDir(), "/outputs_test.log");
  unlink(path.c_str());
  absl::StatusOr<std::vector<std::shared_ptr<Sink>>> sinks = OpenOutputs({path, path});
  ASSERT_TRUE(sinks.ok()) << sinks.status();
  ASSERT_EQ(sinks->size(), 1u);
  (*sinks)[0]->Write("x\n");
  EXPECT_EQ(Slurp(path), "x\n");

  sinks = OpenOutputs({"journal"});
  ASSERT_FALSE(sinks.ok());
  EXPECT_EQ(sinks.status().code(), absl::StatusCode::kUnimplemented);

  sinks = OpenOutputs({"stderr", "/nonexistent-dir/y.log"});
  ASSERT_FALSE(sinks.ok());
  EXPECT_EQ(sinks.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace etcd::log
