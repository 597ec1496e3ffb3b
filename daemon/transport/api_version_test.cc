#include "daemon/transport/api_version.h"

#include "common/version.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(CheckApiVersionTest, AcceptsTheVersionsThisBuildSpeaks) {
  v1::RequestHeader header;
  header.set_api_version(kControlApiVersion);
  EXPECT_TRUE(CheckApiVersion(header).ok());
}

TEST(CheckApiVersionTest, MissingVersionIsInvalidArgument) {
  EXPECT_EQ(CheckApiVersion(v1::RequestHeader()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckApiVersionTest, NewerVersionIsRefusedNamingBoth) {
  v1::RequestHeader header;
  header.set_api_version(kControlApiVersion + 1);
  absl::Status status = CheckApiVersion(header);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("v" + std::to_string(kControlApiVersion + 1)),
            absl::string_view::npos);
}

}  // namespace
}  // namespace swift
