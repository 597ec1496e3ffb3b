// ForkSafeSender implementation; see fork_safe_sender.h.
#include "daemon/worker/fork/fork_safe_sender.h"

#include <rdma/ib_user_ioctl_verbs.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/status_macros.h"

namespace swift {
namespace {

// How many requests of the chain starting at `wr` come before `stop`
// (all of them when `stop` is null).
int CountBefore(const ibv_send_wr* wr, const ibv_send_wr* stop) {
  int count = 0;
  for (; wr != nullptr && wr != stop; wr = wr->next) {
    ++count;
  }
  return count;
}

}  // namespace

absl::StatusOr<ForkSafeSender> ForkSafeSender::Create(
    ibv_qp* qp, ProviderDoorbell doorbell) {
  if (qp == nullptr || qp->context == nullptr) {
    return absl::InvalidArgumentError("ForkSafeSender::Create: null QP");
  }
  const std::string device = ibv_get_device_name(qp->context->device);
  if (doorbell.device != device) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ForkSafeSender::Create: qpn=0x%x is on %s, the doorbell describes %s",
        qp->qp_num, device, doorbell.device));
  }
  return ForkSafeSender(qp, std::move(doorbell));
}

absl::StatusOr<ForkSafeSender> ForkSafeSender::Create(ibv_qp* qp) {
  if (qp == nullptr || qp->context == nullptr) {
    return absl::InvalidArgumentError("ForkSafeSender::Create: null QP");
  }
  SWIFT_ASSIGN_OR_RETURN(ProviderDoorbell doorbell,
                         DetectDoorbell(qp->context));
  return Create(qp, std::move(doorbell));
}

absl::Status ForkSafeSender::PostSend(ibv_send_wr& wr) {
  ibv_send_wr* bad = nullptr;
  // rxe returns the errno value; siw returns -1 and leaves errno set.
  errno = 0;
  const int rc = ibv_post_send(qp_, &wr, &bad);
  const int error = rc > 0 ? rc : errno;
  if (rc == 0) {
    ++posts_;
    return absl::OkStatus();
  }
  const std::string where =
      absl::StrFormat("qpn=0x%x on %s", qp_->qp_num, doorbell_.device);
  if (error != EACCES) {
    const ibv_send_wr& failed = bad != nullptr ? *bad : wr;
    return ErrnoStatus(
        error != 0 ? error : EINVAL,
        absl::StrFormat("ibv_post_send(wr_id=%u) %s (%d earlier requests of "
                        "the chain were posted)",
                        failed.wr_id, where, CountBefore(&wr, bad)));
  }
  if (doorbell_.kind != DoorbellKind::kWriteCommand) {
    const absl::string_view consequence =
        doorbell_.kind == DoorbellKind::kKernelCommand
            ? "its requests travel in the refused command, so nothing was "
              "posted"
            : "it is not known to queue requests before its doorbell, so "
              "whether they were queued is unknown: do not post them again";
    return absl::PermissionDeniedError(absl::StrCat(
        "ibv_post_send(wr_id=", wr.wr_id, ") ", where,
        ": doorbell refused (EACCES), typically on a QP inherited across "
        "fork; ",
        doorbell_.Describe(), ": ", consequence));
  }
  // The provider put every request before `bad` into the SQ ring, then its
  // write() doorbell was refused: ring it the way a forked child may. Never
  // post again: the requests are already queued.
  const int queued = CountBefore(&wr, bad);
  if (absl::Status rung = RingSendDoorbellByIoctl(
          qp_, doorbell_.driver_id.value_or(RDMA_DRIVER_UNKNOWN));
      !rung.ok()) {
    return absl::InternalError(absl::StrCat(
        "ibv_post_send(wr_id=", wr.wr_id, ") ", where, ": ", queued,
        " requests are queued in the SQ but the provider's write() doorbell "
        "was refused (EACCES) and ",
        rung.message(),
        "; they run at the next successful doorbell of this QP: do NOT post "
        "them again"));
  }
  ++ioctl_doorbells_;
  if (bad != nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "ibv_post_send(wr_id=%u) %s: rejected by the provider (SQ full or "
        "invalid request); the %d requests before it were posted",
        bad->wr_id, where, queued));
  }
  ++posts_;
  return absl::OkStatus();
}

absl::Status ForkSafeSender::RingDoorbell() {
  if (doorbell_.kind != DoorbellKind::kWriteCommand) {
    return absl::FailedPreconditionError(
        absl::StrCat("RingDoorbell: ", doorbell_.Describe(),
                     ": only write-command doorbells can be rung by ioctl()"));
  }
  return RingSendDoorbellByIoctl(
      qp_, doorbell_.driver_id.value_or(RDMA_DRIVER_UNKNOWN));
}

}  // namespace swift
