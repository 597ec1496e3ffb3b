// libswift sessions: brokered RDMA connections from warm pools.
//
//   swift::SessionOptions options;                   // swiftd's device
//   auto session = swift::Session::Create(options);
//   // Server side:
//   auto listener = (*session)->Listen("kv");
//   auto accepted = (*listener)->Accept(absl::Seconds(10));
//   // Client side (another host):
//   auto connection = (*session)->Connect("10.0.0.1:7471", "kv");
//   // Then plain verbs on connection->qp(), ->cq(), ->mr(), ->remote().
//
// A Session opens its own device context, PD, a registered buffer (memfd,
// MAP_SHARED, so forked children share it; leased from swiftd, populated
// ahead of time, when swiftd grants it) and a pool of RC QPs in INIT,
// refilled in the background. Connect() takes a pooled QP and asks the
// local swiftd, which brokers it with the remote host's swiftd: the remote
// service's QP is in RTR/RTS before this side goes to RTS. The data path
// is plain verbs; libswift adds nothing to it.
//
// Thread-safe: a Session, its Listeners and Connect() may be used from
// many threads. A Connection's QP is driven by one thread at a time.
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_SESSION_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_SESSION_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "swift/defaults.h"

namespace swift {

struct SessionOptions {
  // swiftd's Control API socket (the fast path socket sits beside it).
  std::string socket_path = "/run/swift/swiftd.sock";
  std::string client_name;
  // The RDMA device; empty: the one swiftd brokers on.
  std::string device;
  // How long a call to swiftd watches for the answer before sleeping (see
  // kDefaultFastPathSpin); zero: never spins.
  absl::Duration fast_path_spin = kDefaultFastPathSpin;
  // The registered buffer every connection of this session uses, and that
  // a listener advertises to its clients for RDMA WRITE/READ.
  size_t buffer_bytes = 64 * 1024;
  // QPs kept ready in INIT: refilled in the background to pool_high once
  // fewer than pool_low remain.
  int pool_low = 4;
  int pool_high = 16;
  // Work requests each connection's QP and CQ hold.
  uint32_t max_send_wr = 64;
  uint32_t max_recv_wr = 64;
  // Each connection's CQ gets a completion channel of its own (one fd per
  // pooled QP), so that it can be waited on in any swift::WaitMode
  // (swift/wait.h: a swift::CqWaiter on connection->cq()). Off: the CQs
  // can only be polled (busy_poll), and cost no fd.
  bool completion_channels = true;
  // The completion vector of each connection's CQ: -1 spreads the pool's
  // CQs over the device's vectors (the n-th CQ on vector n modulo their
  // count), so that their interrupts spread over the cores swiftd pinned
  // the vectors to; otherwise this vector for all (for a thread that
  // stays on one core: swift::CompVectorForCpu()). Checked against the
  // device's num_comp_vectors.
  int comp_vector = -1;
  // Cold start: before this process's first device list, load only the
  // provider libraries swiftd names for this host's devices, so that
  // libibverbs loads no other (the largest part of a new process's first
  // verbs call). On by default; off to measure it or when the program has
  // listed devices already.
  bool load_hinted_providers = true;
  // Cold start: connect to swiftd and map the buffer on a thread of its
  // own while this one opens the device and makes the QPs (StartSteps).
  // On by default; off to measure it (the two halves run one after the
  // other).
  bool overlapped_start = true;
  // Cold start: where swiftd shares contexts of the session's device (its
  // provider can import one: mlx5, efa; swiftd's hints file lists them),
  // import swiftd's context and PD, opened ahead of time for this process
  // alone, rather than opening the device here. Anywhere else (rxe, siw)
  // the session opens the device itself, as it does when swiftd refuses;
  // StartSteps::context_imported and context_not_imported_because say
  // which and why. On by default; off to measure it.
  bool import_context = true;
  // Cold start: take the registered buffer from a memory lease of swiftd
  // (a memfd it populated ahead of time, MAP_SHARED like the session's
  // own) rather than allocating one here. The lease lives as long as the
  // Session; swiftd reclaims it if the process dies. When swiftd refuses
  // (a quota, no leases, an older swiftd) the session allocates its own
  // memfd and says why (StartSteps::buffer_not_leased_because, and a log
  // line once per process). On by default; off to measure it.
  bool lease_buffer = true;
  // Buffers smaller than this are allocated here even with lease_buffer:
  // populating a few pages costs less than the round trip to swiftd (and
  // swiftd would repopulate a whole pooled region, 4 MiB by default, to
  // hand out a few KiB). Measured in the guest: a page ~25 us to allocate
  // here, ~10 us to map from a lease, a lease round trip ~1 ms.
  size_t lease_buffer_min_bytes = 256 * 1024;
  // Pre-connected pairs (Prewarm()): the most this session keeps over all
  // services, each one a QP of the pool and a connection on both sides.
  int max_preconnected = 64;
  // A service's pairs are closed (and no longer refilled) once no
  // Connect() took one for this long.
  absl::Duration preconnect_idle_timeout = absl::Minutes(10);
  // Pools learned from use: a service this session handshook at least
  // this many times within learn_preconnect_window (Connect()s no pool
  // served) is prewarmed in the background, as if Prewarm() had been
  // called, to the most handshakes that window saw within one second (at
  // least 1, at most learn_preconnect_max; all pools within
  // max_preconnected); raised as bursts grow, dropped like any pool after
  // preconnect_idle_timeout unused. Services the application prewarmed
  // itself (any count, 0 included) are left as it set them.
  // PreconnectStats::learned counts them. 0: off (the default: a pool
  // means connections the server sees ahead of use).
  int learn_preconnect_after = 0;
  absl::Duration learn_preconnect_window = absl::Seconds(10);
  int learn_preconnect_max = 8;
  // How long a pair taken from the pool may take to prove, with a
  // zero-length RDMA WRITE answered by the peer's NIC, that the peer's QP
  // is still there; a pair that does not is dropped.
  absl::Duration preconnect_probe_timeout = absl::Milliseconds(10);
  // A listener's QP whose connection this side closed first (the peer may
  // not know yet) rests this long before it is connected again, so that
  // nothing the old peer still sends lands in a new connection; longer
  // than swiftd's --peer_watch_interval, so that a client's swiftd learns
  // of a service's close before that service's QP can serve anyone else.
  // A QP whose peer closed first is reused at once.
  absl::Duration recycle_quiet_period = absl::Seconds(3);
};

// StartSteps: where Session::Create()'s time went, in microseconds (a new
// process's cold start, for benchmarks and diagnosis). Create() runs two
// chains side by side: the swiftd half (swiftd_us, then memory_us) on a
// thread of its own, the device half (the other steps) on the caller's;
// the *_wait_us steps are the caller's thread waiting for the other one.
struct StartSteps {
  double providers_us = 0;    // Loading the providers swiftd named.
  double device_wait_us = 0;  // Waiting for swiftd to name the device
                              // (only when SessionOptions::device is "").
  double open_device_us = 0;  // The device list and ibv_open_device.
  double alloc_pd_us = 0;
  double port_us = 0;         // The port's attributes and RoCE v2 GID
                              // (from swiftd's hello when port_from_swiftd).
  double qp_pool_us = 0;      // CQs and QPs in INIT for pool_low.
  double swiftd_wait_us = 0;  // Waiting for the swiftd half to finish.
  double reg_mr_us = 0;
  double refill_start_us = 0;  // Starting the pool's refill thread.
  // The swiftd half, beside the steps above.
  double swiftd_us = 0;  // Connecting to swiftd (fast-path hello).
  double memory_us = 0;  // The buffer's memory (lease or memfd, mapped
                         // with its page tables built).
  // The port's address came with swiftd's hello (its device cache), not
  // from querying the port.
  bool port_from_swiftd = false;
  // The device context and PD were imported from swiftd
  // (SessionOptions::import_context; open_device_us and alloc_pd_us are
  // then the imports), the call for it taking share_context_us on the
  // swiftd half; else why not (the provider cannot import, swiftd's
  // refusal, "import_context is off").
  bool context_imported = false;
  double share_context_us = 0;
  std::string context_not_imported_because;
  int providers_loaded = 0;
  // Why no provider was loaded ahead, if none was.
  std::string providers_skipped_because;
  // The registered buffer is swiftd's memory lease `buffer_lease_id` (see
  // `swiftctl leases`), on huge pages or not; else why not ("lease_buffer
  // is off", or swiftd's refusal).
  bool buffer_leased = false;
  uint64_t buffer_lease_id = 0;
  bool buffer_hugepage = false;
  std::string buffer_not_leased_because;
};

// Memory of the peer that RDMA WRITE/READ may target.
struct RemoteMemory {
  uint64_t addr = 0;
  uint64_t length = 0;  // 0: the peer advertised none.
  uint32_t rkey = 0;
};

// ConnectSteps: where one brokered Connect()'s time went, in microseconds,
// for benchmarks and diagnosis. Each part is measured by the process that
// ran it (durations only: no clocks are compared across processes); the
// parts add up to the whole Connect(). On the server side of a connection
// only `transitions_us` is set.
struct ConnectSteps {
  double pool_take_us = 0;   // A QP in INIT from the pool (or created).
  double to_swiftd_us = 0;   // Fast path round trip to the local swiftd.
  double broker_us = 0;      // The local swiftd's own work.
  double admission_us = 0;   // Waiting there for a handshake slot.
  double peer_link_us = 0;   // Round trip between the two swiftds.
  double remote_us = 0;      // The remote swiftd's own work.
  double to_app_us = 0;      // Remote swiftd <-> the service application.
  double app_accept_us = 0;  // The application's RTR and RTS.
  double transitions_us = 0; // This side's RTR and RTS.
  // Taken from the pre-connected pool (Session::Prewarm()) rather than
  // handshaken: then only pool_take_us, check_us and probe_us are set.
  bool preconnected = false;
  double check_us = 0;  // Asking the local swiftd whether it still stands.
  double probe_us = 0;  // The peer's NIC answering a zero-length WRITE.
};

class Connection {
 public:
  virtual ~Connection() = default;

  // The connected RC QP (in RTS) and the CQ its sends and receives complete
  // on. Valid until Close() or destruction.
  virtual ibv_qp* qp() const = 0;
  virtual ibv_cq* cq() const = 0;
  // The session's registered buffer (lkey for local SGEs).
  virtual ibv_mr* mr() const = 0;
  virtual uint8_t* buffer() const = 0;
  virtual size_t buffer_size() const = 0;
  // What the peer advertised.
  virtual RemoteMemory remote() const = 0;
  // swiftd's id for the connection (see `swiftctl connections`).
  virtual uint64_t id() const = 0;
  // True once the peer closed its side (server side only).
  virtual bool peer_closed() const = 0;
  // Where the connect's time went (see ConnectSteps).
  virtual ConnectSteps connect_steps() const = 0;
  // The host connected to: as Connect() named it, or the one swiftd picked
  // for a Connect() by service alone. Empty on the accepting side.
  virtual const std::string& host() const = 0;

  // Close()
  //
  // Ends the connection; the QP goes back to the pool (moved to RESET and
  // INIT again) or is destroyed when in error. Idempotent; the destructor
  // calls it. Errors are reported but the connection is closed regardless.
  virtual absl::Status Close() = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;

  // Accept()
  //
  // The next connection a client made to this service, already in RTS.
  // kDeadlineExceeded after `timeout`; kUnavailable when swiftd went away.
  virtual absl::StatusOr<std::unique_ptr<Connection>> Accept(
      absl::Duration timeout) = 0;

  virtual const std::string& service() const = 0;
};

struct PoolStats {
  int ready = 0;           // QPs in INIT right now.
  int resting = 0;         // Recycled QPs in their quiet period.
  uint64_t created = 0;    // QPs ever created.
  uint64_t hits = 0;       // Takes served from the pool.
  uint64_t misses = 0;     // Takes that had to create a QP on the spot.
  uint64_t recycled = 0;   // QPs reset and reused.
  uint64_t destroyed = 0;  // QPs dropped (error state, shrink).
};

// The pre-connected pool (Session::Prewarm()).
struct PreconnectStats {
  int ready = 0;           // Pairs pooled now, over all services.
  int target = 0;          // What Prewarm() asked for, in all.
  uint64_t made = 0;       // Pairs connected ahead of time.
  uint64_t hits = 0;       // Connect()s served from the pool.
  uint64_t misses = 0;     // Connect()s to a prewarmed service that found
                           // no usable pair (and handshook).
  uint64_t discarded = 0;  // Pairs dropped: ended remotely, failed the
                           // probe, or expired.
  uint64_t checks_saved = 0;  // Hits that needed no call to swiftd: its
                              // change page showed nothing had changed.
  uint64_t refill_errors = 0;
  // Services prewarmed (or raised) because of their use
  // (SessionOptions::learn_preconnect_after).
  uint64_t learned = 0;
  std::string last_discard_reason;
  std::string last_refill_error;
};

class Session {
 public:
  // Create()
  //
  // Connects to swiftd, opens the device, allocates the PD, registers the
  // buffer and fills the QP pool to pool_low (the rest fills in the
  // background). kUnavailable: swiftd is not running; kNotFound: no such
  // device; kInvalidArgument: bad options; otherwise the failing verb.
  static absl::StatusOr<std::unique_ptr<Session>> Create(
      const SessionOptions& options = SessionOptions());

  virtual ~Session() = default;

  // Connect()
  //
  // A connected RC QP to `service` on `host` (a peer swiftd's "ip:port", a
  // name from swiftd's --peers, or a host in its --directory): a checked
  // pre-connected pair when Prewarm() keeps some for them, else a new
  // handshake. An empty `host` (or the one-argument form) lets swiftd pick
  // a host offering `service` from its directory: this host when it offers
  // it, else round robin over those that do (Connection::host() says which).
  // Errors as swiftd reports them: kNotFound (no such service there, or no
  // such host in the directory, with the reason when it left),
  // kUnavailable (the peer swiftd is down, or the directory cannot be
  // reached and the name is not among what swiftd cached), kResourceExhausted
  // (the service's pool is empty, or too many connects queued),
  // kDeadlineExceeded (`timeout`), kInvalidArgument. The pooled QP goes
  // back to the pool on every error.
  virtual absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const std::string& host, const std::string& service,
      absl::Duration timeout = kDefaultCallTimeout) = 0;
  absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const std::string& service,
      absl::Duration timeout = kDefaultCallTimeout) {
    return Connect(std::string(), service, timeout);
  }

  // Prewarm()
  //
  // Keeps `count` connections to `service` on `host` connected ahead of
  // time, so that Connect() to them costs one local check instead of a
  // handshake across both hosts; returns how many are ready (it connects
  // them now, up to `timeout`, and the session refills the pool in the
  // background as Connect() takes them). The server application sees
  // each pair as an accepted connection when it is made (like an idle
  // keep-alive connection), not when a client takes it.
  //
  // A pair is handed out only after the local swiftd says its remote side
  // still stands (its service did not close it, the peer swiftd did not
  // restart and answers; learnt within --peer_watch_interval) and the
  // peer's NIC answered a zero-length RDMA WRITE on it; otherwise it is
  // dropped and Connect() handshakes. 0 stops keeping pairs for the
  // service and closes them. kInvalidArgument: a negative count or more
  // than SessionOptions::max_preconnected; kResourceExhausted: the
  // session keeps max_preconnected pairs already; otherwise the first
  // connect's error when none could be made.
  virtual absl::StatusOr<int> Prewarm(
      const std::string& host, const std::string& service, int count,
      absl::Duration timeout = kDefaultCallTimeout) = 0;
  virtual PreconnectStats preconnect_stats() const = 0;

  // Listen()
  //
  // Registers `service` with the local swiftd, advertising `backlog` pooled
  // QPs (refilled as clients take them). kAlreadyExists when another
  // process listens on that name.
  virtual absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const std::string& service, int backlog = 8) = 0;

  virtual PoolStats pool_stats() const = 0;
  // Where Create()'s time went.
  virtual const StartSteps& start_steps() const = 0;
  // The device this session uses.
  virtual const std::string& device() const = 0;

  // CheckBuffer()
  //
  // Whether the registered buffer is still good. A buffer leased from
  // swiftd (StartSteps::buffer_leased) is checked with swiftd: once its
  // device has gone from the host (`rdma link delete`, a hot unplug) the
  // answer is kFailedPrecondition naming the device and why, and this
  // session's connections, PD and MR are gone with the device: destroy the
  // session and create one on another device. OK for a buffer of the
  // session's own; kUnavailable when swiftd is not there to ask.
  virtual absl::Status CheckBuffer() const = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_INCLUDE_SWIFT_SESSION_H_
