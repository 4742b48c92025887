#include "server/tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/http/listener.h"
#include "server/tls/peer_identity.h"

namespace etcd::tls {
namespace {

// OpenSSL's error queue as text ("error:0A000086:SSL routines::...").
std::string SslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

absl::StatusOr<int> ProtocolVersion(const std::string& name) {
  if (name.empty()) return 0;
  if (name == "TLS1.2") return TLS1_2_VERSION;
  if (name == "TLS1.3") return TLS1_3_VERSION;
  return absl::InvalidArgumentError(absl::StrCat("unknown TLS version ", name));
}

// Go's names of the suites etcd accepts, in OpenSSL's spelling (RC4 and
// 3DES ones only work where OpenSSL still enables them).
const std::map<std::string, std::string>& CipherNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
      {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
      {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
      {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
      {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
      {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
      {"TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
      {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
      {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
      // TLS 1.3 suites are not configurable, as in Go: accepted, no effect.
      {"TLS_AES_128_GCM_SHA256", ""},
      {"TLS_AES_256_GCM_SHA384", ""},
      {"TLS_CHACHA20_POLY1305_SHA256", ""},
  };
  return *names;
}

// ALPN: HTTP/1.1 when the client offers it (curl, browsers, Go's net/http
// offer both and expect /health over HTTP/1.1 here), else h2 (gRPC clients
// offer h2 alone, or with grpc-exp).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  const unsigned char* h2 = nullptr;
  for (unsigned int i = 0; i < inlen;) {
    unsigned int n = in[i];
    if (i + 1 + n > inlen) break;
    absl::string_view proto(reinterpret_cast<const char*>(in + i + 1), n);
    if (proto == "http/1.1") {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    if (proto == "h2") h2 = in + i + 1;
    i += 1 + n;
  }
  if (h2 == nullptr) return SSL_TLSEXT_ERR_NOACK;
  *out = h2;
  *outlen = 2;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerContext>> ServerContext::Create(const ServerOptions& options) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError("TLS key/cert (--cert-file, --key-file) must be provided");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", SslErrors()));
  std::unique_ptr<ServerContext> context(new ServerContext(ctx));
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load certificate ", options.cert_file, ": ", SslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load key ", options.key_file, ": ", SslErrors()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("key ", options.key_file,
                                                   " does not match certificate ",
                                                   options.cert_file, ": ", SslErrors()));
  }
  absl::StatusOr<int> min_version = ProtocolVersion(options.min_version);
  if (!min_version.ok()) return min_version.status();
  absl::StatusOr<int> max_version = ProtocolVersion(options.max_version);
  if (!max_version.ok()) return max_version.status();
  SSL_CTX_set_min_proto_version(ctx, *min_version == 0 ? TLS1_2_VERSION : *min_version);
  if (*max_version != 0) SSL_CTX_set_max_proto_version(ctx, *max_version);
  if (!options.cipher_suites.empty()) {
    std::vector<std::string> names;
    for (const std::string& suite : options.cipher_suites) {
      auto it = CipherNames().find(suite);
      if (it == CipherNames().end()) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected TLS cipher suite ", suite));
      }
      if (!it->second.empty()) names.push_back(it->second);
    }
    if (!names.empty() && SSL_CTX_set_cipher_list(ctx, absl::StrJoin(names, ":").c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("cipher suites: ", SslErrors()));
    }
  }
  if (!options.trusted_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.trusted_ca_file.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA ", options.trusted_ca_file, ": ", SslErrors()));
    }
  }
  if (options.client_cert_auth) {
    if (options.trusted_ca_file.empty()) {
      // Without a CA nothing can be verified: every client would be refused.
      return absl::InvalidArgumentError("--client-cert-auth needs --trusted-ca-file");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.trusted_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    // The verifier checks the leaf against the host names (any may match)
    // or the IP address, as Go's VerifyHostname does for etcd.
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    for (const std::string& host : options.allowed_hostnames) {
      unsigned char ip[16];
      bool is_ip = ::inet_pton(AF_INET, host.c_str(), ip) == 1 ||
                   ::inet_pton(AF_INET6, host.c_str(), ip) == 1;
      if (is_ip && options.allowed_hostnames.size() > 1) {
        return absl::InvalidArgumentError(
            "an IP address in --client-cert-allowed-hostname must be its only value");
      }
      int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                     : X509_VERIFY_PARAM_add1_host(param, host.c_str(), host.size());
      if (ok != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid --client-cert-allowed-hostname ", host));
      }
    }
  }
  if (!options.crl_file.empty()) {
    FILE* f = std::fopen(options.crl_file.c_str(), "r");
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("open ", options.crl_file, ": ", std::strerror(errno)));
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int loaded = 0;
    while (X509_CRL* crl = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr)) {
      X509_STORE_add_crl(store, crl);
      X509_CRL_free(crl);
      ++loaded;
    }
    std::fclose(f);
    ERR_clear_error();
    if (loaded == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("no PEM certificate revocation list in ", options.crl_file));
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return context;
}

ServerContext::~ServerContext() { SSL_CTX_free(ctx_); }

// ---- SelfCert ---------------------------------------------------------------

namespace {

absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrCat("mkdir ", prefix, ": ", std::strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

absl::Status WritePem(const std::string& path, mode_t mode, const std::function<bool(FILE*)>& f) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  FILE* file = ::fdopen(fd, "w");
  if (file == nullptr) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("fdopen ", path, ": ", std::strerror(errno)));
  }
  bool ok = f(file);
  ok = (std::fclose(file) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrCat("write ", path, ": ", SslErrors()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SelfCertFiles> SelfCert(const std::string& dir,
                                       const std::vector<std::string>& host_ports,
                                       int validity_years) {
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  SelfCertFiles files{dir + "/cert.pem", dir + "/key.pem"};
  struct stat st;
  if (::stat(files.cert_file.c_str(), &st) == 0 && ::stat(files.key_file.c_str(), &st) == 0) {
    return files;
  }
  ERR_clear_error();
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  bool ok = kctx != nullptr && EVP_PKEY_keygen_init(kctx) == 1 &&
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_secp521r1) == 1 &&
            EVP_PKEY_keygen(kctx, &key) == 1;
  EVP_PKEY_CTX_free(kctx);
  if (!ok) return absl::InternalError(absl::StrCat("cannot generate ECDSA key: ", SslErrors()));
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_owner(key, EVP_PKEY_free);
  std::unique_ptr<X509, void (*)(X509*)> cert(X509_new(), X509_free);

  std::vector<std::string> sans;
  for (const std::string& host_port : host_ports) {
    // "host:port", "[v6]:port", or a bare host.
    std::string host = host_port;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(
          1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
    } else if (host.find(':') != std::string::npos && host.find(':') == host.rfind(':')) {
      host = host.substr(0, host.find(':'));
    }
    if (host.empty()) continue;
    unsigned char buf[16];
    bool is_ip = ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
                 ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
    sans.push_back(absl::StrCat(is_ip ? "IP:" : "DNS:", host));
  }

  BIGNUM* serial = BN_new();
  ok = serial != nullptr && BN_rand(serial, 128, -1, 0) == 1 &&
       BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(serial);
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_set_version(cert.get(), 2) == 1 &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("etcd"), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                       static_cast<long>(validity_years) * 365 * 24 * 3600) != nullptr &&
       X509_set_pubkey(cert.get(), key) == 1 &&
       AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
       AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
       (sans.empty() || AddExtension(cert.get(), NID_subject_alt_name, absl::StrJoin(sans, ","))) &&
       X509_sign(cert.get(), key, EVP_sha512()) > 0;
  if (!ok) {
    return absl::InternalError(absl::StrCat("cannot generate x509 certificate: ", SslErrors()));
  }
  if (absl::Status s = WritePem(files.cert_file, 0644,
                                [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WritePem(files.key_file, 0600,
                                [&](FILE* f) {
                                  return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                                              nullptr) == 1;
                                });
      !s.ok()) {
    return s;
  }
  return files;
}

// ---- Terminator -------------------------------------------------------------

namespace {

constexpr size_t kChunk = 16 * 1024;
// Bytes buffered per direction before reading from that side pauses.
constexpr size_t kMaxBuffered = 64 * 1024;

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Drops the bytes of `buffer` already passed on, so that a buffer that is
// never quite drained does not grow.
void Compact(std::string* buffer, size_t* offset) {
  if (*offset == buffer->size()) {
    buffer->clear();
    *offset = 0;
  } else if (*offset >= kMaxBuffered) {
    buffer->erase(0, *offset);
    *offset = 0;
  }
}

// The common name of the client certificate, if one was sent and verified.
std::string VerifiedCommonName(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return "";
  std::string cn;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    X509_NAME* name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i >= 0) {
      const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
      cn.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                static_cast<size_t>(ASN1_STRING_length(data)));
    }
  }
  X509_free(cert);
  return cn;
}

}  // namespace

struct Terminator::Conn {
  enum class State { kPeek, kHandshake, kSniff, kOpen };
  int tcp = -1;
  int app = -1;  // our end of the socketpair, once the protocol is known
  SSL* ssl = nullptr;
  State state = State::kPeek;
  absl::Time deadline;
  // Decrypted bytes on their way to the handler, and the handler's bytes on
  // their way to TLS; `*_off` is how much of each was already passed on.
  std::string to_app;
  size_t to_app_off = 0;
  std::string to_tls;
  size_t to_tls_off = 0;
  bool tls_eof = false;
  bool app_eof = false;
  bool app_write_shut = false;
  // What the last SSL call waits for on the TCP socket.
  bool tcp_want_read = false;
  bool tcp_want_write = false;
  uint32_t tcp_events = 0;  // registered with epoll
  uint32_t app_events = 0;
};

Terminator::Terminator(const ServerContext* context, Handler on_http2, Handler on_http1,
                       absl::Duration handshake_timeout)
    : context_(context),
      on_http2_(std::move(on_http2)),
      on_http1_(std::move(on_http1)),
      handshake_timeout_(handshake_timeout) {}

Terminator::~Terminator() {
  Stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

absl::Status Terminator::Start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Terminator::Serve(int fd) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_ && thread_.joinable()) {
      incoming_.push_back(fd);
      fd = -1;
    }
  }
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void Terminator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  for (int fd : incoming_) ::close(fd);
  incoming_.clear();
}

int Terminator::ConnectionCount() {
  absl::MutexLock lock(&mu_);
  return count_;
}

void Terminator::Close(Conn* c) {
  if (c->ssl != nullptr) SSL_free(c->ssl);
  ::close(c->tcp);  // also drops it from the epoll set
  if (c->app >= 0) ::close(c->app);
  delete c;
  absl::MutexLock lock(&mu_);
  --count_;
}

void Terminator::UpdateInterest(Conn& c) {
  // The epoll tag tells the two sockets apart: the Conn pointer for TCP,
  // the pointer + 1 (Conn is aligned) for the handler's socket.
  uint32_t tcp_events = 0;
  if (c.tcp_want_read) tcp_events |= EPOLLIN;
  if (c.tcp_want_write) tcp_events |= EPOLLOUT;
  if (tcp_events != c.tcp_events) {
    epoll_event ev{};
    ev.events = tcp_events;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.tcp, &ev);
    c.tcp_events = tcp_events;
  }
  if (c.app < 0) return;
  uint32_t app_events = 0;
  if (!c.app_eof && c.to_tls.size() - c.to_tls_off < kMaxBuffered) app_events |= EPOLLIN;
  if (c.to_app_off < c.to_app.size()) app_events |= EPOLLOUT;
  if (app_events != c.app_events) {
    epoll_event ev{};
    ev.events = app_events;
    ev.data.ptr = reinterpret_cast<char*>(&c) + 1;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.app, &ev);
    c.app_events = app_events;
  }
}

bool Terminator::Step(Conn& c) {
  c.tcp_want_read = false;
  c.tcp_want_write = false;
  if (c.state == Conn::State::kPeek) {
    // A TLS connection opens with a handshake record (0x16). Anything else
    // is most likely plaintext HTTP: answer like Go's server and close.
    unsigned char first;
    ssize_t n = ::recv(c.tcp, &first, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      c.tcp_want_read = true;
      return true;
    }
    if (n <= 0) return false;
    if (first != 0x16) {
      (void)!::send(c.tcp, kPlainHttpToTlsResponse, sizeof(kPlainHttpToTlsResponse) - 1,
                    MSG_NOSIGNAL);
      ::shutdown(c.tcp, SHUT_WR);
      return false;
    }
    c.ssl = SSL_new(context_->ssl_ctx());
    if (c.ssl == nullptr) return false;
    SSL_set_fd(c.ssl, c.tcp);
    SSL_set_accept_state(c.ssl);
    c.state = Conn::State::kHandshake;
  }
  if (c.state == Conn::State::kHandshake) {
    ERR_clear_error();
    int r = SSL_do_handshake(c.ssl);
    if (r != 1) {
      int err = SSL_get_error(c.ssl, r);
      if (err == SSL_ERROR_WANT_READ) {
        c.tcp_want_read = true;
        return true;
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        c.tcp_want_write = true;
        return true;
      }
      ERR_clear_error();
      return false;
    }
    c.state = Conn::State::kSniff;
  }
  char buf[kChunk];
  bool progress = true;
  while (progress) {
    progress = false;
    c.tcp_want_read = false;
    c.tcp_want_write = false;
    // TLS -> buffer.
    while (!c.tls_eof && c.to_app.size() - c.to_app_off < kMaxBuffered) {
      ERR_clear_error();
      int n = SSL_read(c.ssl, buf, sizeof(buf));
      if (n > 0) {
        c.to_app.append(buf, static_cast<size_t>(n));
        progress = true;
        continue;
      }
      int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_READ) {
        c.tcp_want_read = true;
      } else if (err == SSL_ERROR_WANT_WRITE) {
        c.tcp_want_write = true;
      } else if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) {
        // close_notify, or the peer closed without one.
        c.tls_eof = true;
        progress = true;
      } else {
        ERR_clear_error();
        return false;
      }
      break;
    }
    if (c.state == Conn::State::kSniff) {
      int match = c.to_app.empty()
                      ? 0
                      : http::ClientListener::MatchPreface(c.to_app.data(), c.to_app.size());
      if (match == 0) {
        if (c.tls_eof) return false;
        break;  // wait for more bytes (the deadline still applies)
      }
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return false;
      c.app = pair[0];
      SetNonBlocking(c.app);
      epoll_event ev{};
      ev.events = 0;
      ev.data.ptr = reinterpret_cast<char*>(&c) + 1;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.app, &ev);
      c.state = Conn::State::kOpen;
      if (match == 1) {
        SetPeerCommonName(pair[1], VerifiedCommonName(c.ssl));
        on_http2_(pair[1]);
      } else {
        on_http1_(pair[1]);
      }
    }
    // Buffer -> handler.
    while (c.to_app_off < c.to_app.size()) {
      ssize_t n = ::send(c.app, c.to_app.data() + c.to_app_off, c.to_app.size() - c.to_app_off,
                         MSG_NOSIGNAL);
      if (n > 0) {
        c.to_app_off += static_cast<size_t>(n);
        progress = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      // The handler stopped reading (e.g. answered "Connection: close"):
      // drop what the client sent on, still deliver what the handler wrote.
      c.to_app.clear();
      c.to_app_off = 0;
      c.tls_eof = true;
      c.app_write_shut = true;
      progress = true;
    }
    Compact(&c.to_app, &c.to_app_off);
    if (c.tls_eof && c.to_app.empty() && !c.app_write_shut) {
      ::shutdown(c.app, SHUT_WR);
      c.app_write_shut = true;
    }
    // Handler -> buffer.
    while (!c.app_eof && c.to_tls.size() - c.to_tls_off < kMaxBuffered) {
      ssize_t n = ::recv(c.app, buf, sizeof(buf), 0);
      if (n > 0) {
        c.to_tls.append(buf, static_cast<size_t>(n));
        progress = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      c.app_eof = true;
      progress = true;
    }
    // Buffer -> TLS.
    while (c.to_tls_off < c.to_tls.size()) {
      ERR_clear_error();
      size_t len = c.to_tls.size() - c.to_tls_off;
      int n = SSL_write(c.ssl, c.to_tls.data() + c.to_tls_off,
                        static_cast<int>(len < (1 << 20) ? len : (1 << 20)));
      if (n > 0) {
        c.to_tls_off += static_cast<size_t>(n);
        progress = true;
        continue;
      }
      int err = SSL_get_error(c.ssl, n);
      if (err == SSL_ERROR_WANT_WRITE) {
        c.tcp_want_write = true;
      } else if (err == SSL_ERROR_WANT_READ) {
        c.tcp_want_read = true;
      } else {
        ERR_clear_error();
        return false;
      }
      break;
    }
    Compact(&c.to_tls, &c.to_tls_off);
    if (c.app_eof && c.to_tls.empty()) {
      // The handler is done with the connection: say so and close.
      ERR_clear_error();
      SSL_shutdown(c.ssl);
      ERR_clear_error();
      return false;
    }
  }
  return true;
}

void Terminator::Run() {
  // OpenSSL writes to the TCP socket with write(2): a peer that has gone
  // away must yield EPIPE, not kill the process.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  std::vector<epoll_event> events(64);
  // Every live connection; those not yet kOpen are held to their deadline.
  absl::flat_hash_set<Conn*> conns;
  while (true) {
    absl::Time next = absl::InfiniteFuture();
    for (Conn* c : conns) {
      if (c->state != Conn::State::kOpen && c->deadline < next) next = c->deadline;
    }
    int timeout_ms = -1;
    if (next != absl::InfiniteFuture()) {
      int64_t ms = absl::ToInt64Milliseconds(next - absl::Now()) + 1;
      timeout_ms = ms < 0 ? 0 : static_cast<int>(ms);
    }
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (n < 0 && errno != EINTR) break;
    absl::flat_hash_set<Conn*> closed;
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == nullptr) {
        uint64_t value;
        (void)!::read(wake_fd_, &value, sizeof(value));
        continue;
      }
      Conn* c = reinterpret_cast<Conn*>(reinterpret_cast<uintptr_t>(tag) & ~uintptr_t{1});
      if (closed.contains(c)) continue;
      if (Step(*c)) {
        UpdateInterest(*c);
      } else {
        closed.insert(c);
      }
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) break;
      for (int fd : incoming_) {
        Conn* c = new Conn;
        c->tcp = fd;
        c->deadline = absl::Now() + handshake_timeout_;
        SetNonBlocking(fd);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        c->tcp_events = EPOLLIN;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        conns.insert(c);
        ++count_;
      }
      incoming_.clear();
    }
    absl::Time now = absl::Now();
    for (Conn* c : conns) {
      if (c->state != Conn::State::kOpen && now >= c->deadline) closed.insert(c);
    }
    for (Conn* c : closed) {
      conns.erase(c);
      Close(c);
    }
  }
  for (Conn* c : conns) Close(c);
}

}  // namespace etcd::tls
