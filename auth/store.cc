#include "auth/store.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/base64.h"
#include "auth/bcrypt.h"
#include "auth/errors.h"

namespace etcd::auth {
namespace {

using mvcc::backend::BatchTx;
using mvcc::backend::Bucket;

constexpr absl::string_view kEnabledKey = "authEnabled";
constexpr absl::string_view kRevisionKey = "authRevision";
constexpr char kEnabled[] = "\x01";
constexpr char kDisabled[] = "\x00";

absl::Status Err(const rpctypes::EtcdError& e) { return rpctypes::ToStatus(e); }

std::string EncodeRevision(uint64_t rev) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(rev & 0xff);
    rev >>= 8;
  }
  return out;
}

uint64_t DecodeRevision(absl::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

bool HasRootRole(const authpb::User& user) {
  return std::find(user.roles().begin(), user.roles().end(), kRootRole) != user.roles().end();
}

bool HasRoleNamed(const authpb::User& user, absl::string_view role) {
  return std::find(user.roles().begin(), user.roles().end(), role) != user.roles().end();
}

void PutUser(BatchTx* tx, const authpb::User& user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tx) {
  tx->UnsafePut(Bucket::kAuthUsers, user.name(), user.SerializeAsString());
}

void PutRole(BatchTx* tx, const authpb::Role& role) ABSL_EXCLUSIVE_LOCKS_REQUIRED(tx) {
  tx->UnsafePut(Bucket::kAuthRoles, role.name(), role.SerializeAsString());
}

// etcd 3.5's isValidPermissionRange.
bool IsValidPermissionRange(absl::string_view key, absl::string_view range_end) {
  if (key.empty()) return false;
  if (range_end.empty() || range_end == absl::string_view("\0", 1)) return true;
  return key < range_end;
}

bool PermLess(const authpb::Permission& a, const authpb::Permission& b) {
  if (a.key() != b.key()) return a.key() < b.key();
  return a.range_end() < b.range_end();
}

// etcd's idea of a valid bcrypt cost.
int EffectiveCost(int cost, log::Logger& logger) {
  if (cost >= kBcryptMinCost && cost <= kBcryptMaxCost) return cost;
  logger.Warn("use default bcrypt cost instead of the invalid given cost",
              {{"min-cost", kBcryptMinCost},
               {"max-cost", kBcryptMaxCost},
               {"default-cost", kBcryptDefaultCost},
               {"given-cost", cost}});
  return kBcryptDefaultCost;
}

// A bcrypt hash to verify against when the user does not exist.
const std::string& DummyHash(int cost) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* hashes = new std::map<int, std::string>();
  absl::MutexLock lock(&mu);
  std::string& h = (*hashes)[cost];
  if (h.empty()) h = BcryptHash("etcd-auth-no-such-user", cost).value_or("");
  return h;
}

}  // namespace

// Holds the batch lock, then the store lock, for one change.
class ABSL_SCOPED_LOCKABLE AuthStore::ChangeLock {
 public:
  ChangeLock(AuthStore* store, BatchTx* tx) ABSL_EXCLUSIVE_LOCK_FUNCTION(store->mu_, tx)
      : store_(store), tx_(tx) {
    tx_->Lock();
    store_->mu_.Lock();
  }
  ~ChangeLock() ABSL_UNLOCK_FUNCTION() {
    store_->mu_.Unlock();
    tx_->Unlock();
  }
  ChangeLock(const ChangeLock&) = delete;
  ChangeLock& operator=(const ChangeLock&) = delete;

 private:
  AuthStore* const store_;
  BatchTx* const tx_;
};

void AuthStore::CommitLocked(BatchTx* tx) {
  uint64_t rev = revision_.load(std::memory_order_relaxed) + 1;
  revision_.store(rev, std::memory_order_release);
  tx->UnsafePut(Bucket::kAuth, kRevisionKey, EncodeRevision(rev));
  if (options_.consistent_index_saver) options_.consistent_index_saver(tx);
}

AuthStore::AuthStore(mvcc::backend::Backend* backend, std::unique_ptr<TokenProvider> tokens,
                     AuthStoreOptions options, int bcrypt_cost)
    : backend_(backend),
      tokens_(std::move(tokens)),
      options_(std::move(options)),
      bcrypt_cost_(bcrypt_cost) {}

AuthStore::~AuthStore() = default;

absl::StatusOr<std::unique_ptr<AuthStore>> AuthStore::Open(mvcc::backend::Backend* backend,
                                                           std::unique_ptr<TokenProvider> tokens,
                                                           AuthStoreOptions options) {
  if (backend == nullptr) return absl::InvalidArgumentError("auth: backend is null");
  if (tokens == nullptr) tokens = NewNopTokenProvider();
  log::Logger& logger = options.logger != nullptr ? *options.logger : log::Default();
  int cost = EffectiveCost(options.bcrypt_cost, logger);
  std::unique_ptr<AuthStore> store(
      new AuthStore(backend, std::move(tokens), std::move(options), cost));
  BatchTx* tx = backend->batch_tx();
  bool enabled = false;
  {
    tx->Lock();
    absl::MutexLock lock(&store->mu_);
    absl::Status loaded = store->LoadLocked(tx);
    if (loaded.ok() && store->Revision() == 0) {
      store->revision_.store(1, std::memory_order_release);
      tx->UnsafePut(Bucket::kAuth, kRevisionKey, EncodeRevision(1));
    }
    enabled = store->enabled_;
    tx->Unlock();
    if (!loaded.ok()) return loaded;
    if (enabled) store->tokens_->Enable();
  }
  backend->ForceCommit();
  return store;
}

absl::Status AuthStore::LoadLocked(BatchTx* tx) {
  enabled_ = false;
  users_.clear();
  roles_.clear();
  if (std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kAuth, kEnabledKey)) {
    enabled_ = *v == absl::string_view(kEnabled, 1);
  }
  uint64_t rev = 0;
  if (std::optional<absl::string_view> v = tx->UnsafeGet(Bucket::kAuth, kRevisionKey)) {
    if (v->size() != 8) {
      return absl::DataLossError(
          absl::StrCat("auth: bucket auth: authRevision has ", v->size(), " bytes, want 8"));
    }
    rev = DecodeRevision(*v);
  }
  revision_.store(rev, std::memory_order_release);
  std::map<std::string, authpb::User, std::less<>> users;
  std::map<std::string, authpb::Role, std::less<>> roles;
  absl::Status s = tx->UnsafeForEach(Bucket::kAuthUsers, [&users](absl::string_view key,
                                                                  absl::string_view value) {
    authpb::User user;
    if (!user.ParseFromArray(value.data(), static_cast<int>(value.size())) || user.name() != key) {
      return absl::DataLossError(
          absl::StrCat("auth: bucket authUsers: corrupt user record \"", key, "\""));
    }
    std::sort(user.mutable_roles()->begin(), user.mutable_roles()->end());
    users.emplace(std::string(key), std::move(user));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  s = tx->UnsafeForEach(Bucket::kAuthRoles, [&roles](absl::string_view key,
                                                     absl::string_view value) {
    authpb::Role role;
    if (!role.ParseFromArray(value.data(), static_cast<int>(value.size())) || role.name() != key) {
      return absl::DataLossError(
          absl::StrCat("auth: bucket authRoles: corrupt role record \"", key, "\""));
    }
    roles.emplace(std::string(key), std::move(role));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  users_ = std::move(users);
  roles_ = std::move(roles);
  RefreshAllLocked();
  return absl::OkStatus();
}

absl::Status AuthStore::Recover(mvcc::backend::Backend* backend) {
  if (backend == nullptr) return absl::InvalidArgumentError("auth: backend is null");
  backend_.store(backend);
  BatchTx* tx = backend->batch_tx();
  tx->Lock();
  absl::Status s;
  {
    absl::MutexLock lock(&mu_);
    s = LoadLocked(tx);
    if (enabled_) {
      tokens_->Enable();
    } else {
      tokens_->Disable();
    }
  }
  tx->Unlock();
  return s;
}

void AuthStore::Close() {
  absl::MutexLock lock(&mu_);
  if (enabled_) tokens_->Disable();
}

// --- Enable, disable ---------------------------------------------------------

absl::Status AuthStore::AuthEnable() {
  {
    BatchTx* tx = batch_tx();
    ChangeLock lock(this, tx);
    if (enabled_) {
      logger().Info("authentication is already enabled; ignored auth enable request");
      return absl::OkStatus();
    }
    auto root = users_.find(kRootUser);
    if (root == users_.end()) return Err(rpctypes::kErrRootUserNotExist);
    if (!HasRootRole(root->second)) return Err(rpctypes::kErrRootRoleNotExist);
    tx->UnsafePut(Bucket::kAuth, kEnabledKey, absl::string_view(kEnabled, 1));
    enabled_ = true;
    tokens_->Enable();
    CommitLocked(tx);
  }
  backend_.load()->ForceCommit();
  logger().Info("enabled authentication");
  return absl::OkStatus();
}

void AuthStore::AuthDisable() {
  {
    BatchTx* tx = batch_tx();
    ChangeLock lock(this, tx);
    if (!enabled_) return;
    tx->UnsafePut(Bucket::kAuth, kEnabledKey, absl::string_view(kDisabled, 1));
    enabled_ = false;
    tokens_->Disable();
    CommitLocked(tx);
  }
  backend_.load()->ForceCommit();
  logger().Info("disabled authentication");
}

bool AuthStore::IsAuthEnabled() const {
  absl::ReaderMutexLock lock(&mu_);
  return enabled_;
}

// --- Authentication ----------------------------------------------------------

absl::StatusOr<uint64_t> AuthStore::CheckPassword(absl::string_view name,
                                                  absl::string_view password) {
  std::string hash;
  uint64_t rev = 0;
  bool found = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!enabled_) return Err(rpctypes::kErrAuthNotEnabled);
    auto it = users_.find(name);
    if (it != users_.end()) {
      if (it->second.options().no_password()) return NoPasswordUserError();
      found = true;
      hash = it->second.password();
      rev = Revision();
    }
  }
  if (!found) {
    // Same work as for a real user, so timing does not reveal who exists.
    BcryptVerify(DummyHash(bcrypt_cost_), password);
    return Err(rpctypes::kErrAuthFailed);
  }
  if (!BcryptVerify(hash, password)) {
    logger().Info("invalid password", {{"user-name", name}});
    return Err(rpctypes::kErrAuthFailed);
  }
  return rev;
}

absl::StatusOr<std::string> AuthStore::Authenticate(const AuthenticateRequest& request) {
  // The reader lock keeps changes (password, deletion, disable) out until
  // the token is registered, so no change can miss invalidating it.
  absl::ReaderMutexLock lock(&mu_);
  if (!enabled_) return Err(rpctypes::kErrAuthNotEnabled);
  if (request.checked_revision != Revision()) return Err(rpctypes::kErrAuthOldRevision);
  auto it = users_.find(request.name);
  if (it == users_.end() || it->second.options().no_password()) {
    return Err(rpctypes::kErrAuthFailed);
  }
  absl::StatusOr<std::string> token = tokens_->Assign(
      request.name, Revision(), AssignParams{request.simple_token_prefix, request.index});
  if (token.ok()) logger().Debug("authenticated a user", {{"user-name", request.name}});
  return token;
}

absl::StatusOr<std::string> AuthStore::AuthenticateWithPassword(absl::string_view name,
                                                                absl::string_view password,
                                                                uint64_t index) {
  absl::StatusOr<uint64_t> rev = CheckPassword(name, password);
  if (!rev.ok()) return rev.status();
  absl::StatusOr<std::string> prefix = GenTokenPrefix();
  if (!prefix.ok()) return prefix.status();
  return Authenticate(AuthenticateRequest{std::string(name), *rev, *std::move(prefix), index});
}

absl::StatusOr<std::string> AuthStore::GenTokenPrefix() { return tokens_->GenTokenPrefix(); }

absl::StatusOr<AuthInfo> AuthStore::AuthInfoFromToken(absl::string_view token,
                                                      absl::Time deadline) {
  if (!IsAuthEnabled()) return AuthInfo{};
  absl::StatusOr<AuthInfo> info = tokens_->Info(token, Revision(), deadline);
  if (!info.ok()) logger().Warn("invalid auth token");
  return info;
}

AuthInfo AuthStore::AuthInfoFromCommonName(absl::string_view common_name) const {
  return AuthInfo{std::string(common_name), Revision()};
}

AuthInfo AuthStore::RootAuthInfo() const { return AuthInfo{kRootUser, Revision()}; }

absl::StatusOr<std::string> AuthStore::HashPassword(absl::string_view password) const {
  absl::StatusOr<std::string> hash = BcryptHash(password, bcrypt_cost_);
  if (!hash.ok()) return hash.status();
  return Base64StdEncode(*hash);
}

absl::StatusOr<std::string> AuthStore::ResolvePassword(absl::string_view password,
                                                       absl::string_view hashed_password) const {
  if (!hashed_password.empty()) {
    std::optional<std::string> raw = Base64StdDecode(hashed_password);
    if (!raw.has_value()) {
      return absl::InvalidArgumentError("auth: hashed password is not valid base64");
    }
    return *std::move(raw);
  }
  return BcryptHash(password, bcrypt_cost_);
}

// --- Users ---------------------------------------------------------------------

absl::Status AuthStore::UserAdd(const UserAddRequest& request) {
  if (request.name.empty()) return Err(rpctypes::kErrUserEmpty);
  {
    // Skip the slow hash for a name that is taken anyway.
    absl::ReaderMutexLock lock(&mu_);
    if (users_.count(request.name) > 0) return Err(rpctypes::kErrUserAlreadyExist);
  }
  std::string hash;
  if (!request.no_password) {
    absl::StatusOr<std::string> h = ResolvePassword(request.password, request.hashed_password);
    if (!h.ok()) return h.status();
    hash = *std::move(h);
  }
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  if (users_.count(request.name) > 0) return Err(rpctypes::kErrUserAlreadyExist);
  authpb::User user;
  user.set_name(request.name);
  user.set_password(std::move(hash));
  user.mutable_options()->set_no_password(request.no_password);
  PutUser(tx, user);
  users_[request.name] = std::move(user);
  CommitLocked(tx);
  RefreshUserLocked(request.name);
  logger().Info("added a user", {{"user-name", request.name}});
  return absl::OkStatus();
}

absl::Status AuthStore::UserDelete(absl::string_view name) {
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  if (enabled_ && name == kRootUser) {
    logger().Warn("cannot delete 'root' user", {{"user-name", name}});
    return Err(rpctypes::kErrInvalidAuthMgmt);
  }
  auto it = users_.find(name);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  tx->UnsafeDelete(Bucket::kAuthUsers, name);
  users_.erase(it);
  CommitLocked(tx);
  perm_cache_.erase(name);
  tokens_->InvalidateUser(name);
  logger().Info("deleted a user", {{"user-name", name}});
  return absl::OkStatus();
}

absl::Status AuthStore::UserChangePassword(absl::string_view name, absl::string_view password,
                                           absl::string_view hashed_password) {
  bool no_password = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = users_.find(name);
    if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
    no_password = it->second.options().no_password();
  }
  std::string hash;
  if (!no_password) {
    absl::StatusOr<std::string> h = ResolvePassword(password, hashed_password);
    if (!h.ok()) return h.status();
    hash = *std::move(h);
  }
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  auto it = users_.find(name);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  authpb::User& user = it->second;
  user.set_password(user.options().no_password() ? std::string() : std::move(hash));
  PutUser(tx, user);
  CommitLocked(tx);
  tokens_->InvalidateUser(name);
  logger().Info("changed a password of a user", {{"user-name", name}});
  return absl::OkStatus();
}

absl::Status AuthStore::UserGrantRole(absl::string_view user_name, absl::string_view role) {
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  auto it = users_.find(user_name);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  if (role != kRootRole && roles_.find(role) == roles_.end()) {
    return Err(rpctypes::kErrRoleNotFound);
  }
  authpb::User& user = it->second;
  auto* roles = user.mutable_roles();
  auto pos = std::lower_bound(roles->begin(), roles->end(), role,
                              [](const std::string& a, absl::string_view b) { return a < b; });
  if (pos != roles->end() && *pos == role) {
    logger().Warn("ignored grant role request to a user",
                  {{"user-name", user_name}, {"duplicate-role-name", role}});
    return absl::OkStatus();
  }
  roles->Add(std::string(role));
  std::sort(roles->begin(), roles->end());
  PutUser(tx, user);
  CommitLocked(tx);
  RefreshUserLocked(std::string(user_name));
  logger().Info("granted a role to a user", {{"user-name", user_name}, {"added-role-name", role}});
  return absl::OkStatus();
}

absl::Status AuthStore::UserRevokeRole(absl::string_view user_name, absl::string_view role) {
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  if (enabled_ && user_name == kRootUser && role == kRootRole) {
    logger().Warn("'root' user cannot revoke 'root' role",
                  {{"user-name", user_name}, {"role-name", role}});
    return Err(rpctypes::kErrInvalidAuthMgmt);
  }
  auto it = users_.find(user_name);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  authpb::User& user = it->second;
  auto* roles = user.mutable_roles();
  auto pos = std::find(roles->begin(), roles->end(), role);
  if (pos == roles->end()) return Err(rpctypes::kErrRoleNotGranted);
  roles->erase(pos);
  PutUser(tx, user);
  CommitLocked(tx);
  RefreshUserLocked(std::string(user_name));
  logger().Info("revoked a role from a user",
                {{"user-name", user_name}, {"revoked-role-name", role}});
  return absl::OkStatus();
}

absl::StatusOr<authpb::User> AuthStore::UserGet(absl::string_view name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  authpb::User user = it->second;
  user.clear_password();
  return user;
}

std::vector<std::string> AuthStore::UserList() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(users_.size());
  for (const auto& [name, user] : users_) out.push_back(name);
  return out;
}

bool AuthStore::HasRole(absl::string_view user, absl::string_view role) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = users_.find(user);
  return it != users_.end() && HasRoleNamed(it->second, role);
}

// --- Roles -----------------------------------------------------------------------

absl::Status AuthStore::RoleAdd(absl::string_view name) {
  if (name.empty()) return Err(rpctypes::kErrRoleEmpty);
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  if (roles_.find(name) != roles_.end()) return Err(rpctypes::kErrRoleAlreadyExist);
  authpb::Role role;
  role.set_name(std::string(name));
  PutRole(tx, role);
  roles_.emplace(std::string(name), std::move(role));
  CommitLocked(tx);
  RefreshRoleHoldersLocked(name);
  logger().Info("created a role", {{"role-name", name}});
  return absl::OkStatus();
}

absl::Status AuthStore::RoleDelete(absl::string_view name) {
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  if (enabled_ && name == kRootRole) {
    logger().Warn("cannot delete 'root' role", {{"role-name", name}});
    return Err(rpctypes::kErrInvalidAuthMgmt);
  }
  auto it = roles_.find(name);
  if (it == roles_.end()) return Err(rpctypes::kErrRoleNotFound);
  tx->UnsafeDelete(Bucket::kAuthRoles, name);
  roles_.erase(it);
  std::vector<std::string> affected;
  for (auto& [user_name, user] : users_) {
    auto* roles = user.mutable_roles();
    auto pos = std::find(roles->begin(), roles->end(), name);
    if (pos == roles->end()) continue;
    roles->erase(pos);
    PutUser(tx, user);
    affected.push_back(user_name);
  }
  CommitLocked(tx);
  for (const std::string& user : affected) RefreshUserLocked(user);
  logger().Info("deleted a role", {{"role-name", name}});
  return absl::OkStatus();
}

absl::Status AuthStore::RoleGrantPermission(absl::string_view role_name,
                                            const authpb::Permission& perm) {
  if (!IsValidPermissionRange(perm.key(), perm.range_end()) ||
      !authpb::Permission::Type_IsValid(perm.permtype())) {
    return Err(rpctypes::kErrInvalidAuthMgmt);
  }
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  auto it = roles_.find(role_name);
  if (it == roles_.end()) return Err(rpctypes::kErrRoleNotFound);
  authpb::Role& role = it->second;
  auto* perms = role.mutable_keypermission();
  auto pos = std::lower_bound(perms->begin(), perms->end(), perm, PermLess);
  if (pos != perms->end() && pos->key() == perm.key() && pos->range_end() == perm.range_end()) {
    pos->set_permtype(perm.permtype());
  } else {
    authpb::Permission* added = perms->Add();
    added->set_key(perm.key());
    added->set_range_end(perm.range_end());
    added->set_permtype(perm.permtype());
    std::sort(perms->begin(), perms->end(), PermLess);
  }
  PutRole(tx, role);
  CommitLocked(tx);
  RefreshRoleHoldersLocked(role_name);
  logger().Info("granted/updated a permission to a role",
                {{"role-name", role_name},
                 {"permission-name", authpb::Permission::Type_Name(perm.permtype())}});
  return absl::OkStatus();
}

absl::Status AuthStore::RoleRevokePermission(absl::string_view role_name, absl::string_view key,
                                             absl::string_view range_end) {
  BatchTx* tx = batch_tx();
  ChangeLock lock(this, tx);
  auto it = roles_.find(role_name);
  if (it == roles_.end()) return Err(rpctypes::kErrRoleNotFound);
  authpb::Role& role = it->second;
  auto* perms = role.mutable_keypermission();
  auto end = std::remove_if(perms->begin(), perms->end(), [&](const authpb::Permission& p) {
    return p.key() == key && p.range_end() == range_end;
  });
  if (end == perms->end()) return Err(rpctypes::kErrPermissionNotGranted);
  perms->erase(end, perms->end());
  PutRole(tx, role);
  CommitLocked(tx);
  RefreshRoleHoldersLocked(role_name);
  logger().Info("revoked a permission on range", {{"role-name", role_name}});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<authpb::Permission>> AuthStore::RoleGet(absl::string_view name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = roles_.find(name);
  if (it == roles_.end()) return Err(rpctypes::kErrRoleNotFound);
  if (name == kRootRole) {
    authpb::Permission all;
    all.set_permtype(authpb::Permission::READWRITE);
    all.set_range_end(std::string(1, '\0'));
    return std::vector<authpb::Permission>{all};
  }
  return std::vector<authpb::Permission>(it->second.keypermission().begin(),
                                         it->second.keypermission().end());
}

std::vector<std::string> AuthStore::RoleList() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(roles_.size());
  for (const auto& [name, role] : roles_) out.push_back(name);
  return out;
}

// --- Permission cache ------------------------------------------------------------

void AuthStore::RefreshUserLocked(const std::string& name) {
  auto it = users_.find(name);
  if (it == users_.end()) {
    perm_cache_.erase(name);
    return;
  }
  std::vector<const authpb::Role*> roles;
  roles.reserve(it->second.roles_size());
  for (const std::string& r : it->second.roles()) {
    auto role = roles_.find(r);
    roles.push_back(role == roles_.end() ? nullptr : &role->second);
  }
  perm_cache_.insert_or_assign(name, UserPermissions::Build(HasRootRole(it->second), roles));
}

void AuthStore::RefreshRoleHoldersLocked(absl::string_view role) {
  for (const auto& [name, user] : users_) {
    if (HasRoleNamed(user, role)) RefreshUserLocked(name);
  }
}

void AuthStore::RefreshAllLocked() {
  perm_cache_.clear();
  for (const auto& [name, user] : users_) RefreshUserLocked(name);
}

// --- Permission checks -------------------------------------------------------------

absl::Status AuthStore::PrecheckLocked(const AuthInfo& who, const UserPermissions** perms) const {
  *perms = nullptr;
  if (!enabled_) return absl::OkStatus();
  // Revision 0 means no credentials at all (an empty AuthInfo).
  if (who.revision == 0) return Err(rpctypes::kErrUserEmpty);
  if (who.revision < Revision()) return Err(rpctypes::kErrAuthOldRevision);
  auto it = perm_cache_.find(who.username);
  if (it == perm_cache_.end()) return Err(rpctypes::kErrPermissionDenied);
  *perms = &it->second;
  return absl::OkStatus();
}

absl::Status AuthStore::CheckLocked(const AuthInfo& who,
                                    absl::Span<const KeyAccess> accesses) const {
  const UserPermissions* perms;
  if (absl::Status s = PrecheckLocked(who, &perms); !s.ok() || perms == nullptr) return s;
  for (const KeyAccess& a : accesses) {
    if (!perms->IsPermitted(a.key, a.range_end, a.access)) {
      return Err(rpctypes::kErrPermissionDenied);
    }
  }
  return absl::OkStatus();
}

absl::Status AuthStore::CheckOne(const AuthInfo& who, absl::string_view key,
                                 absl::string_view range_end, Access access) const {
  absl::ReaderMutexLock lock(&mu_);
  const UserPermissions* perms;
  if (absl::Status s = PrecheckLocked(who, &perms); !s.ok() || perms == nullptr) return s;
  if (!perms->IsPermitted(key, range_end, access)) return Err(rpctypes::kErrPermissionDenied);
  return absl::OkStatus();
}

absl::Status AuthStore::IsPutPermitted(const AuthInfo& who, absl::string_view key) const {
  return CheckOne(who, key, "", Access::kWrite);
}

absl::Status AuthStore::IsRangePermitted(const AuthInfo& who, absl::string_view key,
                                         absl::string_view range_end) const {
  return CheckOne(who, key, range_end, Access::kRead);
}

absl::Status AuthStore::IsDeleteRangePermitted(const AuthInfo& who, absl::string_view key,
                                               absl::string_view range_end) const {
  return CheckOne(who, key, range_end, Access::kWrite);
}

absl::Status AuthStore::IsTxnPermitted(const AuthInfo& who,
                                       absl::Span<const KeyAccess> accesses) const {
  absl::ReaderMutexLock lock(&mu_);
  return CheckLocked(who, accesses);
}

absl::Status AuthStore::IsLeaseRevokePermitted(const AuthInfo& who,
                                               absl::Span<const std::string> lease_keys) const {
  absl::ReaderMutexLock lock(&mu_);
  const UserPermissions* perms;
  if (absl::Status s = PrecheckLocked(who, &perms); !s.ok() || perms == nullptr) return s;
  for (const std::string& key : lease_keys) {
    if (!perms->IsPermitted(key, "", Access::kWrite)) return Err(rpctypes::kErrPermissionDenied);
  }
  return absl::OkStatus();
}

absl::Status AuthStore::IsAdminPermitted(const AuthInfo& who) const {
  absl::ReaderMutexLock lock(&mu_);
  if (!enabled_) return absl::OkStatus();
  if (who.username.empty()) return Err(rpctypes::kErrUserEmpty);
  auto it = users_.find(who.username);
  if (it == users_.end()) return Err(rpctypes::kErrUserNotFound);
  if (!HasRootRole(it->second)) return Err(rpctypes::kErrPermissionDenied);
  return absl::OkStatus();
}

}  // namespace etcd::auth
