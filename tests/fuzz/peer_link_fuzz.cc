// Fuzz target: what another host reaches on swiftd's lean peer link, and
// the Peer API's handler behind it.
//
// Two real PeerLinkServers listen on 127.0.0.1 (loopback only) in front of
// one PeerHandler whose ServiceRegistry has one service, "echo", run by a
// FakeApplication on a socketpair (it answers every accept at once, so a
// Connect completes without RDMA or any other host). No peers: nothing is
// dialled. One link's PeerGate is insecure (allow-list 127.0.0.1 only:
// requests reach the handler); the other's holds a cluster secret (every
// request needs a valid, fresh, unreplayed credential). Each input:
//
//   byte 0      bit 0 set: the rest is a HelloRequest for
//               PeerHandler::Hello (the gRPC Peer API's only call that
//               the link does not carry). Otherwise a link connection:
//               bit 1 clear: the rest is messages (fuzz_support.h's
//               encoding), each framed with its correct length; set: raw
//               bytes (lengths included, as the fuzzer made them);
//               bit 2: to the secure link; bit 3 (framed, secure): each
//               message that parses as a LinkRequest is signed with the
//               secret first, so that the fuzzer reaches the handler
//               through the credential check as a peer of the cluster.
//
// Checks: the server answers only frames that parse as LinkResponse with a
// code absl knows, closes the connection after the stream ends, and keeps
// no descriptor; Hello answers with this swiftd's incarnation.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "daemon/broker/fake_application.h"
#include "daemon/broker/peer_authenticator.h"
#include "daemon/broker/peer_gate.h"
#include "daemon/broker/peer_handler.h"
#include "daemon/broker/peer_link_server.h"
#include "daemon/broker/service_registry.h"
#include "proto/peer.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

constexpr uint64_t kIncarnation = 4242;
constexpr char kService[] = "echo";

struct World {
  // Accepts time out after 1 s, not 5: bounded runs whatever the input.
  ServiceRegistry registry{absl::Seconds(1)};
  PeerHandler handler{kIncarnation, "127.0.0.1:1",
                      std::vector<peer::v1::PeerDevice>(1), &registry};
  std::unique_ptr<FakeApplication> app;
  std::unique_ptr<PeerGate> open_gate;
  std::unique_ptr<PeerGate> secure_gate;
  std::unique_ptr<PeerLinkServer> open_link;
  std::unique_ptr<PeerLinkServer> secure_link;
};

std::unique_ptr<PeerGate> Gate(const std::string& secret) {
  PeerGateOptions options;
  options.secret = secret;
  options.insecure = secret.empty();
  options.allow = {"127.0.0.1"};
  absl::StatusOr<std::unique_ptr<PeerGate>> gate = PeerGate::Create(options);
  Check(gate.ok(), absl::StrCat("PeerGate::Create: ", gate.status().ToString()));
  return *std::move(gate);
}

std::unique_ptr<PeerLinkServer> Link(World& world, PeerGate* gate) {
  absl::StatusOr<std::unique_ptr<PeerLinkServer>> link =
      PeerLinkServer::Start(HostPort{"127.0.0.1", 0}, &world.handler, gate);
  Check(link.ok(),
        absl::StrCat("PeerLinkServer::Start: ", link.status().ToString()));
  return *std::move(link);
}

World& TheWorld() {
  static World* world = [] {
    QuietLogs();
    auto* w = new World();
    FakeApplication::Options options;
    options.service = kService;
    options.endpoints = 16;
    w->app = std::make_unique<FakeApplication>(&w->registry, options);
    Check(w->app->listen_status().ok(), "the fake application's listen");
    w->open_gate = Gate("");
    w->secure_gate = Gate(std::string(PeerAuthenticator::kMinSecretBytes, 's'));
    w->open_link = Link(*w, w->open_gate.get());
    w->secure_link = Link(*w, w->secure_gate.get());
    w->handler.set_link_port(w->open_link->port());
    return w;
  }();
  return *world;
}

// A cluster peer's version of `message`: signed when it is a LinkRequest.
std::string Signed(const World& world, const std::string& message) {
  peer::v1::LinkRequest request;
  if (!request.ParseFromString(message)) {
    return message;
  }
  const char* method = "";
  const google::protobuf::Message* call = LinkCall(request, &method);
  if (call == nullptr) {
    return message;
  }
  *request.mutable_credential() =
      world.secure_gate->authenticator()->Sign(method, *call);
  return request.SerializeAsString();
}

// Connects take the service's pooled endpoints: top them up so that later
// inputs reach the accept path too.
void TopUp(World& world) {
  for (const ServiceRegistry::ServiceStats& stats : world.registry.Stats()) {
    if (stats.name == kService && stats.pooled < 4) {
      world.app->AddEndpoints(16);
    }
  }
}

std::string Frame(absl::string_view payload) {
  std::string frame(4, '\0');
  const uint32_t length = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) {
    frame[i] = static_cast<char>(length >> (8 * (3 - i)));
  }
  frame.append(payload.data(), payload.size());
  return frame;
}

// The answers must be whole frames, each a LinkResponse.
void CheckAnswers(const std::vector<std::string>& answers) {
  std::string stream;
  for (const std::string& piece : answers) {
    stream += piece;
  }
  size_t at = 0;
  // A trailing piece of a frame is not checked: when the server closes with
  // bytes of ours unread, the kernel resets the connection, and a reset
  // may overtake the end of the answer.
  while (stream.size() - at >= 4) {
    size_t length = 0;
    for (int i = 0; i < 4; ++i) {
      length = (length << 8) | static_cast<unsigned char>(stream[at + i]);
    }
    if (stream.size() - at - 4 < length) {
      break;
    }
    peer::v1::LinkResponse response;
    Check(response.ParseFromArray(stream.data() + at + 4,
                                  static_cast<int>(length)),
          "the link answered something other than a LinkResponse");
    Check(response.code() >= 0 &&
              response.code() <=
                  static_cast<int>(absl::StatusCode::kUnauthenticated),
          "the link answered a code outside absl's range");
    at += 4 + length;
  }
}

void OverTheLink(World& world, uint8_t mode, absl::string_view rest) {
  const bool raw = mode & 2;
  const bool secure = mode & 4;
  const bool sign = secure && (mode & 8);
  std::vector<std::string> chunks;
  if (raw) {
    chunks.emplace_back(rest);
  } else {
    for (const std::string& message : SplitMessages(rest)) {
      chunks.push_back(Frame(sign ? Signed(world, message) : message));
    }
  }
  const uint16_t port =
      secure ? world.secure_link->port() : world.open_link->port();
  const int fds_before = OpenFdCount();
  {
    absl::StatusOr<UniqueFd> connection =
        ConnectTcp(HostPort{"127.0.0.1", port});
    if (!connection.ok()) {
      Check(false, absl::StrCat("connect to the link: ",
                                connection.status().ToString()));
    }
    CheckAnswers(Exchange(connection->get(), chunks, {}));
    // Closed with a reset: no TIME_WAIT per input to exhaust the ports.
    const linger reset = {1, 0};
    setsockopt(connection->get(), SOL_SOCKET, SO_LINGER, &reset,
               sizeof(reset));
  }
  ExpectFdCount(fds_before, "peer link connection ended");
}

void Hello(World& world, absl::string_view rest) {
  peer::v1::HelloRequest request;
  if (!request.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
    return;
  }
  absl::StatusOr<peer::v1::HelloResponse> hello = world.handler.Hello(request);
  if (hello.ok()) {
    Check(hello->incarnation() == kIncarnation, "Hello: wrong incarnation");
    Check(hello->link_port() == world.open_link->port(),
          "Hello: wrong link port");
  }
}

}  // namespace
}  // namespace swift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swift::fuzz;  // NOLINT: the entry point is global.
  if (size == 0) {
    return 0;
  }
  World& world = TheWorld();
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  if (data[0] & 1) {
    Hello(world, rest);
  } else {
    TopUp(world);
    OverTheLink(world, data[0], rest);
  }
  return 0;
}
