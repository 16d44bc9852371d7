#include "tests/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace jwtauth::testing {
namespace {

std::string Pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string Pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* MakeCert(const char* cn, EVP_PKEY* key, X509* issuer,
               EVP_PKEY* issuer_key, long serial, bool is_ca) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1,
                             0);
  X509_set_issuer_name(
      cert, issuer == nullptr ? name : X509_get_subject_name(issuer));
  X509* ext_issuer = issuer == nullptr ? cert : issuer;
  if (is_ca) {
    AddExt(cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert, ext_issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(cert, ext_issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert, ext_issuer, NID_subject_alt_name,
           "DNS:localhost,IP:127.0.0.1");
    AddExt(cert, ext_issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  X509_sign(cert, issuer_key == nullptr ? key : issuer_key, EVP_sha256());
  return cert;
}

}  // namespace

TestPki MakeTestPki() {
  EVP_PKEY* ca_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  EVP_PKEY* server_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  EVP_PKEY* client_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* ca = MakeCert("jwtauth test CA", ca_key, nullptr, nullptr, 1, true);
  X509* server = MakeCert("localhost", server_key, ca, ca_key, 2, false);
  X509* client = MakeCert("test client", client_key, ca, ca_key, 3, false);
  TestPki pki{Pem(ca), Pem(server), Pem(server_key), Pem(client),
              Pem(client_key)};
  X509_free(ca);
  X509_free(server);
  X509_free(client);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(server_key);
  EVP_PKEY_free(client_key);
  return pki;
}

}  // namespace jwtauth::testing
