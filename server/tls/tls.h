// TLS on the member's client port, terminated in this process: a server
// context built from etcd's TLS flags, auto-TLS certificates, and a
// Terminator that decrypts accepted connections and hands each one, as a
// plaintext socket, to the gRPC server or the HTTP/1.1 server.
//
// gRPC's C++ API can adopt a plaintext socket (AddInsecureChannelFromFd) but
// not a socket it must encrypt itself, so TLS ends here: the Terminator does
// the handshake, reads the first decrypted bytes to tell HTTP/2 (the gRPC
// preface) from HTTP/1.1, creates a socketpair, gives one end to the chosen
// handler and pumps bytes between the TLS connection and its own end. One
// thread per Terminator pumps every connection (epoll, non-blocking sockets).
// Before a socket goes to the HTTP/2 handler, its verified client
// certificate's common name is recorded (peer_identity.h).
//
//   etcd::tls::ServerOptions options;
//   options.cert_file = "server.crt";
//   options.key_file = "server.key";
//   ASSIGN_OR_RETURN(std::unique_ptr<etcd::tls::ServerContext> context,
//                    etcd::tls::ServerContext::Create(options));
//   etcd::tls::Terminator tls(context.get(),
//       [&](int fd) { grpc_server->AddConnection(fd); },   // HTTP/2
//       [&](int fd) { http_connections.Serve(fd); });      // HTTP/1.1
//   RETURN_IF_ERROR(tls.Start());
//   listener->Start(..., [&](int fd) { tls.Serve(fd); });  // raw TCP in
//   ...
//   tls.Stop();
//
// Uses only the part of OpenSSL's API that BoringSSL shares. This header
// does not include OpenSSL's.

#ifndef ETCD_SERVER_TLS_TLS_H_
#define ETCD_SERVER_TLS_TLS_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct ssl_ctx_st;

namespace etcd::tls {

// etcd's client-side TLS settings (--cert-file, --key-file, ...).
struct ServerOptions {
  // PEM certificate (chain) and private key the server presents. Required.
  std::string cert_file;
  std::string key_file;
  // PEM CA bundle client certificates are verified against.
  std::string trusted_ca_file;
  // Require a client certificate signed by trusted_ca_file.
  bool client_cert_auth = false;
  // PEM certificate revocation list checked for client certificates.
  std::string crl_file;
  // With client_cert_auth: a client certificate must match one of these
  // host names (SAN DNS names, wildcards allowed) or be valid for this IP
  // address (--client-cert-allowed-hostname). At most one IP address, and
  // not mixed with names. Empty: any.
  std::vector<std::string> allowed_hostnames;
  // "TLS1.2" or "TLS1.3"; max may be empty (no maximum).
  std::string min_version = "TLS1.2";
  std::string max_version;
  // Go names of the TLS 1.2 cipher suites allowed
  // ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); empty: OpenSSL's defaults.
  std::vector<std::string> cipher_suites;
};

// An SSL_CTX configured from ServerOptions. Immutable after Create;
// thread-safe.
class ServerContext {
 public:
  // Loads and checks the files; errors name the file and OpenSSL's reason.
  static absl::StatusOr<std::unique_ptr<ServerContext>> Create(const ServerOptions& options);

  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;
  ~ServerContext();

  // Borrowed; lives as long as this object.
  ssl_ctx_st* ssl_ctx() const { return ctx_; }

 private:
  explicit ServerContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* const ctx_;
};

// The files auto-TLS produced or found.
struct SelfCertFiles {
  std::string cert_file;
  std::string key_file;
};

// Like etcd's transport.SelfCert: in `dir` (created if missing), reuses
// cert.pem and key.pem when both exist, else writes a new self-signed
// certificate (ECDSA P-521, organization "etcd", server auth, valid for
// `validity_years`) whose SANs are the hosts of `host_ports` ("host:port";
// IP addresses become IP SANs, names DNS SANs).
absl::StatusOr<SelfCertFiles> SelfCert(const std::string& dir,
                                       const std::vector<std::string>& host_ports,
                                       int validity_years = 1);

// What the Terminator answers a client that speaks plaintext HTTP to a TLS
// port (Go's net/http answer), before closing.
inline constexpr char kPlainHttpToTlsResponse[] =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

// Terminates TLS for accepted connections. Thread-safe: Serve may be called
// from any thread. Handlers run on the pump thread and must not block; they
// own the socket they are given (a blocking AF_UNIX stream socket).
class Terminator {
 public:
  using Handler = std::function<void(int fd)>;

  // `context` must outlive this object.
  Terminator(const ServerContext* context, Handler on_http2, Handler on_http1,
             absl::Duration handshake_timeout = absl::Seconds(10));
  Terminator(const Terminator&) = delete;
  Terminator& operator=(const Terminator&) = delete;
  // Stops.
  ~Terminator();

  // Starts the pump thread. Call once, before Serve.
  absl::Status Start();

  // Takes ownership of the accepted TCP socket `fd`. Connections that do not
  // complete the handshake and send their first bytes within the handshake
  // timeout are closed; so are connections that fail the handshake (bad or
  // missing client certificate, plaintext, ...).
  void Serve(int fd);

  // Closes every TLS connection (the handlers' ends then see EOF) and joins
  // the pump thread. Idempotent.
  void Stop();

  // Connections being pumped or handshaking now (for tests).
  int ConnectionCount();

 private:
  struct Conn;
  void Run();
  // Advances `c` as far as it can; false when it is done and must be closed.
  bool Step(Conn& c);
  void UpdateInterest(Conn& c);
  void Close(Conn* c);

  const ServerContext* const context_;
  const Handler on_http2_;
  const Handler on_http1_;
  const absl::Duration handshake_timeout_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd
  std::thread thread_;

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> incoming_ ABSL_GUARDED_BY(mu_);
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcd::tls

#endif  // ETCD_SERVER_TLS_TLS_H_
