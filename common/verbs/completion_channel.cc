// CompletionChannel implementation; see completion_channel.h.
#include "common/verbs/completion_channel.h"

#include <poll.h>

#include <cerrno>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/log.h"
#include "common/verbs/cq.h"

namespace swift::verbs {

absl::StatusOr<std::shared_ptr<CompletionChannel>> CompletionChannel::Create(
    std::shared_ptr<Context> context) {
  if (context == nullptr) {
    return absl::InvalidArgumentError(
        "CompletionChannel::Create: null context");
  }
  errno = 0;
  ibv_comp_channel* channel = ibv_create_comp_channel(context->get());
  if (channel == nullptr) {
    return ErrnoStatus(
        errno, absl::StrCat("ibv_create_comp_channel(", context->name(), ")"));
  }
  return std::make_shared<CompletionChannel>(PrivateKey(), std::move(context),
                                             channel);
}

CompletionChannel::~CompletionChannel() {
  if (absl::Status status = Destroy(); !status.ok()) {
    SWIFT_LOG(Error, "leaking completion channel: ", status.ToString());
  }
}

absl::Status CompletionChannel::Destroy() {
  if (channel_ == nullptr) {
    return absl::OkStatus();
  }
  if (int rc = ibv_destroy_comp_channel(channel_); rc != 0) {
    return ErrnoStatus(
        rc, absl::StrCat("ibv_destroy_comp_channel(fd ", channel_->fd, " on ",
                         context_->name(), ")"));
  }
  channel_ = nullptr;
  return absl::OkStatus();
}

absl::StatusOr<Cq*> CompletionChannel::WaitForEvent(absl::Duration timeout) {
  if (channel_ == nullptr) {
    return absl::FailedPreconditionError(
        "CompletionChannel::WaitForEvent: channel destroyed");
  }
  // poll() first, so a timeout is possible without making the fd
  // non-blocking (which would change ibv_get_cq_event for other users).
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int timeout_ms = -1;
    if (timeout != absl::InfiniteDuration()) {
      const absl::Duration left = deadline - absl::Now();
      timeout_ms =
          left <= absl::ZeroDuration()
              ? 0
              : static_cast<int>(std::ceil(absl::ToDoubleMilliseconds(left)));
    }
    pollfd pfd = {channel_->fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoStatus(errno, absl::StrCat("poll(completion channel fd ",
                                             channel_->fd, ")"));
    }
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("no CQ event on ", context_->name(), " within ",
                       absl::FormatDuration(timeout)));
    }
    break;
  }
  ibv_cq* event_cq = nullptr;
  void* cq_context = nullptr;
  if (ibv_get_cq_event(channel_, &event_cq, &cq_context) != 0) {
    return ErrnoStatus(
        errno, absl::StrCat("ibv_get_cq_event(", context_->name(), ")"));
  }
  if (cq_context == nullptr) {
    // A CQ created outside Cq: nobody else would ack this event.
    ibv_ack_cq_events(event_cq, 1);
    return absl::InternalError(absl::StrCat("CQ event on ", context_->name(),
                                            " for a CQ without a Cq owner"));
  }
  Cq* cq = static_cast<Cq*>(cq_context);
  cq->CountEvent();
  return cq;
}

}  // namespace swift::verbs
