#include "api/rpctypes/rpctypes.h"

#include <grpcpp/support/status_code_enum.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

namespace etcd::rpctypes {
namespace {

// The codes must be gRPC's numbers: the server casts them to grpc::StatusCode.
static_assert(static_cast<int>(absl::StatusCode::kCancelled) == grpc::StatusCode::CANCELLED);
static_assert(static_cast<int>(absl::StatusCode::kInvalidArgument) ==
              grpc::StatusCode::INVALID_ARGUMENT);
static_assert(static_cast<int>(absl::StatusCode::kDeadlineExceeded) ==
              grpc::StatusCode::DEADLINE_EXCEEDED);
static_assert(static_cast<int>(absl::StatusCode::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(absl::StatusCode::kPermissionDenied) ==
              grpc::StatusCode::PERMISSION_DENIED);
static_assert(static_cast<int>(absl::StatusCode::kResourceExhausted) ==
              grpc::StatusCode::RESOURCE_EXHAUSTED);
static_assert(static_cast<int>(absl::StatusCode::kFailedPrecondition) ==
              grpc::StatusCode::FAILED_PRECONDITION);
static_assert(static_cast<int>(absl::StatusCode::kOutOfRange) == grpc::StatusCode::OUT_OF_RANGE);
static_assert(static_cast<int>(absl::StatusCode::kUnavailable) == grpc::StatusCode::UNAVAILABLE);
static_assert(static_cast<int>(absl::StatusCode::kDataLoss) == grpc::StatusCode::DATA_LOSS);
static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
              grpc::StatusCode::UNAUTHENTICATED);

TEST(RpcTypesTest, EveryMessageIsAnEtcdServerMessage) {
  ASSERT_EQ(AllErrors().size(), 58u);
  for (const EtcdError* error : AllErrors()) {
    EXPECT_TRUE(absl::StartsWith(error->message(), "etcdserver: ")) << error->name();
    EXPECT_NE(error->code(), absl::StatusCode::kOk) << error->name();
    EXPECT_FALSE(error->name().empty());
  }
}

TEST(RpcTypesTest, NamesAndMessagesAreUnique) {
  std::set<absl::string_view> names;
  std::set<absl::string_view> messages;
  for (const EtcdError* error : AllErrors()) {
    EXPECT_TRUE(names.insert(error->name()).second) << error->name();
    EXPECT_TRUE(messages.insert(error->message()).second) << error->message();
  }
}

TEST(RpcTypesTest, CodesMatchEtcdForEachClass) {
  struct Sample {
    const EtcdError& error;
    absl::StatusCode code;
    const char* message;
  };
  const Sample samples[] = {
      {kErrEmptyKey, absl::StatusCode::kInvalidArgument, "etcdserver: key is not provided"},
      {kErrAuthFailed, absl::StatusCode::kInvalidArgument,
       "etcdserver: authentication failed, invalid user ID or password"},
      {kErrCompacted, absl::StatusCode::kOutOfRange,
       "etcdserver: mvcc: required revision has been compacted"},
      {kErrLeaseTTLTooLarge, absl::StatusCode::kOutOfRange, "etcdserver: too large lease TTL"},
      {kErrNoSpace, absl::StatusCode::kResourceExhausted,
       "etcdserver: mvcc: database space exceeded"},
      {kErrLeaseNotFound, absl::StatusCode::kNotFound, "etcdserver: requested lease not found"},
      {kErrMemberExist, absl::StatusCode::kFailedPrecondition,
       "etcdserver: member ID already exist"},
      {kErrUserNotFound, absl::StatusCode::kFailedPrecondition, "etcdserver: user name not found"},
      {kErrNotLeader, absl::StatusCode::kFailedPrecondition, "etcdserver: not leader"},
      {kErrPermissionDenied, absl::StatusCode::kPermissionDenied, "etcdserver: permission denied"},
      {kErrInvalidAuthToken, absl::StatusCode::kUnauthenticated, "etcdserver: invalid auth token"},
      {kErrCorrupt, absl::StatusCode::kDataLoss, "etcdserver: corrupt cluster"},
      {kErrNoLeader, absl::StatusCode::kUnavailable, "etcdserver: no leader"},
      {kErrNotSupportedForLearner, absl::StatusCode::kUnavailable,
       "etcdserver: rpc not supported for learner"},
      {kErrWatchCanceled, absl::StatusCode::kCancelled, "etcdserver: watch canceled"},
      {kErrDeadlineExceeded, absl::StatusCode::kDeadlineExceeded,
       "etcdserver: context deadline exceeded"},
  };
  for (const Sample& s : samples) {
    EXPECT_EQ(s.error.code(), s.code) << s.error.name();
    EXPECT_EQ(s.error.message(), s.message) << s.error.name();
  }
}

TEST(RpcTypesTest, ToStatusCarriesCodeAndMessage) {
  absl::Status status = ToStatus(kErrCompacted);
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(status.message(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_TRUE(IsCompacted(status));
  EXPECT_FALSE(IsFutureRev(status));
  EXPECT_FALSE(IsCompacted(absl::OkStatus()));
  EXPECT_FALSE(IsCompacted(absl::OutOfRangeError("mvcc: required revision has been compacted")));
}

TEST(RpcTypesTest, EveryMessageMapsBackToItsError) {
  for (const EtcdError* error : AllErrors()) {
    EXPECT_EQ(ErrorFromMessage(error->message()), error) << error->name();
    // Round trip through a status as a client receives it.
    absl::Status received(error->code(), std::string(error->message()));
    EXPECT_TRUE(Is(received, *error)) << error->name();
    EXPECT_EQ(FromServerStatus(received), ToStatus(*error)) << error->name();
  }
}

TEST(RpcTypesTest, ClientMappingFixesTheCodeAndKeepsUnknownErrors) {
  // A known message under another code gets etcd's code back.
  absl::Status wrapped = absl::UnknownError("etcdserver: no leader");
  EXPECT_EQ(FromServerStatus(wrapped).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsNoLeader(wrapped));

  absl::Status other = absl::UnavailableError("connection refused");
  EXPECT_EQ(ErrorFromMessage(other.message()), nullptr);
  EXPECT_EQ(FromServerStatus(other), other);
  EXPECT_EQ(FromServerStatus(absl::OkStatus()), absl::OkStatus());
  // Exact text only: no prefixes, suffixes or case changes.
  EXPECT_EQ(ErrorFromMessage("etcdserver: no leader "), nullptr);
  EXPECT_EQ(ErrorFromMessage("no leader"), nullptr);
  EXPECT_EQ(ErrorFromMessage("Etcdserver: no leader"), nullptr);
}

TEST(RpcTypesTest, ErrorsCompareByCodeAndMessage) {
  EXPECT_EQ(kErrTimeout, kErrTimeout);
  EXPECT_NE(kErrTimeout, kErrTimeoutDueToLeaderFail);
  constexpr EtcdError kSameTextOtherCode("X", absl::StatusCode::kInternal,
                                         "etcdserver: request timed out");
  EXPECT_NE(kErrTimeout, kSameTextOtherCode);
}

TEST(RpcTypesTest, MetadataKeys) {
  EXPECT_STREQ(kMetadataTokenKey, "token");
  EXPECT_STREQ(kMetadataTokenKeyGateway, "authorization");
  EXPECT_STREQ(kMetadataRequireLeaderKey, "hasleader");
  EXPECT_STREQ(kMetadataHasLeader, "true");
  EXPECT_STREQ(kMetadataClientApiVersionKey, "client-api-version");
}

// --- Against etcd's own list ------------------------------------------------

constexpr char kEtcdErrorGo[] =
    "/usr/share/gocode/src/go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes/error.go";

absl::StatusCode CodeFromGoName(const std::string& name) {
  static const auto* codes = new std::map<std::string, absl::StatusCode>{
      {"Canceled", absl::StatusCode::kCancelled},
      {"Unknown", absl::StatusCode::kUnknown},
      {"InvalidArgument", absl::StatusCode::kInvalidArgument},
      {"DeadlineExceeded", absl::StatusCode::kDeadlineExceeded},
      {"NotFound", absl::StatusCode::kNotFound},
      {"AlreadyExists", absl::StatusCode::kAlreadyExists},
      {"PermissionDenied", absl::StatusCode::kPermissionDenied},
      {"ResourceExhausted", absl::StatusCode::kResourceExhausted},
      {"FailedPrecondition", absl::StatusCode::kFailedPrecondition},
      {"Aborted", absl::StatusCode::kAborted},
      {"OutOfRange", absl::StatusCode::kOutOfRange},
      {"Unimplemented", absl::StatusCode::kUnimplemented},
      {"Internal", absl::StatusCode::kInternal},
      {"Unavailable", absl::StatusCode::kUnavailable},
      {"DataLoss", absl::StatusCode::kDataLoss},
      {"Unauthenticated", absl::StatusCode::kUnauthenticated},
  };
  auto it = codes->find(name);
  return it == codes->end() ? absl::StatusCode::kOk : it->second;
}

// The (code, message) pairs of every `status.New(codes.X, "...")` in `source`.
std::vector<std::pair<std::string, std::string>> GoStatuses(const std::string& source) {
  std::vector<std::pair<std::string, std::string>> found;
  const std::string marker = "status.New(codes.";
  for (size_t at = source.find(marker); at != std::string::npos; at = source.find(marker, at + 1)) {
    size_t code_begin = at + marker.size();
    size_t comma = source.find(',', code_begin);
    size_t open = source.find('"', comma);
    size_t close = source.find('"', open + 1);
    if (comma == std::string::npos || open == std::string::npos || close == std::string::npos) {
      break;
    }
    found.emplace_back(source.substr(code_begin, comma - code_begin),
                       source.substr(open + 1, close - open - 1));
  }
  return found;
}

TEST(RpcTypesTest, MatchesEtcd34ErrorList) {
  std::ifstream in(kEtcdErrorGo);
  ASSERT_TRUE(in.good()) << "etcd's " << kEtcdErrorGo
                         << " is not installed; run tools/bootstrap.sh (it installs "
                            "golang-etcd-server-dev, etcd 3.4's sources)";
  std::stringstream source;
  source << in.rdbuf();
  std::vector<std::pair<std::string, std::string>> etcd = GoStatuses(source.str());
  ASSERT_GE(etcd.size(), 50u) << "could not read the error list from " << kEtcdErrorGo;
  for (const auto& [code, message] : etcd) {
    const EtcdError* ours = ErrorFromMessage(message);
    if (ours == nullptr) {
      ADD_FAILURE() << "etcd's error \"" << message << "\" (" << code << ") is missing";
      continue;
    }
    EXPECT_EQ(ours->code(), CodeFromGoName(code)) << message << ": etcd's code is " << code;
  }
}

}  // namespace
}  // namespace etcd::rpctypes
