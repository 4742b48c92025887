// Test-only: a small PKI made with the `openssl` command line tool at test
// time, so no key material is checked in.
//
//   ASSERT_OK_AND_ASSIGN(etcd::tls::TestPki pki, etcd::tls::MakeTestPki(dir.path()));
//   // pki.ca_cert, pki.server_cert/server_key (SANs 127.0.0.1, localhost),
//   // pki.client_cert/client_key (CN "root"), pki.other_client_cert/key
//   // (signed by a second CA the server does not trust), a revoked client
//   // certificate and the CA's CRL.
//   ASSERT_OK_AND_ASSIGN(std::string response,
//                        etcd::tls::HttpsGet(port, "/health", pki.ca_cert));
//
// Thread-compatible.

#ifndef ETCD_SERVER_TLS_TEST_CERTS_H_
#define ETCD_SERVER_TLS_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace etcd::tls {

struct TestPki {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_client_cert;
  std::string other_client_key;
  // Signed by the CA and listed in crl_file (a PEM CRL of the CA).
  std::string revoked_client_cert;
  std::string revoked_client_key;
  std::string crl_file;
};

// Writes the files under `dir` (which must exist); fails if `openssl` is
// missing or refuses.
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

// One HTTP/1.1 GET of `path` over TLS on 127.0.0.1:`port` with
// "Connection: close", verifying the server against `ca_file` and
// presenting `cert_file`/`key_file` when given. The whole response, or an
// error (connection, handshake or verification failure, or a refusal
// before any response byte).
absl::StatusOr<std::string> HttpsGet(int port, const std::string& path, const std::string& ca_file,
                                     const std::string& cert_file = "",
                                     const std::string& key_file = "");

}  // namespace etcd::tls

#endif  // ETCD_SERVER_TLS_TEST_CERTS_H_
