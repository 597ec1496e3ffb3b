#include "proto/wire_status.h"

#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

TEST(WireStatusTest, RoundTripsEveryCode) {
  for (int code = 0; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code),
                              code == 0 ? "" : "why");
    v1::FastResponse response;
    EncodeStatus(status, &response);
    EXPECT_EQ(DecodeStatus(response), status);
  }
}

TEST(WireStatusTest, OkCarriesNoMessage) {
  v1::FastResponse response;
  response.set_message("stale");
  EncodeStatus(absl::OkStatus(), &response);
  EXPECT_EQ(response.code(), 0);
  EXPECT_TRUE(response.message().empty());
}

TEST(WireStatusTest, UnknownCodeIsAnErrorNeverOk) {
  v1::FastResponse response;
  response.set_code(99);
  response.set_message("from a newer swiftd");
  const absl::Status status = DecodeStatus(response);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status.message(), "from a newer swiftd");
  response.set_code(-3);
  EXPECT_EQ(DecodeStatus(response).code(), absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace swift
