// The wait-mode benchmark's threads; see wait_pingpong.h.
#include "tools/bench/wait_pingpong.h"

#include <infiniband/verbs.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/verbs/cq.h"

namespace swift::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Completions taken per Wait() call.
constexpr int kMaxCompletions = 8;

// An inline SEND of `value` on `side`'s QP.
absl::Status SendValue(WaitSide& side, uint64_t value, bool signaled) {
  ibv_sge sge = {};
  sge.addr = reinterpret_cast<uintptr_t>(&value);
  sge.length = sizeof(value);
  ibv_send_wr wr = {};
  wr.wr_id = ~0ull;  // Receives use their slot number.
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  // Inline: the provider copies the bytes at post time, so `value` may go.
  wr.send_flags = IBV_SEND_INLINE | (signaled ? IBV_SEND_SIGNALED : 0);
  return side.qp->PostSendChain(wr);
}

// A receive's value, after checking the completion; re-posts its slot.
absl::StatusOr<uint64_t> TakeReceived(WaitSide& side, const ibv_wc& wc) {
  if (wc.wr_id >= static_cast<uint64_t>(kRecvDepth) ||
      wc.byte_len != sizeof(uint64_t)) {
    return absl::InternalError(absl::StrCat(
        "receive with wr_id ", wc.wr_id, " and ", wc.byte_len,
        " bytes; expected a slot below ", kRecvDepth, " and 8 bytes"));
  }
  const int slot = static_cast<int>(wc.wr_id);
  uint64_t value = 0;
  std::memcpy(&value, side.Slot(slot), sizeof(value));
  SWIFT_RETURN_IF_ERROR(side.PostRecv(slot));
  return value;
}

// Wait() once; 0 completions on a timeout (counted).
absl::StatusOr<int> WaitOnce(swift::CqWaiter& waiter, ibv_wc* wcs,
                             const PingPongShared& shared,
                             ThreadRecord& record) {
  absl::StatusOr<int> n =
      waiter.Wait(wcs, kMaxCompletions, shared.wait_timeout);
  if (n.ok()) {
    record.completions += *n;
    return n;
  }
  if (absl::IsDeadlineExceeded(n.status())) {
    ++record.timeouts;
    return 0;
  }
  return n.status();
}

absl::Status RunClient(WaitSide& side, swift::CqWaiter& waiter,
                       const PingPongShared& shared, ThreadRecord& record) {
  ibv_wc wcs[kMaxCompletions];
  uint64_t sequence = 0;
  while (shared.phase.load(std::memory_order_acquire) < kExit) {
    ++sequence;
    const Clock::time_point sent = Clock::now();
    SWIFT_RETURN_IF_ERROR(
        SendValue(side, sequence, sequence % kSignalEvery == 0));
    bool pong = false;
    while (!pong) {
      SWIFT_ASSIGN_OR_RETURN(int n, WaitOnce(waiter, wcs, shared, record));
      if (n == 0 && shared.phase.load(std::memory_order_acquire) >= kExit) {
        return absl::OkStatus();
      }
      for (int i = 0; i < n; ++i) {
        SWIFT_RETURN_IF_ERROR(verbs::CompletionToStatus(wcs[i]));
        if (wcs[i].opcode == IBV_WC_SEND) {
          continue;
        }
        SWIFT_ASSIGN_OR_RETURN(uint64_t echoed, TakeReceived(side, wcs[i]));
        if (echoed != sequence) {
          return absl::InternalError(absl::StrCat(
              "qpn ", side.qp->qpn(), " got pong ", echoed, ", expected ",
              sequence, " (a completion delivered twice or to another QP?)"));
        }
        pong = true;
      }
    }
    const Clock::time_point received = Clock::now();
    ++record.total;
    if (shared.phase.load(std::memory_order_acquire) == kMeasure) {
      ++record.measured;
      record.rtt_us.push_back(
          std::chrono::duration<double, std::micro>(received - sent).count());
    }
  }
  return absl::OkStatus();
}

absl::Status RunServer(WaitSide& side, swift::CqWaiter& waiter,
                       const PingPongShared& shared, ThreadRecord& record) {
  ibv_wc wcs[kMaxCompletions];
  uint64_t sends = 0;
  while (shared.phase.load(std::memory_order_acquire) < kExit) {
    SWIFT_ASSIGN_OR_RETURN(int n, WaitOnce(waiter, wcs, shared, record));
    for (int i = 0; i < n; ++i) {
      SWIFT_RETURN_IF_ERROR(verbs::CompletionToStatus(wcs[i]));
      if (wcs[i].opcode == IBV_WC_SEND) {
        continue;
      }
      SWIFT_ASSIGN_OR_RETURN(uint64_t ping, TakeReceived(side, wcs[i]));
      ++sends;
      SWIFT_RETURN_IF_ERROR(SendValue(side, ping, sends % kSignalEvery == 0));
      ++record.total;
      if (shared.phase.load(std::memory_order_acquire) == kMeasure) {
        ++record.measured;
      }
    }
  }
  return absl::OkStatus();
}

// Waits until the release message; any other completion is an error.
absl::Status RunIdle(WaitSide& side, swift::CqWaiter& waiter,
                     const PingPongShared& shared, ThreadRecord& record) {
  ibv_wc wcs[kMaxCompletions];
  while (true) {
    SWIFT_ASSIGN_OR_RETURN(int n, WaitOnce(waiter, wcs, shared, record));
    for (int i = 0; i < n; ++i) {
      SWIFT_RETURN_IF_ERROR(verbs::CompletionToStatus(wcs[i]));
      SWIFT_RETURN_IF_ERROR(TakeReceived(side, wcs[i]).status());
      ++record.total;
      if (shared.phase.load(std::memory_order_acquire) < kExit) {
        return absl::InternalError(
            "an idle waiter got a completion before the release");
      }
    }
    if (record.total > 0) {
      return absl::OkStatus();
    }
    if (n == 0 && shared.phase.load(std::memory_order_acquire) >= kExit) {
      // The release was sent before this wait began, and the wait is long
      // enough to cover the whole run: its completion was lost.
      return absl::DeadlineExceededError(absl::StrCat(
          "the release message was not returned by Wait() within ",
          absl::FormatDuration(shared.wait_timeout), " (a lost wake-up?)"));
    }
  }
}

}  // namespace

void RunWaitThread(Role role, WaitSide& side, const swift::WaitOptions& options,
                   PingPongShared& shared, ThreadRecord& record) {
  absl::StatusOr<std::unique_ptr<swift::CqWaiter>> waiter =
      swift::CqWaiter::Create(side.cq->get(), options);
  shared.ready.DecrementCount();
  shared.start.WaitForNotification();
  absl::Status status;
  if (!waiter.ok()) {
    status = waiter.status();
  } else {
    switch (role) {
      case Role::kClient:
        status = RunClient(side, **waiter, shared, record);
        break;
      case Role::kServer:
        status = RunServer(side, **waiter, shared, record);
        break;
      case Role::kIdle:
        status = RunIdle(side, **waiter, shared, record);
        break;
    }
    record.stats = (*waiter)->stats();
  }
  if (!status.ok()) {
    record.error =
        absl::StrCat("qpn ", side.qp->qpn(), ": ", status.ToString());
    // Parked, not ended: the measurement reads this thread's CPU clock.
    while (shared.phase.load(std::memory_order_acquire) < kExit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (waiter.ok()) {
    waiter->reset();  // Leaves the CQ (and the dispatcher) before `exited`.
  }
  shared.exited.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace swift::bench
