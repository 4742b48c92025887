#include "auth/simple_token.h"

#include <openssl/rand.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "api/rpctypes/rpctypes.h"

namespace etcd::auth {
namespace {

constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr int kNumLetters = 52;
constexpr absl::Duration kSweepInterval = absl::Seconds(1);
// No token this provider assigns is longer (16 letters, '.', 20 digits);
// anything much longer is rejected before any work.
constexpr size_t kMaxTokenLength = 256;

absl::Status InvalidToken() { return rpctypes::ToStatus(rpctypes::kErrInvalidAuthToken); }

// The index of "<prefix>.<index>": exactly one '.', then 1 to 20 decimal
// digits that fit in 64 bits.
std::optional<uint64_t> ParseIndex(absl::string_view token) {
  size_t dot = token.find('.');
  if (dot == absl::string_view::npos || token.find('.', dot + 1) != absl::string_view::npos) {
    return std::nullopt;
  }
  absl::string_view digits = token.substr(dot + 1);
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

SimpleTokenProvider::SimpleTokenProvider(const TokenProviderOptions& options)
    : ttl_(options.simple_token_ttl > absl::ZeroDuration() ? options.simple_token_ttl
                                                           : absl::Seconds(300)),
      index_waiter_(options.index_waiter),
      clock_(options.clock != nullptr ? options.clock : RealClock()) {}

absl::StatusOr<AuthInfo> SimpleTokenProvider::Info(absl::string_view token, uint64_t revision,
                                                   absl::Time deadline) {
  if (token.size() > kMaxTokenLength) return InvalidToken();
  std::optional<uint64_t> index = ParseIndex(token);
  if (!index.has_value()) return InvalidToken();
  if (index_waiter_ && !index_waiter_(*index, deadline)) return InvalidToken();

  absl::MutexLock lock(&mu_);
  if (!enabled_) return InvalidToken();
  absl::Time now = clock_->Now();
  MaybeSweepLocked(now);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return InvalidToken();
  if (now >= it->second.expiry) {
    tokens_.erase(it);
    return InvalidToken();
  }
  it->second.expiry = now + ttl_;
  return AuthInfo{it->second.username, revision};
}

absl::StatusOr<std::string> SimpleTokenProvider::Assign(absl::string_view username,
                                                        uint64_t revision,
                                                        const AssignParams& params) {
  const std::string& prefix = params.simple_token_prefix;
  if (prefix.empty() || prefix.find('.') != std::string::npos) {
    return absl::InvalidArgumentError("auth: simple token prefix must be non-empty without '.'");
  }
  std::string token = absl::StrCat(prefix, ".", params.index);
  absl::MutexLock lock(&mu_);
  if (!enabled_) return token;  // never valid, as in etcd
  absl::Time now = clock_->Now();
  MaybeSweepLocked(now);
  auto [it, inserted] = tokens_.try_emplace(token, Entry{std::string(username), now + ttl_});
  if (!inserted) {
    if (now < it->second.expiry) {
      return absl::InternalError("auth: simple token is already assigned");
    }
    it->second = Entry{std::string(username), now + ttl_};
  }
  return token;
}

void SimpleTokenProvider::Enable() {
  absl::MutexLock lock(&mu_);
  enabled_ = true;
}

void SimpleTokenProvider::Disable() {
  absl::MutexLock lock(&mu_);
  enabled_ = false;
  tokens_.clear();
}

void SimpleTokenProvider::InvalidateUser(absl::string_view username) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(tokens_, [&](const auto& kv) { return kv.second.username == username; });
}

absl::StatusOr<std::string> SimpleTokenProvider::GenTokenPrefix() {
  std::string prefix;
  prefix.reserve(kSimpleTokenPrefixLength);
  unsigned char buf[64];
  while (prefix.size() < kSimpleTokenPrefixLength) {
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
      return absl::InternalError("auth: RAND_bytes failed");
    }
    for (unsigned char b : buf) {
      // 208 = 4 * 52: rejecting larger bytes keeps every letter equally likely.
      if (b >= 4 * kNumLetters) continue;
      prefix.push_back(kLetters[b % kNumLetters]);
      if (prefix.size() == kSimpleTokenPrefixLength) break;
    }
  }
  return prefix;
}

size_t SimpleTokenProvider::TokenCount() const {
  absl::MutexLock lock(&mu_);
  return tokens_.size();
}

void SimpleTokenProvider::MaybeSweepLocked(absl::Time now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + kSweepInterval;
  absl::erase_if(tokens_, [now](const auto& kv) { return now >= kv.second.expiry; });
}

}  // namespace etcd::auth
