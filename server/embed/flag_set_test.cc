#include "server/embed/flag_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::embed::internal {
namespace {

// A flag of every kind, bound to the fields of this fixture.
class FlagSetTest : public ::testing::Test {
 protected:
  FlagSetTest() {
    urls_ = *types::URLs::Parse("http://localhost:2379");
    flags_.String("name", &name_, FlagSection::kMember, "name");
    flags_.Bool("verbose", &verbose_, FlagSection::kMember, "verbose");
    flags_.Uint("count", &count_, FlagSection::kMember, "count");
    flags_.Uint32("streams", &streams_, FlagSection::kMember, "streams");
    flags_.Int("quota", &quota_, FlagSection::kMember, "quota");
    flags_.Duration("timeout", &timeout_, FlagSection::kMember, "timeout");
    flags_.URLs("urls", &urls_, FlagSection::kMember, "urls");
    flags_.URLStrings("cors", &cors_, {"*"}, FlagSection::kMember, "cors");
    flags_.Choice("state", &state_, {"new", "existing"}, FlagSection::kMember, "state");
    flags_.Choice("stages", &stages_, {"a", "b", "c"}, FlagSection::kMember, "stages", true);
    flags_.Strings("list", &list_, false, FlagSection::kMember, "list");
    flags_.Strings("set", &set_, true, FlagSection::kMember, "set");
    flags_.Ignored("snapshot");
  }

  absl::Status Parse(std::vector<std::string> args) { return flags_.Parse(args, &outcome_); }

  FlagSet flags_;
  FlagSet::ParseOutcome outcome_;
  std::string name_ = "default";
  bool verbose_ = false;
  uint64_t count_ = 7;
  uint32_t streams_ = 1;
  int64_t quota_ = 0;
  absl::Duration timeout_ = absl::Seconds(5);
  types::URLs urls_;
  std::vector<std::string> cors_ = {"*"};
  std::string state_ = "new";
  std::string stages_;
  std::vector<std::string> list_;
  std::vector<std::string> set_;
};

TEST_F(FlagSetTest, ValueForms) {
  ASSERT_OK(Parse({"--name=a", "-count", "9", "--streams", "0x10", "-quota=-5", "--timeout=1m"}));
  EXPECT_EQ(name_, "a");
  EXPECT_EQ(count_, 9u);
  EXPECT_EQ(streams_, 16u);
  EXPECT_EQ(quota_, -5);
  EXPECT_EQ(timeout_, absl::Minutes(1));
  EXPECT_TRUE(flags_.IsSet("name"));
  EXPECT_FALSE(flags_.IsSet("verbose"));
  EXPECT_TRUE(outcome_.positional.empty());
}

TEST_F(FlagSetTest, BoolForms) {
  ASSERT_OK(Parse({"--verbose"}));
  EXPECT_TRUE(verbose_);
  ASSERT_OK(Parse({"-verbose=false"}));
  EXPECT_FALSE(verbose_);
  ASSERT_OK(Parse({"--verbose=T"}));
  EXPECT_TRUE(verbose_);
  // A separate "false" is not the flag's value: it ends the flags.
  ASSERT_OK(Parse({"--verbose", "false"}));
  EXPECT_TRUE(verbose_);
  EXPECT_EQ(outcome_.positional, std::vector<std::string>{"false"});
}

TEST_F(FlagSetTest, LastValueWins) {
  ASSERT_OK(Parse({"--name=a", "--name=b"}));
  EXPECT_EQ(name_, "b");
}

TEST_F(FlagSetTest, EmptyValueIsAValue) {
  ASSERT_OK(Parse({"--name="}));
  EXPECT_EQ(name_, "");
  ASSERT_OK(Parse({"--name", ""}));
  EXPECT_EQ(name_, "");
}

TEST_F(FlagSetTest, ValueMayLookLikeAFlag) {
  ASSERT_OK(Parse({"--name", "--count"}));
  EXPECT_EQ(name_, "--count");
}

TEST_F(FlagSetTest, StopsAtFirstNonFlagAndAtDoubleDash) {
  ASSERT_OK(Parse({"--name=a", "extra", "--count=3"}));
  EXPECT_EQ(count_, 7u);
  EXPECT_EQ(outcome_.positional, (std::vector<std::string>{"extra", "--count=3"}));

  outcome_ = {};
  ASSERT_OK(Parse({"--", "--count=3"}));
  EXPECT_EQ(outcome_.positional, std::vector<std::string>{"--count=3"});

  outcome_ = {};
  ASSERT_OK(Parse({"-", "x"}));  // A lone "-" is an argument.
  EXPECT_EQ(outcome_.positional, (std::vector<std::string>{"-", "x"}));
}

TEST_F(FlagSetTest, HelpStopsParsing) {
  for (const char* help : {"-h", "--h", "-help", "--help"}) {
    outcome_ = {};
    ASSERT_OK(Parse({help, "--bogus"})) << help;
    EXPECT_TRUE(outcome_.help) << help;
  }
  // Errors before it still win.
  outcome_ = {};
  EXPECT_FALSE(Parse({"--bogus", "--help"}).ok());
}

TEST_F(FlagSetTest, ErrorsUseGoWording) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const Case cases[] = {
      {{"--bogus"}, "flag provided but not defined: -bogus"},
      {{"-bogus=1"}, "flag provided but not defined: -bogus"},
      {{"---name=a"}, "bad flag syntax: ---name=a"},
      {{"-=a"}, "bad flag syntax: -=a"},
      {{"--=a"}, "bad flag syntax: --=a"},
      {{"--name"}, "flag needs an argument: -name"},
      {{"--verbose=maybe"}, "invalid boolean value \"maybe\" for -verbose: parse error"},
      {{"--count=abc"}, "invalid value \"abc\" for flag -count: parse error"},
      {{"--count=-1"}, "invalid value \"-1\" for flag -count: parse error"},
      {{"--streams=4294967296"},
       "invalid value \"4294967296\" for flag -streams: value out of range"},
      {{"--timeout=5"},
       "invalid value \"5\" for flag -timeout: time: missing unit in duration \"5\""},
      {{"--urls=foo"},
       "invalid value \"foo\" for flag -urls: URL scheme must be http, https, unix, or unixs: foo"},
      {{"--state=old"}, "invalid value \"old\" for flag -state: invalid value"},
      {{"--stages=a,x"}, "invalid value \"a,x\" for flag -stages: invalid value \"x\""},
  };
  for (const Case& c : cases) {
    FlagSet::ParseOutcome outcome;
    absl::Status status = flags_.Parse(c.args, &outcome);
    ASSERT_FALSE(status.ok()) << c.args[0];
    EXPECT_EQ(status.message(), c.error) << c.args[0];
  }
}

TEST_F(FlagSetTest, URLListsAreSortedAndDeduplicated) {
  ASSERT_OK(Parse({"--urls=http://b:1,http://a:1,http://b:1"}));
  EXPECT_EQ(urls_.String(), "http://a:1,http://b:1");
  // An empty value keeps the list, as etcd's URL flags do.
  ASSERT_OK(Parse({"--urls="}));
  EXPECT_EQ(urls_.String(), "http://a:1,http://b:1");
}

TEST_F(FlagSetTest, CorsTakesStarOrURLs) {
  ASSERT_OK(Parse({"--cors=http://x.example:80"}));
  EXPECT_EQ(cors_, std::vector<std::string>{"http://x.example:80"});
  ASSERT_OK(Parse({"--cors=*"}));
  EXPECT_EQ(cors_, (std::vector<std::string>{"*", "http://x.example:80"}));
  EXPECT_FALSE(Parse({"--cors=http://no-port.example"}).ok());
}

TEST_F(FlagSetTest, Lists) {
  ASSERT_OK(Parse({"--list=b,a,b", "--set=b,a,b", "--stages=c,a"}));
  EXPECT_EQ(list_, (std::vector<std::string>{"b", "a", "b"}));
  EXPECT_EQ(set_, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stages_, "a,c");
}

TEST_F(FlagSetTest, IgnoredFlagsAreBooleansAndReported) {
  ASSERT_OK(Parse({"--snapshot", "--name=a", "-snapshot=whatever"}));
  EXPECT_EQ(name_, "a");
  EXPECT_EQ(outcome_.ignored, (std::vector<std::string>{"snapshot", "snapshot"}));
}

TEST_F(FlagSetTest, DefaultsAndCurrentValues) {
  EXPECT_EQ(flags_.Lookup("count")->default_text, "7");
  EXPECT_EQ(flags_.Lookup("timeout")->default_text, "5s");
  EXPECT_EQ(flags_.Lookup("urls")->default_text, "http://localhost:2379");
  EXPECT_EQ(flags_.Lookup("verbose")->default_text, "false");
  EXPECT_EQ(flags_.Lookup("nope"), nullptr);
  ASSERT_OK(flags_.Set("count", "8"));
  EXPECT_TRUE(flags_.IsSet("count"));
  EXPECT_EQ(flags_.Lookup("count")->value->String(), "8");
  EXPECT_EQ(flags_.Set("nope", "1").code(), absl::StatusCode::kNotFound);
}

TEST_F(FlagSetTest, YamlValues) {
  YamlNode scalar;
  scalar.kind = YamlNode::Kind::kScalar;
  scalar.scalar = "yes";
  ASSERT_OK(flags_.Lookup("verbose")->value->SetFromYaml(scalar));
  EXPECT_TRUE(verbose_);

  scalar.scalar = "5000000000";  // Nanoseconds, as etcd's files hold durations.
  ASSERT_OK(flags_.Lookup("timeout")->value->SetFromYaml(scalar));
  EXPECT_EQ(timeout_, absl::Seconds(5));
  scalar.scalar = "2m";
  ASSERT_OK(flags_.Lookup("timeout")->value->SetFromYaml(scalar));
  EXPECT_EQ(timeout_, absl::Minutes(2));

  YamlNode list;
  list.kind = YamlNode::Kind::kSequence;
  list.items = {scalar, scalar};
  list.items[0].scalar = "x";
  list.items[1].scalar = "y";
  ASSERT_OK(flags_.Lookup("list")->value->SetFromYaml(list));
  EXPECT_EQ(list_, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(flags_.Lookup("name")->value->SetFromYaml(list).ok());

  YamlNode null;
  name_ = "kept";
  ASSERT_OK(flags_.Lookup("name")->value->SetFromYaml(null));
  EXPECT_EQ(name_, "kept");
}

}  // namespace
}  // namespace etcd::embed::internal
