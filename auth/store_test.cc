#include "auth/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/base64.h"
#include "auth/bcrypt.h"
#include "auth/clock.h"
#include "auth/errors.h"
#include "auth/jwt.h"
#include "auth/perm_model.h"
#include "auth/simple_token.h"
#include "auth/test_keys.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::auth {
namespace {

using mvcc::backend::Backend;
using mvcc::backend::BackendOptions;
using mvcc::backend::BatchTx;
using mvcc::backend::Bucket;
using ::testing::ElementsAre;

const std::string kOpen(1, '\0');

authpb::Permission Perm(authpb::Permission::Type type, std::string key, std::string end = "") {
  authpb::Permission p;
  p.set_permtype(type);
  p.set_key(std::move(key));
  p.set_range_end(std::move(end));
  return p;
}

constexpr auto R = authpb::Permission::READ;
constexpr auto W = authpb::Permission::WRITE;
constexpr auto RW = authpb::Permission::READWRITE;

bool IsErr(const absl::Status& s, const rpctypes::EtcdError& e) { return rpctypes::Is(s, e); }

#define EXPECT_ERR(expr, err)                                               \
  do {                                                                      \
    absl::Status etcd_s_ = (expr);                                          \
    EXPECT_TRUE(IsErr(etcd_s_, rpctypes::err)) << #expr << ": " << etcd_s_; \
  } while (0)

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("auth"));
    dir_.emplace(std::move(dir));
    OpenBackend();
    OpenStore();
  }

  void OpenBackend() {
    BackendOptions options;
    options.path = dir_->Join("db");
    options.batch_interval = absl::Hours(1);
    options.initial_map_size = 64 << 20;
    absl::StatusOr<std::unique_ptr<Backend>> be = Backend::Open(options);
    ASSERT_OK(be.status());
    backend_ = *std::move(be);
  }

  void OpenStore(std::unique_ptr<TokenProvider> tokens = nullptr) {
    if (tokens == nullptr) {
      TokenProviderOptions topts;
      topts.clock = &clock_;
      auto simple = std::make_unique<SimpleTokenProvider>(topts);
      simple_ = simple.get();
      tokens = std::move(simple);
    } else {
      simple_ = nullptr;
    }
    AuthStoreOptions options;
    options.bcrypt_cost = kBcryptMinCost;
    options.logger = &quiet_;
    // Called with `tx` locked, which the analysis cannot see through std::function.
    options.consistent_index_saver = [this](BatchTx* tx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      ++ci_saves_;
      tx->UnsafePut(Bucket::kMeta, "consistent_index", "x");
    };
    absl::StatusOr<std::unique_ptr<AuthStore>> store =
        AuthStore::Open(backend_.get(), std::move(tokens), options);
    ASSERT_OK(store.status());
    store_ = *std::move(store);
  }

  void Reopen() {
    store_.reset();
    ASSERT_OK(backend_->Close());
    backend_.reset();
    OpenBackend();
    OpenStore();
  }

  // etcd's setupAuthStore: root (root role) + enabled, role "role-test", user foo/bar.
  void SetupEnabled() {
    ASSERT_OK(store_->UserAdd({.name = "root", .password = "root"}));
    ASSERT_OK(store_->RoleAdd("root"));
    ASSERT_OK(store_->UserGrantRole("root", "root"));
    ASSERT_OK(store_->AuthEnable());
    ASSERT_OK(store_->RoleAdd("role-test"));
    ASSERT_OK(store_->UserAdd({.name = "foo", .password = "bar"}));
  }

  AuthInfo Who(const std::string& user) const { return AuthInfo{user, store_->Revision()}; }

  log::Logger quiet_{log::LoggerOptions{}, {}};
  ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::optional<testutil::TempDir> dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<AuthStore> store_;
  SimpleTokenProvider* simple_ = nullptr;
  int ci_saves_ = 0;
};

// etcd's TestNewAuthStoreRevision.
TEST_F(StoreTest, FreshStoreStartsAtRevisionOneAndKeepsItAcrossReopen) {
  EXPECT_EQ(store_->Revision(), 1u);
  EXPECT_FALSE(store_->IsAuthEnabled());
  SetupEnabled();
  uint64_t rev = store_->Revision();
  Reopen();
  EXPECT_EQ(store_->Revision(), rev);
  EXPECT_TRUE(store_->IsAuthEnabled());
}

// etcd's TestNewAuthStoreBcryptCost.
TEST_F(StoreTest, InvalidBcryptCostFallsBackToDefault) {
  for (int cost : {kBcryptMinCost - 1, kBcryptMaxCost + 1}) {
    AuthStoreOptions options;
    options.bcrypt_cost = cost;
    store_.reset();
    ASSERT_OK_AND_ASSIGN(store_, AuthStore::Open(backend_.get(), nullptr, options));
    EXPECT_EQ(store_->BcryptCost(), kBcryptDefaultCost);
  }
}

TEST_F(StoreTest, EnableNeedsRootUserWithRootRole) {
  EXPECT_ERR(store_->AuthEnable(), kErrRootUserNotExist);
  ASSERT_OK(store_->UserAdd({.name = "root", .password = "pw"}));
  EXPECT_ERR(store_->AuthEnable(), kErrRootRoleNotExist);
  // The role need not exist to be granted...
  ASSERT_OK(store_->UserGrantRole("root", "root"));
  EXPECT_FALSE(store_->IsAuthEnabled());
  // ...and then auth can be enabled.
  ASSERT_OK(store_->AuthEnable());
  EXPECT_TRUE(store_->IsAuthEnabled());
  uint64_t rev = store_->Revision();
  ASSERT_OK(store_->AuthEnable());  // no-op
  EXPECT_EQ(store_->Revision(), rev);
}

TEST_F(StoreTest, RootIsProtectedWhileEnabled) {
  SetupEnabled();
  uint64_t rev = store_->Revision();
  EXPECT_ERR(store_->UserDelete("root"), kErrInvalidAuthMgmt);
  EXPECT_ERR(store_->RoleDelete("root"), kErrInvalidAuthMgmt);
  EXPECT_ERR(store_->UserRevokeRole("root", "root"), kErrInvalidAuthMgmt);
  EXPECT_EQ(store_->Revision(), rev);
  // Another user may lose the root role.
  ASSERT_OK(store_->UserGrantRole("foo", "root"));
  ASSERT_OK(store_->UserRevokeRole("foo", "root"));
  // Disabled, root is an ordinary user and role again.
  store_->AuthDisable();
  ASSERT_OK(store_->UserRevokeRole("root", "root"));
  ASSERT_OK(store_->RoleDelete("root"));
  ASSERT_OK(store_->UserDelete("root"));
  EXPECT_ERR(store_->AuthEnable(), kErrRootUserNotExist);
}

TEST_F(StoreTest, EveryChangeBumpsTheRevisionOnce) {
  uint64_t rev = store_->Revision();
  auto bumped = [&](absl::Status s) {
    EXPECT_OK(s);
    uint64_t now = store_->Revision();
    bool one = now == rev + 1;
    rev = now;
    return one;
  };
  EXPECT_TRUE(bumped(store_->UserAdd({.name = "root", .password = "pw"})));
  EXPECT_TRUE(bumped(store_->RoleAdd("root")));
  EXPECT_TRUE(bumped(store_->UserGrantRole("root", "root")));
  EXPECT_TRUE(bumped(store_->AuthEnable()));
  EXPECT_TRUE(bumped(store_->RoleAdd("r")));
  EXPECT_TRUE(bumped(store_->RoleGrantPermission("r", Perm(R, "a", "b"))));
  EXPECT_TRUE(bumped(store_->RoleGrantPermission("r", Perm(RW, "a", "b"))));  // type update
  EXPECT_TRUE(bumped(store_->UserAdd({.name = "u", .password = "pw"})));
  EXPECT_TRUE(bumped(store_->UserGrantRole("u", "r")));
  EXPECT_TRUE(bumped(store_->UserChangePassword("u", "pw2")));
  EXPECT_TRUE(bumped(store_->RoleRevokePermission("r", "a", "b")));
  EXPECT_TRUE(bumped(store_->UserRevokeRole("u", "r")));
  EXPECT_TRUE(bumped(store_->RoleDelete("r")));
  EXPECT_TRUE(bumped(store_->UserDelete("u")));
  store_->AuthDisable();
  EXPECT_TRUE(bumped(absl::OkStatus()));
  // Failures and no-ops change nothing.
  EXPECT_FALSE(store_->UserDelete("nobody").ok());
  EXPECT_FALSE(store_->RoleAdd("").ok());
  ASSERT_OK(store_->UserGrantRole("root", "root"));  // already granted
  store_->AuthDisable();                             // already disabled
  EXPECT_EQ(store_->Revision(), rev);
  EXPECT_GE(ci_saves_, 15);
}

TEST_F(StoreTest, ConsistentIndexSavedInTheSameTransaction) {
  ASSERT_OK(store_->RoleAdd("r"));
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  EXPECT_EQ(tx->UnsafeGet(Bucket::kMeta, "consistent_index").value_or(""), "x");
  EXPECT_EQ(ci_saves_, 1);
}

// etcd's TestUserAdd.
TEST_F(StoreTest, UserAdd) {
  SetupEnabled();
  EXPECT_ERR(store_->UserAdd({.name = "foo"}), kErrUserAlreadyExist);
  EXPECT_ERR(store_->UserAdd({.name = ""}), kErrUserEmpty);
  EXPECT_THAT(store_->UserList(), ElementsAre("foo", "root"));
  EXPECT_FALSE(store_->UserAdd({.name = "x", .hashed_password = "not base64!"}).ok());
  EXPECT_FALSE(store_->UserAdd({.name = "y", .password = std::string("a\0b", 3)}).ok());
}

// etcd's TestCheckPassword.
TEST_F(StoreTest, CheckPassword) {
  EXPECT_ERR(store_->CheckPassword("foo", "bar").status(), kErrAuthNotEnabled);
  SetupEnabled();
  EXPECT_ERR(store_->CheckPassword("foo-test", "bar").status(), kErrAuthFailed);
  ASSERT_OK_AND_ASSIGN(uint64_t rev, store_->CheckPassword("foo", "bar"));
  EXPECT_EQ(rev, store_->Revision());
  EXPECT_ERR(store_->CheckPassword("foo", "").status(), kErrAuthFailed);
  EXPECT_ERR(store_->CheckPassword("foo", std::string("bar\0x", 5)).status(), kErrAuthFailed);
}

TEST_F(StoreTest, HashedPasswordsFromTheApiLayer) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(std::string hashed, store_->HashPassword("s3cret"));
  ASSERT_TRUE(IsBcryptHash(Base64StdDecode(hashed).value()));
  ASSERT_OK(store_->UserAdd({.name = "h", .password = "ignored", .hashed_password = hashed}));
  EXPECT_TRUE(store_->CheckPassword("h", "s3cret").ok());
  EXPECT_FALSE(store_->CheckPassword("h", "ignored").ok());
  // A hash made by Go's bcrypt, as etcd 3.5 members put into the log.
  ASSERT_OK(store_->UserChangePassword(
      "h", "", Base64StdEncode("$2a$04$HLQ7n2R02hNuUDEsUGndO.JCVR3f/R/L447GHjFo99ZzHohW6im4m")));
  EXPECT_TRUE(store_->CheckPassword("h", "etcd-password").ok());
  EXPECT_FALSE(store_->UserChangePassword("h", "", "%%%").ok());
  // The stored record holds the hash, never the password.
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  authpb::User stored;
  ASSERT_TRUE(
      stored.ParseFromString(std::string(tx->UnsafeGet(Bucket::kAuthUsers, "foo").value())));
  EXPECT_TRUE(absl::StartsWith(stored.password(), "$2b$04$"));
  EXPECT_TRUE(BcryptVerify(stored.password(), "bar"));
}

// The TOCTOU gap etcd closes with the auth revision: the password changes
// between the (slow) check and the apply step.
TEST_F(StoreTest, PasswordChangedBetweenCheckAndApplyIsRejected) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(uint64_t checked, store_->CheckPassword("foo", "bar"));
  ASSERT_OK_AND_ASSIGN(std::string prefix, store_->GenTokenPrefix());
  ASSERT_OK(store_->UserChangePassword("foo", "baz"));
  EXPECT_ERR(store_->Authenticate({"foo", checked, prefix, 10}).status(), kErrAuthOldRevision);
  EXPECT_EQ(simple_->TokenCount(), 0u);
  // With the new password it works.
  EXPECT_ERR(store_->CheckPassword("foo", "bar").status(), kErrAuthFailed);
  ASSERT_OK_AND_ASSIGN(checked, store_->CheckPassword("foo", "baz"));
  ASSERT_OK_AND_ASSIGN(std::string token, store_->Authenticate({"foo", checked, prefix, 11}));
  EXPECT_EQ(token, prefix + ".11");
}

TEST_F(StoreTest, AnyAuthChangeBetweenCheckAndApplyIsRejected) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(uint64_t checked, store_->CheckPassword("foo", "bar"));
  ASSERT_OK(store_->UserDelete("foo"));
  EXPECT_ERR(store_->Authenticate({"foo", checked, "p", 1}).status(), kErrAuthOldRevision);
  EXPECT_ERR(store_->Authenticate({"foo", store_->Revision() + 1, "p", 1}).status(),
             kErrAuthOldRevision);
  EXPECT_ERR(store_->Authenticate({"foo", store_->Revision(), "p", 1}).status(), kErrAuthFailed);
}

// The check and the change race for real; whichever order they run in, a
// token is only ever issued for the password that is current.
TEST_F(StoreTest, PasswordChangeRacingAuthenticate) {
  SetupEnabled();
  for (int round = 0; round < 20; ++round) {
    std::string old_pw = absl::StrCat("pw", round);
    ASSERT_OK(store_->UserChangePassword("foo", old_pw));
    std::atomic<bool> go{false};
    absl::StatusOr<std::string> token;
    std::thread client([&] {
      while (!go.load()) {
      }
      absl::StatusOr<uint64_t> rev = store_->CheckPassword("foo", old_pw);
      if (!rev.ok()) {
        token = rev.status();
        return;
      }
      token = store_->Authenticate({"foo", *rev, "race", static_cast<uint64_t>(round)});
    });
    go = true;
    ASSERT_OK(store_->UserChangePassword("foo", absl::StrCat("new", round)));
    client.join();
    if (token.ok()) {
      // Issued before the change: the change must have revoked it.
      EXPECT_FALSE(store_->AuthInfoFromToken(*token).ok());
    } else {
      EXPECT_TRUE(IsErr(token.status(), rpctypes::kErrAuthOldRevision) ||
                  IsErr(token.status(), rpctypes::kErrAuthFailed))
          << token.status();
    }
  }
}

// etcd's TestUserChangePassword and TestAuthInfoFromCtx.
TEST_F(StoreTest, TokensAuthenticateAndAreRevokedByPasswordChangeAndDeletion) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar", 1));
  ASSERT_OK_AND_ASSIGN(AuthInfo who, store_->AuthInfoFromToken(token));
  EXPECT_EQ(who, Who("foo"));
  EXPECT_ERR(store_->AuthInfoFromToken("Invalid Token").status(), kErrInvalidAuthToken);
  EXPECT_ERR(store_->AuthInfoFromToken("Invalid.Token").status(), kErrInvalidAuthToken);

  ASSERT_OK(store_->UserChangePassword("foo", "baz"));
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
  ASSERT_OK_AND_ASSIGN(token, store_->AuthenticateWithPassword("foo", "baz", 2));
  ASSERT_OK_AND_ASSIGN(std::string root_token, store_->AuthenticateWithPassword("root", "root", 3));
  ASSERT_OK(store_->UserDelete("foo"));
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
  EXPECT_TRUE(store_->AuthInfoFromToken(root_token).ok());  // other users keep theirs
  EXPECT_ERR(store_->UserChangePassword("foo-test", "bar"), kErrUserNotFound);
}

TEST_F(StoreTest, DisableDropsTokensAndAuthInfoIsEmpty) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar", 1));
  store_->AuthDisable();
  ASSERT_OK_AND_ASSIGN(AuthInfo who, store_->AuthInfoFromToken(token));
  EXPECT_EQ(who, AuthInfo{});
  EXPECT_ERR(store_->AuthenticateWithPassword("foo", "bar").status(), kErrAuthNotEnabled);
  ASSERT_OK(store_->AuthEnable());
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
}

TEST_F(StoreTest, SimpleTokensExpire) {
  SetupEnabled();
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar", 1));
  clock_.Advance(absl::Minutes(4));
  EXPECT_TRUE(store_->AuthInfoFromToken(token).ok());
  clock_.Advance(absl::Minutes(4));
  EXPECT_TRUE(store_->AuthInfoFromToken(token).ok());  // refreshed at the last use
  clock_.Advance(absl::Minutes(5));
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
}

// etcd's TestUserNoPasswordAdd, and more.
TEST_F(StoreTest, NoPasswordUsers) {
  SetupEnabled();
  ASSERT_OK(store_->UserAdd({.name = "cn-user", .password = "ignored", .no_password = true}));
  EXPECT_TRUE(IsNoPasswordUser(store_->CheckPassword("cn-user", "").status()));
  EXPECT_TRUE(IsNoPasswordUser(store_->CheckPassword("cn-user", "ignored").status()));
  EXPECT_ERR(store_->Authenticate({"cn-user", store_->Revision(), "p", 1}).status(),
             kErrAuthFailed);
  ASSERT_OK(store_->UserChangePassword("cn-user", "now-a-password"));
  EXPECT_TRUE(IsNoPasswordUser(store_->CheckPassword("cn-user", "now-a-password").status()));
  ASSERT_OK_AND_ASSIGN(authpb::User u, store_->UserGet("cn-user"));
  EXPECT_TRUE(u.options().no_password());
  EXPECT_TRUE(u.password().empty());
  // A TLS client with that common name.
  AuthInfo who = store_->AuthInfoFromCommonName("cn-user");
  EXPECT_EQ(who, Who("cn-user"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(R, "k")));
  ASSERT_OK(store_->UserGrantRole("cn-user", "role-test"));
  EXPECT_OK(store_->IsRangePermitted(store_->AuthInfoFromCommonName("cn-user"), "k", ""));
}

// etcd's TestUserGrant, TestHasRole, TestRolesOrder, TestGetUser.
TEST_F(StoreTest, UserGrantRole) {
  SetupEnabled();
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_ERR(store_->UserGrantRole("foo-test", "role-test"), kErrUserNotFound);
  EXPECT_ERR(store_->UserGrantRole("foo", "no-such-role"), kErrRoleNotFound);
  EXPECT_TRUE(store_->HasRole("foo", "role-test"));
  EXPECT_FALSE(store_->HasRole("foo", "non-existent-role"));
  EXPECT_FALSE(store_->HasRole("nouser", "role-test"));
  for (const char* role : {"role1", "role2", "abc", "xyz", "role3"}) {
    ASSERT_OK(store_->RoleAdd(role));
    ASSERT_OK(store_->UserGrantRole("foo", role));
  }
  ASSERT_OK_AND_ASSIGN(authpb::User u, store_->UserGet("foo"));
  EXPECT_THAT(u.roles(), ElementsAre("abc", "role-test", "role1", "role2", "role3", "xyz"));
  EXPECT_TRUE(u.password().empty());
  EXPECT_ERR(store_->UserGet("nouser").status(), kErrUserNotFound);
}

TEST_F(StoreTest, UserRevokeRole) {
  SetupEnabled();
  ASSERT_OK(store_->RoleAdd("role-test-1"));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test-1"));
  ASSERT_OK(store_->UserRevokeRole("foo", "role-test-1"));
  ASSERT_OK_AND_ASSIGN(authpb::User u, store_->UserGet("foo"));
  EXPECT_THAT(u.roles(), ElementsAre("role-test"));
  EXPECT_ERR(store_->UserRevokeRole("foo", "role-test-1"), kErrRoleNotGranted);
  EXPECT_ERR(store_->UserRevokeRole("nobody", "role-test"), kErrUserNotFound);
}

// etcd's TestRoleAdd, TestRoleGrantPermission, TestRoleRevokePermission,
// TestRoleDelete.
TEST_F(StoreTest, Roles) {
  SetupEnabled();
  EXPECT_ERR(store_->RoleAdd(""), kErrRoleEmpty);
  EXPECT_ERR(store_->RoleAdd("role-test"), kErrRoleAlreadyExist);
  ASSERT_OK(store_->RoleAdd("role-test-1"));
  ASSERT_OK(store_->RoleGrantPermission("role-test-1", Perm(W, "Keys", "RangeEnd")));
  ASSERT_OK(store_->RoleGrantPermission("role-test-1", Perm(R, "A")));
  ASSERT_OK(store_->RoleGrantPermission("role-test-1", Perm(R, "Keys", "Z")));
  ASSERT_OK(store_->RoleGrantPermission("role-test-1", Perm(RW, "Keys", "RangeEnd")));
  ASSERT_OK_AND_ASSIGN(std::vector<authpb::Permission> perms, store_->RoleGet("role-test-1"));
  ASSERT_EQ(perms.size(), 3u);
  EXPECT_EQ(perms[0].key(), "A");
  EXPECT_EQ(perms[1].range_end(), "RangeEnd");
  EXPECT_EQ(perms[1].permtype(), RW);
  EXPECT_EQ(perms[2].range_end(), "Z");
  EXPECT_ERR(store_->RoleGrantPermission("nope", Perm(R, "a")), kErrRoleNotFound);

  ASSERT_OK(store_->RoleRevokePermission("role-test-1", "Keys", "RangeEnd"));
  EXPECT_ERR(store_->RoleRevokePermission("role-test-1", "Keys", "RangeEnd"),
             kErrPermissionNotGranted);
  EXPECT_ERR(store_->RoleRevokePermission("nope", "Keys", ""), kErrRoleNotFound);
  ASSERT_OK_AND_ASSIGN(perms, store_->RoleGet("role-test-1"));
  EXPECT_EQ(perms.size(), 2u);

  // The root role reports READWRITE on everything (etcd 3.5).
  ASSERT_OK_AND_ASSIGN(perms, store_->RoleGet("root"));
  ASSERT_EQ(perms.size(), 1u);
  EXPECT_EQ(perms[0].permtype(), RW);
  EXPECT_EQ(perms[0].key(), "");
  EXPECT_EQ(perms[0].range_end(), kOpen);

  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  ASSERT_OK(store_->RoleDelete("role-test"));
  EXPECT_THAT(store_->RoleList(), ElementsAre("role-test-1", "root"));
  EXPECT_TRUE(store_->UserGet("foo")->roles().empty());
  EXPECT_ERR(store_->RoleDelete("role-test"), kErrRoleNotFound);
  EXPECT_ERR(store_->RoleGet("role-test").status(), kErrRoleNotFound);
}

TEST_F(StoreTest, InvalidPermissionRangesAreRefused) {
  ASSERT_OK(store_->RoleAdd("r"));
  uint64_t rev = store_->Revision();
  EXPECT_ERR(store_->RoleGrantPermission("r", Perm(R, "")), kErrInvalidAuthMgmt);
  EXPECT_ERR(store_->RoleGrantPermission("r", Perm(R, "", "z")), kErrInvalidAuthMgmt);
  EXPECT_ERR(store_->RoleGrantPermission("r", Perm(R, "b", "a")), kErrInvalidAuthMgmt);
  EXPECT_ERR(store_->RoleGrantPermission("r", Perm(R, "b", "b")), kErrInvalidAuthMgmt);
  authpb::Permission odd = Perm(R, "a");
  odd.set_permtype(static_cast<authpb::Permission::Type>(9));
  EXPECT_ERR(store_->RoleGrantPermission("r", odd), kErrInvalidAuthMgmt);
  EXPECT_EQ(store_->Revision(), rev);
  EXPECT_OK(store_->RoleGrantPermission("r", Perm(R, kOpen, kOpen)));  // every key
  EXPECT_OK(store_->RoleGrantPermission("r", Perm(R, "b", kOpen)));
}

// etcd's TestIsAdminPermitted.
TEST_F(StoreTest, IsAdminPermitted) {
  SetupEnabled();
  EXPECT_OK(store_->IsAdminPermitted({"root", 1}));
  EXPECT_ERR(store_->IsAdminPermitted({"rooti", 1}), kErrUserNotFound);
  EXPECT_ERR(store_->IsAdminPermitted({"", 1}), kErrUserEmpty);
  EXPECT_ERR(store_->IsAdminPermitted({"foo", 1}), kErrPermissionDenied);
  ASSERT_OK(store_->UserGrantRole("foo", "root"));
  EXPECT_OK(store_->IsAdminPermitted({"foo", 1}));
  EXPECT_EQ(store_->RootAuthInfo(), Who("root"));
  store_->AuthDisable();
  EXPECT_OK(store_->IsAdminPermitted({"root", 1}));
  EXPECT_OK(store_->IsAdminPermitted({}));
}

TEST_F(StoreTest, ChecksPassEverythingWhileDisabled) {
  ASSERT_OK(store_->UserAdd({.name = "u", .password = "p"}));
  AuthInfo nobody;
  EXPECT_OK(store_->IsPutPermitted(nobody, "k"));
  EXPECT_OK(store_->IsRangePermitted(nobody, "a", kOpen));
  EXPECT_OK(store_->IsDeleteRangePermitted(nobody, "a", "z"));
  EXPECT_OK(store_->IsTxnPermitted(nobody, {KeyAccess::Write("k")}));
  EXPECT_OK(store_->IsLeaseRevokePermitted(nobody, {"k"}));
}

TEST_F(StoreTest, CredentialAndRevisionChecks) {
  SetupEnabled();
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(RW, "k")));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_ERR(store_->IsPutPermitted({}, "k"), kErrUserEmpty);
  EXPECT_ERR(store_->IsPutPermitted({"foo", 0}, "k"), kErrUserEmpty);
  EXPECT_ERR(store_->IsPutPermitted({"foo", store_->Revision() - 1}, "k"), kErrAuthOldRevision);
  EXPECT_OK(store_->IsPutPermitted(Who("foo"), "k"));
  EXPECT_OK(store_->IsPutPermitted({"foo", store_->Revision() + 5}, "k"));
  EXPECT_ERR(store_->IsPutPermitted(Who("ghost"), "k"), kErrPermissionDenied);
  // A request checked before any auth change is stale after it.
  AuthInfo before = Who("foo");
  ASSERT_OK(store_->RoleAdd("unrelated"));
  EXPECT_ERR(store_->IsRangePermitted(before, "k", ""), kErrAuthOldRevision);
  EXPECT_ERR(store_->IsTxnPermitted(before, {KeyAccess::Read("k")}), kErrAuthOldRevision);
  EXPECT_ERR(store_->IsLeaseRevokePermitted(before, {}), kErrAuthOldRevision);
}

TEST_F(StoreTest, RootRoleHoldersMayDoAnything) {
  SetupEnabled();
  EXPECT_OK(store_->IsPutPermitted(Who("root"), "any"));
  EXPECT_OK(store_->IsDeleteRangePermitted(Who("root"), kOpen, kOpen));
  EXPECT_ERR(store_->IsPutPermitted(Who("foo"), "any"), kErrPermissionDenied);
  ASSERT_OK(store_->UserGrantRole("foo", "root"));
  EXPECT_OK(store_->IsPutPermitted(Who("foo"), "any"));
  EXPECT_OK(store_->IsRangePermitted(Who("foo"), "a", kOpen));
}

TEST_F(StoreTest, KeyRangeAndPrefixPermissions) {
  SetupEnabled();
  ASSERT_OK(store_->RoleAdd("reader"));
  ASSERT_OK(store_->RoleAdd("writer"));
  ASSERT_OK(store_->RoleGrantPermission("reader", Perm(R, "/app/", "/app0")));  // prefix
  ASSERT_OK(store_->RoleGrantPermission("reader", Perm(R, "single")));
  ASSERT_OK(store_->RoleGrantPermission("writer", Perm(W, "/app/logs/", "/app/logs0")));
  ASSERT_OK(store_->RoleGrantPermission("writer", Perm(RW, "z", kOpen)));  // from key
  ASSERT_OK(store_->UserGrantRole("foo", "reader"));
  ASSERT_OK(store_->UserGrantRole("foo", "writer"));
  AuthInfo foo = Who("foo");

  EXPECT_OK(store_->IsRangePermitted(foo, "/app/config", ""));
  EXPECT_OK(store_->IsRangePermitted(foo, "/app/", "/app0"));
  EXPECT_ERR(store_->IsRangePermitted(foo, "/app", ""), kErrPermissionDenied);
  EXPECT_ERR(store_->IsRangePermitted(foo, "/app/", kOpen), kErrPermissionDenied);
  EXPECT_ERR(store_->IsPutPermitted(foo, "/app/config"), kErrPermissionDenied);
  EXPECT_OK(store_->IsPutPermitted(foo, "/app/logs/1"));
  EXPECT_OK(store_->IsRangePermitted(foo, "/app/logs/1", "/app/logs/2"));
  EXPECT_OK(store_->IsRangePermitted(foo, "single", ""));
  EXPECT_ERR(store_->IsPutPermitted(foo, "single"), kErrPermissionDenied);
  EXPECT_ERR(store_->IsRangePermitted(foo, "single", "singlf"), kErrPermissionDenied);
  // Open-ended: every key from "z" on, read and write.
  EXPECT_OK(store_->IsRangePermitted(foo, "z", kOpen));
  EXPECT_OK(store_->IsDeleteRangePermitted(foo, "zz", kOpen));
  EXPECT_OK(store_->IsPutPermitted(foo, "\xff\xff"));
  EXPECT_ERR(store_->IsDeleteRangePermitted(foo, "y", kOpen), kErrPermissionDenied);
  // A range spanning granted and ungranted keys.
  EXPECT_ERR(store_->IsRangePermitted(foo, "/app/", "z"), kErrPermissionDenied);
}

TEST_F(StoreTest, OverlappingGrantsFromSeveralRolesCombine) {
  SetupEnabled();
  ASSERT_OK(store_->RoleAdd("r1"));
  ASSERT_OK(store_->RoleAdd("r2"));
  ASSERT_OK(store_->RoleAdd("r3"));
  ASSERT_OK(store_->RoleGrantPermission("r1", Perm(R, "a", "f")));
  ASSERT_OK(store_->RoleGrantPermission("r2", Perm(R, "c", "d")));
  ASSERT_OK(store_->RoleGrantPermission("r2", Perm(RW, "e", "k")));
  ASSERT_OK(store_->RoleGrantPermission("r3", Perm(W, "a", "e")));
  for (const char* r : {"r1", "r2", "r3"}) ASSERT_OK(store_->UserGrantRole("foo", r));
  AuthInfo foo = Who("foo");
  EXPECT_OK(store_->IsRangePermitted(foo, "a", "k"));  // [a,f) + [e,k)
  EXPECT_ERR(store_->IsRangePermitted(foo, "a", "l"), kErrPermissionDenied);
  EXPECT_OK(store_->IsDeleteRangePermitted(foo, "a", "k"));  // [a,e) + [e,k)
  EXPECT_OK(store_->IsPutPermitted(foo, "e"));
  EXPECT_ERR(store_->IsPutPermitted(foo, "k"), kErrPermissionDenied);
  // Revoking one role removes exactly its part.
  ASSERT_OK(store_->UserRevokeRole("foo", "r3"));
  foo = Who("foo");
  EXPECT_ERR(store_->IsDeleteRangePermitted(foo, "a", "k"), kErrPermissionDenied);
  EXPECT_OK(store_->IsDeleteRangePermitted(foo, "e", "k"));
  EXPECT_OK(store_->IsRangePermitted(foo, "a", "k"));
}

TEST_F(StoreTest, TxnChecksEveryAccess) {
  SetupEnabled();
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(R, "a", "m")));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(W, "x")));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  AuthInfo foo = Who("foo");
  // compare(a..c) then put(x) else range(b)
  EXPECT_OK(store_->IsTxnPermitted(
      foo, {KeyAccess::Read("a", "c"), KeyAccess::Write("x"), KeyAccess::Read("b")}));
  // The same with a put of x with prev_kv: needs READ on x too.
  EXPECT_ERR(store_->IsTxnPermitted(
                 foo, {KeyAccess::Read("a", "c"), KeyAccess::Write("x"), KeyAccess::Read("x")}),
             kErrPermissionDenied);
  // One op deep in the failure branch is enough to deny the whole txn.
  EXPECT_ERR(store_->IsTxnPermitted(foo, {KeyAccess::Read("a"), KeyAccess::Write("x"),
                                          KeyAccess::Read("b"), KeyAccess::Write("y")}),
             kErrPermissionDenied);
  EXPECT_OK(store_->IsTxnPermitted(foo, {}));
  EXPECT_OK(store_->IsTxnPermitted(Who("root"), {KeyAccess::Write("y")}));
}

TEST_F(StoreTest, LeaseRevokeNeedsWriteOnEveryAttachedKey) {
  SetupEnabled();
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(W, "lock/", "lock0")));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  AuthInfo foo = Who("foo");
  EXPECT_OK(store_->IsLeaseRevokePermitted(foo, {"lock/a", "lock/b"}));
  EXPECT_OK(store_->IsLeaseRevokePermitted(foo, {}));
  EXPECT_ERR(store_->IsLeaseRevokePermitted(foo, {"lock/a", "other"}), kErrPermissionDenied);
  EXPECT_ERR(store_->IsLeaseRevokePermitted({}, {}), kErrUserEmpty);
  EXPECT_OK(store_->IsLeaseRevokePermitted(store_->RootAuthInfo(), {"other"}));
}

// The cache follows every change that affects a user (etcd's
// TestUserDeleteAndPermCache, TestUserRevokePermission and more).
TEST_F(StoreTest, PermissionCacheFollowsChanges) {
  SetupEnabled();
  auto can_write = [&](const char* user, const char* key) {
    return store_->IsPutPermitted(Who(user), key).ok();
  };
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(W, "k")));
  EXPECT_TRUE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(R, "k")));  // type changed to READ
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(RW, "k")));
  EXPECT_TRUE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleRevokePermission("role-test", "k", ""));
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(W, "k")));
  ASSERT_OK(store_->UserRevokeRole("foo", "role-test"));
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_TRUE(can_write("foo", "k"));
  ASSERT_OK(store_->RoleDelete("role-test"));
  EXPECT_FALSE(can_write("foo", "k"));
  // A role re-created under the same name starts empty and is not re-granted.
  ASSERT_OK(store_->RoleAdd("role-test"));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(W, "k")));
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_TRUE(can_write("foo", "k"));
  // A deleted and re-added user has no roles.
  ASSERT_OK(store_->UserDelete("foo"));
  EXPECT_FALSE(can_write("foo", "k"));
  ASSERT_OK(store_->UserAdd({.name = "foo", .password = "x"}));
  EXPECT_FALSE(can_write("foo", "k"));
}

TEST_F(StoreTest, EverythingSurvivesReopen) {
  SetupEnabled();
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(RW, "a", "c")));
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(R, "z", kOpen)));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  ASSERT_OK(store_->UserAdd({.name = "nopw", .no_password = true}));
  uint64_t rev = store_->Revision();
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar", 1));

  Reopen();
  EXPECT_TRUE(store_->IsAuthEnabled());
  EXPECT_EQ(store_->Revision(), rev);
  EXPECT_THAT(store_->UserList(), ElementsAre("foo", "nopw", "root"));
  EXPECT_THAT(store_->RoleList(), ElementsAre("role-test", "root"));
  EXPECT_THAT(store_->UserGet("foo")->roles(), ElementsAre("role-test"));
  EXPECT_TRUE(store_->UserGet("nopw")->options().no_password());
  ASSERT_OK_AND_ASSIGN(std::vector<authpb::Permission> perms, store_->RoleGet("role-test"));
  EXPECT_EQ(perms.size(), 2u);
  EXPECT_OK(store_->IsPutPermitted(Who("foo"), "b"));
  EXPECT_OK(store_->IsRangePermitted(Who("foo"), "zz", kOpen));
  EXPECT_ERR(store_->IsPutPermitted(Who("foo"), "zz"), kErrPermissionDenied);
  EXPECT_TRUE(store_->CheckPassword("foo", "bar").ok());
  // Simple tokens live in memory only.
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
  // The persisted layout is etcd's.
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  EXPECT_EQ(tx->UnsafeGet(Bucket::kAuth, "authEnabled").value(), "\x01");
  std::string rev_bytes(tx->UnsafeGet(Bucket::kAuth, "authRevision").value());
  ASSERT_EQ(rev_bytes.size(), 8u);
  EXPECT_EQ(static_cast<unsigned char>(rev_bytes[7]), rev & 0xff);
  authpb::Role role;
  ASSERT_TRUE(
      role.ParseFromString(std::string(tx->UnsafeGet(Bucket::kAuthRoles, "role-test").value())));
  EXPECT_EQ(role.name(), "role-test");
}

TEST_F(StoreTest, DisabledStateSurvivesReopen) {
  SetupEnabled();
  store_->AuthDisable();
  uint64_t rev = store_->Revision();
  Reopen();
  EXPECT_FALSE(store_->IsAuthEnabled());
  EXPECT_EQ(store_->Revision(), rev);
  std::unique_ptr<mvcc::backend::ReadTx> tx = backend_->ConcurrentReadTx();
  EXPECT_EQ(tx->UnsafeGet(Bucket::kAuth, "authEnabled").value(), std::string(1, '\0'));
}

// A snapshot install replaces the backend's contents; Recover reloads.
TEST_F(StoreTest, RecoverReloadsFromTheBackend) {
  SetupEnabled();
  uint64_t rev = store_->Revision();
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar", 1));
  {
    BatchTx* tx = backend_->batch_tx();
    tx->Lock();
    authpb::Role role;
    role.set_name("from-snapshot");
    *role.add_keypermission() = Perm(RW, "s");
    tx->UnsafePut(Bucket::kAuthRoles, "from-snapshot", role.SerializeAsString());
    authpb::User user;
    user.set_name("foo");
    user.set_password(BcryptHash("snap", kBcryptMinCost).value());
    user.add_roles("from-snapshot");
    tx->UnsafePut(Bucket::kAuthUsers, "foo", user.SerializeAsString());
    std::string r(8, '\0');
    r[7] = static_cast<char>(rev + 10);
    tx->UnsafePut(Bucket::kAuth, "authRevision", r);
    tx->Unlock();
  }
  ASSERT_OK(store_->Recover(backend_.get()));
  EXPECT_EQ(store_->Revision(), rev + 10);
  EXPECT_TRUE(store_->IsAuthEnabled());
  EXPECT_OK(store_->IsPutPermitted(Who("foo"), "s"));
  EXPECT_TRUE(store_->CheckPassword("foo", "snap").ok());
  EXPECT_TRUE(store_->AuthInfoFromToken(token).ok());  // tokens survive a recover
  {
    BatchTx* tx = backend_->batch_tx();
    tx->Lock();
    tx->UnsafePut(Bucket::kAuth, "authEnabled", std::string(1, '\0'));
    tx->Unlock();
  }
  ASSERT_OK(store_->Recover(backend_.get()));
  EXPECT_FALSE(store_->IsAuthEnabled());
  ASSERT_OK(store_->AuthEnable());
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
}

TEST_F(StoreTest, CorruptRecordsAreDataLoss) {
  SetupEnabled();
  struct Case {
    Bucket bucket;
    std::string key;
    std::string value;
  };
  for (const Case& c : {Case{Bucket::kAuthUsers, "foo", "\xff\xff\xff"},
                        Case{Bucket::kAuthRoles, "role-test", "\x0a\x05zz"},
                        Case{Bucket::kAuthUsers, "renamed",
                             [] {
                               authpb::User u;
                               u.set_name("other");
                               return u.SerializeAsString();
                             }()},
                        Case{Bucket::kAuth, "authRevision", "abc"}}) {
    BatchTx* tx = backend_->batch_tx();
    tx->Lock();
    std::string old(tx->UnsafeGet(c.bucket, c.key).value_or(""));
    tx->UnsafePut(c.bucket, c.key, c.value);
    tx->Unlock();
    absl::StatusOr<std::unique_ptr<AuthStore>> bad = AuthStore::Open(backend_.get(), nullptr, {});
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
    EXPECT_EQ(store_->Recover(backend_.get()).code(), absl::StatusCode::kDataLoss);
    tx->Lock();
    if (old.empty()) {
      tx->UnsafeDelete(c.bucket, c.key);
    } else {
      tx->UnsafePut(c.bucket, c.key, old);
    }
    tx->Unlock();
    ASSERT_OK(store_->Recover(backend_.get()));
  }
}

TEST_F(StoreTest, JwtTokensCarryTheirRevision) {
  TestKey key = GenerateEcTestKey(NID_X9_62_prime256v1);
  JwtOptions o;
  o.sign_method = SignMethod::kES256;
  o.private_key = key.private_pem;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<JwtTokenProvider> jwt, JwtTokenProvider::Create(o, &clock_));
  store_.reset();
  OpenStore(std::move(jwt));
  SetupEnabled();
  ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(RW, "k")));
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  EXPECT_EQ(store_->GenTokenPrefix().value(), "");
  ASSERT_OK_AND_ASSIGN(std::string token, store_->AuthenticateWithPassword("foo", "bar"));
  ASSERT_OK_AND_ASSIGN(AuthInfo who, store_->AuthInfoFromToken(token));
  EXPECT_EQ(who, Who("foo"));
  EXPECT_OK(store_->IsPutPermitted(who, "k"));
  // Any auth change makes the token's revision stale.
  ASSERT_OK(store_->RoleAdd("another"));
  ASSERT_OK_AND_ASSIGN(who, store_->AuthInfoFromToken(token));
  EXPECT_ERR(store_->IsPutPermitted(who, "k"), kErrAuthOldRevision);
  // Re-authenticating gives a current one.
  ASSERT_OK_AND_ASSIGN(token, store_->AuthenticateWithPassword("foo", "bar"));
  ASSERT_OK_AND_ASSIGN(who, store_->AuthInfoFromToken(token));
  EXPECT_OK(store_->IsPutPermitted(who, "k"));
  clock_.Advance(absl::Minutes(6));
  EXPECT_ERR(store_->AuthInfoFromToken(token).status(), kErrInvalidAuthToken);
}

// Random role and permission changes through the store, checked against the
// brute-force model of each user's grants.
TEST_F(StoreTest, RandomChangesMatchTheModel) {
  SetupEnabled();
  std::mt19937 rng(7);
  const std::string alphabet = std::string("ab\0c", 4);
  auto key = [&] {
    std::string k;
    int len = 1 + rng() % 3;
    for (int i = 0; i < len; ++i) k.push_back(alphabet[rng() % alphabet.size()]);
    return k;
  };
  auto end_for = [&](const std::string& k) -> std::string {
    switch (rng() % 4) {
      case 0:
        return "";
      case 1:
        return kOpen;
      default: {
        std::string e = key();
        return e > k ? e : k + "c";
      }
    }
  };
  const std::vector<std::string> roles = {"r0", "r1", "r2", "r3"};
  const std::vector<std::string> users = {"u0", "u1", "u2"};
  for (const auto& r : roles) ASSERT_OK(store_->RoleAdd(r));
  for (const auto& u : users) ASSERT_OK(store_->UserAdd({.name = u, .no_password = true}));
  for (int step = 0; step < 300; ++step) {
    const std::string& role = roles[rng() % roles.size()];
    const std::string& user = users[rng() % users.size()];
    switch (rng() % 5) {
      case 0:
      case 1: {
        std::string k = key();
        ASSERT_OK(store_->RoleGrantPermission(
            role, Perm(static_cast<authpb::Permission::Type>(rng() % 3), k, end_for(k))));
        break;
      }
      case 2: {
        std::vector<authpb::Permission> perms = store_->RoleGet(role).value();
        if (!perms.empty()) {
          const authpb::Permission& p = perms[rng() % perms.size()];
          ASSERT_OK(store_->RoleRevokePermission(role, p.key(), p.range_end()));
        }
        break;
      }
      case 3:
        ASSERT_OK(store_->UserGrantRole(user, role));
        break;
      case 4:
        (void)store_->UserRevokeRole(user, role);
        break;
    }
    for (const std::string& u : users) {
      PermModel model;
      ASSERT_OK_AND_ASSIGN(authpb::User user_record, store_->UserGet(u));
      for (const std::string& r : user_record.roles()) {
        ASSERT_OK_AND_ASSIGN(std::vector<authpb::Permission> perms, store_->RoleGet(r));
        for (const authpb::Permission& p : perms) model.Grant(p);
      }
      for (int q = 0; q < 10; ++q) {
        std::string k = key();
        std::string e = rng() % 3 == 0 ? std::string() : end_for(k);
        ASSERT_EQ(store_->IsRangePermitted(Who(u), k, e).ok(), model.IsPermitted(k, e, false))
            << "step " << step << " user " << u;
        ASSERT_EQ(store_->IsDeleteRangePermitted(Who(u), k, e).ok(), model.IsPermitted(k, e, true))
            << "step " << step << " user " << u;
      }
    }
  }
}

// Readers check permissions while a writer keeps changing grants.
TEST_F(StoreTest, ConcurrentChecksAndChanges) {
  SetupEnabled();
  ASSERT_OK(store_->UserGrantRole("foo", "role-test"));
  std::atomic<bool> stop{false};
  std::atomic<int> checks{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        absl::Status s = store_->IsRangePermitted(Who("foo"), "k", "");
        EXPECT_TRUE(s.ok() || IsErr(s, rpctypes::kErrPermissionDenied) ||
                    IsErr(s, rpctypes::kErrAuthOldRevision))
            << s;
        (void)store_->IsAdminPermitted(Who("root"));
        (void)store_->UserList();
        checks.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(store_->RoleGrantPermission("role-test", Perm(R, "k")));
    ASSERT_OK(store_->RoleRevokePermission("role-test", "k", ""));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(checks.load(), 0);
}

}  // namespace
}  // namespace etcd::auth
