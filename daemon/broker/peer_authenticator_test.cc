// Host tests for PeerAuthenticator and PeerReplayGuard: credentials verify
// only with the same secret, method and request; stale, future and
// replayed ones are refused; the replay memory stays bounded; the secret
// file must be private to swiftd's uid and long enough.
#include "daemon/broker/peer_authenticator.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "daemon/broker/peer_replay_guard.h"
#include "gtest/gtest.h"
#include "proto/peer.pb.h"

namespace swift {
namespace {

const std::string kSecret(32, 's');

std::unique_ptr<PeerAuthenticator> Authenticator(
    const std::string& secret = kSecret, size_t capacity = 1000) {
  absl::StatusOr<std::unique_ptr<PeerAuthenticator>> created =
      PeerAuthenticator::Create(secret, absl::Seconds(30), capacity);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? *std::move(created) : nullptr;
}

peer::v1::ConnectRequest Request(const std::string& service) {
  peer::v1::ConnectRequest request;
  request.set_api_version(1);
  request.set_expected_incarnation(7);
  request.set_service(service);
  request.set_client_endpoint("endpoint");
  return request;
}

TEST(PeerAuthenticatorTest, SignedRequestsVerify) {
  std::unique_ptr<PeerAuthenticator> sender = Authenticator();
  std::unique_ptr<PeerAuthenticator> receiver = Authenticator();
  peer::v1::PeerCredential credential =
      sender->Sign(kPeerConnectMethod, Request("kv"));
  EXPECT_EQ(credential.nonce().size(), PeerAuthenticator::kNonceBytes);
  EXPECT_EQ(credential.mac().size(), PeerAuthenticator::kMacBytes);
  EXPECT_TRUE(
      receiver->Verify(kPeerConnectMethod, Request("kv"), credential).ok());
  // Two credentials for the same request differ (fresh nonces).
  EXPECT_NE(sender->Sign(kPeerConnectMethod, Request("kv")).nonce(),
            credential.nonce());
  EXPECT_EQ(sender->Fingerprint(), receiver->Fingerprint());
  EXPECT_EQ(sender->Fingerprint().size(), 16u);
}

// OpenSSL's one-shot HMAC, as swiftd computed credentials before it kept a
// keyed context.
std::string OneShotHmac(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

// Hosts of two versions must keep brokering with each other: the MACs are
// the bytes proto/peer.proto describes, whatever computes them.
TEST(PeerAuthenticatorTest, MacsCoverTheDocumentedBytes) {
  std::unique_ptr<PeerAuthenticator> authenticator = Authenticator();
  const absl::Time now = absl::FromUnixMicros(0x0102030405060708);
  peer::v1::PeerCredential credential =
      authenticator->Sign(kPeerConnectMethod, Request("kv"), now);
  std::string signed_bytes("swift-peer-v1", sizeof("swift-peer-v1"));
  absl::StrAppend(&signed_bytes, kPeerConnectMethod, std::string(1, '\0'),
                  "\x01\x02\x03\x04\x05\x06\x07\x08", credential.nonce(),
                  CanonicalBytes(Request("kv")));
  EXPECT_EQ(credential.mac(), OneShotHmac(kSecret, signed_bytes));

  peer::v1::ConnectResponse reply;
  reply.set_server_endpoint("server");
  std::string reply_bytes("swift-peer-reply-v1", sizeof("swift-peer-reply-v1"));
  absl::StrAppend(&reply_bytes, kPeerConnectMethod, std::string(1, '\0'),
                  credential.nonce(), CanonicalBytes(reply));
  EXPECT_EQ(
      authenticator->SignReply(kPeerConnectMethod, credential.nonce(), reply),
      OneShotHmac(kSecret, reply_bytes));
  EXPECT_EQ(
      authenticator->Fingerprint(),
      absl::BytesToHexString(
          OneShotHmac(kSecret, "swift-peer-fingerprint-v1").substr(0, 8)));
}

TEST(PeerAuthenticatorTest, RefusesAnotherSecretMethodOrRequest) {
  std::unique_ptr<PeerAuthenticator> receiver = Authenticator();
  std::unique_ptr<PeerAuthenticator> stranger =
      Authenticator(std::string(32, 'x'));
  EXPECT_NE(stranger->Fingerprint(), receiver->Fingerprint());
  EXPECT_TRUE(absl::IsUnauthenticated(receiver->Verify(
      kPeerConnectMethod, Request("kv"),
      stranger->Sign(kPeerConnectMethod, Request("kv")))));
  std::unique_ptr<PeerAuthenticator> sender = Authenticator();
  // Signed for one method, sent to another.
  EXPECT_TRUE(absl::IsUnauthenticated(
      receiver->Verify(kPeerCloseMethod, Request("kv"),
                       sender->Sign(kPeerConnectMethod, Request("kv")))));
  // Altered on the way.
  EXPECT_TRUE(absl::IsUnauthenticated(
      receiver->Verify(kPeerConnectMethod, Request("other"),
                       sender->Sign(kPeerConnectMethod, Request("kv")))));
  // A credential whose timestamp was moved.
  peer::v1::PeerCredential moved =
      sender->Sign(kPeerConnectMethod, Request("kv"));
  moved.set_timestamp_us(moved.timestamp_us() + 1);
  EXPECT_TRUE(absl::IsUnauthenticated(
      receiver->Verify(kPeerConnectMethod, Request("kv"), moved)));
  // Malformed.
  EXPECT_TRUE(absl::IsUnauthenticated(receiver->Verify(
      kPeerConnectMethod, Request("kv"), peer::v1::PeerCredential())));
}

TEST(PeerAuthenticatorTest, RefusesReplaysAndStaleCredentials) {
  std::unique_ptr<PeerAuthenticator> sender = Authenticator();
  std::unique_ptr<PeerAuthenticator> receiver = Authenticator();
  const absl::Time now = absl::Now();
  peer::v1::PeerCredential credential =
      sender->Sign(kPeerCloseMethod, Request("kv"), now);
  ASSERT_TRUE(
      receiver->Verify(kPeerCloseMethod, Request("kv"), credential, now).ok());
  absl::Status replayed =
      receiver->Verify(kPeerCloseMethod, Request("kv"), credential, now);
  EXPECT_TRUE(absl::IsUnauthenticated(replayed)) << replayed;
  EXPECT_NE(replayed.message().find("replayed"), std::string::npos);
  // Stamped 31 s ago, or 31 s ahead: outside the 30 s window.
  for (absl::Duration offset : {absl::Seconds(-31), absl::Seconds(31)}) {
    absl::Status stale = receiver->Verify(
        kPeerCloseMethod, Request("kv"),
        sender->Sign(kPeerCloseMethod, Request("kv"), now + offset), now);
    EXPECT_TRUE(absl::IsUnauthenticated(stale)) << stale;
    EXPECT_NE(stale.message().find("--peer_auth_max_skew"), std::string::npos);
  }
  // Within it, either way.
  EXPECT_TRUE(receiver
                  ->Verify(kPeerCloseMethod, Request("kv"),
                           sender->Sign(kPeerCloseMethod, Request("kv"),
                                        now + absl::Seconds(29)),
                           now)
                  .ok());
}

TEST(PeerReplayGuardTest, ForgetsOnlyWhatTheWindowRefusesAnyway) {
  PeerReplayGuard guard(absl::Seconds(30), 1000);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(guard.Check(start, "a", start).ok());
  ASSERT_TRUE(guard.Check(start, "b", start).ok());
  EXPECT_EQ(guard.size(), 2u);
  // 31 s later both are out of the window: forgotten, and refused by age.
  const absl::Time later = start + absl::Seconds(31);
  ASSERT_TRUE(guard.Check(later, "c", later).ok());
  EXPECT_EQ(guard.size(), 1u);
  EXPECT_TRUE(absl::IsUnauthenticated(guard.Check(start, "a", later)));
}

TEST(PeerReplayGuardTest, StaysBoundedUnderLoad) {
  PeerReplayGuard guard(absl::Seconds(30), 100);
  const absl::Time now = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(guard
                    .Check(now + absl::Microseconds(i), absl::StrCat("n", i),
                           now + absl::Microseconds(i))
                    .ok())
        << i;
  }
  EXPECT_EQ(guard.size(), 100u);
  // A forgotten nonce is still refused: it is not newer than the floor.
  EXPECT_TRUE(absl::IsUnauthenticated(
      guard.Check(now + absl::Microseconds(5), "n5", now)));
  // The newest are remembered.
  EXPECT_TRUE(absl::IsUnauthenticated(
      guard.Check(now + absl::Microseconds(999), "n999", now)));
  // Fresh requests still pass.
  EXPECT_TRUE(
      guard.Check(now + absl::Milliseconds(5), "fresh", now).ok());
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/peer.key.",
                         getpid());
  }
  void TearDown() override { unlink(path_.c_str()); }

  void Write(const std::string& bytes, mode_t mode) {
    unlink(path_.c_str());
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
    close(fd);
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }

  std::string path_;
};

TEST_F(SecretFileTest, ReadsAPrivateFile) {
  const std::string secret(40, '\x07');
  for (mode_t mode : {0600, 0400}) {
    Write(secret, mode);
    absl::StatusOr<std::string> read =
        PeerAuthenticator::ReadSecretFile(path_);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, secret);
  }
}

TEST_F(SecretFileTest, RefusesAFileOthersCanRead) {
  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    Write(std::string(32, 'k'), mode);
    absl::Status status = PeerAuthenticator::ReadSecretFile(path_).status();
    EXPECT_TRUE(absl::IsFailedPrecondition(status)) << mode << " " << status;
    EXPECT_NE(status.message().find("0600"), std::string::npos) << status;
  }
}

TEST_F(SecretFileTest, RefusesAShortOrMissingOrOddFile) {
  Write(std::string(31, 'k'), 0600);
  absl::Status short_key = PeerAuthenticator::ReadSecretFile(path_).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(short_key)) << short_key;
  EXPECT_NE(short_key.message().find("/dev/urandom"), std::string::npos);
  unlink(path_.c_str());
  absl::Status missing = PeerAuthenticator::ReadSecretFile(path_).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(missing)) << missing;
  // A FIFO in its place: refused at once, never waited on.
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  absl::Status fifo = PeerAuthenticator::ReadSecretFile(path_).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(fifo)) << fifo;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      PeerAuthenticator::ReadSecretFile("/").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      PeerAuthenticator::Create(std::string(31, 'k')).status()));
}

}  // namespace
}  // namespace swift
