// CompletionChannel: the fd on which CQs report "a completion arrived"
// (ibv_comp_channel), so a thread can sleep instead of polling.
//
// Protocol (ibv_get_cq_event(3)): arm a CQ with Cq::RequestNotify(), then
// WaitForEvent() blocks until an armed CQ on this channel gets a completion
// and returns that Cq; the caller polls it (and re-arms it). Every event
// returned must be acknowledged before the CQ is destroyed: the Cq counts
// them and acks them itself in Cq::AckEvents(), Cq::Destroy() and its
// destructor, so callers cannot forget.
//
// Each Cq on a channel holds a std::shared_ptr to it, so the channel
// outlives its CQs. Thread-safe for WaitForEvent() from one thread while
// others use the CQs; two threads waiting on one channel race for events.
#ifndef SWIFT_COMMON_VERBS_COMPLETION_CHANNEL_H_
#define SWIFT_COMMON_VERBS_COMPLETION_CHANNEL_H_

#include <infiniband/verbs.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/verbs/context.h"

namespace swift::verbs {

class Cq;

class CompletionChannel final {
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Create()
  //
  // ibv_create_comp_channel on `context`. The fd is close-on-exec (libibverbs
  // opens it so). Errors carry the verb's errno, naming the device.
  static absl::StatusOr<std::shared_ptr<CompletionChannel>> Create(
      std::shared_ptr<Context> context);

  // Use Create(); takes ownership of `channel`.
  CompletionChannel(PrivateKey, std::shared_ptr<Context> context,
                    ibv_comp_channel* channel)
      : context_(std::move(context)), channel_(channel) {}

  CompletionChannel(const CompletionChannel&) = delete;
  CompletionChannel& operator=(const CompletionChannel&) = delete;

  // Destroys the channel unless Destroy() already did; a failure is logged.
  ~CompletionChannel();

  // Destroy()
  //
  // ibv_destroy_comp_channel now. OK on success or when already destroyed;
  // kFailedPrecondition (EBUSY) while a CQ still uses the channel (only
  // possible for CQs not created through Cq, which hold the channel alive).
  absl::Status Destroy();

  // WaitForEvent()
  //
  // Blocks up to `timeout` (InfiniteDuration() to wait forever) for a CQ
  // event, then reads it (ibv_get_cq_event) and returns the Cq it is for; the
  // event is counted on that Cq as unacknowledged. kDeadlineExceeded when no
  // event came in time; kInternal for an event on a CQ not owned by a Cq
  // (acked and dropped); otherwise the errno status of poll() or
  // ibv_get_cq_event. The returned pointer is valid while the caller keeps
  // that Cq alive.
  absl::StatusOr<Cq*> WaitForEvent(absl::Duration timeout);

  // The channel, or nullptr after a successful Destroy().
  ibv_comp_channel* get() const { return channel_; }
  // The fd to poll()/epoll() for readability; -1 after Destroy().
  int fd() const { return channel_ == nullptr ? -1 : channel_->fd; }
  const std::shared_ptr<Context>& context() const { return context_; }

 private:
  const std::shared_ptr<Context> context_;
  ibv_comp_channel* channel_;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_COMPLETION_CHANNEL_H_
