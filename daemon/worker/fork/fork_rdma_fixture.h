// ForkRdmaTest: the fork-mode device tests' scenery. Two loopback-connected
// RC QPs (a and b) over one memfd MR on the test device, the device's
// doorbell, and helpers: pattern bytes that tell a short, long or foreign
// transfer, signaled requests, completions expected once and drained to
// catch a duplicate, and the parent's own WRITE and SEND to show that it
// keeps using its QPs after a child did.
//
// Each child reports a summary string through RunInChild(); the parent
// asserts on it and on what it can see itself. Children never run
// destructors (their inherited Qp/Cq owners would destroy the parent's
// objects). Skips without the device unless SWIFT_RDMA_REQUIRED=1.
#ifndef SWIFT_DAEMON_WORKER_FORK_FORK_RDMA_FIXTURE_H_
#define SWIFT_DAEMON_WORKER_FORK_FORK_RDMA_FIXTURE_H_

#include <gtest/gtest.h>
#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/verbs/cq.h"
#include "daemon/worker/fork/loopback_rig.h"
#include "daemon/worker/fork/provider_doorbell.h"

namespace swift::fork_testing {

inline constexpr size_t kPage = 4096;
// Layout of the rig's shared region.
inline constexpr size_t kWriteSrc = 0;
inline constexpr size_t kSendSrc = 2048;
inline constexpr size_t kWriteDst = 1 * kPage;
inline constexpr size_t kRecv = 2 * kPage;
inline constexpr size_t kReadSrc = 3 * kPage;
inline constexpr size_t kReadDst = 4 * kPage;
inline constexpr size_t kRegionBytes = 5 * kPage;
// Odd lengths, so a short or long transfer shows.
inline constexpr uint32_t kWriteLen = 1000;
inline constexpr uint32_t kSendLen = 777;
inline constexpr uint32_t kReadLen = 1500;

inline constexpr absl::Duration kChildTimeout = absl::Seconds(60);
// How long to keep polling after the expected completions, to catch a
// duplicate.
inline constexpr absl::Duration kQuietPeriod = absl::Milliseconds(300);

// `length` bytes derived from `seed` (distinct seeds, distinct bytes).
std::vector<uint8_t> Pattern(uint64_t seed, size_t length);
void Fill(uint8_t* data, uint64_t seed, size_t length);
bool Holds(const uint8_t* data, uint64_t seed, size_t length);
bool AllZero(const uint8_t* data, size_t length);
// OK, or kInternal "check failed: `what`".
absl::Status Check(bool condition, const std::string& what);

// One signaled send-queue request of `opcode` for `sge`
// (verbs::SignaledRdmaRequest(), for SENDs too).
ibv_send_wr Request(ibv_wr_opcode opcode, ibv_sge* sge, uint64_t wr_id,
                    uint64_t remote_addr = 0, uint32_t rkey = 0);

// Waits up to 5 s for the next completion on `cq` and checks that it is a
// successful `opcode` for `wr_id`.
absl::StatusOr<ibv_wc> ExpectCompletion(verbs::Cq& cq, uint64_t wr_id,
                                        ibv_wc_opcode opcode);

// Polls `cq` for `period` and returns the wr_ids of whatever completes (the
// status of each is not checked: callers count).
std::vector<uint64_t> Drain(verbs::Cq& cq, absl::Duration period);

class ForkRdmaTest : public ::testing::Test {
 protected:
  // Opens the test device (RXE_GID_INDEX if set), builds the rig and
  // detects the doorbell; skips (or fails, when required) without it.
  void SetUp() override;

  uint8_t* at(size_t offset) const { return rig_->data() + offset; }
  bool write_command() const {
    return doorbell_.kind == DoorbellKind::kWriteCommand;
  }

  // The parent's own RDMA WRITE of `length` pattern bytes (seed `seed`)
  // from kWriteSrc to kWriteDst on QP a, through a sender: completes exactly
  // once, the bytes land, and no ioctl doorbell was needed.
  void ExpectParentWriteWorks(uint64_t seed, uint64_t wr_id);

  // The parent's own SEND on QP a into a receive on QP b.
  void ExpectParentSendWorks(uint64_t seed, uint64_t wr_id);

  std::optional<uint32_t> gid_index_;  // RXE_GID_INDEX, if set.
  std::unique_ptr<LoopbackRig> rig_;
  ProviderDoorbell doorbell_;
};

}  // namespace swift::fork_testing

#endif  // SWIFT_DAEMON_WORKER_FORK_FORK_RDMA_FIXTURE_H_
