// Keys for tests of JWT tokens, generated with OpenSSL at run time (testonly).
//
//   etcd::auth::TestKey rsa = etcd::auth::GenerateRsaTestKey(2048);
//   etcd::auth::TestKey ec = etcd::auth::GenerateEcTestKey(NID_X9_62_prime256v1);
//   WriteFile(dir.Join("priv.pem"), rsa.private_pem);
//
// Keys are fresh on every call (RSA 2048 takes tens of milliseconds); tests
// generate each once. Aborts if OpenSSL fails. Thread-safe.

#ifndef ETCD_AUTH_TEST_KEYS_H_
#define ETCD_AUTH_TEST_KEYS_H_

#include <string>

namespace etcd::auth {

struct TestKey {
  // PKCS#8 "PRIVATE KEY".
  std::string private_pem;
  // SubjectPublicKeyInfo "PUBLIC KEY".
  std::string public_pem;
  // A self-signed certificate for the key ("CERTIFICATE", CN=etcd-auth-test).
  std::string certificate_pem;
};

TestKey GenerateRsaTestKey(int bits = 2048);
// `curve_nid`: NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1, ...
TestKey GenerateEcTestKey(int curve_nid);

}  // namespace etcd::auth

#endif  // ETCD_AUTH_TEST_KEYS_H_
