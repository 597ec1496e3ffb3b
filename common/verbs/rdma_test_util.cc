// Test scaffolding for device tests; see rdma_test_util.h.
#include "common/verbs/rdma_test_util.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/device_list.h"
#include "common/verbs/qp_transitions.h"

namespace swift::verbs::testing {
namespace {

std::optional<uint32_t> GidIndexFromEnv(const char* variable) {
  const std::string value = swift::testing::EnvOr(variable, "");
  uint32_t index = 0;
  if (value.empty() || !absl::SimpleAtoi(value, &index)) {
    return std::nullopt;
  }
  return index;
}

}  // namespace

TestDevice SingleHostDevice() {
  return TestDevice{swift::testing::TestDeviceName(),
                    GidIndexFromEnv("RXE_GID_INDEX")};
}

std::optional<std::pair<TestDevice, TestDevice>> TwoHostDevices() {
  if (swift::testing::EnvOr("RXE_HOSTS", "1") != "2") {
    return std::nullopt;
  }
  return std::make_pair(TestDevice{swift::testing::EnvOr("RXE_A_DEV", "rxeA"),
                                   GidIndexFromEnv("RXE_A_GID_INDEX")},
                        TestDevice{swift::testing::EnvOr("RXE_B_DEV", "rxeB"),
                                   GidIndexFromEnv("RXE_B_GID_INDEX")});
}

bool DeviceExists(const std::string& name) {
  absl::StatusOr<DeviceList> devices = DeviceList::Get();
  return devices.ok() && devices->Find(name).ok();
}

void RdmaTest::SetUp() {
  device_ = SingleHostDevice();
  if (!DeviceExists(device_.name)) {
    if (swift::testing::RdmaRequired()) {
      FAIL() << "no RDMA device " << device_.name
             << ", but SWIFT_RDMA_REQUIRED=1";
    }
    GTEST_SKIP() << "no RDMA device " << device_.name << " on this host";
  }
}

QpEndpoint RcSide::Endpoint() const {
  QpEndpoint endpoint = MakeEndpoint(port, qp->qpn(), psn);
  endpoint.buffer = mr->Remote();
  return endpoint;
}

absl::StatusOr<std::unique_ptr<RcSide>> MakeRcSide(
    const TestDevice& device, size_t bytes, Memory memory, bool with_channel,
    std::shared_ptr<Context> context) {
  auto side = std::make_unique<RcSide>();
  if (context != nullptr) {
    side->context = std::move(context);
  } else {
    SWIFT_ASSIGN_OR_RETURN(side->context, Context::OpenByName(device.name));
  }
  if (with_channel) {
    SWIFT_ASSIGN_OR_RETURN(side->channel,
                           CompletionChannel::Create(side->context));
  }
  SWIFT_ASSIGN_OR_RETURN(side->pd, Pd::Allocate(side->context));
  SWIFT_ASSIGN_OR_RETURN(side->cq,
                         Cq::Create(side->context, 32, side->channel));
  SWIFT_ASSIGN_OR_RETURN(side->qp,
                         Qp::Create(side->pd, side->cq, side->cq, IBV_QPT_RC));
  SWIFT_ASSIGN_OR_RETURN(side->port,
                         QueryPortAddress(*side->context, 1, device.gid_index));
  side->psn = RandomPsn();
  uint8_t* data = nullptr;
  if (memory == Memory::kHeap) {
    side->heap.assign(bytes, 0);
    data = side->heap.data();
  } else {
    SWIFT_ASSIGN_OR_RETURN(SharedRegion region,
                           SharedRegion::Create("rdma-test", bytes));
    side->region = std::move(region);
    data = side->region->data();
  }
  SWIFT_ASSIGN_OR_RETURN(
      side->mr, Mr::Register(side->pd, data, bytes, Mr::kRemoteReadWrite));
  return side;
}

absl::Status ConnectRc(RcSide& a, RcSide& b) {
  SWIFT_RETURN_IF_ERROR(ModifyRcToInit(*a.qp, a.port.port_num));
  SWIFT_RETURN_IF_ERROR(ModifyRcToInit(*b.qp, b.port.port_num));
  // Through the wire form, as two processes would exchange them.
  SWIFT_ASSIGN_OR_RETURN(QpEndpoint a_seen_by_b,
                         DecodeEndpoint(EncodeEndpoint(a.Endpoint())));
  SWIFT_ASSIGN_OR_RETURN(QpEndpoint b_seen_by_a,
                         DecodeEndpoint(EncodeEndpoint(b.Endpoint())));
  SWIFT_RETURN_IF_ERROR(ModifyRcToRtr(*a.qp, a.port, b_seen_by_a));
  SWIFT_RETURN_IF_ERROR(ModifyRcToRtr(*b.qp, b.port, a_seen_by_b));
  SWIFT_RETURN_IF_ERROR(ModifyRcToRts(*a.qp, a.psn));
  SWIFT_RETURN_IF_ERROR(ModifyRcToRts(*b.qp, b.psn));
  return absl::OkStatus();
}

absl::StatusOr<ibv_wc> WaitForSuccess(Cq& cq, uint64_t wr_id) {
  SWIFT_ASSIGN_OR_RETURN(ibv_wc wc, cq.WaitForCompletion(absl::Seconds(5)));
  SWIFT_RETURN_IF_ERROR(CompletionToStatus(wc));
  if (wc.wr_id != wr_id) {
    return absl::InternalError(
        absl::StrCat("completion for wr_id ", wc.wr_id, ", expected ", wr_id));
  }
  return wc;
}

void FillPattern(uint8_t* data, size_t size, uint64_t seed) {
  // xorshift64 (cheap, no short period) from a bijection of the seed.
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  x = x == 0 ? 1 : x;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    data[i] = static_cast<uint8_t>(x);
  }
}

}  // namespace swift::verbs::testing
