#include "server/tls/tls.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "pkg/testutil/poll.h"
#include "pkg/testutil/status_matchers.h"
#include "pkg/testutil/temp_dir.h"
#include "server/http/listener.h"
#include "server/tls/peer_identity.h"
#include "server/tls/test_certs.h"

namespace etcd::tls {
namespace {

int Dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Reads exactly `n` bytes from a blocking socket (fewer on EOF/error).
std::string ReadN(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, &out[got], n - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// A blocking TLS client.
class Client {
 public:
  struct Options {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string alpn;  // wire format, e.g. "\x08http/1.1"
  };
  Client(int port, const Options& options) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!options.ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!options.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    if (!options.alpn.empty()) {
      SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(options.alpn.data()),
                              static_cast<unsigned>(options.alpn.size()));
    }
    fd_ = Dial(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    connected_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~Client() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl_, &p, &len);
    return std::string(reinterpret_cast<const char*>(p), len);
  }
  bool Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      int n = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  std::string Read(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      int r = SSL_read(ssl_, &out[got], static_cast<int>(n - got));
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    ERR_clear_error();
    return out;
  }
  void ShutdownWrite() { SSL_shutdown(ssl_); }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
};

// The plaintext sockets the terminator handed out.
class Handed {
 public:
  Terminator::Handler Collector(std::vector<int>* into) {
    return [this, into](int fd) {
      absl::MutexLock lock(&mu_);
      into->push_back(fd);
    };
  }
  // Waits for one socket in `from` and takes it.
  int Take(std::vector<int>* from) {
    int fd = -1;
    testutil::WaitUntil(
        [&] {
          absl::MutexLock lock(&mu_);
          if (from->empty()) return false;
          fd = from->front();
          from->erase(from->begin());
          return true;
        },
        absl::Seconds(20));
    return fd;
  }
  int Count(std::vector<int>* of) {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(of->size());
  }
  ~Handed() {
    for (int fd : http2) ::close(fd);
    for (int fd : http1) ::close(fd);
  }
  std::vector<int> http2;
  std::vector<int> http1;

 private:
  absl::Mutex mu_;
};

class TerminatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A refused client may still be writing when the server hangs up.
    ::signal(SIGPIPE, SIG_IGN);
    absl::StatusOr<testutil::TempDir> dir = testutil::TempDir::Create("tls");
    ASSERT_OK(dir.status());
    dir_ = std::make_unique<testutil::TempDir>(std::move(*dir));
    ASSERT_OK_AND_ASSIGN(pki_, MakeTestPki(dir_->path()));
  }

  // Serves with `options` (cert and key filled in) on a fresh port.
  void Serve(ServerOptions options, absl::Duration handshake_timeout = absl::Seconds(10)) {
    options.cert_file = pki_.server_cert;
    options.key_file = pki_.server_key;
    ASSERT_OK_AND_ASSIGN(context_, ServerContext::Create(options));
    terminator_ =
        std::make_unique<Terminator>(context_.get(), handed_.Collector(&handed_.http2),
                                     handed_.Collector(&handed_.http1), handshake_timeout);
    ASSERT_OK(terminator_->Start());
    ASSERT_OK_AND_ASSIGN(listener_, http::ClientListener::Listen("127.0.0.1:0"));
    Terminator* t = terminator_.get();
    listener_->Start([t](int fd) { t->Serve(fd); }, [t](int fd) { t->Serve(fd); });
  }

  void TearDown() override {
    if (listener_) listener_->Stop();
    if (terminator_) terminator_->Stop();
  }

  Client::Options Trusting() {
    Client::Options o;
    o.ca_file = pki_.ca_cert;
    return o;
  }

  std::unique_ptr<testutil::TempDir> dir_;
  TestPki pki_;
  Handed handed_;
  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<Terminator> terminator_;
  std::unique_ptr<http::ClientListener> listener_;
};

TEST_F(TerminatorTest, Http1RoundTripOverTls) {
  Serve({});
  Client::Options o = Trusting();
  o.alpn = std::string("\x02h2\x08http/1.1", 12);
  Client client(listener_->port(), o);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.alpn(), "http/1.1");
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(client.Write(request));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  EXPECT_EQ(ReadN(plain, request.size()), request);
  ASSERT_TRUE(WriteAll(plain, "HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_EQ(client.Read(19), "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(handed_.Count(&handed_.http2), 0);
  // The handler closing its end closes the TLS connection.
  ::close(plain);
  EXPECT_EQ(client.Read(1), "");
  testutil::WaitUntil([&] { return terminator_->ConnectionCount() == 0; }, absl::Seconds(20));
  EXPECT_EQ(terminator_->ConnectionCount(), 0);
}

TEST_F(TerminatorTest, Http2PrefaceGoesToGrpcSide) {
  Serve({});
  Client::Options o = Trusting();
  o.alpn = std::string("\x02h2", 3);
  Client client(listener_->port(), o);
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.alpn(), "h2");
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // In two pieces: the terminator waits for the whole preface.
  ASSERT_TRUE(client.Write(preface.substr(0, 5)));
  ASSERT_TRUE(client.Write(preface.substr(5) + "frames"));
  int plain = handed_.Take(&handed_.http2);
  ASSERT_GE(plain, 0);
  EXPECT_EQ(ReadN(plain, preface.size() + 6), preface + "frames");
  // No client certificate: no name, whatever this number carried before.
  EXPECT_EQ(PeerCommonName(absl::StrCat("fd:", plain)), "");
  EXPECT_EQ(handed_.Count(&handed_.http1), 0);
  ::close(plain);
}

TEST_F(TerminatorTest, LargeTransfersBothWays) {
  Serve({});
  Client client(listener_->port(), Trusting());
  ASSERT_TRUE(client.connected());
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string request = "POST / HTTP/1.1\r\n\r\n" + big;
  std::thread writer([&] { EXPECT_TRUE(client.Write(request)); });
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  std::string received = ReadN(plain, request.size());
  writer.join();
  EXPECT_TRUE(received == request) << received.size();
  std::thread replier([&] { EXPECT_TRUE(WriteAll(plain, big)); });
  std::string reply = client.Read(big.size());
  replier.join();
  EXPECT_TRUE(reply == big) << reply.size();
  ::close(plain);
}

TEST_F(TerminatorTest, ClientEofReachesHandler) {
  Serve({});
  Client client(listener_->port(), Trusting());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Write("GET / HTTP/1.1\r\n\r\n"));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  EXPECT_EQ(ReadN(plain, 18), "GET / HTTP/1.1\r\n\r\n");
  client.ShutdownWrite();
  char byte;
  EXPECT_EQ(::read(plain, &byte, 1), 0);
  ::close(plain);
}

TEST_F(TerminatorTest, PlainHttpGetsGoAnswer) {
  Serve({});
  int fd = Dial(listener_->port());
  ASSERT_TRUE(WriteAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string answer = ReadN(fd, 1000);
  EXPECT_EQ(answer, kPlainHttpToTlsResponse);
  ::close(fd);
  EXPECT_EQ(handed_.Count(&handed_.http1), 0);
}

TEST_F(TerminatorTest, ClientCertAuthRefusesMissingOrForeignCertificates) {
  ServerOptions options;
  options.trusted_ca_file = pki_.ca_cert;
  options.client_cert_auth = true;
  Serve(options);

  auto refused = [&](const Client::Options& o) {
    Client client(listener_->port(), o);
    // TLS 1.3 clients finish before the server has checked them: the
    // refusal then arrives as an alert on the first read.
    if (!client.connected()) return true;
    client.Write("GET / HTTP/1.1\r\n\r\n");
    return client.Read(1).empty();
  };
  EXPECT_TRUE(refused(Trusting()));
  Client::Options foreign = Trusting();
  foreign.cert_file = pki_.other_client_cert;
  foreign.key_file = pki_.other_client_key;
  EXPECT_TRUE(refused(foreign));
  EXPECT_EQ(handed_.Count(&handed_.http1), 0);

  Client::Options good = Trusting();
  good.cert_file = pki_.client_cert;
  good.key_file = pki_.client_key;
  Client client(listener_->port(), good);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Write("GET / HTTP/1.1\r\n\r\n"));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  EXPECT_EQ(ReadN(plain, 18), "GET / HTTP/1.1\r\n\r\n");
  ::close(plain);

  // An HTTP/2 (gRPC) connection carries the certificate's common name.
  Client grpc_client(listener_->port(), good);
  ASSERT_TRUE(grpc_client.connected());
  ASSERT_TRUE(grpc_client.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  int h2 = handed_.Take(&handed_.http2);
  ASSERT_GE(h2, 0);
  EXPECT_EQ(PeerCommonName(absl::StrCat("fd:", h2)), "root");
  ::close(h2);
}

TEST_F(TerminatorTest, CrlRefusesRevokedClientCertificates) {
  ServerOptions options;
  options.trusted_ca_file = pki_.ca_cert;
  options.client_cert_auth = true;
  options.crl_file = pki_.crl_file;
  Serve(options);
  Client::Options revoked = Trusting();
  revoked.cert_file = pki_.revoked_client_cert;
  revoked.key_file = pki_.revoked_client_key;
  {
    Client client(listener_->port(), revoked);
    bool refused =
        !client.connected() || (client.Write("GET / HTTP/1.1\r\n\r\n"), client.Read(1).empty());
    EXPECT_TRUE(refused);
  }
  EXPECT_EQ(handed_.Count(&handed_.http1), 0);
  Client::Options good = Trusting();
  good.cert_file = pki_.client_cert;
  good.key_file = pki_.client_key;
  Client client(listener_->port(), good);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Write("GET / HTTP/1.1\r\n\r\n"));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  ::close(plain);
}

TEST_F(TerminatorTest, AllowedHostnamesLimitClientCertificates) {
  // The client certificate has no SANs: a required host name refuses it.
  ServerOptions options;
  options.trusted_ca_file = pki_.ca_cert;
  options.client_cert_auth = true;
  options.allowed_hostnames = {"client.example.com"};
  Serve(options);
  Client::Options o = Trusting();
  o.cert_file = pki_.client_cert;
  o.key_file = pki_.client_key;
  {
    Client client(listener_->port(), o);
    bool refused =
        !client.connected() || (client.Write("GET / HTTP/1.1\r\n\r\n"), client.Read(1).empty());
    EXPECT_TRUE(refused);
  }
  EXPECT_EQ(handed_.Count(&handed_.http1), 0);

  // The server certificate (also good for client auth) names localhost.
  listener_->Stop();
  terminator_->Stop();
  options.allowed_hostnames = {"other.example.com", "localhost"};
  Serve(options);
  o.cert_file = pki_.server_cert;
  o.key_file = pki_.server_key;
  Client client(listener_->port(), o);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Write("GET / HTTP/1.1\r\n\r\n"));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  ::close(plain);
}

TEST_F(TerminatorTest, SilentConnectionsAreClosedAfterTheHandshakeTimeout) {
  Serve({}, absl::Milliseconds(200));
  int fd = Dial(listener_->port());
  // The start of a TLS record, then nothing.
  ASSERT_TRUE(WriteAll(fd, "\x16\x03"));
  EXPECT_TRUE(
      testutil::WaitUntil([&] { return terminator_->ConnectionCount() == 1; }, absl::Seconds(20)));
  absl::Time start = absl::Now();
  char byte;
  EXPECT_EQ(::read(fd, &byte, 1), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(9));  // the timeout, not SO_RCVTIMEO
  testutil::WaitUntil([&] { return terminator_->ConnectionCount() == 0; }, absl::Seconds(20));
  EXPECT_EQ(terminator_->ConnectionCount(), 0);
  ::close(fd);
}

TEST_F(TerminatorTest, StopClosesConnections) {
  Serve({});
  Client client(listener_->port(), Trusting());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Write("GET / HTTP/1.1\r\n\r\n"));
  int plain = handed_.Take(&handed_.http1);
  ASSERT_GE(plain, 0);
  listener_->Stop();
  terminator_->Stop();
  EXPECT_EQ(client.Read(1), "");
  char buf[64];
  EXPECT_EQ(::read(plain, buf, sizeof(buf)), 18);
  EXPECT_EQ(::read(plain, buf, sizeof(buf)), 0);
  ::close(plain);
}

TEST(ServerContextTest, ErrorsNameTheFile) {
  ServerOptions options;
  EXPECT_EQ(ServerContext::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.cert_file = "/nonexistent/server.crt";
  options.key_file = "/nonexistent/server.key";
  absl::Status s = ServerContext::Create(options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/nonexistent/server.crt"), absl::string_view::npos) << s;
}

TEST(ServerContextTest, ClientCertAuthNeedsCaAndKnownCiphers) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("tls"));
  ASSERT_OK_AND_ASSIGN(TestPki pki, MakeTestPki(dir.path()));
  ServerOptions options;
  options.cert_file = pki.server_cert;
  options.key_file = pki.server_key;
  options.client_cert_auth = true;
  EXPECT_EQ(ServerContext::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.client_cert_auth = false;
  options.cipher_suites = {"TLS_NOT_A_SUITE"};
  EXPECT_EQ(ServerContext::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
  EXPECT_OK(ServerContext::Create(options).status());
  options.key_file = pki.client_key;  // does not match
  EXPECT_EQ(ServerContext::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SelfCertTest, WritesAUsableCertificateAndReusesIt) {
  ASSERT_OK_AND_ASSIGN(testutil::TempDir dir, testutil::TempDir::Create("tls"));
  std::string fixtures = dir.path() + "/fixtures/client";
  ASSERT_OK_AND_ASSIGN(SelfCertFiles files,
                       SelfCert(fixtures, {"127.0.0.1:2379", "localhost:2379"}));
  EXPECT_EQ(files.cert_file, fixtures + "/cert.pem");
  EXPECT_EQ(files.key_file, fixtures + "/key.pem");
  std::string cert = ReadFile(files.cert_file);
  EXPECT_NE(cert.find("BEGIN CERTIFICATE"), std::string::npos);

  // The SANs name the hosts; the certificate verifies against itself.
  FILE* f = std::fopen(files.cert_file.c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(x, "example.com", 0, 0, nullptr), 0);
  X509_free(x);

  ServerOptions options;
  options.cert_file = files.cert_file;
  options.key_file = files.key_file;
  EXPECT_OK(ServerContext::Create(options).status());

  ASSERT_OK_AND_ASSIGN(SelfCertFiles again, SelfCert(fixtures, {"127.0.0.1:2379"}));
  EXPECT_EQ(ReadFile(again.cert_file), cert);
}

}  // namespace
}  // namespace etcd::tls
