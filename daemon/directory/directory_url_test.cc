// Tests of ParseDirectoryUrl().
#include "daemon/directory/directory_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DirectoryUrlTest, ParsesEndpointsAndPrefix) {
  absl::StatusOr<DirectoryUrl> url =
      ParseDirectoryUrl("etcd://10.0.0.5:2379,etcd-b.example:2380/prod/swift/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_THAT(url->endpoints,
              ElementsAre("10.0.0.5:2379", "etcd-b.example:2380"));
  EXPECT_EQ(url->prefix, "/prod/swift");
  EXPECT_EQ(url->HostsPrefix(), "/prod/swift/hosts/");
}

TEST(DirectoryUrlTest, DefaultsThePrefix) {
  absl::StatusOr<DirectoryUrl> url = ParseDirectoryUrl("etcd://[::1]:2379");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_THAT(url->endpoints, ElementsAre("[::1]:2379"));
  EXPECT_EQ(url->prefix, "/swift");
}

TEST(DirectoryUrlTest, RefusesWhatIsNotAnEtcdUrlWithAnExample) {
  for (const char* bad :
       {"http://10.0.0.5:2379", "etcd://", "etcd://10.0.0.5",
        "etcd://10.0.0.5:0", "etcd://10.0.0.5:70000", "etcd://a:1,,b:2",
        "etcd://a b:2379", "etcd://a:2379/", "etcd://a:2379/x y"}) {
    absl::StatusOr<DirectoryUrl> url = ParseDirectoryUrl(bad);
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(url.status().message(), HasSubstr(bad));
    EXPECT_THAT(url.status().message(), HasSubstr("for example etcd://"));
  }
}

}  // namespace
}  // namespace swift
