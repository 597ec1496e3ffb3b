// raw_verbs_connect: the raw-verbs baseline Swift is measured against.
//
// What a program written without Swift does to move its first bytes to a
// peer, in a NEW process, timed step by step: list devices, open one,
// allocate a PD, register an MR, create a CQ and an RC QP, take it to INIT,
// exchange QPN/PSN/GID/rkey/address with the peer over TCP, go RTR and RTS,
// RDMA WRITE the MR to the peer and have the peer check the bytes.
//
//   raw_verbs_connect --server --device=rxeA --listen=10.77.0.1:18515
//   raw_verbs_connect --device=rxeB --peer=10.77.0.1:18515
//   raw_verbs_connect --warm --threads=4 --connections=20 --device=rxeB
//       --peer=10.77.0.1:18515
//
// Client (default): one connection, then exit; prints ONE JSON line:
//   {"bench":"raw_verbs_connect","role":"client","ok":true,...,
//    "steps_us":{"get_device_list":..,"open_device":..,...},
//    "total_us":..,"teardown_us":..}
// total_us runs from main() (after flag parsing and logging set-up) to the
// peer's verdict; teardown (destroying QP, CQ, MR, PD, closing the device)
// is reported apart. The MR is --mr_bytes (default 4 KiB) of heap memory,
// filled with the pattern before registration (as a program writes its data
// first), and the whole MR is written.
//
// Warm client (--warm): raw verbs in a process that is already warm: the
// device is open and the PD and one MR (--threads x --mr_bytes, a slice per
// thread) are registered once, untimed. Then --threads threads each make
// --connections connections one after another (after --warmup untimed ones
// on the first thread); each connection creates its CQ and QP, takes the QP
// to INIT, exchanges endpoints with the server over a new TCP connection,
// goes RTR/RTS, WRITEs its slice and has the server check it (latency ends
// at the server's verdict), then destroys QP and CQ (teardown: counted in
// the connections per second, not in the latency). Prints ONE JSON line:
//   {"bench":"raw_verbs_connect","role":"warm_client","threads":..,
//    "total":..,"ok":..,"failed":..,"failed_by_reason":{..},"p50_us":..,
//    "p90_us":..,"p99_us":..,"min_us":..,"wall_s":..,"conn_per_s":..,
//    "steps_p50_us":{..},"teardown_p50_us":..,"setup_us":..}
//
// Server (--server): long-lived; opens the device once, then serves
// connections, each with its own CQ, QP and MR (--max_mr_bytes, default
// 64 KiB, zeroed). The next connection's objects are created and taken to
// INIT before accept(), as a peer waiting for clients would, so the client's
// "exchange" step holds the network round trip and the server's RTR, not
// the server's setup. Each accepted client is served on its own thread, so
// concurrent clients are served concurrently; the next connection is
// prepared once no client is being served or another one is already
// waiting, so clients that come one at a time are served exactly as by a
// server that serves one by one. Prints a ready line, then one JSON line
// per connection, on stdout.
//
// Exit code: 0 on success; 1 when a client's transfer failed (the JSON
// line says where); 2 for bad flags.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "common/verbs/context.h"
#include "common/verbs/cq.h"
#include "common/verbs/device_list.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"
#include "common/verbs/qp_transitions.h"
#include "common/verbs/step_timer.h"
#include "glog/logging.h"
#include "tools/bench/raw_verbs_connect_wire.h"

ABSL_FLAG(bool, server, false,
          "Serve connections (long-lived) instead of connecting once.");
ABSL_FLAG(std::string, device, "rxe0", "RDMA device to use.");
ABSL_FLAG(int, gid_index, -1,
          "GID index of the local port; -1: its RoCE v2 IPv4-mapped GID.");
ABSL_FLAG(int, ib_port, 1, "Port number on the device (1-based).");
ABSL_FLAG(std::string, peer, "127.0.0.1:18515",
          "Client: the server's host:port.");
ABSL_FLAG(std::string, listen, "0.0.0.0:18515",
          "Server: the host:port to listen on.");
ABSL_FLAG(int, mr_bytes, 4096, "Client: MR size, all of it written.");
ABSL_FLAG(int, max_mr_bytes, 65536,
          "Server: per-connection MR size (the most a client may write).");
ABSL_FLAG(int, connections, 0,
          "Server: exit after this many connections (0: serve forever). "
          "Warm client: connections per thread (0 means 20).");
ABSL_FLAG(int, timeout_ms, 10000,
          "Give up on a silent peer or a missing completion after this.");
ABSL_FLAG(bool, warm, false,
          "Client: a warm process (device, PD and MR set up once) making "
          "--threads x --connections connections; prints one JSON summary.");
ABSL_FLAG(int, threads, 1, "Warm client: concurrent threads.");
ABSL_FLAG(int, warmup, 2, "Warm client: untimed connections first.");

namespace swift::bench {
namespace {

using verbs::Context;
using verbs::Cq;
using verbs::DeviceList;
using verbs::Mr;
using verbs::Pd;
using verbs::PortAddress;
using verbs::Qp;
using verbs::QpEndpoint;
using verbs::StepTimer;

constexpr uint64_t kWriteWrId = 1;
constexpr int kCqEntries = 16;

std::optional<uint32_t> GidIndexFlag() {
  const int index = absl::GetFlag(FLAGS_gid_index);
  if (index < 0) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(index);
}

absl::Duration Timeout() {
  return absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
}

// Everything the client creates, in creation order: destroyed in reverse.
struct ClientState {
  std::shared_ptr<Context> context;
  std::shared_ptr<Pd> pd;
  std::vector<uint8_t> buffer;
  std::unique_ptr<Mr> mr;
  std::shared_ptr<Cq> cq;
  std::unique_ptr<Qp> qp;
  PortAddress port;
  UniqueFd socket;
  QpEndpoint peer;
};

// The part of a connection after the QP exists: INIT, TCP connect, endpoint
// exchange, RTR, RTS, a WRITE of `bytes` pattern bytes (from `seed`) at
// `offset` in `mr` to the start of the peer's buffer, and the peer's
// verdict on them. `socket` and `peer` are the caller's, for teardown and
// reporting.
absl::Status ConnectAndWrite(StepTimer& timer, const HostPort& peer_address,
                             const PortAddress& port, Qp& qp, Cq& cq,
                             const Mr& mr, size_t offset, size_t bytes,
                             uint64_t seed, UniqueFd& socket,
                             QpEndpoint& peer) {
  const uint8_t ib_port = static_cast<uint8_t>(absl::GetFlag(FLAGS_ib_port));
  SWIFT_RETURN_IF_ERROR(
      timer.Time("init", [&] { return verbs::ModifyRcToInit(qp, ib_port); }));
  const uint32_t psn = verbs::RandomPsn();
  SWIFT_ASSIGN_OR_RETURN(socket, timer.Time("tcp_connect", [&] {
    return ConnectTcp(peer_address);
  }));
  SWIFT_RETURN_IF_ERROR(SetIoTimeout(socket.get(), Timeout()));
  SWIFT_RETURN_IF_ERROR(timer.Time("exchange", [&]() -> absl::Status {
    Hello hello;
    hello.seed = seed;
    hello.length = bytes;
    hello.endpoint = verbs::MakeEndpoint(port, qp.qpn(), psn);
    SWIFT_RETURN_IF_ERROR(SendFrame(socket.get(), EncodeHello(hello)));
    SWIFT_ASSIGN_OR_RETURN(std::string welcome, RecvFrame(socket.get()));
    SWIFT_ASSIGN_OR_RETURN(peer, verbs::DecodeEndpoint(welcome));
    if (!peer.buffer || peer.buffer->length < bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("peer offers no buffer of ", bytes,
                       " bytes: ", verbs::EndpointToString(peer)));
    }
    return absl::OkStatus();
  }));
  SWIFT_RETURN_IF_ERROR(
      timer.Time("rtr", [&] { return verbs::ModifyRcToRtr(qp, port, peer); }));
  SWIFT_RETURN_IF_ERROR(
      timer.Time("rts", [&] { return verbs::ModifyRcToRts(qp, psn); }));
  SWIFT_RETURN_IF_ERROR(timer.Time("write", [&]() -> absl::Status {
    SWIFT_RETURN_IF_ERROR(
        qp.PostWrite(mr.Sge(offset, static_cast<uint32_t>(bytes)),
                     peer.buffer->addr, peer.buffer->rkey, kWriteWrId));
    SWIFT_ASSIGN_OR_RETURN(ibv_wc wc, cq.WaitForCompletion(Timeout()));
    return verbs::CompletionToStatus(wc);
  }));
  // An RC WRITE completes once the peer acknowledged it, i.e. the bytes are
  // in the peer's memory: the peer may check them now.
  return timer.Time("verify", [&]() -> absl::Status {
    SWIFT_RETURN_IF_ERROR(SendFrame(socket.get(), "DONE"));
    SWIFT_ASSIGN_OR_RETURN(std::string verdict, RecvFrame(socket.get()));
    if (verdict != "OK") {
      return absl::DataLossError(absl::StrCat("peer: ", verdict));
    }
    return absl::OkStatus();
  });
}

absl::Status RunClientSteps(StepTimer& timer, ClientState& state) {
  const std::string device_name = absl::GetFlag(FLAGS_device);
  const uint8_t ib_port = static_cast<uint8_t>(absl::GetFlag(FLAGS_ib_port));
  const size_t mr_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_mr_bytes));
  SWIFT_ASSIGN_OR_RETURN(HostPort peer_address,
                         ParseHostPort(absl::GetFlag(FLAGS_peer)));

  // The list must outlive the open: its ibv_device* are used there.
  std::optional<DeviceList> devices;
  ibv_device* device = nullptr;
  SWIFT_RETURN_IF_ERROR(timer.Time("get_device_list", [&]() -> absl::Status {
    SWIFT_ASSIGN_OR_RETURN(devices, DeviceList::Get());
    SWIFT_ASSIGN_OR_RETURN(device, devices->Find(device_name));
    return absl::OkStatus();
  }));
  SWIFT_ASSIGN_OR_RETURN(state.context, timer.Time("open_device", [&] {
    return Context::Open(device);
  }));
  devices.reset();
  SWIFT_ASSIGN_OR_RETURN(state.pd, timer.Time("alloc_pd", [&] {
    return Pd::Allocate(state.context);
  }));
  const uint64_t seed = (static_cast<uint64_t>(getpid()) << 32) ^
                        static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  timer.Time("fill_buffer", [&] {
    state.buffer.resize(mr_bytes);
    FillPattern(state.buffer.data(), mr_bytes, seed);
  });
  SWIFT_ASSIGN_OR_RETURN(state.mr, timer.Time("reg_mr", [&] {
    return Mr::Register(state.pd, state.buffer.data(), mr_bytes,
                        IBV_ACCESS_LOCAL_WRITE);
  }));
  SWIFT_ASSIGN_OR_RETURN(state.cq, timer.Time("create_cq", [&] {
    return Cq::Create(state.context, kCqEntries);
  }));
  SWIFT_ASSIGN_OR_RETURN(state.qp, timer.Time("create_qp", [&] {
    return Qp::Create(state.pd, state.cq, state.cq, IBV_QPT_RC);
  }));
  SWIFT_ASSIGN_OR_RETURN(state.port, timer.Time("query_port", [&] {
    return verbs::QueryPortAddress(*state.context, ib_port, GidIndexFlag());
  }));
  return ConnectAndWrite(timer, peer_address, state.port, *state.qp, *state.cq,
                         *state.mr, 0, mr_bytes, seed, state.socket,
                         state.peer);
}

int RunClient() {
  StepTimer timer;
  ClientState state;
  const absl::Status status = RunClientSteps(timer, state);
  const double total_us = timer.ElapsedMicros();
  const uint32_t qpn = state.qp != nullptr ? state.qp->qpn() : 0;
  // Reverse creation order, as the members' destructors would run.
  const StepTimer::Clock::time_point teardown_begin = StepTimer::Clock::now();
  state.socket.Reset();
  state.qp.reset();
  state.cq.reset();
  state.mr.reset();
  state.pd.reset();
  state.context.reset();
  const double teardown_us =
      StepTimer::MicrosBetween(teardown_begin, StepTimer::Clock::now());
  std::string line = absl::StrCat(
      "{\"bench\":\"raw_verbs_connect\",\"role\":\"client\",\"ok\":",
      status.ok() ? "true" : "false",
      ",\"device\":", verbs::JsonQuote(absl::GetFlag(FLAGS_device)),
      ",\"gid_index\":", state.port.gid_index,
      ",\"peer\":", verbs::JsonQuote(absl::GetFlag(FLAGS_peer)),
      ",\"mr_bytes\":", absl::GetFlag(FLAGS_mr_bytes), ",\"qpn\":", qpn,
      ",\"peer_qpn\":", state.peer.qpn, ",\"steps_us\":", timer.StepsJson(),
      absl::StrFormat(",\"total_us\":%.1f,\"teardown_us\":%.1f", total_us,
                      teardown_us));
  if (!status.ok()) {
    absl::StrAppend(&line, ",\"error\":", verbs::JsonQuote(status.ToString()));
    LOG(ERROR) << "raw_verbs_connect client: " << status;
  }
  line += "}";
  std::cout << line << std::endl;
  return status.ok() ? 0 : 1;
}

// One server-side connection: its objects (in creation order) and what the
// client announced.
struct Connection {
  std::vector<uint8_t> buffer;
  std::unique_ptr<Mr> mr;
  std::shared_ptr<Cq> cq;
  std::unique_ptr<Qp> qp;
  uint32_t psn = 0;
};

// Creates the next connection's MR, CQ and QP, and takes the QP to INIT.
absl::StatusOr<Connection> PrepareConnection(
    const std::shared_ptr<Context>& context, const std::shared_ptr<Pd>& pd,
    const PortAddress& port, size_t bytes) {
  Connection connection;
  connection.buffer.assign(bytes, 0);
  SWIFT_ASSIGN_OR_RETURN(
      connection.mr,
      Mr::Register(pd, connection.buffer.data(), bytes,
                   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE));
  SWIFT_ASSIGN_OR_RETURN(connection.cq, Cq::Create(context, kCqEntries));
  SWIFT_ASSIGN_OR_RETURN(
      connection.qp, Qp::Create(pd, connection.cq, connection.cq, IBV_QPT_RC));
  verbs::RcOptions options;
  options.access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
  SWIFT_RETURN_IF_ERROR(
      verbs::ModifyRcToInit(*connection.qp, port.port_num, options));
  connection.psn = verbs::RandomPsn();
  return connection;
}

// Serves one accepted client on `connection`.
absl::Status Serve(int fd, const PortAddress& port, Connection& connection,
                   StepTimer& timer) {
  SWIFT_RETURN_IF_ERROR(SetIoTimeout(fd, Timeout()));
  SWIFT_ASSIGN_OR_RETURN(std::string hello_bytes, RecvFrame(fd));
  SWIFT_ASSIGN_OR_RETURN(Hello hello, DecodeHello(hello_bytes));
  if (hello.length == 0 || hello.length > connection.buffer.size()) {
    SWIFT_RETURN_IF_ERROR(SendFrame(fd, "BAD: length out of range"));
    return absl::InvalidArgumentError(
        absl::StrCat("client wants to write ", hello.length, " bytes; MR has ",
                     connection.buffer.size()));
  }
  SWIFT_RETURN_IF_ERROR(timer.Time("rtr", [&] {
    return verbs::ModifyRcToRtr(*connection.qp, port, hello.endpoint);
  }));
  SWIFT_RETURN_IF_ERROR(timer.Time("rts", [&] {
    return verbs::ModifyRcToRts(*connection.qp, connection.psn);
  }));
  // Only now, with the QP in RTR, may the client send: tell it where to.
  QpEndpoint welcome =
      verbs::MakeEndpoint(port, connection.qp->qpn(), connection.psn);
  welcome.buffer = connection.mr->Remote();
  SWIFT_RETURN_IF_ERROR(SendFrame(fd, verbs::EncodeEndpoint(welcome)));
  SWIFT_ASSIGN_OR_RETURN(std::string done, RecvFrame(fd));
  if (done != "DONE") {
    return absl::InvalidArgumentError(
        absl::StrCat("expected DONE, got '", done, "'"));
  }
  absl::Status check = timer.Time("check", [&]() -> absl::Status {
    SWIFT_RETURN_IF_ERROR(
        CheckPattern(connection.buffer.data(), hello.length, hello.seed));
    // Exactly `length` bytes: nothing past them was written.
    for (size_t i = hello.length; i < connection.buffer.size(); ++i) {
      if (connection.buffer[i] != 0) {
        return absl::DataLossError(
            absl::StrCat("byte ", i, " past the write is not 0"));
      }
    }
    return absl::OkStatus();
  });
  SWIFT_RETURN_IF_ERROR(
      SendFrame(fd, check.ok() ? std::string("OK")
                               : absl::StrCat("BAD: ", check.message())));
  return check;
}

// What the server sets up once and keeps for every connection.
struct ServerSetup {
  std::shared_ptr<Context> context;
  std::shared_ptr<Pd> pd;
  PortAddress port;
  HostPort listen_address;
  UniqueFd listener;
};

absl::StatusOr<ServerSetup> SetUpServer() {
  ServerSetup setup;
  SWIFT_ASSIGN_OR_RETURN(setup.listen_address,
                         ParseHostPort(absl::GetFlag(FLAGS_listen)));
  SWIFT_ASSIGN_OR_RETURN(setup.context,
                         Context::OpenByName(absl::GetFlag(FLAGS_device)));
  SWIFT_ASSIGN_OR_RETURN(setup.pd, Pd::Allocate(setup.context));
  SWIFT_ASSIGN_OR_RETURN(
      setup.port,
      verbs::QueryPortAddress(
          *setup.context, static_cast<uint8_t>(absl::GetFlag(FLAGS_ib_port)),
          GidIndexFlag()));
  SWIFT_ASSIGN_OR_RETURN(setup.listener, ListenTcp(setup.listen_address));
  SWIFT_ASSIGN_OR_RETURN(uint16_t port, LocalPort(setup.listener.get()));
  setup.listen_address.port = port;
  return setup;
}

// Counts serving threads in flight, so that RunServer() can wait for them,
// and wakes a waiter when one ends (an eventfd it can poll with the
// listener).
class InFlight {
 public:
  InFlight() : done_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  void Start() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
  }
  void Done() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--count_ == 0) {
        idle_.notify_all();
      }
    }
    const uint64_t one = 1;
    (void)!write(done_.get(), &one, sizeof(one));
  }
  void WaitIdle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }
  // WaitIdleOrPending()
  //
  // Returns once no client is being served or another client is waiting
  // on `listen_fd`. So one client at a time is served exactly as before
  // threads (the next connection is prepared after the last one ended),
  // while concurrent clients are taken at once.
  void WaitIdleOrPending(int listen_fd) {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (count_ == 0) {
          return;
        }
      }
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {done_.get(), POLLIN, 0}};
      if (poll(fds, 2, 1000) < 0 && errno != EINTR) {
        return;
      }
      if (fds[0].revents & POLLIN) {
        return;
      }
      uint64_t drained;
      (void)!read(done_.get(), &drained, sizeof(drained));
    }
  }

 private:
  UniqueFd done_;
  std::mutex mu_;
  std::condition_variable idle_;
  int count_ = 0;
};

int RunServer() {
  const size_t bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_mr_bytes));
  const int max_connections = absl::GetFlag(FLAGS_connections);
  absl::StatusOr<ServerSetup> setup = SetUpServer();
  if (!setup.ok()) {
    LOG(ERROR) << "raw_verbs_connect server: " << setup.status();
    return 1;
  }
  std::cout << "{\"bench\":\"raw_verbs_connect\",\"role\":\"server\","
            << "\"ready\":true,\"device\":"
            << verbs::JsonQuote(setup->context->name())
            << ",\"gid_index\":" << setup->port.gid_index << ",\"listen\":"
            << verbs::JsonQuote(absl::StrCat(setup->listen_address.host, ":",
                                             setup->listen_address.port))
            << "}" << std::endl;

  std::mutex out_mu;  // One JSON line at a time on stdout.
  std::atomic<int> failures{0};
  InFlight in_flight;
  // Prints the line of connection `served`; counts a failure.
  auto report = [&](int served, const absl::Status& status, uint32_t qpn,
                    double prepare_us, const StepTimer& timer) {
    if (!status.ok()) {
      ++failures;
      LOG(ERROR) << "raw_verbs_connect server, connection " << served << ": "
                 << status;
    }
    std::string line = absl::StrCat(
        "{\"bench\":\"raw_verbs_connect\",\"role\":\"server\",\"conn\":",
        served, ",\"ok\":", status.ok() ? "true" : "false", ",\"qpn\":", qpn,
        absl::StrFormat(",\"prepare_us\":%.1f", prepare_us),
        ",\"steps_us\":", timer.StepsJson(),
        absl::StrFormat(",\"served_us\":%.1f", timer.ElapsedMicros()));
    if (!status.ok()) {
      absl::StrAppend(&line,
                      ",\"error\":", verbs::JsonQuote(status.ToString()));
    }
    std::lock_guard<std::mutex> lock(out_mu);
    std::cout << line << "}" << std::endl;
  };

  for (int served = 0; max_connections == 0 || served < max_connections;
       ++served) {
    in_flight.WaitIdleOrPending(setup->listener.get());
    StepTimer prepare_timer;
    absl::StatusOr<Connection> connection =
        PrepareConnection(setup->context, setup->pd, setup->port, bytes);
    const double prepare_us = prepare_timer.ElapsedMicros();
    if (!connection.ok()) {
      // A device that cannot create objects will not heal: stop.
      report(served, connection.status(), 0, prepare_us, StepTimer());
      in_flight.WaitIdle();
      return 1;
    }
    absl::StatusOr<UniqueFd> client = AcceptTcp(setup->listener.get());
    // Timed from accept on: the part of the server a client waits for.
    StepTimer timer;
    if (!client.ok()) {
      report(served, client.status(), connection->qp->qpn(), prepare_us, timer);
      continue;
    }
    // Each client on its own thread, with its own objects: concurrent
    // clients are served concurrently, and the next connection is prepared
    // meanwhile.
    in_flight.Start();
    std::thread([&, served, prepare_us, timer,
                 connection = *std::move(connection),
                 fd = *std::move(client)]() mutable {
      const absl::Status status =
          Serve(fd.get(), setup->port, connection, timer);
      report(served, status, connection.qp->qpn(), prepare_us, timer);
      in_flight.Done();
    }).detach();
  }
  in_flight.WaitIdle();
  return failures == 0 ? 0 : 1;
}

// ---- Warm client -----------------------------------------------------------

// What a warm process set up once: device, PD, one MR with a slice per
// thread, the port's address.
struct WarmSetup {
  std::shared_ptr<Context> context;
  std::shared_ptr<Pd> pd;
  std::vector<uint8_t> buffer;
  std::unique_ptr<Mr> mr;
  PortAddress port;
  HostPort peer;
};

absl::StatusOr<std::unique_ptr<WarmSetup>> SetUpWarm(int threads,
                                                     size_t bytes) {
  auto setup = std::make_unique<WarmSetup>();
  SWIFT_ASSIGN_OR_RETURN(setup->peer, ParseHostPort(absl::GetFlag(FLAGS_peer)));
  SWIFT_ASSIGN_OR_RETURN(setup->context,
                         Context::OpenByName(absl::GetFlag(FLAGS_device)));
  SWIFT_ASSIGN_OR_RETURN(setup->pd, Pd::Allocate(setup->context));
  setup->buffer.assign(static_cast<size_t>(threads) * bytes, 0);
  SWIFT_ASSIGN_OR_RETURN(
      setup->mr, Mr::Register(setup->pd, setup->buffer.data(),
                              setup->buffer.size(), IBV_ACCESS_LOCAL_WRITE));
  SWIFT_ASSIGN_OR_RETURN(
      setup->port,
      verbs::QueryPortAddress(
          *setup->context, static_cast<uint8_t>(absl::GetFlag(FLAGS_ib_port)),
          GidIndexFlag()));
  return setup;
}

struct WarmResult {
  absl::Status status;
  double latency_us = 0;   // CQ creation to the peer's verdict.
  double teardown_us = 0;  // Destroying QP and CQ, closing the socket.
  StepTimer timer;
};

// One connection of thread `slot` in a warm process; writes only its slice
// of the shared buffer.
WarmResult WarmConnection(WarmSetup& setup, int slot, int index) {
  const size_t bytes = static_cast<size_t>(absl::GetFlag(FLAGS_mr_bytes));
  const size_t offset = static_cast<size_t>(slot) * bytes;
  const uint64_t seed =
      (static_cast<uint64_t>(getpid()) << 40) ^
      (static_cast<uint64_t>(slot) << 24) ^ static_cast<uint64_t>(index) ^
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) * 0x10001ull;
  // The program's data is written before it connects: not timed.
  FillPattern(setup.buffer.data() + offset, bytes, seed);
  WarmResult result;
  std::shared_ptr<Cq> cq;
  std::unique_ptr<Qp> qp;
  UniqueFd socket;
  QpEndpoint peer;
  result.timer.Restart();
  result.status = [&]() -> absl::Status {
    SWIFT_ASSIGN_OR_RETURN(cq, result.timer.Time("create_cq", [&] {
      return Cq::Create(setup.context, kCqEntries);
    }));
    SWIFT_ASSIGN_OR_RETURN(qp, result.timer.Time("create_qp", [&] {
      return Qp::Create(setup.pd, cq, cq, IBV_QPT_RC);
    }));
    return ConnectAndWrite(result.timer, setup.peer, setup.port, *qp, *cq,
                           *setup.mr, offset, bytes, seed, socket, peer);
  }();
  result.latency_us = result.timer.ElapsedMicros();
  const StepTimer::Clock::time_point teardown_begin = StepTimer::Clock::now();
  socket.Reset();
  qp.reset();
  cq.reset();
  result.teardown_us =
      StepTimer::MicrosBetween(teardown_begin, StepTimer::Clock::now());
  return result;
}

// sorted[q * n], as connect_bench computes its percentiles.
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(q * sorted.size()))];
}

int RunWarmClient() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int per_thread = absl::GetFlag(FLAGS_connections) > 0
                             ? absl::GetFlag(FLAGS_connections)
                             : 20;
  const size_t bytes = static_cast<size_t>(absl::GetFlag(FLAGS_mr_bytes));
  if (threads < 1 || threads > 1024 || absl::GetFlag(FLAGS_warmup) < 0) {
    std::cerr << "raw_verbs_connect: --threads must be 1..1024, --warmup "
                 ">= 0\n";
    return 2;
  }
  StepTimer setup_timer;
  absl::StatusOr<std::unique_ptr<WarmSetup>> setup = SetUpWarm(threads, bytes);
  const double setup_us = setup_timer.ElapsedMicros();
  auto fail = [&](const absl::Status& status) {
    LOG(ERROR) << "raw_verbs_connect warm client: " << status;
    std::cout << "{\"bench\":\"raw_verbs_connect\",\"role\":\"warm_client\","
              << "\"threads\":" << threads
              << ",\"ok\":0,\"error\":" << verbs::JsonQuote(status.ToString())
              << "}" << std::endl;
    return 1;
  };
  if (!setup.ok()) {
    return fail(setup.status());
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    if (WarmResult warm = WarmConnection(**setup, 0, -1 - i);
        !warm.status.ok()) {
      return fail(warm.status);
    }
  }

  std::mutex mu;
  std::vector<WarmResult> results;
  results.reserve(static_cast<size_t>(threads) * per_thread);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        WarmResult result = WarmConnection(**setup, t, i);
        std::lock_guard<std::mutex> lock(mu);
        results.push_back(std::move(result));
      }
    });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  std::vector<double> latencies, teardowns;
  std::map<std::string, std::vector<double>> steps;
  std::vector<std::string> step_order;
  std::map<std::string, int> failures;
  std::string first_error;
  for (const WarmResult& result : results) {
    if (!result.status.ok()) {
      ++failures[absl::StatusCodeToString(result.status.code())];
      if (first_error.empty()) {
        first_error = result.status.ToString();
      }
      continue;
    }
    latencies.push_back(result.latency_us);
    teardowns.push_back(result.teardown_us);
    for (const auto& [name, us] : result.timer.steps()) {
      if (steps.find(name) == steps.end()) {
        step_order.push_back(name);
      }
      steps[name].push_back(us);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  std::sort(teardowns.begin(), teardowns.end());
  std::vector<std::string> step_json, failure_json;
  for (const std::string& name : step_order) {
    std::vector<double>& values = steps[name];
    std::sort(values.begin(), values.end());
    step_json.push_back(absl::StrFormat("%s:%.1f", verbs::JsonQuote(name),
                                        Percentile(values, 0.5)));
  }
  int failed = 0;
  for (const auto& [reason, count] : failures) {
    failed += count;
    failure_json.push_back(
        absl::StrFormat("%s:%d", verbs::JsonQuote(reason), count));
  }
  std::string line = absl::StrFormat(
      "{\"bench\":\"raw_verbs_connect\",\"role\":\"warm_client\","
      "\"device\":%s,\"peer\":%s,\"mr_bytes\":%d,\"threads\":%d,"
      "\"total\":%d,\"ok\":%d,\"failed\":%d,\"failed_by_reason\":{%s},"
      "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"min_us\":%.1f,"
      "\"wall_s\":%.3f,\"conn_per_s\":%.1f,\"steps_p50_us\":{%s},"
      "\"teardown_p50_us\":%.1f,\"setup_us\":%.1f",
      verbs::JsonQuote(absl::GetFlag(FLAGS_device)),
      verbs::JsonQuote(absl::GetFlag(FLAGS_peer)), static_cast<int>(bytes),
      threads, threads * per_thread, static_cast<int>(latencies.size()), failed,
      absl::StrJoin(failure_json, ","), Percentile(latencies, 0.5),
      Percentile(latencies, 0.9), Percentile(latencies, 0.99),
      latencies.empty() ? 0.0 : latencies.front(), wall_s,
      latencies.size() / wall_s, absl::StrJoin(step_json, ","),
      Percentile(teardowns, 0.5), setup_us);
  if (!first_error.empty()) {
    absl::StrAppend(&line, ",\"first_error\":", verbs::JsonQuote(first_error));
    LOG(ERROR) << "raw_verbs_connect warm client: " << failed
               << " failed, first: " << first_error;
  }
  std::cout << line << "}" << std::endl;
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace swift::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  if (absl::GetFlag(FLAGS_mr_bytes) <= 0 ||
      absl::GetFlag(FLAGS_max_mr_bytes) <= 0 ||
      absl::GetFlag(FLAGS_ib_port) < 1 || absl::GetFlag(FLAGS_ib_port) > 255 ||
      absl::GetFlag(FLAGS_gid_index) > 255) {
    std::cerr << "raw_verbs_connect: bad --mr_bytes, --max_mr_bytes, "
                 "--ib_port or --gid_index\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_server)) {
    return swift::bench::RunServer();
  }
  return absl::GetFlag(FLAGS_warm) ? swift::bench::RunWarmClient()
                                   : swift::bench::RunClient();
}
