// ForkSafeSender: posts send work requests on a QP that this process may
// have inherited across fork(), correctly on every provider.
//
// Why it exists. In fork mode a warm worker (which opened the device and
// connected the QPs) forks an instance that uses them. The instance can
// post receives, poll CQs and create objects on the inherited context, but
// on providers whose send doorbell is a write() command (rxe, siw; see
// provider_doorbell.h) its ibv_post_send() fails with EACCES: the kernel
// refuses write() on a uverbs fd to a task whose credentials differ from
// the opener's, and fork() always gives the child new ones. Worse, the
// request is already in the SQ ring when the doorbell fails, so the obvious
// retry posts it twice (measured: two completions, the data sent twice).
// ForkSafeSender posts once, and when the provider's doorbell is refused it
// rings the doorbell through ioctl(RDMA_VERBS_IOCTL, INVOKE_WRITE), which
// the kernel allows. The price, measured with fork_latency in the rxe
// guest (64 B loopback WRITE, post to completion): 29.5 us median in the
// child against 22.5 us for the opener, i.e. +7 us (the refused write()
// plus the ioctl()), p50 ratio 1.30. On MMIO-doorbell providers (mlx5,
// ...) and in the process that opened the device it is a plain
// ibv_post_send(). No write() interposition, no LD_PRELOAD: the only
// system-level effect is the extra ioctl().
//
// Contract:
//   - Ownership: a QP is driven by exactly one process, and in it by one
//     thread at a time. After fork() the parent must not post on the QP or
//     poll its CQs while the child does: libibverbs' per-QP/per-CQ locks are
//     process-private copies after fork, so nothing serializes the two.
//     Hand-off is explicit (e.g. the worker stops touching the QP before it
//     forks the instance). No thread of the parent may be inside a verb on
//     this QP at the moment of fork(), or the child inherits a held lock.
//   - Giving the QP back: on rxe the SQ producer index lives in the shared
//     ring, so the parent may resume posting once the child has stopped
//     (tested). On siw the provider keeps its producer index in process
//     memory, so a QP a child has posted on must never be used by the
//     parent again.
//   - Memory: every MR the requests use must be MAP_SHARED (memfd); check it
//     once per MR with CheckSharedMemory() (fork_support.h). The sender
//     does not check SGEs: that is not for the data path.
//   - The sender does not own the QP; the QP (and its context) must outlive
//     it. It never polls: completions arrive on the QP's send CQ as usual,
//     exactly once per signaled request.
//
// Thread-compatible: one thread uses a sender at a time (the QP's driver).
// Move-only.
#ifndef SWIFT_DAEMON_WORKER_FORK_FORK_SAFE_SENDER_H_
#define SWIFT_DAEMON_WORKER_FORK_FORK_SAFE_SENDER_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/worker/fork/provider_doorbell.h"

namespace swift {

class ForkSafeSender final {
 public:
  // Create()
  //
  // A sender for `qp` (not owned; must outlive the sender) on a device whose
  // doorbell `doorbell` describes (DetectDoorbell() of the QP's context,
  // typically run once per device before fork). kInvalidArgument for a null
  // QP or a `doorbell` of another device. Never blocks.
  static absl::StatusOr<ForkSafeSender> Create(ibv_qp* qp,
                                               ProviderDoorbell doorbell);

  // Create()
  //
  // The same, detecting the doorbell of the QP's device first (a netlink
  // round trip and a readlink(); see DetectDoorbell()).
  static absl::StatusOr<ForkSafeSender> Create(ibv_qp* qp);

  ForkSafeSender(ForkSafeSender&& other) = default;
  ForkSafeSender& operator=(ForkSafeSender&& other) = default;
  ForkSafeSender(const ForkSafeSender&) = delete;
  ForkSafeSender& operator=(const ForkSafeSender&) = delete;

  // PostSend()
  //
  // Posts `wr` and every request chained to it (ibv_post_send), each exactly
  // once. On OK every request is in the SQ and the device has been told:
  // each signaled one completes once on the QP's send CQ. Never blocks
  // beyond the provider's post and at most one ioctl() (on rxe a loopback
  // request may execute inside that system call). Errors:
  //   - The provider rejected a request (SQ full, bad request, QP not RTS):
  //     the status of its error (e.g. kResourceExhausted, kInvalidArgument),
  //     naming the first rejected wr_id; the requests before it in the chain
  //     were posted (and the doorbell rung) and will complete. After a
  //     refused doorbell the provider's code for the rejection is lost: such
  //     a rejection is reported as kResourceExhausted.
  //   - kPermissionDenied: the doorbell was refused (EACCES) on a provider
  //     not known to queue before its doorbell (kMmio, kKernelCommand,
  //     kUnknown). For kKernelCommand nothing was posted; otherwise whether
  //     anything was queued is unknown. Never repost blindly.
  //   - kInternal: the provider queued the requests, refused its doorbell,
  //     and the ioctl() doorbell failed too. The requests sit in the SQ and
  //     run at the next successful doorbell of this QP (RingDoorbell() or
  //     the next PostSend()); do NOT post them again.
  absl::Status PostSend(ibv_send_wr& wr);

  // RingDoorbell()
  //
  // Rings the QP's send doorbell through ioctl() (RingSendDoorbellByIoctl):
  // runs whatever is queued in the SQ; a no-op when nothing is. Safe to call
  // any number of times, unlike posting. For recovery after a kInternal
  // from PostSend(), or for a request a plain ibv_post_send() queued and
  // could not ring. kFailedPrecondition unless the provider is
  // kWriteCommand (other doorbells are not commands); otherwise the
  // ioctl's status.
  absl::Status RingDoorbell();

  ibv_qp* qp() const { return qp_; }
  const ProviderDoorbell& doorbell() const { return doorbell_; }

  // Successful PostSend() calls.
  uint64_t posts() const { return posts_; }
  // Doorbells PostSend() rang through ioctl() after the provider's doorbell
  // was refused: 0 in the process that opened the device, one per post in a
  // forked child on rxe.
  uint64_t ioctl_doorbells() const { return ioctl_doorbells_; }

 private:
  ForkSafeSender(ibv_qp* qp, ProviderDoorbell doorbell)
      : qp_(qp), doorbell_(std::move(doorbell)) {}

  // Immutable after construction (but for moves).
  ibv_qp* qp_;
  ProviderDoorbell doorbell_;
  // Counters.
  uint64_t posts_ = 0;
  uint64_t ioctl_doorbells_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_FORK_SAFE_SENDER_H_
