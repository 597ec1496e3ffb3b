// fault_client: a libswift application for the fault tests, which kill it
// (SIGKILL) at a chosen stage of a connect or an invocation and check that
// swiftd releases everything it held (tests/fault_client_process.h runs
// it). It announces each stage on stdout as "STAGE <name>"; at the stages
// marked (pause) it waits for a line on stdin before going on, and exits
// when stdin ends. Failures print "ERROR <code name>: <message>" and exit 3.
//
// --mode=connect: a Session on --socket (STAGE hello, pause; the fast
//   path hello is done), then --connections connects to --service on
//   --host (STAGE connecting before each: a connect is in flight), each
//   writing --write (if any) at --offset of the service's buffer; STAGE
//   connected (pause); STAGE closing (pause), then "STAGE closing <i>"
//   right before each Close(); STAGE closed (pause).
// --mode=invoke: a ControlClient on --socket (STAGE hello, pause), STAGE
//   invoking, then Invoke(--function, --payload, --invoke_mode,
//   --timeout_ms) ("INVOKED <code name>: <result or message>"); STAGE
//   invoked (pause; a FORK or WARM invocation keeps its FUNCTION channel
//   to the worker open, idle).
#include <infiniband/verbs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/control/control_client.h"
#include "common/verbs/post_and_wait.h"
#include "proto/swift.pb.h"
#include "swift/session.h"

ABSL_FLAG(std::string, socket, "", "swiftd's Control API socket.");
ABSL_FLAG(std::string, mode, "connect", "connect or invoke.");
ABSL_FLAG(std::string, host, "", "connect: the peer swiftd (ip:port).");
ABSL_FLAG(std::string, service, "", "connect: the service.");
ABSL_FLAG(int, connections, 1, "connect: how many connections to make.");
ABSL_FLAG(int, prewarm, 0,
          "connect: keep this many pairs pre-connected (Session::Prewarm) "
          "before connecting.");
ABSL_FLAG(std::string, write, "",
          "connect: bytes each connection writes into the service's buffer.");
ABSL_FLAG(int, offset, 0, "connect: where in the service's buffer.");
ABSL_FLAG(int, connect_timeout_ms, 20000, "connect: each connect's timeout.");
ABSL_FLAG(std::string, function, "f", "invoke: the function.");
ABSL_FLAG(std::string, payload, "", "invoke: the payload.");
ABSL_FLAG(std::string, invoke_mode, "fork", "invoke: fork, warm or cold.");
ABSL_FLAG(int, timeout_ms, 10000, "invoke: the invocation's timeout.");

namespace {

void Say(const std::string& line) {
  std::cout << line << std::endl;  // endl flushes: the test reads a pipe.
}

// Announces `stage` and waits for the test's go (a line on stdin); exits
// when the test closed stdin (it is gone).
void Pause(const std::string& stage) {
  Say("STAGE " + stage);
  std::string line;
  if (!std::getline(std::cin, line)) {
    _exit(0);
  }
}

int Fail(const absl::Status& status) {
  Say(absl::StrCat("ERROR ", absl::StatusCodeToString(status.code()), ": ",
                   status.message()));
  return 3;
}

absl::Status Write(swift::Connection& connection, const std::string& bytes,
                   size_t offset) {
  std::memcpy(connection.buffer(), bytes.data(), bytes.size());
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer()),
                 static_cast<uint32_t>(bytes.size()), connection.mr()->lkey};
  ibv_send_wr wr = swift::verbs::SignaledRdmaRequest(
      IBV_WR_RDMA_WRITE, &sge, connection.remote().addr + offset,
      connection.remote().rkey, /*wr_id=*/1);
  return swift::verbs::PostAndWait(connection.qp(), connection.cq(), wr,
                                   absl::Seconds(10));
}

int RunConnect() {
  swift::SessionOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "fault_client";
  options.pool_low = 1;
  options.pool_high = 2;
  options.buffer_bytes = 8192;
  auto session = swift::Session::Create(options);
  if (!session.ok()) {
    return Fail(session.status());
  }
  Pause("hello");
  if (const int prewarm = absl::GetFlag(FLAGS_prewarm); prewarm > 0) {
    absl::StatusOr<int> ready = (*session)->Prewarm(
        absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service), prewarm,
        absl::Milliseconds(absl::GetFlag(FLAGS_connect_timeout_ms)));
    if (!ready.ok()) {
      return Fail(ready.status());
    }
    Say(absl::StrCat("STAGE prewarmed ", *ready));
  }
  std::vector<std::unique_ptr<swift::Connection>> connections;
  for (int i = 0; i < absl::GetFlag(FLAGS_connections); ++i) {
    Say("STAGE connecting");
    auto connection = (*session)->Connect(
        absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_service),
        absl::Milliseconds(absl::GetFlag(FLAGS_connect_timeout_ms)));
    if (!connection.ok()) {
      return Fail(connection.status());
    }
    if (const std::string bytes = absl::GetFlag(FLAGS_write); !bytes.empty()) {
      if (absl::Status written =
              Write(**connection, bytes, absl::GetFlag(FLAGS_offset));
          !written.ok()) {
        return Fail(written);
      }
    }
    connections.push_back(*std::move(connection));
  }
  Pause("connected");
  Pause("closing");
  for (size_t i = 0; i < connections.size(); ++i) {
    Say(absl::StrCat("STAGE closing ", i));
    if (absl::Status closed = connections[i]->Close(); !closed.ok()) {
      return Fail(closed);
    }
  }
  Pause("closed");
  return 0;
}

int RunInvoke() {
  swift::ClientOptions options;
  options.socket_path = absl::GetFlag(FLAGS_socket);
  options.client_name = "fault_client";
  auto client = swift::ControlClient::Connect(options);
  if (!client.ok()) {
    return Fail(client.status());
  }
  Pause("hello");
  swift::v1::InvokeRequest request;
  request.set_function(absl::GetFlag(FLAGS_function));
  request.set_payload(absl::GetFlag(FLAGS_payload));
  const std::string mode = absl::GetFlag(FLAGS_invoke_mode);
  request.set_mode(mode == "cold"   ? swift::v1::InvokeRequest::COLD
                   : mode == "warm" ? swift::v1::InvokeRequest::WARM
                                    : swift::v1::InvokeRequest::FORK);
  request.set_timeout_ms(absl::GetFlag(FLAGS_timeout_ms));
  Say("STAGE invoking");
  auto invoked = (*client)->Invoke(request);
  Say(absl::StrCat("INVOKED ",
                   absl::StatusCodeToString(invoked.status().code()), ": ",
                   invoked.ok() ? invoked->result()
                                : std::string(invoked.status().message())));
  Pause("invoked");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "connect") {
    return RunConnect();
  }
  if (mode == "invoke") {
    return RunInvoke();
  }
  std::cerr << "fault_client: --mode must be connect or invoke, got '" << mode
            << "'\n";
  return 2;
}
