// ConnectSteps from a ConnectResult: nested spans become disjoint steps.
#include "client/connect_steps.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ConnectStepsTest, EachStepIsItsSpanLessTheOneNestedInIt) {
  v1::ConnectResult result;
  result.set_broker_us(500);
  result.set_admission_us(20);
  result.set_peer_call_us(400);
  result.set_remote_serve_us(300);
  result.set_remote_app_wait_us(200);
  result.set_app_accept_us(50);
  ConnectSteps steps;
  AddRemoteSteps(result, /*round_trip_us=*/560, steps);
  EXPECT_DOUBLE_EQ(steps.to_swiftd_us, 60);
  EXPECT_DOUBLE_EQ(steps.admission_us, 20);
  EXPECT_DOUBLE_EQ(steps.broker_us, 80);
  EXPECT_DOUBLE_EQ(steps.peer_link_us, 100);
  EXPECT_DOUBLE_EQ(steps.remote_us, 100);
  EXPECT_DOUBLE_EQ(steps.to_app_us, 150);
  EXPECT_DOUBLE_EQ(steps.app_accept_us, 50);
}

TEST(ConnectStepsTest, RoundingAcrossProcessesNeverGoesNegative) {
  v1::ConnectResult result;
  result.set_broker_us(100);
  result.set_peer_call_us(101);  // Measured by another clock: larger.
  result.set_remote_serve_us(102);
  ConnectSteps steps;
  AddRemoteSteps(result, /*round_trip_us=*/90, steps);
  EXPECT_DOUBLE_EQ(steps.to_swiftd_us, 0);
  EXPECT_DOUBLE_EQ(steps.broker_us, 0);
  EXPECT_DOUBLE_EQ(steps.peer_link_us, 0);
  EXPECT_DOUBLE_EQ(steps.remote_us, 102);
}

TEST(ConnectStepsTest, LeavesTheLocalStepsAlone) {
  ConnectSteps steps;
  steps.pool_take_us = 3;
  steps.transitions_us = 4;
  AddRemoteSteps(v1::ConnectResult(), 10, steps);
  EXPECT_DOUBLE_EQ(steps.pool_take_us, 3);
  EXPECT_DOUBLE_EQ(steps.transitions_us, 4);
  EXPECT_DOUBLE_EQ(steps.to_swiftd_us, 10);
}

}  // namespace
}  // namespace swift
