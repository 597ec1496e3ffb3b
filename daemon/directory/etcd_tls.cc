// ReadEtcdTls(); see etcd_tls.h.
#include "daemon/directory/etcd_tls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// Certificates and keys are a few KiB; a chain of a few is still small.
constexpr size_t kMaxPemBytes = 1 << 20;

// The PEM text of `path` (what names the setting in errors); with
// `secret`, only if no other user may read it.
absl::StatusOr<std::string> ReadPem(const std::string& what,
                                    const std::string& path, bool secret) {
  // O_NONBLOCK: a FIFO in its place must not hang swiftd's start.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open ", what, " ", path, ": ", std::strerror(errno)));
  }
  struct stat info {};
  if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if (secret && (info.st_uid != geteuid() || (info.st_mode & 077) != 0)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s %s must be owned by uid %d with mode 0600 or 0400 (it is uid %d, "
        "mode %04o): whoever reads it can speak to etcd as this host",
        what, path, geteuid(), info.st_uid, info.st_mode & 07777));
  }
  if (static_cast<size_t>(info.st_size) > kMaxPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " is ", info.st_size, " bytes: not a PEM file"));
  }
  std::string text(static_cast<size_t>(info.st_size), '\0');
  size_t filled = 0;
  while (filled < text.size()) {
    const ssize_t got =
        read(fd.get(), text.data() + filled, text.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read ", what, " ", path, ": ", std::strerror(errno)));
    }
    if (got == 0) break;
    filled += static_cast<size_t>(got);
  }
  text.resize(filled);
  if (!absl::StrContains(text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " holds no PEM block (-----BEGIN ...)"));
  }
  return text;
}

}  // namespace

absl::StatusOr<EtcdTls> ReadEtcdTls(const std::string& ca_file,
                                    const std::string& cert_file,
                                    const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "directory_cert_file and directory_key_file go together: a client "
        "certificate needs its key");
  }
  if (ca_file.empty() && !cert_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate (directory_cert_file) needs directory_ca_file, "
        "the CA that signed etcd's certificates: without it swiftd speaks "
        "plain gRPC to etcd");
  }
  EtcdTls tls;
  if (ca_file.empty()) return tls;
  absl::StatusOr<std::string> ca =
      ReadPem("the directory's CA file", ca_file, /*secret=*/false);
  if (!ca.ok()) return ca.status();
  tls.ca_pem = *std::move(ca);
  if (cert_file.empty()) return tls;
  absl::StatusOr<std::string> cert =
      ReadPem("the directory's client certificate", cert_file, false);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPem("the directory's client key", key_file, /*secret=*/true);
  if (!key.ok()) return key.status();
  tls.cert_pem = *std::move(cert);
  tls.key_pem = *std::move(key);
  return tls;
}

}  // namespace swift
