#include "raft/logger.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace etcd::raft {
namespace {

class CapturingLogger : public Logger {
 public:
  void Log(Level level, absl::string_view message) override {
    lines.push_back(std::string(LevelName(level)) + " " + std::string(message));
  }
  bool Enabled(Level level) const override { return level >= min_level; }
  std::vector<std::string> lines;
  Level min_level = Level::kDebug;
};

TEST(LoggerTest, FormatsWithGoVerbs) {
  CapturingLogger l;
  l.Infof("%x became follower at term %d", uint64_t{26}, uint64_t{3});
  l.Warningf("%s", "w");
  l.Errorf("e%d", 1);
  l.Debugf("d");
  EXPECT_EQ(l.lines, (std::vector<std::string>{"INFO 1a became follower at term 3", "WARN w",
                                               "ERROR e1", "DEBUG d"}));
}

TEST(LoggerTest, DisabledLevelsAreSkipped) {
  CapturingLogger l;
  l.min_level = Logger::Level::kInfo;
  l.Debugf("hidden");
  l.Infof("shown");
  EXPECT_EQ(l.lines, std::vector<std::string>{"INFO shown"});
}

TEST(LoggerDeathTest, PanicAbortsEvenWhenDiscarding) {
  EXPECT_DEATH(DiscardLoggerInstance()->Panicf("invariant %s broken", "x"),
               "PANIC: invariant x broken");
  CapturingLogger l;
  EXPECT_DEATH(l.Fatalf("bad %d", 7), "FATAL: bad 7");
}

TEST(LoggerTest, DefaultLoggerCanBeReplaced) {
  Logger* original = DefaultLogger();
  ASSERT_NE(original, nullptr);
  CapturingLogger l;
  SetDefaultLogger(&l);
  EXPECT_EQ(DefaultLogger(), &l);
  DefaultLogger()->Infof("hello");
  SetDefaultLogger(nullptr);
  EXPECT_EQ(DefaultLogger(), original);
  EXPECT_EQ(l.lines, std::vector<std::string>{"INFO hello"});
}

TEST(LoggerTest, StderrLoggerDebugIsOptIn) {
  StderrLogger l;
  EXPECT_FALSE(l.Enabled(Logger::Level::kDebug));
  EXPECT_TRUE(l.Enabled(Logger::Level::kInfo));
  l.EnableDebug();
  EXPECT_TRUE(l.Enabled(Logger::Level::kDebug));
  EXPECT_FALSE(DiscardLoggerInstance()->Enabled(Logger::Level::kError));
}

}  // namespace
}  // namespace etcd::raft
