// ProviderDoorbell: how a device's user-space provider rings the send
// doorbell, detected at run time, and the ioctl() doorbell that lets a
// forked child ring it where the provider's own way is refused.
//
// Why it exists (ARCHITECTURE.md, "What can be shared across processes"):
// ibv_post_send() first writes the work request into the SQ ring, which is
// memory shared with the device (or, for software devices, with the
// kernel), then tells the device to look: the doorbell.
//   - Hardware providers (mlx5, ...) ring it with a store to device memory
//     (MMIO): no system call, so it works in any process that inherited the
//     mapping, including a forked child.
//   - rxe and siw ring it with write(cmd_fd, POST_SEND command, wr_count 0).
//     The kernel refuses write() on a uverbs fd from any task whose
//     credentials differ from the opener's, and every fork() gives the child
//     new credentials: in a child the doorbell fails with EACCES *after* the
//     request is in the ring. The same command through
//     ioctl(RDMA_VERBS_IOCTL, UVERBS_METHOD_INVOKE_WRITE), which has no such
//     check, works, and runs everything queued in the ring.
//
// Detection reads the kernel's driver id for the device (RDMA netlink,
// RDMA_NLDEV_CMD_GET_CHARDEV for "uverbs": the key libibverbs itself uses
// to bind a provider), and falls back to the name of the device's kernel
// driver in sysfs for hardware drivers that publish no id. Device names are
// never trusted ("rxe0" is just a name an administrator chose).
//
// Thread-safe: no shared state.
#ifndef SWIFT_DAEMON_WORKER_FORK_PROVIDER_DOORBELL_H_
#define SWIFT_DAEMON_WORKER_FORK_PROVIDER_DOORBELL_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

// How a provider's ibv_post_send() tells the device about new requests.
enum class DoorbellKind {
  // A store to device memory, no system call (mlx5, mlx4, bnxt_re, efa,
  // irdma, hns, erdma, cxgb4, qedr, ocrdma, mthca, vmw_pvrdma): a forked
  // child's plain ibv_post_send() works.
  kMmio,
  // The whole request goes to the kernel through libibverbs' command path,
  // which uses ioctl() on current kernels (hfi1, qib): a child's plain post
  // works; an EACCES means nothing was posted.
  kKernelCommand,
  // The request goes into a shared ring, then the provider write()s a
  // POST_SEND command with wr_count 0 (rxe, siw): in a forked child the
  // write() fails with EACCES after the request is queued, and the doorbell
  // must be rung through ioctl() instead.
  kWriteCommand,
  // Not known: posts go the plain way, and an EACCES is reported, never
  // retried (whether the request was queued cannot be known).
  kUnknown,
};

// "mmio", "kernel-command", "write-command", "unknown".
absl::string_view DoorbellKindName(DoorbellKind kind);

// What DetectDoorbell() found out about one device.
struct ProviderDoorbell {
  std::string device;  // ibv_get_device_name(), e.g. "rxe0".
  // The kernel's enum rdma_driver_id (RDMA_DRIVER_RXE, ...), or nullopt
  // when the kernel did not say (older kernels, drivers that bind by PCI id,
  // no RDMA netlink).
  std::optional<uint32_t> driver_id;
  // Basename of /sys/class/infiniband/<device>/device/driver, e.g.
  // "mlx5_core"; empty for virtual devices (rxe, siw have no parent device).
  std::string kernel_driver;
  DoorbellKind kind = DoorbellKind::kUnknown;
  // How `kind` was decided, for logs and `swiftctl devices`.
  std::string evidence;

  // "rxe0: write-command doorbell (kernel driver id 14 (rxe) via RDMA
  // netlink)", for messages.
  std::string Describe() const;
};

// DriverIdName()
//
// "rxe", "mlx5", ... for an enum rdma_driver_id value; "driver id N" for
// values this build does not know.
std::string DriverIdName(uint32_t driver_id);

// ClassifyDoorbell()
//
// The doorbell kind for a device whose kernel reports `driver_id` (if any)
// and whose parent device is bound to kernel driver `kernel_driver` (may be
// empty). The driver id wins when both are known. Pure.
DoorbellKind ClassifyDoorbell(std::optional<uint32_t> driver_id,
                              absl::string_view kernel_driver);

// FindUverbsDriverId()
//
// The RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID attribute of one RDMA netlink reply
// message (`message` starts at its struct nlmsghdr), or nullopt when it has
// none or is malformed. Pure; exposed for tests.
std::optional<uint32_t> FindUverbsDriverId(absl::string_view message);

// QueryUverbsDriverId()
//
// Asks the kernel (RDMA netlink, RDMA_NLDEV_CMD_GET_CHARDEV for the
// "uverbs" client of device index `device_index`) for the device's driver
// id. nullopt when the kernel answers without one. Errors: the errno status
// of the failing socket call, kDeadlineExceeded when no answer comes within
// a second, or the kernel's error for the request (e.g. kNotFound for an
// unknown index). Blocks for one netlink round trip.
absl::StatusOr<std::optional<uint32_t>> QueryUverbsDriverId(
    uint32_t device_index);

// DetectDoorbell()
//
// Detects `context`'s provider doorbell: the kernel driver id
// (QueryUverbsDriverId), then the sysfs driver name, then ClassifyDoorbell.
// A failed netlink query is not an error: it is recorded in `evidence` and
// detection goes on with what sysfs says (possibly ending in kUnknown).
// kInvalidArgument for a null context. Costs a netlink round trip and a
// readlink(): call it once per device (e.g. in a warm worker before fork)
// and hand the result to ForkSafeSender::Create().
absl::StatusOr<ProviderDoorbell> DetectDoorbell(ibv_context* context);

// RingSendDoorbellByIoctl()
//
// Rings the send doorbell of `qp` the way a forked child may: the POST_SEND
// command with wr_count 0 for qp->handle on qp->context->cmd_fd, sent through
// ioctl(RDMA_VERBS_IOCTL, UVERBS_OBJECT_DEVICE, UVERBS_METHOD_INVOKE_WRITE)
// (`driver_id` fills the ioctl header). The provider's kernel side then
// processes every request already in the SQ ring; with nothing queued it
// is a no-op, so ringing again is harmless (unlike posting again). Only
// meaningful for kWriteCommand providers. Errors: the ioctl's errno status
// naming the QP (kUnimplemented for ENOTTY/EOPNOTSUPP: a kernel without
// INVOKE_WRITE). Never blocks beyond the system call (on rxe a loopback
// request is executed inside it).
absl::Status RingSendDoorbellByIoctl(ibv_qp* qp, uint32_t driver_id);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_FORK_PROVIDER_DOORBELL_H_
