#include "auth/token_provider.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/rpctypes/rpctypes.h"
#include "auth/errors.h"
#include "auth/jwt.h"
#include "auth/simple_token.h"

namespace etcd::auth {
namespace {

class NopTokenProvider final : public TokenProvider {
 public:
  absl::StatusOr<AuthInfo> Info(absl::string_view, uint64_t, absl::Time) override {
    return rpctypes::ToStatus(rpctypes::kErrInvalidAuthToken);
  }
  absl::StatusOr<std::string> Assign(absl::string_view, uint64_t, const AssignParams&) override {
    return rpctypes::ToStatus(rpctypes::kErrAuthFailed);
  }
  void Enable() override {}
  void Disable() override {}
  void InvalidateUser(absl::string_view) override {}
  absl::StatusOr<std::string> GenTokenPrefix() override { return std::string(); }
  absl::string_view type() const override { return ""; }
};

log::Logger& LoggerOf(const TokenProviderOptions& options) {
  return options.logger != nullptr ? *options.logger : log::Default();
}

}  // namespace

absl::StatusOr<TokenSpec> ParseTokenSpec(absl::string_view spec) {
  std::vector<absl::string_view> parts = absl::StrSplit(spec, ',');
  TokenSpec out;
  out.type = std::string(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::vector<absl::string_view> pair = absl::StrSplit(parts[i], '=');
    if (pair.size() != 2) {
      return InvalidAuthOptsError(absl::StrCat("option \"", parts[i], "\" is not name=value"));
    }
    if (!out.options.emplace(std::string(pair[0]), std::string(pair[1])).second) {
      return InvalidAuthOptsError(absl::StrCat("option \"", pair[0], "\" is given twice"));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<TokenProvider>> NewTokenProvider(
    absl::string_view spec, const TokenProviderOptions& options) {
  absl::StatusOr<TokenSpec> parsed = ParseTokenSpec(spec);
  if (!parsed.ok()) return parsed.status();
  if (parsed->type == "simple") {
    LoggerOf(options).Warn("simple token is not cryptographically signed");
    return std::unique_ptr<TokenProvider>(new SimpleTokenProvider(options));
  }
  if (parsed->type == "jwt") {
    absl::StatusOr<JwtOptions> jwt_options = ParseJwtOptions(parsed->options);
    if (!jwt_options.ok()) return jwt_options.status();
    std::vector<std::string> unknown;
    for (const auto& [name, value] : parsed->options) {
      if (name != "sign-method" && name != "pub-key" && name != "priv-key" && name != "ttl") {
        unknown.push_back(name);
      }
    }
    if (!unknown.empty()) LoggerOf(options).Warn("unknown JWT options", {{"keys", unknown}});
    absl::StatusOr<std::unique_ptr<JwtTokenProvider>> jwt =
        JwtTokenProvider::Create(*jwt_options, options.clock);
    if (!jwt.ok()) return jwt.status();
    return std::unique_ptr<TokenProvider>(std::move(*jwt));
  }
  if (parsed->type.empty()) return NewNopTokenProvider();
  return InvalidAuthOptsError(absl::StrCat("unknown token type \"", parsed->type, "\""));
}

std::unique_ptr<TokenProvider> NewNopTokenProvider() {
  return std::make_unique<NopTokenProvider>();
}

}  // namespace etcd::auth
