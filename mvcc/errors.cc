#include "mvcc/errors.h"

namespace etcd::mvcc {
namespace {

constexpr char kCompacted[] = "mvcc: required revision has been compacted";
constexpr char kFutureRev[] = "mvcc: required revision is a future revision";
constexpr char kClosed[] = "mvcc: closed";

}  // namespace

absl::Status CompactedError() { return absl::OutOfRangeError(kCompacted); }
absl::Status FutureRevError() { return absl::OutOfRangeError(kFutureRev); }
absl::Status ClosedError() { return absl::CancelledError(kClosed); }

bool IsCompacted(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange && status.message() == kCompacted;
}
bool IsFutureRev(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange && status.message() == kFutureRev;
}
bool IsClosed(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled && status.message() == kClosed;
}

}  // namespace etcd::mvcc
