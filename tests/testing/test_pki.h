// test_pki.h: a throw-away PKI for TLS tests, made with OpenSSL at run time:
// a CA, a server certificate for localhost / 127.0.0.1, and a client
// certificate (mTLS). P-256 keys; valid from an hour ago for a day.
// Thread-safety: MakeTestPki is thread-safe.
#ifndef JWTAUTH_TESTS_TESTING_TEST_PKI_H_
#define JWTAUTH_TESTS_TESTING_TEST_PKI_H_

#include <string>

namespace jwtauth::testing {

struct TestPki {
  std::string ca_cert;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
};

TestPki MakeTestPki();

}  // namespace jwtauth::testing

#endif  // JWTAUTH_TESTS_TESTING_TEST_PKI_H_
