#include "common/version.h"

#include <string>

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(CheckApiVersionTest, AcceptsTheVersionsThisBuildSpeaks) {
  for (uint32_t v = kMinControlApiVersion; v <= kControlApiVersion; ++v) {
    EXPECT_TRUE(CheckApiVersion(v, "client").ok());
  }
}

TEST(CheckApiVersionTest, MissingVersionIsInvalidArgument) {
  const absl::Status status = CheckApiVersion(0, "client");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("client sent no api_version"),
            absl::string_view::npos)
      << status;
}

TEST(CheckApiVersionTest, NewerVersionIsRefusedNamingBoth) {
  const absl::Status status = CheckApiVersion(kControlApiVersion + 1, "peer");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(
                "peer speaks API v" + std::to_string(kControlApiVersion + 1)),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("v" + std::to_string(kControlApiVersion)),
            absl::string_view::npos);
}

}  // namespace
}  // namespace swift
