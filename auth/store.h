// The auth store: users, roles and key-range permissions, persisted in the
// backend's auth buckets, plus the token provider (etcd's auth.AuthStore).
//
//   etcd::auth::AuthStoreOptions options;
//   options.bcrypt_cost = flag_bcrypt_cost;                  // etcd default 10
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::auth::TokenProvider> tokens,
//                    etcd::auth::NewTokenProvider(flag_auth_token, token_options));
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::auth::AuthStore> store,
//                    etcd::auth::AuthStore::Open(backend, std::move(tokens), options));
//
//   // Administration (applied from the raft log on every member):
//   RETURN_IF_ERROR(store->UserAdd({.name = "root", .hashed_password = hash}));
//   RETURN_IF_ERROR(store->RoleAdd("root"));
//   RETURN_IF_ERROR(store->UserGrantRole("root", "root"));
//   RETURN_IF_ERROR(store->AuthEnable());
//
//   // Authenticate, in two steps (see "Passwords" below):
//   ASSIGN_OR_RETURN(uint64_t checked, store->CheckPassword(name, password));  // API layer
//   ASSIGN_OR_RETURN(std::string prefix, store->GenTokenPrefix());
//   // ... propose {name, prefix, checked} through raft; when applied at `index`:
//   ASSIGN_OR_RETURN(std::string token, store->Authenticate({name, checked, prefix, index}));
//
//   // Every later request:
//   ASSIGN_OR_RETURN(etcd::auth::AuthInfo who, store->AuthInfoFromToken(token, deadline));
//   // ... who goes into the raft entry's header; at apply:
//   RETURN_IF_ERROR(store->IsRangePermitted(who, key, range_end));
//
// Model (etcd's). A user has a bcrypt password hash (or none: no_password
// users log in only by TLS common name) and a sorted list of role names. A
// role has permissions: READ, WRITE or READWRITE on one key (empty
// range_end), the range [key, range_end), or every key >= key (range_end
// "\0"); a prefix p is the range [p, p+1). The user "root" and the role
// "root" are special: auth can be enabled only when the user root exists and
// holds the role root; while enabled, user root cannot be deleted, role root
// cannot be deleted nor revoked from user root (kErrInvalidAuthMgmt). Any
// user holding the role root may do anything: every key, and the admin
// operations (IsAdminPermitted). The role root need not exist to be granted.
//
// Revision. Every successful change (user, role, permission, enable,
// disable) adds one to the auth revision, stored with the change. Requests
// carry the revision their credentials were checked at (AuthInfo); a data
// request whose revision is older than the store's fails with
// kErrAuthOldRevision, so no request is authorized by state that changed
// after its token was checked. Simple tokens report the store's revision at
// lookup; a JWT reports the revision it was issued at, so any change makes
// every JWT stale (clients re-authenticate). Admin checks look at the
// current state only, as in etcd.
//
// Passwords. bcrypt is slow by design, so the apply thread never runs it.
// CheckPassword (the API layer) verifies the password and returns the auth
// revision it checked against; Authenticate (the apply step) fails with
// kErrAuthOldRevision unless the revision is still the same, so a password
// changed or a user deleted between the two is never honored. UserAdd and
// UserChangePassword take `hashed_password` (HashPassword, run by the API
// layer), so neither bcrypt nor the plain password enter the raft log; a
// plain `password` is hashed by the store, as etcd 3.4 did.
//
// Persistence (etcd's layout): bucket "auth" holds "authEnabled" (one byte,
// 1 or 0) and "authRevision" (8 bytes, big-endian); "authUsers" and
// "authRoles" map names to marshalled authpb.User / authpb.Role. Every change
// is one batch transaction, which also calls the consistent-index saver when
// one is set; AuthEnable and AuthDisable force a commit. Open and Recover
// load everything into memory; corrupt records are reported as DataLoss.
//
// Permission cache. For each user the store keeps the union of its roles'
// ranges as merged interval trees (read and write; range_perm_cache.h). A
// change rebuilds the entries of the users it affects before it returns, so a
// check is a reader lock, a hash lookup and one tree descent.
//
// Errors are rpctypes statuses with etcd's messages (kErrUserNotFound, ...),
// except the few in errors.h.
//
// Thread safety: thread-safe. Permission checks and reads take a reader
// lock and never touch the backend; changes take the backend's batch lock,
// then the store's. CheckPassword runs bcrypt without any lock.
// AuthInfoFromToken may block in the token provider's index waiter, without
// locks. Recover must not run concurrently with changes (the apply thread
// calls both). The backend must outlive the store.

#ifndef ETCD_AUTH_STORE_H_
#define ETCD_AUTH_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "api/authpb/auth.pb.h"
#include "auth/range_perm_cache.h"
#include "auth/token_provider.h"
#include "mvcc/backend/backend.h"
#include "pkg/log/log.h"

namespace etcd::auth {

inline constexpr char kRootUser[] = "root";
inline constexpr char kRootRole[] = "root";

struct AuthStoreOptions {
  // bcrypt cost for passwords the store hashes (etcd's --bcrypt-cost).
  // Outside [kBcryptMinCost, kBcryptMaxCost] the default 10 is used, with a
  // warning, as in etcd.
  int bcrypt_cost = 10;
  // Called with the batch transaction locked inside every change, so the
  // server can store its consistent index in the same transaction (etcd's
  // SetConsistentIndexSyncer). May be empty.
  std::function<void(mvcc::backend::BatchTx* tx)> consistent_index_saver;
  // Where to log; the default logger when null. Not owned.
  log::Logger* logger = nullptr;
};

// etcd's AuthUserAddRequest.
struct UserAddRequest {
  std::string name;
  // The plain password; hashed by the store (slowly) unless hashed_password
  // is set. Ignored for no_password users.
  std::string password;
  // etcd 3.5's hashedPassword: the bcrypt hash, base64 (standard, padded)
  // encoded, as HashPassword returns it. Takes precedence over `password`.
  std::string hashed_password;
  bool no_password = false;
};

// The apply step of Authenticate (etcd's InternalAuthenticateRequest plus
// the revision the password was checked at).
struct AuthenticateRequest {
  std::string name;
  // What CheckPassword returned.
  uint64_t checked_revision = 0;
  // From GenTokenPrefix (simple tokens).
  std::string simple_token_prefix;
  // The raft index of the request (simple tokens).
  uint64_t index = 0;
};

// One key range a request touches (the ops of a txn, its compares, ...).
struct KeyAccess {
  static KeyAccess Read(std::string key, std::string range_end = "") {
    return {std::move(key), std::move(range_end), Access::kRead};
  }
  static KeyAccess Write(std::string key, std::string range_end = "") {
    return {std::move(key), std::move(range_end), Access::kWrite};
  }

  std::string key;
  // etcd's convention: empty = the single key, "\0" = every key >= key.
  std::string range_end;
  Access access = Access::kRead;
};

class AuthStore {
 public:
  // Loads the auth state from `backend` (not owned; must outlive the store),
  // creating revision 1 in a fresh database, and takes `tokens`. DataLoss
  // for unreadable records.
  static absl::StatusOr<std::unique_ptr<AuthStore>> Open(mvcc::backend::Backend* backend,
                                                         std::unique_ptr<TokenProvider> tokens,
                                                         AuthStoreOptions options = {});
  ~AuthStore();
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  // Reloads everything from `backend` (a snapshot was installed); the store
  // uses `backend` from now on.
  absl::Status Recover(mvcc::backend::Backend* backend) ABSL_LOCKS_EXCLUDED(mu_);

  // Forgets the tokens (disables the provider). The store stays usable.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // --- Enable, disable, status --------------------------------------------

  // kErrRootUserNotExist, kErrRootRoleNotExist. Enabling enabled auth is a
  // no-op.
  absl::Status AuthEnable() ABSL_LOCKS_EXCLUDED(mu_);
  // Disabling disabled auth is a no-op. Drops every simple token.
  void AuthDisable() ABSL_LOCKS_EXCLUDED(mu_);
  bool IsAuthEnabled() const ABSL_LOCKS_EXCLUDED(mu_);
  // The auth revision.
  uint64_t Revision() const { return revision_.load(std::memory_order_acquire); }
  // The bcrypt cost in use.
  int BcryptCost() const { return bcrypt_cost_; }

  // --- Authentication -------------------------------------------------------

  // Checks a password (slow, lock-free; never on the apply thread) and
  // returns the auth revision it checked against. kErrAuthNotEnabled,
  // kErrAuthFailed (unknown user or wrong password), NoPasswordUserError.
  absl::StatusOr<uint64_t> CheckPassword(absl::string_view name, absl::string_view password)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The apply step: assigns a token if nothing changed since CheckPassword.
  // kErrAuthNotEnabled, kErrAuthOldRevision (checked_revision is not the
  // current revision), kErrAuthFailed (no such user, or a no_password user).
  absl::StatusOr<std::string> Authenticate(const AuthenticateRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // CheckPassword then Authenticate, for a process that applies locally
  // (tests, tools): not for the apply thread.
  absl::StatusOr<std::string> AuthenticateWithPassword(absl::string_view name,
                                                       absl::string_view password,
                                                       uint64_t index = 0);

  // A fresh prefix for a simple token ("" for other providers).
  absl::StatusOr<std::string> GenTokenPrefix();

  // Who `token` stands for (etcd's AuthInfoFromCtx once the token is out of
  // the metadata). While auth is disabled, an empty AuthInfo and OK, as in
  // etcd 3.5. kErrInvalidAuthToken otherwise for a token the provider
  // rejects (a simple-token index wait that misses `deadline` included).
  absl::StatusOr<AuthInfo> AuthInfoFromToken(absl::string_view token,
                                             absl::Time deadline = absl::InfiniteFuture())
      ABSL_LOCKS_EXCLUDED(mu_);

  // The AuthInfo of a client whose verified TLS certificate has common name
  // `common_name` (etcd's AuthInfoFromTLS), at the current revision.
  AuthInfo AuthInfoFromCommonName(absl::string_view common_name) const;
  // Root's credentials at the current revision, for requests the member
  // makes itself (etcd's WithRoot: lease revocation by the leader).
  AuthInfo RootAuthInfo() const;

  // bcrypt-hashes `password` at the store's cost and encodes it as
  // UserAddRequest::hashed_password expects. Slow; run it before proposing.
  absl::StatusOr<std::string> HashPassword(absl::string_view password) const;

  // --- Users ------------------------------------------------------------------

  // kErrUserEmpty, kErrUserAlreadyExist; InvalidArgument for a
  // hashed_password that is not base64 or a password with a NUL byte.
  absl::Status UserAdd(const UserAddRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  // kErrInvalidAuthMgmt (root while enabled), kErrUserNotFound. Invalidates
  // the user's tokens.
  absl::Status UserDelete(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // kErrUserNotFound. A no_password user keeps no password. Invalidates the
  // user's tokens. `hashed_password` as in UserAddRequest.
  absl::Status UserChangePassword(absl::string_view name, absl::string_view password,
                                  absl::string_view hashed_password = "") ABSL_LOCKS_EXCLUDED(mu_);
  // kErrUserNotFound, kErrRoleNotFound (unless `role` is root). Granting a
  // role the user has is a no-op (no revision change).
  absl::Status UserGrantRole(absl::string_view user, absl::string_view role)
      ABSL_LOCKS_EXCLUDED(mu_);
  // kErrInvalidAuthMgmt (root from root while enabled), kErrUserNotFound,
  // kErrRoleNotGranted.
  absl::Status UserRevokeRole(absl::string_view user, absl::string_view role)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The user without its password hash. kErrUserNotFound.
  absl::StatusOr<authpb::User> UserGet(absl::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every user name, sorted.
  std::vector<std::string> UserList() const ABSL_LOCKS_EXCLUDED(mu_);
  bool HasRole(absl::string_view user, absl::string_view role) const ABSL_LOCKS_EXCLUDED(mu_);

  // --- Roles --------------------------------------------------------------------

  // kErrRoleEmpty, kErrRoleAlreadyExist.
  absl::Status RoleAdd(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // kErrInvalidAuthMgmt (root while enabled), kErrRoleNotFound. Revokes the
  // role from every user.
  absl::Status RoleDelete(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the permission, or changes the type of the one with the same key
  // and range_end. kErrRoleNotFound; kErrInvalidAuthMgmt for an empty key,
  // a range_end <= key (other than "" and "\0") or an unknown type.
  absl::Status RoleGrantPermission(absl::string_view role, const authpb::Permission& perm)
      ABSL_LOCKS_EXCLUDED(mu_);
  // kErrRoleNotFound, kErrPermissionNotGranted.
  absl::Status RoleRevokePermission(absl::string_view role, absl::string_view key,
                                    absl::string_view range_end) ABSL_LOCKS_EXCLUDED(mu_);
  // The role's permissions sorted by key; for root, READWRITE on every key
  // (etcd 3.5). kErrRoleNotFound.
  absl::StatusOr<std::vector<authpb::Permission>> RoleGet(absl::string_view name) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every role name, sorted.
  std::vector<std::string> RoleList() const ABSL_LOCKS_EXCLUDED(mu_);

  // --- Permission checks (the apply thread, or any thread) -----------------------
  //
  // While auth is disabled every check passes. Otherwise, for data
  // operations: kErrUserEmpty when `who` has revision 0 (no credentials),
  // kErrAuthOldRevision when its revision is older than the store's,
  // kErrPermissionDenied when the user does not exist or lacks the access.

  // Put of `key` (WRITE). A put with prev_kv also needs IsRangePermitted.
  absl::Status IsPutPermitted(const AuthInfo& who, absl::string_view key) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Range or watch of (key, range_end) (READ).
  absl::Status IsRangePermitted(const AuthInfo& who, absl::string_view key,
                                absl::string_view range_end) const ABSL_LOCKS_EXCLUDED(mu_);
  // DeleteRange of (key, range_end) (WRITE). With prev_kv also READ.
  absl::Status IsDeleteRangePermitted(const AuthInfo& who, absl::string_view key,
                                      absl::string_view range_end) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every access of a txn, checked against one state; the first failure is
  // returned. The caller lists: READ for each compare's (key, range_end);
  // for each op of both branches, recursively: READ for a range, WRITE for a
  // put (plus READ with prev_kv), WRITE for a delete-range (plus READ with
  // prev_kv) (etcd's checkTxnAuth).
  absl::Status IsTxnPermitted(const AuthInfo& who, absl::Span<const KeyAccess> accesses) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Revoking a lease, or attaching it to a put: WRITE on every key already
  // attached to the lease (etcd's checkLeasePuts).
  absl::Status IsLeaseRevokePermitted(const AuthInfo& who,
                                      absl::Span<const std::string> lease_keys) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Admin operations (auth management, membership, maintenance): the user
  // must hold the root role. kErrUserEmpty (no user name), kErrUserNotFound,
  // kErrPermissionDenied. No revision check, as in etcd.
  absl::Status IsAdminPermitted(const AuthInfo& who) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  AuthStore(mvcc::backend::Backend* backend, std::unique_ptr<TokenProvider> tokens,
            AuthStoreOptions options, int bcrypt_cost);

  // Holds the batch lock and the store lock for one change.
  class ChangeLock;

  mvcc::backend::BatchTx* batch_tx() const { return backend_.load()->batch_tx(); }

  // Adds one to the revision and stores it, and calls the consistent-index
  // saver, in the change's transaction.
  void CommitLocked(mvcc::backend::BatchTx* tx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_, tx);

  // Loads users, roles, flags and revision from the backend of `tx`.
  absl::Status LoadLocked(mvcc::backend::BatchTx* tx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_, tx);

  // Decodes `hashed_password` or hashes `password` (outside any lock).
  absl::StatusOr<std::string> ResolvePassword(absl::string_view password,
                                              absl::string_view hashed_password) const;

  // Rebuilds the cache entry of `user` (erases it if the user is gone).
  void RefreshUserLocked(const std::string& user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rebuilds the entries of every user holding `role`.
  void RefreshRoleHoldersLocked(absl::string_view role) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The common preamble of data checks: OK with *perms = null when auth is
  // disabled; the revision and user errors; else *perms = the user's entry.
  absl::Status PrecheckLocked(const AuthInfo& who, const UserPermissions** perms) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status CheckLocked(const AuthInfo& who, absl::Span<const KeyAccess> accesses) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status CheckOne(const AuthInfo& who, absl::string_view key, absl::string_view range_end,
                        Access access) const ABSL_LOCKS_EXCLUDED(mu_);

  log::Logger& logger() const {
    return options_.logger != nullptr ? *options_.logger : log::Default();
  }

  std::atomic<mvcc::backend::Backend*> backend_;
  const std::unique_ptr<TokenProvider> tokens_;
  const AuthStoreOptions options_;
  const int bcrypt_cost_;
  // A bcrypt hash at bcrypt_cost_, verified against when the user does not
  // exist, so CheckPassword takes as long for unknown users.
  std::string dummy_hash_;

  // Guards everything below. Acquired after the backend's batch lock.
  mutable absl::Mutex mu_;
  bool enabled_ ABSL_GUARDED_BY(mu_) = false;
  // Written under mu_ (and the batch lock); read anywhere.
  std::atomic<uint64_t> revision_{0};
  // The contents of the authUsers and authRoles buckets.
  std::map<std::string, authpb::User, std::less<>> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, authpb::Role, std::less<>> roles_ ABSL_GUARDED_BY(mu_);
  // One entry per user, rebuilt whenever its roles or their permissions change.
  absl::flat_hash_map<std::string, UserPermissions> perm_cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcd::auth

#endif  // ETCD_AUTH_STORE_H_
