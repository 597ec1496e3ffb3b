// Cq implementation; see cq.h.
#include "common/verbs/cq.h"

#include <sched.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/log.h"

namespace swift::verbs {
namespace {

// Empty polls before WaitForCompletion() starts yielding the CPU: long
// enough to catch a loopback completion without a syscall, short enough not
// to starve a completing thread on the same core.
constexpr int kSpinPolls = 64;

}  // namespace

absl::StatusOr<std::shared_ptr<Cq>> Cq::Create(
    std::shared_ptr<Context> context, int min_entries,
    std::shared_ptr<CompletionChannel> channel, int comp_vector) {
  if (context == nullptr) {
    return absl::InvalidArgumentError("Cq::Create: null context");
  }
  if (min_entries < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cq::Create: min_entries ", min_entries, " < 1"));
  }
  if (channel != nullptr && channel->context() != context) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cq::Create: channel belongs to ",
                     channel->context()->name(), ", not ", context->name()));
  }
  // The owner exists first so the CQ's context pointer can name it:
  // CompletionChannel::WaitForEvent() maps an event back to its Cq that way.
  auto cq = std::make_shared<Cq>(PrivateKey(), context, channel);
  errno = 0;
  cq->cq_ =
      ibv_create_cq(context->get(), min_entries, cq.get(),
                    channel == nullptr ? nullptr : channel->get(), comp_vector);
  if (cq->cq_ == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("ibv_create_cq(", context->name(),
                                           ", ", min_entries, " entries)"));
  }
  cq->handle_ = cq->cq_->handle;
  return cq;
}

Cq::~Cq() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking CQ: ", status.ToString());
  }
}

absl::Status Cq::Destroy() {
  if (cq_ == nullptr) {
    return absl::OkStatus();
  }
  // ibv_destroy_cq blocks until every event it delivered is acked.
  AckEvents();
  if (int rc = ibv_destroy_cq(cq_); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_destroy_cq(", Describe(), ")"));
  }
  cq_ = nullptr;
  return absl::OkStatus();
}

absl::Status Cq::RequestNotify(bool solicited_only) {
  if (channel_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " has no completion channel to notify"));
  }
  if (int rc = ibv_req_notify_cq(cq_, solicited_only ? 1 : 0); rc != 0) {
    return ErrnoStatus(rc, absl::StrCat("ibv_req_notify_cq(", Describe(), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Cq::Poll(ibv_wc* wcs, int max_entries) {
  const int n = ibv_poll_cq(cq_, max_entries, wcs);
  if (n < 0) {
    // ibv_poll_cq(3): a negative value is an error, with no errno contract.
    return absl::InternalError(
        absl::StrCat("ibv_poll_cq(", Describe(), ") returned ", n));
  }
  return n;
}

absl::StatusOr<ibv_wc> Cq::WaitForCompletion(absl::Duration timeout) {
  absl::StatusOr<ibv_wc> wc = WaitForOneCompletion(cq_, timeout);
  if (!wc.ok()) {
    return absl::Status(wc.status().code(),
                        absl::StrCat(Describe(), ": ", wc.status().message()));
  }
  return wc;
}

absl::StatusOr<ibv_wc> WaitForOneCompletion(ibv_cq* cq,
                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (int empty_polls = 0;; ++empty_polls) {
    ibv_wc wc = {};
    // ibv_poll_cq(3): a negative value is an error, with no errno contract.
    const int n = ibv_poll_cq(cq, 1, &wc);
    if (n < 0) {
      return absl::InternalError(absl::StrCat("ibv_poll_cq returned ", n));
    }
    if (n == 1) {
      return wc;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no completion within ", absl::FormatDuration(timeout)));
    }
    if (empty_polls >= kSpinPolls) {
      sched_yield();
    }
  }
}

void Cq::AckEvents() {
  const unsigned int events = unacked_events_.exchange(0);
  if (events > 0 && cq_ != nullptr) {
    ibv_ack_cq_events(cq_, events);
  }
}

std::string Cq::Describe() const {
  return absl::StrCat("cq ", handle_, " on ", context_->name());
}

std::string WcOpcodeName(ibv_wc_opcode opcode) {
  switch (opcode) {
    case IBV_WC_SEND:
      return "SEND";
    case IBV_WC_RDMA_WRITE:
      return "RDMA_WRITE";
    case IBV_WC_RDMA_READ:
      return "RDMA_READ";
    case IBV_WC_COMP_SWAP:
      return "COMP_SWAP";
    case IBV_WC_FETCH_ADD:
      return "FETCH_ADD";
    case IBV_WC_BIND_MW:
      return "BIND_MW";
    case IBV_WC_LOCAL_INV:
      return "LOCAL_INV";
    case IBV_WC_RECV:
      return "RECV";
    case IBV_WC_RECV_RDMA_WITH_IMM:
      return "RECV_RDMA_WITH_IMM";
    default:
      return absl::StrCat("opcode ", static_cast<int>(opcode));
  }
}

absl::Status CompletionToStatus(const ibv_wc& wc) {
  if (wc.status == IBV_WC_SUCCESS) {
    return absl::OkStatus();
  }
  // On error only wr_id, status, qp_num and vendor_err are valid
  // (ibv_poll_cq(3)): the opcode is not, so it is not named.
  const std::string message = absl::StrFormat(
      "work request wr_id=%u on qpn=0x%x failed: %s (vendor_err 0x%x)",
      wc.wr_id, wc.qp_num, ibv_wc_status_str(wc.status), wc.vendor_err);
  switch (wc.status) {
    case IBV_WC_RETRY_EXC_ERR:
    case IBV_WC_RNR_RETRY_EXC_ERR:
      return absl::UnavailableError(message);
    case IBV_WC_REM_ACCESS_ERR:
    case IBV_WC_LOC_PROT_ERR:
    case IBV_WC_LOC_ACCESS_ERR:
      return absl::PermissionDeniedError(message);
    case IBV_WC_WR_FLUSH_ERR:
      return absl::CancelledError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace swift::verbs
