// LoopbackRig: two RC QPs on one device connected to each other, over one
// memfd (MAP_SHARED) region registered once: the setup a warm worker has
// before it forks an instance, for fork-mode tests and benchmarks.
//
// QP a completes on cq_a (sends and receives), QP b on cq_b, so a test can
// count each side's completions separately. Members are declared in
// creation order, so destruction is the verbs unwind order (QPs, CQs, MR,
// memory, PD, context).
//
// Thread-compatible. Not for use after fork() by both processes at once
// (see fork_safe_sender.h).
#ifndef SWIFT_DAEMON_WORKER_FORK_LOOPBACK_RIG_H_
#define SWIFT_DAEMON_WORKER_FORK_LOOPBACK_RIG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "common/verbs/context.h"
#include "common/verbs/cq.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"
#include "common/verbs/shared_region.h"

namespace swift {

struct LoopbackRig {
  std::shared_ptr<verbs::Context> context;
  std::shared_ptr<verbs::Pd> pd;
  std::optional<verbs::SharedRegion> region;
  std::unique_ptr<verbs::Mr> mr;  // All of `region`, remote read/write.
  std::shared_ptr<verbs::Cq> cq_a;
  std::shared_ptr<verbs::Cq> cq_b;
  std::unique_ptr<verbs::Qp> qp_a;
  std::unique_ptr<verbs::Qp> qp_b;
  verbs::PortAddress port;

  uint8_t* data() const { return region->data(); }
  // An SGE for `length` bytes at `offset` into the region.
  ibv_sge Sge(size_t offset, uint32_t length) const {
    return mr->Sge(offset, length);
  }
  // The region's address at `offset`, as a remote (RDMA) address.
  uint64_t RemoteAddr(size_t offset) const {
    return reinterpret_cast<uint64_t>(region->data() + offset);
  }
};

// MakeLoopbackRig()
//
// On `context` (port 1; GID `gid_index`, or the RoCE v2 IPv4 one if
// unset): a PD, a SharedRegion of `bytes` registered with remote read and
// write, two CQs of 64 entries and two RC QPs (`max_send_wr` send and
// receive requests each) taken to RTS against each other. Errors: the
// failing step's status.
absl::StatusOr<std::unique_ptr<LoopbackRig>> MakeLoopbackRig(
    std::shared_ptr<verbs::Context> context, size_t bytes,
    std::optional<uint32_t> gid_index, uint32_t max_send_wr = 32);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_LOOPBACK_RIG_H_
