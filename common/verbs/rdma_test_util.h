// Test-only scaffolding for verbs tests that need a device: a fixture that
// skips (or, in the rxe guest, fails) without one, and RC "sides" (context,
// PD, CQ, QP, buffer, MR) that tests connect to each other in one process.
//
// Environment (set by the rxe guest harness, see rdma_test_env.h):
//   RXE_DEV, RXE_GID_INDEX        single-host device and (optional) GID index
//   RXE_HOSTS=2, RXE_A_DEV, RXE_B_DEV, RXE_A_GID_INDEX, RXE_B_GID_INDEX
//                                 two devices joined by a wire
// Without a GID index the RoCE v2 IPv4-mapped GID is looked up.
//
// Thread-compatible; each test builds its own objects.
#ifndef SWIFT_COMMON_VERBS_RDMA_TEST_UTIL_H_
#define SWIFT_COMMON_VERBS_RDMA_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/completion_channel.h"
#include "common/verbs/context.h"
#include "common/verbs/cq.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"
#include "common/verbs/shared_region.h"

namespace swift::verbs::testing {

// A device to test on: name and, if the environment fixes it, GID index.
struct TestDevice {
  std::string name;
  std::optional<uint32_t> gid_index;
};

// The single-host device (RXE_DEV, RXE_GID_INDEX).
TestDevice SingleHostDevice();

// The two devices of a two-host setup, or nullopt unless RXE_HOSTS=2.
std::optional<std::pair<TestDevice, TestDevice>> TwoHostDevices();

// Whether device `name` exists; false also when the list cannot be read.
bool DeviceExists(const std::string& name);

// Base fixture: skips when SingleHostDevice() does not exist, except under
// SWIFT_RDMA_REQUIRED=1 where that is a failure.
class RdmaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  const TestDevice& device() const { return device_; }

 private:
  TestDevice device_;
};

enum class Memory { kHeap, kMemfd };

// Everything one side of an RC connection owns, declared in creation order
// so the default destruction order is the verbs unwind order.
struct RcSide {
  std::shared_ptr<Context> context;
  std::shared_ptr<CompletionChannel> channel;  // Null unless asked for.
  std::shared_ptr<Pd> pd;
  std::shared_ptr<Cq> cq;  // Send and receive completions.
  std::unique_ptr<Qp> qp;
  PortAddress port;
  uint32_t psn = 0;
  // The memory (one of the two), then the MR over it.
  std::vector<uint8_t> heap;
  std::optional<SharedRegion> region;
  std::unique_ptr<Mr> mr;

  uint8_t* data() const { return mr->addr(); }
  size_t size() const { return mr->length(); }
  // This side's endpoint, including its whole MR as the remote buffer.
  QpEndpoint Endpoint() const;
};

// MakeRcSide()
//
// Opens `device` (or reuses `context` if given, e.g. for two QPs on one
// device), allocates a PD, a CQ of 32 entries (with a completion channel if
// `with_channel`), an RC QP and `bytes` of `memory` registered for local
// write and remote read/write, and reads the port address. The QP stays in
// RESET.
absl::StatusOr<std::unique_ptr<RcSide>> MakeRcSide(
    const TestDevice& device, size_t bytes, Memory memory = Memory::kHeap,
    bool with_channel = false, std::shared_ptr<Context> context = nullptr);

// ConnectRc()
//
// Takes both QPs RESET -> INIT -> RTR -> RTS against each other, exchanging
// endpoints through their wire form (EncodeEndpoint/DecodeEndpoint) as
// peers would.
absl::Status ConnectRc(RcSide& a, RcSide& b);

// WaitForSuccess()
//
// Waits up to 5 s for one completion on `cq` and checks it succeeded with
// `wr_id`; returns it.
absl::StatusOr<ibv_wc> WaitForSuccess(Cq& cq, uint64_t wr_id);

// Fills `size` bytes at `data` with a pattern derived from `seed`, so
// distinct seeds give distinct contents.
void FillPattern(uint8_t* data, size_t size, uint64_t seed);

}  // namespace swift::verbs::testing

#endif  // SWIFT_COMMON_VERBS_RDMA_TEST_UTIL_H_
