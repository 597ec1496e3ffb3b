// PeerAuthenticator implementation; see peer_authenticator.h.
#include "daemon/broker/peer_authenticator.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
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
  return std::unique_ptr<PeerAuthenticator>(
      new PeerAuthenticator(std::move(secret), max_skew, replay_capacity));
}

PeerAuthenticator::~PeerAuthenticator() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::string PeerAuthenticator::Mac(absl::string_view method,
                                   int64_t timestamp_us,
                                   absl::string_view nonce,
                                   absl::string_view body) const {
  std::string data;
  data.reserve(sizeof(kMacLabel) + method.size() + 1 + 8 + nonce.size() +
               body.size());
  data.append(kMacLabel, sizeof(kMacLabel));  // With its NUL.
  data.append(method.data(), method.size());
  data.push_back('\0');
  const uint64_t stamp = static_cast<uint64_t>(timestamp_us);
  for (int shift = 56; shift >= 0; shift -= 8) {
    data.push_back(static_cast<char>((stamp >> shift) & 0xff));
  }
  data.append(nonce.data(), nonce.size());
  data.append(body.data(), body.size());
  return Hmac(secret_, data);
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
  if (CRYPTO_memcmp(expected.data(), credential.mac().data(), kMacBytes) !=
      0) {
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
  std::string data(kReplyLabel, sizeof(kReplyLabel));  // With its NUL.
  data.append(method.data(), method.size());
  data.push_back('\0');
  data.append(request_nonce.data(), request_nonce.size());
  data.append(CanonicalBytes(reply));
  return Hmac(secret_, data);
}

absl::Status PeerAuthenticator::VerifyReply(
    absl::string_view method, absl::string_view request_nonce,
    const google::protobuf::Message& reply, absl::string_view mac) const {
  const std::string expected = SignReply(method, request_nonce, reply);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) != 0) {
    return absl::UnauthenticatedError(
        "the peer's answer is not signed with this cluster's secret: what "
        "answers on that address is not a swiftd of this cluster (or holds "
        "another secret, or runs --insecure_peers)");
  }
  return absl::OkStatus();
}

std::string PeerAuthenticator::Fingerprint() const {
  return absl::BytesToHexString(Hmac(secret_, kFingerprintLabel).substr(0, 8));
}

}  // namespace swift
