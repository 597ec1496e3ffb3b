// ReadEtcdTls(): which combinations of files are accepted, and the
// messages for what is not (each names the file and the fix).
#include "daemon/directory/etcd_tls.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "common/testing/command_testing.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::TempDir;

constexpr char kPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string Write(const TempDir& dir, const std::string& name,
                  const std::string& text, mode_t mode) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
  return path;
}

TEST(EtcdTlsTest, NoFilesIsPlainGrpc) {
  absl::StatusOr<EtcdTls> tls = ReadEtcdTls("", "", "");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_FALSE(tls->enabled());
}

TEST(EtcdTlsTest, ACaAloneOrWithAClientCertificate) {
  TempDir dir;
  const std::string ca = Write(dir, "ca.crt", kPem, 0644);
  absl::StatusOr<EtcdTls> server_only = ReadEtcdTls(ca, "", "");
  ASSERT_TRUE(server_only.ok()) << server_only.status();
  EXPECT_TRUE(server_only->enabled());
  EXPECT_TRUE(server_only->cert_pem.empty());

  const std::string cert = Write(dir, "client.crt", kPem, 0644);
  const std::string key = Write(dir, "client.key", kPem, 0600);
  absl::StatusOr<EtcdTls> both = ReadEtcdTls(ca, cert, key);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->key_pem, kPem);
}

TEST(EtcdTlsTest, RefusesHalvesAndMissingPieces) {
  TempDir dir;
  const std::string ca = Write(dir, "ca.crt", kPem, 0644);
  const std::string cert = Write(dir, "client.crt", kPem, 0644);
  absl::Status no_key = ReadEtcdTls(ca, cert, "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(no_key)) << no_key;
  EXPECT_TRUE(absl::StrContains(no_key.message(), "needs its key")) << no_key;
  const std::string key = Write(dir, "client.key", kPem, 0600);
  absl::Status no_ca = ReadEtcdTls("", cert, key).status();
  EXPECT_TRUE(absl::StrContains(no_ca.message(), "needs directory_ca_file"))
      << no_ca;
  absl::Status missing = ReadEtcdTls(dir.path() + "/none.crt", "", "").status();
  EXPECT_TRUE(absl::StrContains(missing.message(), "cannot open")) << missing;
}

TEST(EtcdTlsTest, RefusesAKeyOthersCanReadAndFilesThatAreNotPem) {
  TempDir dir;
  const std::string ca = Write(dir, "ca.crt", kPem, 0644);
  const std::string cert = Write(dir, "client.crt", kPem, 0644);
  const std::string open_key = Write(dir, "client.key", kPem, 0644);
  absl::Status readable = ReadEtcdTls(ca, cert, open_key).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(readable)) << readable;
  EXPECT_TRUE(absl::StrContains(readable.message(), "mode 0600 or 0400"))
      << readable;
  const std::string text = Write(dir, "notes.txt", "hello\n", 0644);
  absl::Status not_pem = ReadEtcdTls(text, "", "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(not_pem)) << not_pem;
  EXPECT_TRUE(absl::StrContains(not_pem.message(), "no PEM block")) << not_pem;
}

}  // namespace
}  // namespace swift
