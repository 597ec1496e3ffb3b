// TestPki: a throwaway certificate authority for tests of TLS to etcd,
// made with Debian's openssl command (tools/setup installs it): a CA, a
// server certificate for 127.0.0.1 and a client certificate it signed, and
// a second CA that signed neither (a wrong trust root). Keys are mode 0600.
#ifndef SWIFT_TESTS_TEST_PKI_H_
#define SWIFT_TESTS_TEST_PKI_H_

#include <string>

#include "absl/status/statusor.h"

namespace swift::testing {

struct TestPki {
  std::string ca_cert;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca_cert;
};

// Writes the files into `dir`; kInternal with openssl's message on failure.
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

}  // namespace swift::testing

#endif  // SWIFT_TESTS_TEST_PKI_H_
