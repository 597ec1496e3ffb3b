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
// Server (--server): long-lived; opens the device once, then serves
// successive connections, each with its own CQ, QP and MR (--max_mr_bytes,
// default 64 KiB, zeroed). The next connection's objects are created and
// taken to INIT before accept(), as a peer waiting for clients would, so the
// client's "exchange" step holds the network round trip and the server's
// RTR, not the server's setup. Prints a ready line, then one JSON line per
// connection, on stdout.
//
// Exit code: 0 on success; 1 when the client's transfer failed (the JSON
// line says where); 2 for bad flags.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
          "Server: exit after this many connections (0: serve forever).");
ABSL_FLAG(int, timeout_ms, 10000,
          "Give up on a silent peer or a missing completion after this.");

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
  SWIFT_RETURN_IF_ERROR(timer.Time(
      "init", [&] { return verbs::ModifyRcToInit(*state.qp, ib_port); }));
  const uint32_t psn = verbs::RandomPsn();
  SWIFT_ASSIGN_OR_RETURN(state.socket, timer.Time("tcp_connect", [&] {
    return ConnectTcp(peer_address);
  }));
  SWIFT_RETURN_IF_ERROR(SetIoTimeout(state.socket.get(), Timeout()));
  SWIFT_RETURN_IF_ERROR(timer.Time("exchange", [&]() -> absl::Status {
    Hello hello;
    hello.seed = seed;
    hello.length = mr_bytes;
    hello.endpoint = verbs::MakeEndpoint(state.port, state.qp->qpn(), psn);
    SWIFT_RETURN_IF_ERROR(SendFrame(state.socket.get(), EncodeHello(hello)));
    SWIFT_ASSIGN_OR_RETURN(std::string welcome, RecvFrame(state.socket.get()));
    SWIFT_ASSIGN_OR_RETURN(state.peer, verbs::DecodeEndpoint(welcome));
    if (!state.peer.buffer || state.peer.buffer->length < mr_bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("peer offers no buffer of ", mr_bytes,
                       " bytes: ", verbs::EndpointToString(state.peer)));
    }
    return absl::OkStatus();
  }));
  SWIFT_RETURN_IF_ERROR(timer.Time("rtr", [&] {
    return verbs::ModifyRcToRtr(*state.qp, state.port, state.peer);
  }));
  SWIFT_RETURN_IF_ERROR(
      timer.Time("rts", [&] { return verbs::ModifyRcToRts(*state.qp, psn); }));
  SWIFT_RETURN_IF_ERROR(timer.Time("write", [&]() -> absl::Status {
    SWIFT_RETURN_IF_ERROR(state.qp->PostWrite(
        state.mr->Sge(0, static_cast<uint32_t>(mr_bytes)),
        state.peer.buffer->addr, state.peer.buffer->rkey, kWriteWrId));
    SWIFT_ASSIGN_OR_RETURN(ibv_wc wc, state.cq->WaitForCompletion(Timeout()));
    return verbs::CompletionToStatus(wc);
  }));
  // An RC WRITE completes once the peer acknowledged it, i.e. the bytes are
  // in the peer's memory: the peer may check them now.
  return timer.Time("verify", [&]() -> absl::Status {
    SWIFT_RETURN_IF_ERROR(SendFrame(state.socket.get(), "DONE"));
    SWIFT_ASSIGN_OR_RETURN(std::string verdict, RecvFrame(state.socket.get()));
    if (verdict != "OK") {
      return absl::DataLossError(absl::StrCat("peer: ", verdict));
    }
    return absl::OkStatus();
  });
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

  int failures = 0;
  for (int served = 0; max_connections == 0 || served < max_connections;
       ++served) {
    StepTimer prepare_timer;
    absl::StatusOr<Connection> connection =
        PrepareConnection(setup->context, setup->pd, setup->port, bytes);
    const double prepare_us = prepare_timer.ElapsedMicros();
    // Timed from accept on: the part of the server a client waits for.
    StepTimer timer;
    absl::Status status = connection.status();
    if (status.ok()) {
      absl::StatusOr<UniqueFd> client = AcceptTcp(setup->listener.get());
      timer.Restart();
      status = client.ok()
                   ? Serve(client->get(), setup->port, *connection, timer)
                   : client.status();
    }
    if (!status.ok()) {
      ++failures;
      LOG(ERROR) << "raw_verbs_connect server, connection " << served << ": "
                 << status;
    }
    std::string line = absl::StrCat(
        "{\"bench\":\"raw_verbs_connect\",\"role\":\"server\",\"conn\":",
        served, ",\"ok\":", status.ok() ? "true" : "false",
        ",\"qpn\":", connection.ok() ? (*connection).qp->qpn() : 0,
        absl::StrFormat(",\"prepare_us\":%.1f", prepare_us),
        ",\"steps_us\":", timer.StepsJson(),
        absl::StrFormat(",\"served_us\":%.1f", timer.ElapsedMicros()));
    if (!status.ok()) {
      absl::StrAppend(&line,
                      ",\"error\":", verbs::JsonQuote(status.ToString()));
    }
    std::cout << line << "}" << std::endl;
    // A device that cannot create objects will not heal: stop.
    if (!connection.ok()) {
      return 1;
    }
  }
  return failures == 0 ? 0 : 1;
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
  return absl::GetFlag(FLAGS_server) ? swift::bench::RunServer()
                                     : swift::bench::RunClient();
}
