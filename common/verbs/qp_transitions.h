// The QP state machine as named steps: RESET -> INIT -> RTR -> RTS for RC
// (connected to one peer QpEndpoint) and for UD (datagrams, Q_Key).
//
// Each transition is one ibv_modify_qp with the attribute set the verbs spec
// requires for it, and fails with a status naming the transition and the
// QP, e.g. "ibv_modify_qp(INIT->RTR) qpn=0x11 on rxe0: Invalid argument".
// Calls never block beyond the verb (RTR on rxe resolves the route to the
// peer's GID: ~0.3 ms in the emulated guest).
//
// Thread-compatible, like the Qp they act on.
#ifndef SWIFT_COMMON_VERBS_QP_TRANSITIONS_H_
#define SWIFT_COMMON_VERBS_QP_TRANSITIONS_H_

#include <infiniband/verbs.h>

#include <cstdint>

#include "absl/status/status.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"

namespace swift::verbs {

// Connection parameters of an RC QP; the defaults suit rxe and ConnectX.
struct RcOptions {
  // What the peer may do to this side's memory through this QP.
  int access_flags =
      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
  uint8_t max_rd_atomic = 1;       // RDMA READs this side has in flight.
  uint8_t max_dest_rd_atomic = 1;  // RDMA READs the peer may have in flight.
  uint8_t min_rnr_timer = 12;      // 0.64 ms: RNR NAK delay to the peer.
  uint8_t timeout = 14;            // 4.096 us * 2^14 = 67 ms ACK timeout.
  uint8_t retry_cnt = 7;
  uint8_t rnr_retry = 7;  // 7 = retry forever while the peer posts receives.
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
};

// ModifyRcToInit()
//
// RESET -> INIT on local port `port_num`, P_Key index 0, with
// `options.access_flags`. kInvalidArgument (without calling the verb) when
// `qp` is not RC.
absl::Status ModifyRcToInit(Qp& qp, uint8_t port_num,
                            const RcOptions& options = RcOptions());

// ModifyRcToRtr()
//
// INIT -> RTR: connects `qp` to `remote` (its QPN, PSN and GID) through the
// local port `local`; path MTU = min(local active MTU, remote MTU). After
// this the QP accepts the peer's packets, so reply to the peer only once it
// returns. kInvalidArgument (without calling the verb) when `qp` is not RC.
absl::Status ModifyRcToRtr(Qp& qp, const PortAddress& local,
                           const QpEndpoint& remote,
                           const RcOptions& options = RcOptions());

// ModifyRcToRts()
//
// RTR -> RTS: the QP may send, starting at `local_psn` (the PSN this side
// advertised in its endpoint). kInvalidArgument when `qp` is not RC.
absl::Status ModifyRcToRts(Qp& qp, uint32_t local_psn,
                           const RcOptions& options = RcOptions());

// ModifyUdToInit() / ModifyUdToRtr() / ModifyUdToRts()
//
// RESET -> INIT (port `port_num`, P_Key index 0, Q_Key `qkey`: the key
// senders must present), INIT -> RTR (the QP receives), RTR -> RTS (the QP
// sends, first PSN `psn`). kInvalidArgument when `qp` is not UD.
absl::Status ModifyUdToInit(Qp& qp, uint8_t port_num, uint32_t qkey);
absl::Status ModifyUdToRtr(Qp& qp);
absl::Status ModifyUdToRts(Qp& qp, uint32_t psn);

// ModifyToReset() / ModifyToError()
//
// Any state -> RESET (drops all work requests without completions; the QP
// can be brought up again) or -> ERR (flushes outstanding work requests with
// IBV_WC_WR_FLUSH_ERR completions).
absl::Status ModifyToReset(Qp& qp);
absl::Status ModifyToError(Qp& qp);

// RandomPsn()
//
// A random 24-bit packet sequence number, as the verbs spec recommends for
// a new connection (a stale packet of an old one is then unlikely to fit).
uint32_t RandomPsn();

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_QP_TRANSITIONS_H_
