// WritePeerSecretFile(): a cluster's peer secret (--peer_secret_file) as an
// operator deploys it, for tests and benchmarks that start swiftds which
// authenticate their peers.
#ifndef SWIFT_TESTS_PEER_SECRET_FILE_H_
#define SWIFT_TESTS_PEER_SECRET_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace swift::testing {

// 32 random bytes in a new file at `path`, mode 0600 (swiftd refuses a
// secret others may read). kInternal, naming the path and errno, when the
// file exists already or cannot be written.
absl::Status WritePeerSecretFile(const std::string& path);

}  // namespace swift::testing

#endif  // SWIFT_TESTS_PEER_SECRET_FILE_H_
