#include "pkg/log/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace etcd::log {
namespace {

absl::Time FixedTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 19, 0, 0), absl::UTCTimeZone()) +
         absl::Milliseconds(123);
}

LoggerOptions TestOptions(Encoding encoding, Level level = Level::kInfo) {
  LoggerOptions options;
  options.level = level;
  options.encoding = encoding;
  options.add_caller = false;
  options.time_zone = absl::UTCTimeZone();
  options.clock = [] { return FixedTime(); };
  return options;
}

class LoggerTest : public ::testing::Test {
 protected:
  std::shared_ptr<StringSink> sink_ = std::make_shared<StringSink>();
};

TEST_F(LoggerTest, JsonLines) {
  Logger logger(TestOptions(Encoding::kJson), {sink_});
  const std::string address = "127.0.0.1:2379";
  logger.Info("ready to serve client requests", {{"address", address}, {"count", 3}});
  logger.Warn("no fields");
  EXPECT_EQ(sink_->Lines(),
            (std::vector<std::string>{
                "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"ready to serve "
                "client requests\",\"address\":\"127.0.0.1:2379\",\"count\":3}",
                "{\"level\":\"warn\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"no fields\"}",
            }));
}

TEST_F(LoggerTest, ConsoleLines) {
  Logger logger(TestOptions(Encoding::kConsole), {sink_});
  logger.Error("failed to publish",
               {{"error", absl::UnavailableError("etcdserver: request timed out")}});
  logger.Info("plain");
  EXPECT_EQ(sink_->contents(),
            "2026-11-23T19:00:00.123Z\terror\tfailed to publish\t{\"error\":\"etcdserver: request "
            "timed out\"}\n"
            "2026-11-23T19:00:00.123Z\tinfo\tplain\n");
}

TEST_F(LoggerTest, CallerIsThisFile) {
  LoggerOptions options = TestOptions(Encoding::kJson);
  options.add_caller = true;
  Logger logger(options, {sink_});
  const int line = __LINE__ + 1;
  logger.Info("here");
  EXPECT_EQ(sink_->contents(),
            absl::StrCat("{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"caller\":"
                         "\"log/log_test.cc:",
                         line, "\",\"msg\":\"here\"}\n"));
}

TEST_F(LoggerTest, LevelFiltering) {
  Logger logger(TestOptions(Encoding::kConsole, Level::kWarn), {sink_});
  EXPECT_FALSE(logger.Enabled(Level::kInfo));
  EXPECT_TRUE(logger.Enabled(Level::kWarn));
  logger.Debug("d");
  logger.Info("i");
  logger.Warn("w");
  logger.Error("e");
  logger.DPanic("dp");  // Logged, does not panic.
  EXPECT_EQ(sink_->contents(),
            "2026-11-23T19:00:00.123Z\twarn\tw\n"
            "2026-11-23T19:00:00.123Z\terror\te\n"
            "2026-11-23T19:00:00.123Z\tdpanic\tdp\n");

  sink_->Clear();
  logger.SetLevel(Level::kDebug);
  EXPECT_EQ(logger.level(), Level::kDebug);
  logger.Debug("d");
  logger.Log(Level::kInfo, "i");
  EXPECT_EQ(sink_->contents(),
            "2026-11-23T19:00:00.123Z\tdebug\td\n"
            "2026-11-23T19:00:00.123Z\tinfo\ti\n");
}

TEST_F(LoggerTest, WithAddsContextAndSharesSinksAndLevel) {
  Logger logger(TestOptions(Encoding::kJson), {sink_});
  std::unique_ptr<Logger> member = logger.With({{"local-member-id", "8e9e05c52164694d"}});
  std::unique_ptr<Logger> deeper = member->With({{"term", 2}});
  std::unique_ptr<Logger> same = deeper->With({});
  member->Info("a", {{"k", "v"}});
  deeper->Info("b");
  same->Info("c", {{"x", 1}});
  logger.Info("d");
  EXPECT_EQ(sink_->Lines(),
            (std::vector<std::string>{
                "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"a\",\"local-"
                "member-id\":\"8e9e05c52164694d\",\"k\":\"v\"}",
                "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"b\",\"local-"
                "member-id\":\"8e9e05c52164694d\",\"term\":2}",
                "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"c\",\"local-"
                "member-id\":\"8e9e05c52164694d\",\"term\":2,\"x\":1}",
                "{\"level\":\"info\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"d\"}",
            }));

  sink_->Clear();
  logger.SetLevel(Level::kError);
  deeper->Info("dropped");
  EXPECT_EQ(sink_->contents(), "");
}

TEST_F(LoggerTest, WritesEveryEntryToEverySink) {
  auto second = std::make_shared<StringSink>();
  Logger logger(TestOptions(Encoding::kConsole), {sink_, second});
  logger.Info("both");
  EXPECT_EQ(sink_->contents(), "2026-11-23T19:00:00.123Z\tinfo\tboth\n");
  EXPECT_EQ(second->contents(), sink_->contents());

  Logger nowhere(TestOptions(Encoding::kConsole), {});
  nowhere.Info("dropped");  // No sinks: nothing to check but that it works.
  EXPECT_TRUE(nowhere.Sync().ok());
}

TEST_F(LoggerTest, ConcurrentWritersNeverInterleave) {
  LoggerOptions options = TestOptions(Encoding::kJson);
  options.clock = nullptr;  // The real clock, read from many threads.
  Logger logger(options, {sink_});
  constexpr int kThreads = 8;
  constexpr int kLines = 500;
  const std::string payload(200, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, &payload, t] {
      for (int i = 0; i < kLines; ++i) {
        logger.Info("concurrent", {{"thread", t}, {"i", i}, {"payload", payload}});
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::vector<std::string> lines = sink_->Lines();
  ASSERT_EQ(lines.size(), size_t{kThreads * kLines});
  std::vector<int> next(kThreads, 0);
  for (const std::string& line : lines) {
    ASSERT_TRUE(absl::StartsWith(line, "{\"level\":\"info\",\"ts\":\"")) << line;
    const std::string tail = absl::StrCat(",\"payload\":\"", payload, "\"}");
    ASSERT_TRUE(absl::EndsWith(line, tail)) << line;
    // Each thread's lines appear whole and in its own order.
    int thread = -1, i = -1;
    const size_t at = line.find("\"thread\":");
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(sscanf(line.c_str() + at, "\"thread\":%d,\"i\":%d", &thread, &i), 2) << line;
    ASSERT_GE(thread, 0);
    ASSERT_LT(thread, kThreads);
    EXPECT_EQ(i, next[thread]++);
  }
}

TEST_F(LoggerTest, OpenWritesToFileOutputs) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/logger_open_test.log");
  unlink(path.c_str());
  absl::StatusOr<std::unique_ptr<Logger>> logger =
      Logger::Open(TestOptions(Encoding::kConsole), {path});
  ASSERT_TRUE(logger.ok()) << logger.status();
  (*logger)->Info("to a file", {{"n", 1}});
  EXPECT_TRUE((*logger)->Sync().ok());
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "2026-11-23T19:00:00.123Z\tinfo\tto a file\t{\"n\":1}\n");

  EXPECT_FALSE(Logger::Open(TestOptions(Encoding::kJson), {"journal"}).ok());
}

TEST(ParseEncodingTest, Names) {
  EXPECT_EQ(ParseEncoding("json").value(), Encoding::kJson);
  EXPECT_EQ(ParseEncoding("console").value(), Encoding::kConsole);
  absl::StatusOr<Encoding> bad = ParseEncoding("text");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown log encoding \"text\"");
}

TEST(DefaultLoggerTest, ReplaceableAndUsedByFreeFunctions) {
  EXPECT_EQ(Default().level(), Level::kInfo);  // The initial default.
  auto sink = std::make_shared<StringSink>();
  auto logger = std::make_unique<Logger>(TestOptions(Encoding::kConsole, Level::kDebug),
                                         std::vector<std::shared_ptr<Sink>>{sink});
  Logger* raw = logger.get();
  SetDefault(std::move(logger));
  EXPECT_EQ(&Default(), raw);
  Debug("d", {{"k", 1}});
  Info("i");
  Warn("w");
  Error("e");
  EXPECT_EQ(sink->contents(),
            "2026-11-23T19:00:00.123Z\tdebug\td\t{\"k\":1}\n"
            "2026-11-23T19:00:00.123Z\tinfo\ti\n"
            "2026-11-23T19:00:00.123Z\twarn\tw\n"
            "2026-11-23T19:00:00.123Z\terror\te\n");
  // The replaced logger stays usable by whoever still holds it.
  SetDefault(std::make_unique<Logger>(TestOptions(Encoding::kConsole),
                                      std::vector<std::shared_ptr<Sink>>{}));
  raw->Info("still alive");
  EXPECT_TRUE(absl::EndsWith(sink->contents(), "\tinfo\tstill alive\n"));
}

TEST(LoggerDeathTest, FatalWritesThenExitsWithStatusOne) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Logger logger(TestOptions(Encoding::kJson), {StderrSink()});
        logger.Fatal("cannot start", {{"error", "bad flag"}});
      },
      ::testing::ExitedWithCode(1),
      "\\{\"level\":\"fatal\",\"ts\":\"2026-11-23T19:00:00.123Z\",\"msg\":\"cannot start\","
      "\"error\":\"bad flag\"\\}");
}

TEST(LoggerDeathTest, FatalExitsEvenWhenItsLevelIsDisabled) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        LoggerOptions options = TestOptions(Encoding::kJson);
        options.level = static_cast<Level>(6);  // Above fatal: nothing is written.
        Logger logger(options, {StderrSink()});
        logger.Log(Level::kFatal, "quiet");
      },
      ::testing::ExitedWithCode(1), "");
}

TEST(LoggerDeathTest, PanicWritesThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Logger logger(TestOptions(Encoding::kConsole), {StderrSink()});
        logger.Panic("invariant broken", {{"index", 7}});
      },
      "2026-11-23T19:00:00.123Z\tpanic\tinvariant broken\t\\{\"index\":7\\}");
}

}  // namespace
}  // namespace etcd::log
