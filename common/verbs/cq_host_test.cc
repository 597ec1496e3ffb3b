// Completion and QP-state naming, which callers and logs rely on.
#include <gtest/gtest.h>

#include "common/verbs/cq.h"
#include "common/verbs/qp.h"

namespace swift::verbs {
namespace {

ibv_wc Completion(ibv_wc_status status) {
  ibv_wc wc = {};
  wc.status = status;
  wc.wr_id = 42;
  wc.qp_num = 0x11;
  return wc;
}

TEST(CompletionToStatusTest, SuccessIsOk) {
  EXPECT_TRUE(CompletionToStatus(Completion(IBV_WC_SUCCESS)).ok());
}

TEST(CompletionToStatusTest, MapsFailuresToActionableCodes) {
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_RETRY_EXC_ERR)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_RNR_RETRY_EXC_ERR)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_REM_ACCESS_ERR)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_LOC_PROT_ERR)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_WR_FLUSH_ERR)).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(CompletionToStatus(Completion(IBV_WC_LOC_LEN_ERR)).code(),
            absl::StatusCode::kInternal);
}

TEST(CompletionToStatusTest, MessageNamesWorkRequestQpAndReason) {
  const absl::Status status =
      CompletionToStatus(Completion(IBV_WC_REM_ACCESS_ERR));
  EXPECT_NE(status.message().find("wr_id=42"), absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("qpn=0x11"), absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find(ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR)),
            absl::string_view::npos)
      << status;
}

TEST(NamesTest, OpcodesAndStatesReadAsTheSpecNamesThem) {
  EXPECT_EQ(WcOpcodeName(IBV_WC_RDMA_WRITE), "RDMA_WRITE");
  EXPECT_EQ(WcOpcodeName(IBV_WC_RECV), "RECV");
  EXPECT_EQ(QpStateName(IBV_QPS_RESET), "RESET");
  EXPECT_EQ(QpStateName(IBV_QPS_RTR), "RTR");
  EXPECT_EQ(QpStateName(IBV_QPS_RTS), "RTS");
  EXPECT_EQ(QpStateName(IBV_QPS_ERR), "ERR");
}

}  // namespace
}  // namespace swift::verbs
