#include "auth/simple_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/clock.h"
#include "pkg/testutil/status_matchers.h"

namespace etcd::auth {
namespace {

class SimpleTokenTest : public ::testing::Test {
 protected:
  SimpleTokenTest() : clock_(absl::FromUnixSeconds(1000)) {
    options_.clock = &clock_;
    options_.simple_token_ttl = absl::Minutes(5);
  }

  ManualClock clock_;
  TokenProviderOptions options_;
};

constexpr absl::Time kNoDeadline = absl::InfiniteFuture();

TEST_F(SimpleTokenTest, PrefixIsSixteenRandomLetters) {
  SimpleTokenProvider tp(options_);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string prefix, tp.GenTokenPrefix());
    ASSERT_EQ(prefix.size(), 16u);
    for (char c : prefix) EXPECT_TRUE(absl::ascii_isalpha(static_cast<unsigned char>(c))) << c;
    seen.insert(prefix);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(SimpleTokenTest, AssignThenInfo) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_OK_AND_ASSIGN(std::string token, tp.Assign("user1", 3, {"dummy", 1}));
  EXPECT_EQ(token, "dummy.1");
  ASSERT_OK_AND_ASSIGN(AuthInfo info, tp.Info(token, 9, kNoDeadline));
  EXPECT_EQ(info.username, "user1");
  EXPECT_EQ(info.revision, 9u);  // the store's revision, not the one at assignment
}

// etcd's TestSimpleTokenDisabled.
TEST_F(SimpleTokenTest, DisabledProviderKnowsNoToken) {
  SimpleTokenProvider initial(options_);
  SimpleTokenProvider disabled(options_);
  disabled.Enable();
  disabled.Disable();
  for (SimpleTokenProvider* tp : {&initial, &disabled}) {
    ASSERT_OK_AND_ASSIGN(std::string token, tp->Assign("user1", 0, {"dummy", 1}));
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(tp->Info(token, 0, kNoDeadline).status()));
    tp->InvalidateUser("user1");  // no-op
  }
}

TEST_F(SimpleTokenTest, DisableForgetsEveryToken) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_OK_AND_ASSIGN(std::string token, tp.Assign("u", 0, {"abc", 7}));
  tp.Disable();
  tp.Enable();
  EXPECT_TRUE(rpctypes::IsInvalidAuthToken(tp.Info(token, 0, kNoDeadline).status()));
  EXPECT_EQ(tp.TokenCount(), 0u);
}

// etcd's TestSimpleTokenAssign.
TEST_F(SimpleTokenTest, InvalidateUser) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_OK_AND_ASSIGN(std::string t1, tp.Assign("user1", 0, {"a", 1}));
  ASSERT_OK_AND_ASSIGN(std::string t2, tp.Assign("user1", 0, {"b", 2}));
  ASSERT_OK_AND_ASSIGN(std::string t3, tp.Assign("user2", 0, {"c", 3}));
  tp.InvalidateUser("user1");
  EXPECT_FALSE(tp.Info(t1, 0, kNoDeadline).ok());
  EXPECT_FALSE(tp.Info(t2, 0, kNoDeadline).ok());
  EXPECT_TRUE(tp.Info(t3, 0, kNoDeadline).ok());
}

TEST_F(SimpleTokenTest, ExpiresAfterTtlWithoutUse) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_OK_AND_ASSIGN(std::string token, tp.Assign("u", 0, {"abc", 1}));
  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  EXPECT_TRUE(tp.Info(token, 0, kNoDeadline).ok());
  clock_.Advance(absl::Minutes(5));  // exactly a TTL after the last use
  EXPECT_TRUE(rpctypes::IsInvalidAuthToken(tp.Info(token, 0, kNoDeadline).status()));
  // Gone for good, even if time went back.
  clock_.Advance(-absl::Minutes(10));
  EXPECT_FALSE(tp.Info(token, 0, kNoDeadline).ok());
}

TEST_F(SimpleTokenTest, UseRefreshesTtl) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_OK_AND_ASSIGN(std::string token, tp.Assign("u", 0, {"abc", 1}));
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(absl::Minutes(4));
    ASSERT_TRUE(tp.Info(token, 0, kNoDeadline).ok()) << i;
  }
}

TEST_F(SimpleTokenTest, SweepReclaimsExpiredTokens) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(tp.Assign("u", 0, {"p", uint64_t(i)}).ok());
  EXPECT_EQ(tp.TokenCount(), 100u);
  clock_.Advance(absl::Minutes(6));
  ASSERT_OK_AND_ASSIGN(std::string fresh, tp.Assign("v", 0, {"q", 1}));
  EXPECT_EQ(tp.TokenCount(), 1u);
  EXPECT_TRUE(tp.Info(fresh, 0, kNoDeadline).ok());
}

TEST_F(SimpleTokenTest, DefaultTtlIsFiveMinutes) {
  options_.simple_token_ttl = absl::ZeroDuration();
  SimpleTokenProvider tp(options_);
  EXPECT_EQ(tp.ttl(), absl::Seconds(300));
}

TEST_F(SimpleTokenTest, MalformedTokens) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_TRUE(tp.Assign("u", 0, {"abc", 12}).ok());
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string("abc."), std::string("abc.12.1"),
        std::string("abc.-12"), std::string("abc.+12"), std::string("abc.1x"),
        std::string("abc.012"), std::string("Invalid Token"), std::string("Invalid.Token"),
        std::string("abc.99999999999999999999999"), std::string(1000, 'a') + ".12",
        std::string("abc\0.12", 7)}) {
    EXPECT_TRUE(rpctypes::IsInvalidAuthToken(tp.Info(bad, 0, kNoDeadline).status()))
        << testing::PrintToString(bad);
  }
  EXPECT_TRUE(tp.Info("abc.12", 0, kNoDeadline).ok());
}

TEST_F(SimpleTokenTest, AssignRejectsBadPrefixAndReuse) {
  SimpleTokenProvider tp(options_);
  tp.Enable();
  EXPECT_FALSE(tp.Assign("u", 0, {"", 1}).ok());
  EXPECT_FALSE(tp.Assign("u", 0, {"a.b", 1}).ok());
  ASSERT_TRUE(tp.Assign("u", 0, {"abc", 1}).ok());
  EXPECT_EQ(tp.Assign("v", 0, {"abc", 1}).status().code(), absl::StatusCode::kInternal);
  ASSERT_OK_AND_ASSIGN(AuthInfo info, tp.Info("abc.1", 0, kNoDeadline));
  EXPECT_EQ(info.username, "u");  // not taken over by the second assignment
}

TEST_F(SimpleTokenTest, WaitsForTheTokensIndex) {
  std::atomic<uint64_t> applied{5};
  std::vector<uint64_t> waited;
  options_.index_waiter = [&](uint64_t index, absl::Time deadline) {
    waited.push_back(index);
    return index <= applied.load();
  };
  SimpleTokenProvider tp(options_);
  tp.Enable();
  ASSERT_TRUE(tp.Assign("u", 0, {"abc", 9}).ok());
  EXPECT_TRUE(rpctypes::IsInvalidAuthToken(tp.Info("abc.9", 0, kNoDeadline).status()));
  applied = 9;
  EXPECT_TRUE(tp.Info("abc.9", 0, kNoDeadline).ok());
  EXPECT_EQ(waited, (std::vector<uint64_t>{9, 9}));
}

// Many threads assigning, using and invalidating at once (etcd's
// TestHammerSimpleAuthenticate, with a real clock and a tiny TTL).
TEST(SimpleTokenHammer, ConcurrentUse) {
  TokenProviderOptions options;
  options.simple_token_ttl = absl::Milliseconds(10);
  SimpleTokenProvider tp(options);
  tp.Enable();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&tp, t] {
      for (int i = 0; i < 300; ++i) {
        std::string user = absl::StrCat("user-", t);
        absl::StatusOr<std::string> token =
            tp.Assign(user, 0, {absl::StrCat("p", t), static_cast<uint64_t>(i)});
        ASSERT_TRUE(token.ok());
        absl::StatusOr<AuthInfo> info = tp.Info(*token, 0, absl::InfiniteFuture());
        if (info.ok()) {
          EXPECT_EQ(info->username, user);
        }
        if (i % 50 == 0) tp.InvalidateUser(user);
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace etcd::auth
