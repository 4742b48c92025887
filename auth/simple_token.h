// etcd's "simple" tokens: random bearer strings kept in memory, valid while
// they keep being used.
//
//   etcd::auth::SimpleTokenProvider tokens(options);  // options.simple_token_ttl = 5 min
//   tokens.Enable();
//   // Proposing member, before the raft proposal:
//   std::string prefix = tokens.GenTokenPrefix().value();     // "kYhQWzTbjLpAxRnc"
//   // Every member, applying the Authenticate entry at index 42:
//   std::string token = tokens.Assign("alice", rev, {prefix, 42}).value();
//   // token == "kYhQWzTbjLpAxRnc.42"
//   tokens.Info(token, store_rev, deadline);  // {alice, store_rev}; TTL restarts
//
// A token is "<prefix>.<index>": 16 letters drawn from a CSPRNG
// (OpenSSL's RAND_bytes) by the member that proposes the Authenticate
// request, and the raft index of that request. The prefix travels in the raft
// entry, so every member registers the same token and a client may use any
// member. Tokens are not signed; etcd logs a warning and so does
// NewTokenProvider.
//
// Lifetime (etcd's simpleTokenTTLKeeper): a token expires `simple_token_ttl`
// after it was assigned or last passed to Info, whichever is later; an
// expired token is invalid at once (checked on lookup against the injected
// clock) and its memory is reclaimed by a sweep that runs at most once a
// second, from Assign and Info (no background thread). InvalidateUser (the
// store calls it on password change and user deletion) and Disable (auth
// disabled) forget tokens at once; a token assigned while disabled is never
// valid. Tokens live only in memory: a restarted member knows none.
//
// Thread-safe. Info may block in the index waiter; it holds no lock then.

#ifndef ETCD_AUTH_SIMPLE_TOKEN_H_
#define ETCD_AUTH_SIMPLE_TOKEN_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "auth/token_provider.h"

namespace etcd::auth {

// Letters in a simple token prefix (etcd's defaultSimpleTokenLength).
inline constexpr int kSimpleTokenPrefixLength = 16;

class SimpleTokenProvider final : public TokenProvider {
 public:
  explicit SimpleTokenProvider(const TokenProviderOptions& options);

  absl::StatusOr<AuthInfo> Info(absl::string_view token, uint64_t revision,
                                absl::Time deadline) override ABSL_LOCKS_EXCLUDED(mu_);
  // InvalidArgument for an empty prefix or one containing '.'; Internal if
  // the token is already assigned (a reused prefix and index).
  absl::StatusOr<std::string> Assign(absl::string_view username, uint64_t revision,
                                     const AssignParams& params) override ABSL_LOCKS_EXCLUDED(mu_);
  void Enable() override ABSL_LOCKS_EXCLUDED(mu_);
  void Disable() override ABSL_LOCKS_EXCLUDED(mu_);
  void InvalidateUser(absl::string_view username) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> GenTokenPrefix() override;
  absl::string_view type() const override { return "simple"; }

  // Tokens held, expired ones not yet swept included.
  size_t TokenCount() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration ttl() const { return ttl_; }

 private:
  struct Entry {
    std::string username;
    absl::Time expiry;
  };

  // Drops expired tokens if a second has passed since the last sweep.
  void MaybeSweepLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration ttl_;
  const IndexWaiter index_waiter_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  bool enabled_ ABSL_GUARDED_BY(mu_) = false;
  // token -> owner and expiry.
  absl::flat_hash_map<std::string, Entry> tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_SIMPLE_TOKEN_H_
