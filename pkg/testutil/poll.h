// Polling for a condition with a deadline, instead of fixed sleeps.
//
//   ASSERT_TRUE(etcd::testutil::WaitUntil(
//       [&] { return absl::StrContains(server->ReadStderr(), "ready to serve"); },
//       absl::Seconds(30)));
//
// Thread-safe (the predicate is called on the calling thread only).

#ifndef ETCD_PKG_TESTUTIL_POLL_H_
#define ETCD_PKG_TESTUTIL_POLL_H_

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace etcd::testutil {

// Calls `predicate` every `poll_interval` until it returns true (returns
// true) or `timeout` has passed (returns false). The predicate is always
// called at least once, and once more at the deadline.
bool WaitUntil(absl::FunctionRef<bool()> predicate, absl::Duration timeout,
               absl::Duration poll_interval = absl::Milliseconds(10));

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_POLL_H_
