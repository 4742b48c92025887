#include "server/tls/test_certs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"

namespace etcd::tls {
namespace {

absl::Status Sh(const std::string& dir, const std::string& command) {
  std::string line = absl::StrCat("cd '", dir, "' && ", command, " >>openssl.log 2>&1");
  int rc = std::system(line.c_str());
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` failed (", rc, "); see ", dir, "/openssl.log"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  {
    std::ofstream ext(dir + "/server.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        << "extendedKeyUsage=serverAuth,clientAuth\n";
    std::ofstream client_ext(dir + "/client.ext");
    client_ext << "extendedKeyUsage=clientAuth\n";
  }
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  for (const char* ca : {"ca", "other-ca"}) {
    if (absl::Status s = Sh(dir, absl::StrCat("openssl req -x509 ", ec, " -keyout ", ca,
                                              ".key -out ", ca, ".crt -days 2 -subj /CN=", ca));
        !s.ok()) {
      return s;
    }
  }
  struct Leaf {
    const char* name;
    const char* cn;
    const char* ca;
    const char* ext;
  };
  for (const Leaf& leaf :
       {Leaf{"server", "server", "ca", "server.ext"}, Leaf{"client", "root", "ca", "client.ext"},
        Leaf{"other-client", "root", "other-ca", "client.ext"},
        Leaf{"revoked-client", "root", "ca", "client.ext"}}) {
    if (absl::Status s = Sh(dir, absl::StrCat("openssl req ", ec, " -keyout ", leaf.name,
                                              ".key -out ", leaf.name, ".csr -subj /CN=", leaf.cn));
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            Sh(dir, absl::StrCat("openssl x509 -req -in ", leaf.name, ".csr -CA ", leaf.ca,
                                 ".crt -CAkey ", leaf.ca, ".key -CAcreateserial -days 2 -extfile ",
                                 leaf.ext, " -out ", leaf.name, ".crt"));
        !s.ok()) {
      return s;
    }
  }
  {
    std::ofstream cnf(dir + "/ca.cnf");
    cnf << "[ca]\ndefault_ca = ca_default\n[ca_default]\ndatabase = index.txt\n"
        << "crlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n";
    std::ofstream(dir + "/index.txt");
    std::ofstream(dir + "/crlnumber") << "01\n";
  }
  for (const char* step : {"-revoke revoked-client.crt", "-gencrl -out ca.crl"}) {
    if (absl::Status s = Sh(dir, absl::StrCat("openssl ca -batch -config ca.cnf -keyfile ca.key "
                                              "-cert ca.crt ",
                                              step));
        !s.ok()) {
      return s;
    }
  }
  TestPki pki;
  pki.ca_cert = dir + "/ca.crt";
  pki.server_cert = dir + "/server.crt";
  pki.server_key = dir + "/server.key";
  pki.client_cert = dir + "/client.crt";
  pki.client_key = dir + "/client.key";
  pki.other_client_cert = dir + "/other-client.crt";
  pki.other_client_key = dir + "/other-client.key";
  pki.revoked_client_cert = dir + "/revoked-client.crt";
  pki.revoked_client_key = dir + "/revoked-client.key";
  pki.crl_file = dir + "/ca.crl";
  return pki;
}

absl::StatusOr<std::string> HttpsGet(int port, const std::string& path, const std::string& ca_file,
                                     const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError("cannot load " + ca_file);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return absl::InvalidArgumentError("cannot load " + cert_file);
  }
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn) - 1);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError("connect failed");
  }
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  SSL_set1_host(ssl.get(), "127.0.0.1");
  std::string response;
  absl::Status status = absl::OkStatus();
  if (SSL_connect(ssl.get()) != 1) {
    status = absl::UnavailableError("TLS handshake failed");
  } else {
    std::string request =
        absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
      status = absl::UnavailableError("TLS write failed");
    }
    char buf[4096];
    int n;
    while (status.ok() && (n = SSL_read(ssl.get(), buf, sizeof(buf))) > 0) {
      response.append(buf, static_cast<size_t>(n));
    }
    // TLS 1.3: a refused client certificate shows up as an alert here.
    if (status.ok() && response.empty()) status = absl::UnavailableError("no response");
  }
  ERR_clear_error();
  ::close(fd);
  if (!status.ok()) return status;
  return response;
}

}  // namespace etcd::tls
