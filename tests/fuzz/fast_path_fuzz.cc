// Fuzz target: swiftd's fast path as any local user reaches it.
//
// A real FastPathServer (the hello check, the channel kinds) listens on a
// socket in a scratch directory and answers through a FastPathService with
// no broker and no function workers (connects and invocations are refused
// early, never touching the network or spawning anything); SERVICE
// channels go to a real ServiceRegistry, which the listings show. Each input is one connection:
//
//   byte 0      bit i: attach a descriptor (/dev/null) to message i
//   the rest    messages (fuzz_support.h's encoding), sent in order
//
// The connection is then ended and the target checks that the server
// closed its side, answered only well-formed statuses, and kept no
// descriptor (neither the connection's nor any attached one). Every
// message that parses as a FastRequest is also handed to
// FastPathService::Handle directly, as root, as a tenant and as a caller
// of unknown uid: the same handler without a socket in between.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/seqpacket_socket.h"
#include "daemon/api/fast_path_service.h"
#include "daemon/broker/service_registry.h"
#include "daemon/transport/fast_path_server.h"
#include "proto/fast_path.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

struct World {
  ServiceRegistry registry{absl::Seconds(1)};
  // Listings see the registry's services (those SERVICE channels made).
  FastPathService service{/*broker=*/nullptr, /*workers=*/nullptr, &registry};
  std::string path;
  std::unique_ptr<FastPathServer> server;
};

World& TheWorld() {
  static World* world = [] {
    QuietLogs();
    auto* w = new World();
    w->path = ScratchDirectory("fast-path") + "/swiftd.fast.sock";
    FastPathServer::Handlers handlers;
    handlers.call = [w](const FastPathCaller& caller,
                        const v1::FastRequest& request) {
      return w->service.Handle(caller, request);
    };
    handlers.service = [w](SeqpacketSocket channel,
                           const FastPathCaller& caller) {
      w->registry.ServeChannel(std::move(channel), caller);
    };
    handlers.function_channel = [w](const SeqpacketSocket& channel,
                                    const FastPathCaller& caller,
                                    const std::string& function) {
      return w->service.AttachFunctionChannel(channel, caller, function);
    };
    handlers.disconnected = [](const FastPathCaller&) {};
    handlers.peer_address = "127.0.0.1:1";
    handlers.device = "fuzz0";
    absl::StatusOr<std::unique_ptr<FastPathServer>> server =
        FastPathServer::Start(w->path, 0600, std::move(handlers));
    Check(server.ok(), absl::StrCat("FastPathServer::Start: ",
                                    server.status().ToString()));
    w->server = *std::move(server);
    return w;
  }();
  return *world;
}

bool WireCodeInRange(int32_t code) {
  return code >= 0 && code <= static_cast<int>(absl::StatusCode::kUnauthenticated);
}

// The handler alone, as three kinds of caller.
void HandleDirectly(World& world, const std::string& message) {
  v1::FastRequest request;
  if (!request.ParseFromString(message)) {
    return;
  }
  FastPathCaller root;
  root.channel_id = 1;
  root.uid = 0;
  root.gid = 0;
  FastPathCaller tenant = root;
  tenant.uid = 1000;
  tenant.gid = 1000;
  FastPathCaller unknown = root;
  unknown.uid = FastPathCaller::kUnknownId;
  for (const FastPathCaller* caller : {&root, &tenant, &unknown}) {
    const v1::FastResponse response = world.service.Handle(*caller, request);
    Check(WireCodeInRange(response.code()), "Handle: a code outside absl's");
    // Nothing is brokered and no function runs here: these never succeed.
    const bool needs_more = request.has_connect() || request.has_close() ||
                            request.has_invoke() ||
                            request.has_register_function() ||
                            request.has_unregister_function();
    if (response.code() == 0 && needs_more) {
      Check(false, absl::StrCat("Handle succeeded without a broker or "
                                "workers: ",
                                request.ShortDebugString()));
    }
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
  const uint8_t fd_mask = data[0];
  const std::vector<std::string> messages = SplitMessages(absl::string_view(
      reinterpret_cast<const char*>(data) + 1, size - 1));
  std::vector<bool> fds_for(messages.size());
  for (size_t i = 0; i < messages.size() && i < 8; ++i) {
    fds_for[i] = (fd_mask >> i) & 1;
  }

  const int fds_before = OpenFdCount();
  {
    absl::StatusOr<swift::SeqpacketSocket> client =
        swift::SeqpacketSocket::Connect(world.path);
    Check(client.ok(), absl::StrCat("connect to the fast path: ",
                                    client.status().ToString()));
    const std::vector<std::string> answers =
        Exchange(client->fd(), messages, fds_for);
    // The first answer is always the transport's or the handler's
    // FastResponse (a SERVICE channel speaks ServiceDown after its hello).
    if (!answers.empty()) {
      swift::v1::FastResponse first;
      Check(first.ParseFromString(answers[0]),
            "the first answer is not a FastResponse");
      Check(WireCodeInRange(first.code()), "a code outside absl's range");
    }
  }
  ExpectFdCount(fds_before, "fast path connection ended");

  for (const std::string& message : messages) {
    HandleDirectly(world, message);
  }
  return 0;
}
