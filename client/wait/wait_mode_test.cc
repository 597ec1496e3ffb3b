// Wait mode names, parsing, and the completion vector of a core.
#include <gtest/gtest.h>

#include "swift/wait.h"

namespace swift {
namespace {

TEST(WaitModeTest, NamesParseBack) {
  for (WaitMode mode : {WaitMode::kBusyPoll, WaitMode::kEvent,
                        WaitMode::kHybrid, WaitMode::kDispatcher}) {
    absl::StatusOr<WaitMode> parsed = ParseWaitMode(WaitModeName(mode));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, mode);
  }
}

TEST(WaitModeTest, AnUnknownNameIsRefusedListingTheValidOnes) {
  absl::StatusOr<WaitMode> parsed = ParseWaitMode("spin");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("\"spin\""), std::string::npos);
  EXPECT_NE(parsed.status().message().find("busy_poll, event, hybrid, "
                                           "dispatcher"),
            std::string::npos);
}

TEST(WaitModeTest, ANullCqIsRefused) {
  EXPECT_EQ(CqWaiter::Create(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class CompVectorTest : public ::testing::Test {
 protected:
  CompVectorTest() {
    snprintf(device_.name, sizeof(device_.name), "mlx5_0");
    context_.device = &device_;
  }
  ibv_device device_ = {};
  ibv_context context_ = {};
};

TEST_F(CompVectorTest, ACoreMapsToItsVectorModuloTheVectors) {
  context_.num_comp_vectors = 4;
  EXPECT_EQ(*CompVectorForCpu(&context_, 0), 0);
  EXPECT_EQ(*CompVectorForCpu(&context_, 3), 3);
  EXPECT_EQ(*CompVectorForCpu(&context_, 6), 2);
}

TEST_F(CompVectorTest, ADeviceWithoutVectorsIsNamed) {
  context_.num_comp_vectors = 0;
  absl::StatusOr<int> vector = CompVectorForCpu(&context_, 1);
  ASSERT_EQ(vector.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(vector.status().message().find("mlx5_0"), std::string::npos);
}

TEST_F(CompVectorTest, BadArgumentsAreRefused) {
  context_.num_comp_vectors = 2;
  EXPECT_EQ(CompVectorForCpu(nullptr, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompVectorForCpu(&context_, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift
