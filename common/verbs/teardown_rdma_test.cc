// Destruction order on a real device: the kernel refuses to free a parent
// with live children, the owners report that as a status, and children keep
// their parents alive.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/verbs/cq.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/qp.h"
#include "common/verbs/rdma_test_util.h"

namespace swift::verbs {
namespace {

using ::swift::verbs::testing::RdmaTest;

class TeardownRdmaTest : public RdmaTest {};

TEST_F(TeardownRdmaTest, DeallocPdWithLiveMrIsRefusedThenSucceeds) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(device().name);
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
  ASSERT_TRUE(pd.ok()) << pd.status();
  std::vector<uint8_t> memory(4096, 0);
  absl::StatusOr<std::unique_ptr<Mr>> mr =
      Mr::Register(*pd, memory.data(), memory.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(mr.ok()) << mr.status();

  const absl::Status refused = (*pd)->Destroy();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("ibv_dealloc_pd(pd "),
            absl::string_view::npos)
      << refused;
  EXPECT_NE(refused.message().find(device().name), absl::string_view::npos)
      << refused;
  EXPECT_NE(refused.message().find("busy"), absl::string_view::npos) << refused;
  // Still allocated and usable: a second MR registers in it.
  ASSERT_NE((*pd)->get(), nullptr);
  absl::StatusOr<std::unique_ptr<Mr>> another =
      Mr::Register(*pd, memory.data(), memory.size(), IBV_ACCESS_LOCAL_WRITE);
  ASSERT_TRUE(another.ok()) << another.status();

  EXPECT_TRUE((*mr)->Destroy().ok());
  EXPECT_TRUE((*mr)->Destroy().ok());  // Idempotent.
  EXPECT_EQ((*mr)->get(), nullptr);
  // One MR left: still refused.
  EXPECT_EQ((*pd)->Destroy().code(), absl::StatusCode::kFailedPrecondition);
  another->reset();

  const absl::Status freed = (*pd)->Destroy();
  EXPECT_TRUE(freed.ok()) << freed;
  EXPECT_EQ((*pd)->get(), nullptr);
  EXPECT_TRUE((*pd)->Destroy().ok());  // Idempotent.
}

TEST_F(TeardownRdmaTest, DestroyCqUsedByQpIsRefusedThenSucceeds) {
  absl::StatusOr<std::shared_ptr<Context>> context =
      Context::OpenByName(device().name);
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
  ASSERT_TRUE(pd.ok()) << pd.status();
  absl::StatusOr<std::shared_ptr<Cq>> cq = Cq::Create(*context, 16);
  ASSERT_TRUE(cq.ok()) << cq.status();
  absl::StatusOr<std::unique_ptr<Qp>> qp =
      Qp::Create(*pd, *cq, *cq, IBV_QPT_RC);
  ASSERT_TRUE(qp.ok()) << qp.status();

  const absl::Status refused = (*cq)->Destroy();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("ibv_destroy_cq(cq "),
            absl::string_view::npos)
      << refused;
  ASSERT_NE((*cq)->get(), nullptr);

  ASSERT_TRUE((*qp)->Destroy().ok());
  EXPECT_TRUE((*cq)->Destroy().ok());
  EXPECT_EQ((*cq)->get(), nullptr);
}

TEST_F(TeardownRdmaTest, ChildrenKeepTheirParentsAlive) {
  std::weak_ptr<Context> weak_context;
  std::weak_ptr<Pd> weak_pd;
  std::weak_ptr<Cq> weak_cq;
  std::vector<uint8_t> memory(4096, 0);
  std::unique_ptr<Mr> mr;
  std::unique_ptr<Qp> qp;
  {
    absl::StatusOr<std::shared_ptr<Context>> context =
        Context::OpenByName(device().name);
    ASSERT_TRUE(context.ok()) << context.status();
    absl::StatusOr<std::shared_ptr<Pd>> pd = Pd::Allocate(*context);
    ASSERT_TRUE(pd.ok()) << pd.status();
    absl::StatusOr<std::shared_ptr<Cq>> cq = Cq::Create(*context, 16);
    ASSERT_TRUE(cq.ok()) << cq.status();
    absl::StatusOr<std::unique_ptr<Mr>> registered =
        Mr::Register(*pd, memory.data(), memory.size(), IBV_ACCESS_LOCAL_WRITE);
    ASSERT_TRUE(registered.ok()) << registered.status();
    absl::StatusOr<std::unique_ptr<Qp>> created =
        Qp::Create(*pd, *cq, *cq, IBV_QPT_RC);
    ASSERT_TRUE(created.ok()) << created.status();
    mr = std::move(*registered);
    qp = std::move(*created);
    weak_context = *context;
    weak_pd = *pd;
    weak_cq = *cq;
  }
  // The caller dropped every parent; the children still hold them.
  EXPECT_FALSE(weak_pd.expired());
  EXPECT_FALSE(weak_cq.expired());
  EXPECT_FALSE(weak_context.expired());
  EXPECT_TRUE(qp->QueryState().ok());  // The QP is fully usable.

  qp.reset();  // Releases the CQ; the MR still holds the PD.
  EXPECT_TRUE(weak_cq.expired());
  EXPECT_FALSE(weak_pd.expired());
  mr.reset();  // Last child gone: PD, then context, freed in order.
  EXPECT_TRUE(weak_pd.expired());
  EXPECT_TRUE(weak_context.expired());
}

}  // namespace
}  // namespace swift::verbs
