// Cq: a completion queue (ibv_cq), destroyed when the last owner lets go.
//
// QPs hold a std::shared_ptr<Cq> for their send and receive CQs, so a CQ
// outlives its QPs; the Cq holds its Context and, if it has one, its
// CompletionChannel. Events delivered through the channel are counted and
// acknowledged (ibv_ack_cq_events) before the CQ is destroyed, because
// ibv_destroy_cq waits for every event to be acked.
//
// Thread-compatible: one thread polls a CQ at a time (ARCHITECTURE.md: a CQ is
// driven by one thread and one process at a time). The event counter is
// atomic, so a waiter thread may record events while another acks them.
#ifndef SWIFT_COMMON_VERBS_CQ_H_
#define SWIFT_COMMON_VERBS_CQ_H_

#include <infiniband/verbs.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/verbs/completion_channel.h"
#include "common/verbs/context.h"

namespace swift::verbs {

class Cq final {
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Create()
  //
  // ibv_create_cq on `context` with at least `min_entries` entries
  // (capacity() tells how many the provider gave). With a `channel` (of the
  // same context), RequestNotify() arms it to report there; without one the
  // CQ can only be polled. Errors: kInvalidArgument for a null context,
  // min_entries < 1 or a channel of another context; otherwise the verb's
  // errno naming the device (kInvalidArgument when min_entries exceeds the
  // device's max_cqe).
  static absl::StatusOr<std::shared_ptr<Cq>> Create(
      std::shared_ptr<Context> context, int min_entries,
      std::shared_ptr<CompletionChannel> channel = nullptr,
      int comp_vector = 0);

  // Use Create().
  Cq(PrivateKey, std::shared_ptr<Context> context,
     std::shared_ptr<CompletionChannel> channel)
      : context_(std::move(context)), channel_(std::move(channel)) {}

  Cq(const Cq&) = delete;
  Cq& operator=(const Cq&) = delete;

  // Acks outstanding events and destroys the CQ unless Destroy() already
  // did; a failure is logged, naming the CQ.
  ~Cq();

  // Destroy()
  //
  // Acks every outstanding event, then ibv_destroy_cq now. OK on success or
  // when already destroyed; kFailedPrecondition (EBUSY) while a QP still uses
  // the CQ (only possible for QPs not created through Qp, or via an explicit
  // Destroy() while the Qp lives); the CQ then stays owned.
  absl::Status Destroy();

  // RequestNotify()
  //
  // Arms the CQ (ibv_req_notify_cq): the next completion (only solicited
  // ones if `solicited_only`) produces one event on the channel. Re-arm
  // after each event, then poll again before sleeping, or a completion that
  // arrived in between is missed. kFailedPrecondition if the CQ has no
  // channel; otherwise the verb's errno status.
  absl::Status RequestNotify(bool solicited_only = false);

  // Poll()
  //
  // ibv_poll_cq for up to `max_entries` completions into `wcs`; returns how
  // many (0 when the CQ is empty). Never blocks. kInternal when the provider
  // reports an error (a negative return). Each wc must still be checked with
  // CompletionToStatus().
  absl::StatusOr<int> Poll(ibv_wc* wcs, int max_entries);

  // WaitForCompletion()
  //
  // Polls until one completion arrives or `timeout` passes, and returns it
  // (whatever its status). Busy-polls, yielding the CPU between empty polls
  // after a short spin, so it suits tests and benchmarks, not a thread that
  // shares its core with the completing side. kDeadlineExceeded on timeout.
  absl::StatusOr<ibv_wc> WaitForCompletion(absl::Duration timeout);

  // AckEvents()
  //
  // Acknowledges every event CompletionChannel::WaitForEvent() returned for
  // this CQ (ibv_ack_cq_events, which takes a mutex: ack in batches).
  void AckEvents();

  // Events returned for this CQ and not yet acknowledged.
  unsigned int unacked_events() const { return unacked_events_.load(); }

  // The CQ, or nullptr after a successful Destroy().
  ibv_cq* get() const { return cq_; }
  // The number of entries the provider allocated (>= min_entries).
  int capacity() const { return cq_ == nullptr ? 0 : cq_->cqe; }
  const std::shared_ptr<Context>& context() const { return context_; }
  const std::shared_ptr<CompletionChannel>& channel() const { return channel_; }

  // "cq <handle> on <device>", for messages.
  std::string Describe() const;

 private:
  friend class CompletionChannel;

  // Called by CompletionChannel::WaitForEvent() for an event on this CQ.
  void CountEvent() { unacked_events_.fetch_add(1); }

  // Declared first: released after the CQ is destroyed.
  const std::shared_ptr<Context> context_;
  const std::shared_ptr<CompletionChannel> channel_;
  ibv_cq* cq_ = nullptr;
  uint32_t handle_ = 0;
  std::atomic<unsigned int> unacked_events_{0};
};

// WaitForOneCompletion()
//
// Cq::WaitForCompletion() for a CQ held as a raw handle (an application's
// Connection, a function's connection view): polls `cq` until one
// completion arrives and returns it (whatever its status), spinning a
// little, then yielding between empty polls. kDeadlineExceeded when none
// arrives within `timeout`, kInternal when ibv_poll_cq fails.
absl::StatusOr<ibv_wc> WaitForOneCompletion(ibv_cq* cq, absl::Duration timeout);

// CompletionToStatus()
//
// OK when `wc` succeeded; otherwise a status naming the wr_id, QP number and
// ibv_wc_status_str (not the opcode, which is undefined on error): kUnavailable
// for transport retries exhausted (peer unreachable or gone), kPermissionDenied
// for remote access or protection errors, kCancelled for flushed work requests
// (the QP went to ERROR), kInternal for the rest.
absl::Status CompletionToStatus(const ibv_wc& wc);

// WcOpcodeName()
//
// "SEND", "RDMA_WRITE", "RDMA_READ", "RECV", ... for a completion opcode.
std::string WcOpcodeName(ibv_wc_opcode opcode);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_CQ_H_
