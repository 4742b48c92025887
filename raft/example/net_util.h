// Socket helpers shared by raftexample's HTTP server and peer transport.
// Functions only; thread-safe.

#ifndef ETCD_RAFT_EXAMPLE_NET_UTIL_H_
#define ETCD_RAFT_EXAMPLE_NET_UTIL_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcd::raftexample {

// A listening TCP socket on host:port (SO_REUSEADDR, so a restarted process
// gets its port back at once). Returns the descriptor.
absl::StatusOr<int> Listen(const std::string& host, int port);

// A TCP connection to host:port, giving up after `timeout_ms`. The socket has
// TCP_NODELAY and send/receive timeouts of `timeout_ms`.
absl::StatusOr<int> Dial(const std::string& host, int port, int timeout_ms);

// Sets SO_RCVTIMEO and SO_SNDTIMEO.
void SetIoTimeout(int fd, int timeout_ms);

// Writes all of `data` (retrying short writes and EINTR, no SIGPIPE).
bool WriteAll(int fd, absl::string_view data);

// Reads exactly `n` bytes into `buf`; false at EOF, on error or timeout.
bool ReadFull(int fd, char* buf, size_t n);

// Closes `fd` if it is not -1, retrying nothing (close is not retried on
// Linux), and sets it to -1.
void CloseFd(int* fd);

}  // namespace etcd::raftexample

#endif  // ETCD_RAFT_EXAMPLE_NET_UTIL_H_
