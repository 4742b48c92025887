#include "auth/test_keys.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace etcd::auth {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_keys: %s failed\n", what);
    std::abort();
  }
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

TestKey Export(EVP_PKEY* key) {
  TestKey out;
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    out.private_pem = BioString(bio.get());
  }
  {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    Check(PEM_write_bio_PUBKEY(bio.get(), key) == 1, "PEM_write_bio_PUBKEY");
    out.public_pem = BioString(bio.get());
  }
  {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    Check(cert != nullptr, "X509_new");
    X509* x = cert.get();
    Check(X509_set_version(x, 2) == 1, "X509_set_version");
    Check(ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1, "serial");
    Check(X509_gmtime_adj(X509_getm_notBefore(x), 0) != nullptr, "notBefore");
    Check(X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365) != nullptr, "notAfter");
    X509_NAME* name = X509_get_subject_name(x);
    Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("etcd-auth-test"), -1,
                                     -1, 0) == 1,
          "subject");
    Check(X509_set_issuer_name(x, name) == 1, "issuer");
    Check(X509_set_pubkey(x, key) == 1, "X509_set_pubkey");
    Check(X509_sign(x, key, EVP_sha256()) > 0, "X509_sign");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    Check(PEM_write_bio_X509(bio.get(), x) == 1, "PEM_write_bio_X509");
    out.certificate_pem = BioString(bio.get());
  }
  return out;
}

}  // namespace

TestKey GenerateRsaTestKey(int bits) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr), EVP_PKEY_CTX_free);
  Check(ctx != nullptr, "EVP_PKEY_CTX_new_id(RSA)");
  Check(EVP_PKEY_keygen_init(ctx.get()) == 1, "EVP_PKEY_keygen_init");
  Check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) > 0, "set_rsa_keygen_bits");
  EVP_PKEY* raw = nullptr;
  Check(EVP_PKEY_keygen(ctx.get(), &raw) == 1, "EVP_PKEY_keygen(RSA)");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  return Export(key.get());
}

TestKey GenerateEcTestKey(int curve_nid) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr), EVP_PKEY_CTX_free);
  Check(ctx != nullptr, "EVP_PKEY_CTX_new_id(EC)");
  Check(EVP_PKEY_keygen_init(ctx.get()) == 1, "EVP_PKEY_keygen_init");
  Check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), curve_nid) > 0, "set curve");
  EVP_PKEY* raw = nullptr;
  Check(EVP_PKEY_keygen(ctx.get(), &raw) == 1, "EVP_PKEY_keygen(EC)");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  return Export(key.get());
}

}  // namespace etcd::auth
