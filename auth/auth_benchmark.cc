// Hot paths of //auth: the permission check every request pays (100 roles,
// 1,000 ranges, warm cache), rebuilding a user's merged ranges, bcrypt, and
// token verification for simple tokens and each JWT method family.
//
//   bazel run -c opt //auth:auth_benchmark

#include <benchmark/benchmark.h>
#include <openssl/obj_mac.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "auth/bcrypt.h"
#include "auth/jwt.h"
#include "auth/range_perm_cache.h"
#include "auth/simple_token.h"
#include "auth/store.h"
#include "auth/test_keys.h"
#include "mvcc/backend/backend.h"
#include "pkg/testutil/temp_dir.h"

namespace etcd::auth {
namespace {

constexpr int kRoles = 100;
constexpr int kRangesPerRole = 10;

// Range i is ["/k/<2i>", "/k/<2i+1>"): disjoint and not adjacent, so merging
// leaves all 1,000.
std::string RangeBegin(int i) { return absl::StrFormat("/k/%06d", 2 * i); }
std::string RangeEnd(int i) { return absl::StrFormat("/k/%06d", 2 * i + 1); }

struct PermFixture {
  PermFixture() {
    dir.emplace(testutil::TempDir::Create("auth_bench").value());
    mvcc::backend::BackendOptions bo;
    bo.path = dir->Join("db");
    bo.initial_map_size = 256 << 20;
    backend = mvcc::backend::Backend::Open(bo).value();
    AuthStoreOptions options;
    options.bcrypt_cost = kBcryptMinCost;
    options.logger = &quiet;
    store = AuthStore::Open(backend.get(), nullptr, options).value();
    (void)store->UserAdd({.name = "root", .password = "root"});
    (void)store->UserGrantRole("root", "root");
    (void)store->AuthEnable();
    (void)store->UserAdd({.name = "u", .no_password = true});
    for (int r = 0; r < kRoles; ++r) {
      std::string role = absl::StrFormat("role%03d", r);
      (void)store->RoleAdd(role);
      for (int j = 0; j < kRangesPerRole; ++j) {
        int i = r * kRangesPerRole + j;
        authpb::Permission p;
        p.set_permtype(authpb::Permission::READWRITE);
        p.set_key(RangeBegin(i));
        p.set_range_end(RangeEnd(i));
        (void)store->RoleGrantPermission(role, p);
      }
      (void)store->UserGrantRole("u", role);
    }
    who = AuthInfo{"u", store->Revision()};
    std::mt19937 rng(1);
    for (int q = 0; q < 4096; ++q) {
      int i = rng() % (kRoles * kRangesPerRole);
      keys.push_back(RangeBegin(i) + "/x" + std::to_string(q));  // inside range i
    }
  }
  ~PermFixture() {
    store.reset();
    (void)backend->Close();
  }

  log::Logger quiet{log::LoggerOptions{}, {}};
  std::optional<testutil::TempDir> dir;
  std::unique_ptr<mvcc::backend::Backend> backend;
  std::unique_ptr<AuthStore> store;
  AuthInfo who;
  std::vector<std::string> keys;
};

PermFixture& Perms() {
  static PermFixture* f = new PermFixture();
  return *f;
}

void BM_IsPutPermitted(benchmark::State& state) {
  PermFixture& f = Perms();
  size_t i = 0;
  for (auto _ : state) {
    absl::Status s = f.store->IsPutPermitted(f.who, f.keys[i++ & 4095]);
    if (!s.ok()) state.SkipWithError("denied");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_IsPutPermitted)->ThreadRange(1, 2);

void BM_IsRangePermitted(benchmark::State& state) {
  PermFixture& f = Perms();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = f.keys[i++ & 4095];
    // [k, k + "\xff"): inside one granted range.
    absl::Status s = f.store->IsRangePermitted(f.who, k, k + "\xff");
    if (!s.ok()) state.SkipWithError("denied");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_IsRangePermitted);

void BM_IsRangePermittedDenied(benchmark::State& state) {
  PermFixture& f = Perms();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = f.keys[i++ & 4095];
    absl::Status s = f.store->IsRangePermitted(f.who, k, "/l");  // spans ungranted keys
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_IsRangePermittedDenied);

void BM_IsTxnPermitted10Ops(benchmark::State& state) {
  PermFixture& f = Perms();
  std::vector<KeyAccess> ops;
  for (int j = 0; j < 10; ++j) {
    ops.push_back(j % 2 ? KeyAccess::Write(f.keys[j]) : KeyAccess::Read(f.keys[j]));
  }
  for (auto _ : state) {
    absl::Status s = f.store->IsTxnPermitted(f.who, ops);
    if (!s.ok()) state.SkipWithError("denied");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_IsTxnPermitted10Ops);

// The cache entry rebuilt for a user after a change to one of its roles.
void BM_BuildUserPermissions(benchmark::State& state) {
  std::vector<authpb::Role> roles(kRoles);
  for (int r = 0; r < kRoles; ++r) {
    for (int j = 0; j < kRangesPerRole; ++j) {
      int i = r * kRangesPerRole + j;
      authpb::Permission* p = roles[r].add_keypermission();
      p->set_permtype(authpb::Permission::READWRITE);
      p->set_key(RangeBegin(i));
      p->set_range_end(RangeEnd(i));
    }
  }
  std::vector<const authpb::Role*> ptrs;
  for (const auto& r : roles) ptrs.push_back(&r);
  for (auto _ : state) {
    UserPermissions p = UserPermissions::Build(false, ptrs);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_BuildUserPermissions)->Unit(benchmark::kMicrosecond);

void BM_BcryptHash(benchmark::State& state) {
  int cost = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(BcryptHash("a password", cost));
  }
}
BENCHMARK(BM_BcryptHash)->Arg(4)->Arg(10)->Unit(benchmark::kMillisecond);

void BM_BcryptVerify(benchmark::State& state) {
  int cost = static_cast<int>(state.range(0));
  std::string hash = BcryptHash("a password", cost).value();
  for (auto _ : state) {
    if (!BcryptVerify(hash, "a password")) state.SkipWithError("mismatch");
  }
}
BENCHMARK(BM_BcryptVerify)->Arg(10)->Unit(benchmark::kMillisecond);

void BM_SimpleTokenInfo(benchmark::State& state) {
  TokenProviderOptions options;
  SimpleTokenProvider tp(options);
  tp.Enable();
  std::vector<std::string> tokens;
  for (int i = 0; i < 10000; ++i) {
    tokens.push_back(tp.Assign("user", 1, {tp.GenTokenPrefix().value(), uint64_t(i)}).value());
  }
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<AuthInfo> info = tp.Info(tokens[i++ % tokens.size()], 1, absl::InfiniteFuture());
    if (!info.ok()) state.SkipWithError("invalid");
    benchmark::DoNotOptimize(info);
  }
}
BENCHMARK(BM_SimpleTokenInfo);

std::unique_ptr<JwtTokenProvider> MakeJwt(SignMethod m) {
  static const TestKey* rsa = new TestKey(GenerateRsaTestKey(2048));
  static const TestKey* ec = new TestKey(GenerateEcTestKey(NID_X9_62_prime256v1));
  JwtOptions o;
  o.sign_method = m;
  switch (m) {
    case SignMethod::kES256:
      o.private_key = ec->private_pem;
      break;
    case SignMethod::kHS256:
      o.private_key = "a shared secret";
      break;
    default:
      o.private_key = rsa->private_pem;
  }
  return JwtTokenProvider::Create(o).value();
}

const SignMethod kBenchMethods[] = {SignMethod::kRS256, SignMethod::kPS256, SignMethod::kES256,
                                    SignMethod::kHS256};

void BM_JwtVerify(benchmark::State& state) {
  SignMethod m = kBenchMethods[state.range(0)];
  state.SetLabel(std::string(SignMethodName(m)));
  std::unique_ptr<JwtTokenProvider> jwt = MakeJwt(m);
  std::string token = jwt->Assign("user", 42, {}).value();
  for (auto _ : state) {
    absl::StatusOr<AuthInfo> info = jwt->Info(token, 0, absl::InfiniteFuture());
    if (!info.ok()) state.SkipWithError("invalid");
    benchmark::DoNotOptimize(info);
  }
}
BENCHMARK(BM_JwtVerify)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

void BM_JwtAssign(benchmark::State& state) {
  SignMethod m = kBenchMethods[state.range(0)];
  state.SetLabel(std::string(SignMethodName(m)));
  std::unique_ptr<JwtTokenProvider> jwt = MakeJwt(m);
  for (auto _ : state) {
    benchmark::DoNotOptimize(jwt->Assign("user", 42, {}));
  }
}
BENCHMARK(BM_JwtAssign)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace etcd::auth
