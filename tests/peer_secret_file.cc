// WritePeerSecretFile; see peer_secret_file.h.
#include "tests/peer_secret_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace swift::testing {

absl::Status WritePeerSecretFile(const std::string& path) {
  std::string secret(32, '\0');
  UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid() ||
      getrandom(secret.data(), secret.size(), 0) !=
          static_cast<ssize_t>(secret.size()) ||
      write(fd.get(), secret.data(), secret.size()) !=
          static_cast<ssize_t>(secret.size())) {
    return absl::InternalError(absl::StrCat("cannot write the peer secret ",
                                            path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace swift::testing
