// Loopback ports for tests that start servers.
//
//   ASSERT_OK_AND_ASSIGN(std::vector<int> ports, etcd::testutil::FreePorts(2));
//   // client URL http://127.0.0.1:<ports[0]>, peer URL http://127.0.0.1:<ports[1]>
//
// A port is chosen by binding a TCP socket to 127.0.0.1:0 and reading the
// kernel's choice; the socket is closed before returning, so another process
// could in principle take the port before the test binds it. Ports are
// distinct within one call and never handed out twice in one process.
//
// Thread-safe.

#ifndef ETCD_PKG_TESTUTIL_NET_H_
#define ETCD_PKG_TESTUTIL_NET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace etcd::testutil {

// One free port on 127.0.0.1.
absl::StatusOr<int> FreePort();

// `n` distinct free ports on 127.0.0.1.
absl::StatusOr<std::vector<int>> FreePorts(int n);

// One HTTP/1.1 GET of `path` on 127.0.0.1:`port` with "Connection: close";
// the whole response (status line, headers, body), "" if connecting fails.
std::string HttpGet(int port, const std::string& path);

}  // namespace etcd::testutil

#endif  // ETCD_PKG_TESTUTIL_NET_H_
