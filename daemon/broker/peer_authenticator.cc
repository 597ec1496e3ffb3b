// PeerAuthenticator implementation; see peer_authenticator.h.
#include "daemon/broker/peer_authenticator.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/unique_fd.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace swift {
namespace {

constexpr char kMacLabel[] = "swift-peer-v1";
constexpr char kReplyLabel[] = "swift-peer-reply-v1";
constexpr char kFingerprintLabel[] = "swift-peer-fingerprint-v1";
constexpr char kCreateHint[] =
    "create one with: head -c 32 /dev/urandom > FILE && chmod 0600 FILE, "
    "and copy the same file to every host";

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  size_t filled = 0;
  while (filled < count) {
    // getrandom() of at most 256 bytes is never short once the kernel's
    // pool is ready; it blocks until then (early boot only).
    const ssize_t got = getrandom(bytes.data() + filled, count - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    }
  }
  return bytes;
}

}  // namespace

const google::protobuf::Message* LinkCall(const peer::v1::LinkRequest& request,
                                          const char** method) {
  if (request.has_connect()) {
    *method = kPeerConnectMethod;
    return &request.connect();
  }
  if (request.has_close()) {
    *method = kPeerCloseMethod;
    return &request.close();
  }
  if (request.has_watch()) {
    *method = kPeerWatchMethod;
    return &request.watch();
  }
  *method = "";
  return nullptr;
}

const google::protobuf::Message* LinkResult(
    const peer::v1::LinkResponse& response) {
  if (response.has_connect()) {
    return &response.connect();
  }
  if (response.has_close()) {
    return &response.close();
  }
  if (response.has_watch()) {
    return &response.watch();
  }
  return nullptr;
}

std::string CanonicalBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }  // The coded stream trims `bytes` when it goes.
  return bytes;
}

absl::StatusOr<std::string> PeerAuthenticator::ReadSecretFile(
    const std::string& path) {
  // O_NONBLOCK: a FIFO in its place must not hang swiftd's start.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int error = errno;
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the peer secret file ", path, ": ", std::strerror(error),
        error == ENOENT ? absl::StrCat(" (", kCreateHint, ")") : ""));
  }
  struct stat info {};
  if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the peer secret file ", path, " is not a regular file"));
  }
  if (info.st_uid != geteuid() || (info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the peer secret file %s must be owned by uid %d with mode 0600 or "
        "0400 (it is uid %d, mode %04o): anyone who reads it can broker as "
        "this cluster",
        path, geteuid(), info.st_uid, info.st_mode & 07777));
  }
  std::string secret(kMaxSecretBytes + 1, '\0');
  size_t filled = 0;
  while (filled < secret.size()) {
    const ssize_t got = read(fd.get(), secret.data() + filled,
                             secret.size() - filled);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read the peer secret file ", path, ": ",
          std::strerror(errno)));
    }
    if (got == 0) {
      break;
    }
    filled += static_cast<size_t>(got);
  }
  secret.resize(filled);
  if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return absl::FailedPreconditionError(absl::StrCat(
        "the peer secret file ", path, " holds ", filled, " bytes; it needs ",
        kMinSecretBytes, " to ", kMaxSecretBytes, " (", kCreateHint, ")"));
  }
  return secret;
}

absl::StatusOr<std::unique_ptr<PeerAuthenticator>> PeerAuthenticator::Create(
    std::string secret, absl::Duration max_skew, size_t replay_capacity) {
  if (secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the peer secret has ", secret.size(),
                     " bytes; it needs at least ", kMinSecretBytes));
  }
  if (max_skew <= absl::ZeroDuration() || replay_capacity == 0) {
    return absl::InvalidArgumentError(
        "the peer credentials' allowed skew and replay memory must be "
        "positive");
  }
  absl::StatusOr<std::unique_ptr<HmacSha256>> mac = HmacSha256::Create(secret);
  // OpenSSL keeps its own copy (and wipes it when the context goes).
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!mac.ok()) {
    return mac.status();
  }
  return std::unique_ptr<PeerAuthenticator>(
      new PeerAuthenticator(*std::move(mac), max_skew, replay_capacity));
}

std::string PeerAuthenticator::Mac(absl::string_view method,
                                   int64_t timestamp_us,
                                   absl::string_view nonce,
                                   absl::string_view body) const {
  char stamp[8];
  const uint64_t bits = static_cast<uint64_t>(timestamp_us);
  for (int i = 0; i < 8; ++i) {
    stamp[i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  }
  return mac_->Of({absl::string_view(kMacLabel, sizeof(kMacLabel)),  // NUL.
                   method, absl::string_view("\0", 1),
                   absl::string_view(stamp, sizeof(stamp)), nonce, body});
}

peer::v1::PeerCredential PeerAuthenticator::Sign(
    absl::string_view method, const google::protobuf::Message& request,
    absl::Time now) const {
  peer::v1::PeerCredential credential;
  credential.set_timestamp_us(absl::ToUnixMicros(now));
  credential.set_nonce(RandomBytes(kNonceBytes));
  credential.set_mac(Mac(method, credential.timestamp_us(), credential.nonce(),
                         CanonicalBytes(request)));
  return credential;
}

absl::Status PeerAuthenticator::Verify(
    absl::string_view method, const google::protobuf::Message& request,
    const peer::v1::PeerCredential& credential, absl::Time now) {
  if (absl::Status mac = VerifyMac(method, request, credential); !mac.ok()) {
    return mac;
  }
  return CheckFresh(credential, now);
}

absl::Status PeerAuthenticator::VerifyMac(
    absl::string_view method, const google::protobuf::Message& request,
    const peer::v1::PeerCredential& credential) const {
  if (credential.nonce().size() != kNonceBytes ||
      credential.mac().size() != kMacBytes) {
    return absl::UnauthenticatedError("malformed peer credential");
  }
  const std::string expected = Mac(method, credential.timestamp_us(),
                                   credential.nonce(), CanonicalBytes(request));
  if (expected.size() != kMacBytes ||
      CRYPTO_memcmp(expected.data(), credential.mac().data(), kMacBytes) != 0) {
    return absl::UnauthenticatedError(
        "peer credential does not verify: the caller does not hold this "
        "cluster's secret (compare the secret fingerprints swiftd logs at "
        "start), or the request was altered");
  }
  return absl::OkStatus();
}

absl::Status PeerAuthenticator::CheckFresh(
    const peer::v1::PeerCredential& credential, absl::Time now) {
  return replay_.Check(absl::FromUnixMicros(credential.timestamp_us()),
                       credential.nonce(), now);
}

std::string PeerAuthenticator::SignReply(
    absl::string_view method, absl::string_view request_nonce,
    const google::protobuf::Message& reply) const {
  return mac_->Of({absl::string_view(kReplyLabel, sizeof(kReplyLabel)),  // NUL.
                   method, absl::string_view("\0", 1), request_nonce,
                   CanonicalBytes(reply)});
}

absl::Status PeerAuthenticator::VerifyReply(
    absl::string_view method, absl::string_view request_nonce,
    const google::protobuf::Message& reply, absl::string_view mac) const {
  const std::string expected = SignReply(method, request_nonce, reply);
  if (expected.empty() || mac.size() != expected.size() ||
      CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) != 0) {
    return absl::UnauthenticatedError(
        "the peer's answer is not signed with this cluster's secret: what "
        "answers on that address is not a swiftd of this cluster (or holds "
        "another secret, or runs --insecure_peers)");
  }
  return absl::OkStatus();
}

std::string PeerAuthenticator::Fingerprint() const {
  return absl::BytesToHexString(mac_->Of({kFingerprintLabel}).substr(0, 8));
}

}  // namespace swift
