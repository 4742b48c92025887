// Checks this parser against Debian's etcd 3.4 (/usr/bin/etcd --help): every
// flag it lists that etcd 3.5 still has is known here, with the same default
// (apart from the defaults etcd 3.5 changed).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/subprocess.h"
#include "server/embed/config_flags.h"

namespace etcd::embed {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";

// Flags of etcd 3.4 that etcd 3.5 removed.
const std::set<std::string> kRemovedIn35 = {
    "debug",                                     // Use --log-level=debug.
    "log-package-levels",                        // capnslog only.
    "experimental-backend-bbolt-freelist-type",  // Now --backend-bbolt-freelist-type.
};

// Defaults etcd 3.5 changed, or shows differently: 3.4's text -> ours.
const std::map<std::string, std::pair<std::string, std::string>> kChangedDefaults = {
    {"pre-vote", {"false", "true"}},
    {"logger", {"capnslog", "zap"}},
    {"max-concurrent-streams", {"math.MaxUint32", "4294967295"}},
};

// "--name 'default'" -> {"name", "default"}; "--bcrypt-cost 10" -> {.., "10"}.
std::map<std::string, std::string> ParseHelp(const std::string& help) {
  std::map<std::string, std::string> flags;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (!absl::ConsumePrefix(&line, "  --")) continue;
    const size_t space = line.find(' ');
    std::string name(line.substr(0, space));
    std::string value;
    if (space != absl::string_view::npos) {
      absl::string_view shown = line.substr(space + 1);
      if (shown.size() >= 2 && shown.front() == '\'' && shown.back() == '\'') {
        shown = shown.substr(1, shown.size() - 2);
      }
      value = std::string(shown);
    }
    flags[name] = value;
  }
  return flags;
}

TEST(InteropTest, EveryEtcdFlagIsKnownWithItsDefault) {
  if (access(kEtcd, X_OK) != 0) {
    GTEST_SKIP() << "Debian's etcd is not installed (" << kEtcd
                 << "); apt-get install etcd-server to run this test";
  }
  testutil::SubprocessOptions options;
  options.argv = {kEtcd, "--help"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> etcd,
                       testutil::Subprocess::Start(options));
  ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, etcd->Wait(absl::Seconds(30)));
  ASSERT_TRUE(status.success()) << status.ToString();
  const std::map<std::string, std::string> theirs = ParseHelp(etcd->ReadStdout());
  ASSERT_GE(theirs.size(), 70u) << etcd->ReadStdout();

  const std::vector<std::string> ours = KnownFlagNames();
  int compared = 0;
  for (const auto& [name, default_text] : theirs) {
    if (kRemovedIn35.count(name) > 0) continue;
    ASSERT_TRUE(std::binary_search(ours.begin(), ours.end(), name))
        << "etcd has --" << name << ", this parser does not";
    ASSERT_OK_AND_ASSIGN(std::string our_default, FlagDefaultText(name));
    auto changed = kChangedDefaults.find(name);
    if (changed != kChangedDefaults.end()) {
      EXPECT_EQ(default_text, changed->second.first) << name;
      EXPECT_EQ(our_default, changed->second.second) << name;
    } else {
      EXPECT_EQ(our_default, default_text) << "default of --" << name;
    }
    ++compared;
  }
  EXPECT_GE(compared, 70);

  // And everything etcd rejects as unknown, we reject too.
  for (const std::string& removed : kRemovedIn35) {
    ParseResult result = ParseCommandLine({"--" + removed}, ParseOptions());
    EXPECT_EQ(result.outcome, ParseOutcome::kFlagError) << removed;
  }
}

// The same command lines give the same verdict (exit status) in both.
TEST(InteropTest, SameExitCodesAsEtcd) {
  if (access(kEtcd, X_OK) != 0) {
    GTEST_SKIP() << "Debian's etcd is not installed (" << kEtcd << ")";
  }
  // Only command lines etcd rejects before it starts anything.
  const std::vector<std::vector<std::string>> cases = {
      {"--bogus"},
      {"-bogus=1"},
      {"--name"},
      {"--heartbeat-interval=abc"},
      {"--snapshot-count=-1"},
      {"--initial-cluster-state=foo"},
      {"--strict-reconfig-check=maybe"},
      {"--grpc-keepalive-min-time=5"},
      {"--listen-client-urls=foo"},
      {"--max-concurrent-streams=-1"},
      {"--election-timeout=400"},
      {"--election-timeout=60000", "--heartbeat-interval=1000"},
      {"--auto-compaction-mode=foo"},
      {"--listen-peer-urls=http://example.com:2380"},
      {"--listen-client-urls=http://10.0.0.1:2379"},
      {"--initial-advertise-peer-urls=http://:2380"},
      {"extra"},
      {"--help"},
      {"--version"},
  };
  for (const std::vector<std::string>& args : cases) {
    testutil::SubprocessOptions options;
    options.argv = {kEtcd, "--logger=zap", "--data-dir=/nonexistent/etcd-interop"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<testutil::Subprocess> etcd,
                         testutil::Subprocess::Start(options));
    ASSERT_OK_AND_ASSIGN(testutil::ExitStatus status, etcd->Wait(absl::Seconds(30)));
    ASSERT_TRUE(status.exited()) << args[0];

    std::vector<std::string> ours = {"--logger=zap", "--data-dir=/nonexistent/etcd-interop"};
    ours.insert(ours.end(), args.begin(), args.end());
    ParseResult result = ParseCommandLine(ours, ParseOptions());
    EXPECT_EQ(result.exit_code(), status.code)
        << absl::StrJoin(args, " ") << ": ours " << result.status
        << "; etcd's stderr: " << etcd->ReadStderr().substr(0, 300);
  }
}

}  // namespace
}  // namespace etcd::embed
