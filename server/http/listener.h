// One client port for gRPC and HTTP/1.1, like etcd's cmux: a listener that
// accepts TCP connections, looks at their first bytes without consuming
// them, and hands each connection to the gRPC server when it opens with the
// HTTP/2 client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", what every gRPC
// client sends first) or to the HTTP/1.1 handler otherwise.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::http::ClientListener> listener,
//                    etcd::http::ClientListener::Listen("127.0.0.1:2379"));
//   listener->Start(
//       [&](int fd) { grpc_server->AddConnection(fd); },   // HTTP/2
//       [&](int fd) { http_connections.Serve(fd); });      // HTTP/1.1
//   ...
//   listener->Stop();   // no more handoffs after it returns
//
// A connection that sends nothing within 10 seconds is closed. Handlers own
// the sockets they are given; HTTP/2 sockets are non-blocking, HTTP/1.1
// sockets blocking. This header is free of gRPC.
//
// Thread-safe. One thread accepts and classifies; handlers run on it, so
// they must not block.

#ifndef ETCD_SERVER_HTTP_LISTENER_H_
#define ETCD_SERVER_HTTP_LISTENER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace etcd::http {

struct ListenOptions {
  bool reuse_address = true;
  bool reuse_port = false;
  // Connections must show their protocol within this time.
  absl::Duration sniff_timeout = absl::Seconds(10);
};

class ClientListener {
 public:
  using ConnectionHandler = std::function<void(int fd)>;

  // Binds and listens on "host:port" (a name, an IPv4 address or a
  // bracketed IPv6 address; port 0 picks a free port).
  static absl::StatusOr<std::unique_ptr<ClientListener>> Listen(const std::string& host_port,
                                                                ListenOptions options = {});

  ClientListener(const ClientListener&) = delete;
  ClientListener& operator=(const ClientListener&) = delete;
  // Stops and closes the listening socket.
  ~ClientListener();

  // The bound port.
  int port() const { return port_; }

  // Starts the accept thread. Call once.
  void Start(ConnectionHandler on_http2, ConnectionHandler on_http1);

  // Stops accepting, closes connections not yet handed off, joins the
  // thread. Idempotent.
  void Stop();

  // Whether `prefix` (at most 24 bytes) is consistent with the HTTP/2
  // preface: 1 if it is the whole preface, 0 if it may still become it,
  // -1 if it cannot.
  static int MatchPreface(const char* data, size_t size);

 private:
  ClientListener(int fd, int port, ListenOptions options, int wake_read, int wake_write)
      : fd_(fd), port_(port), options_(options), wake_read_(wake_read), wake_write_(wake_write) {}
  void Run();

  const int fd_;
  const int port_;
  const ListenOptions options_;
  // A pipe that wakes the accept thread for Stop().
  const int wake_read_;
  const int wake_write_;
  ConnectionHandler on_http2_;
  ConnectionHandler on_http1_;
  std::thread thread_;
  bool stopped_ = false;  // only touched by Stop() callers, serialized by join
};

}  // namespace etcd::http

#endif  // ETCD_SERVER_HTTP_LISTENER_H_
