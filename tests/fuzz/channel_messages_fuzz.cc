// Fuzz target: the worker's edge on a direct channel (daemon/worker/
// channel_messages and DirectChannels), where a client's bytes and an
// instance's replies meet.
//
// Each input is messages (fuzz_support.h's encoding), taken in pairs: the
// first of a pair is sent by a client on a direct channel (a socketpair);
// when the worker reads an invocation from it, the second is parsed as the
// instance's InvokeReply and answered on the channel. Every message is
// also translated directly both ways (FromChannelRequest as a FastRequest,
// ToChannelResponse as an InvokeReply).
//
// Checks: only WARM and FORK invocations with a timeout reach the worker;
// a reply's status survives the translation (OK stays OK, an error stays
// an error); every answer on the channel is a FastResponse; the channel
// is dropped when the client closes it, and no descriptor is kept.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"
#include "daemon/worker/channel_messages.h"
#include "daemon/worker/direct_channels.h"
#include "proto/fast_path.pb.h"
#include "proto/worker.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

bool CodeInRange(int32_t code) {
  return code >= 0 &&
         code <= static_cast<int>(absl::StatusCode::kUnauthenticated);
}

void Translate(const std::string& message) {
  v1::FastRequest request;
  if (request.ParseFromString(message)) {
    absl::StatusOr<worker::v1::InvokeRequest> call =
        FromChannelRequest(request);
    if (call.ok()) {
      Check(request.has_invoke() &&
                request.invoke().mode() != v1::InvokeRequest::COLD,
            "FromChannelRequest: passed on a COLD or non-invocation");
      Check(call->id() == request.call_id(), "FromChannelRequest: the id");
      Check(call->timeout_ms() != 0, "FromChannelRequest: no timeout");
      Check(call->mode() == worker::v1::WARM || call->mode() == worker::v1::FORK,
            "FromChannelRequest: a mode other than WARM or FORK");
    } else {
      Check(absl::IsInvalidArgument(call.status()),
            "FromChannelRequest: an undocumented error");
    }
  }
  worker::v1::InvokeReply reply;
  if (reply.ParseFromString(message)) {
    const v1::FastResponse response = ToChannelResponse(7, reply, "f");
    Check(response.call_id() == 7, "ToChannelResponse: the call id");
    Check(CodeInRange(response.code()), "ToChannelResponse: the code");
    Check((response.code() == 0) == (reply.code() == 0),
          "ToChannelResponse: OK and errors swapped");
    Check(response.code() != 0 || response.has_invoke(),
          "ToChannelResponse: OK without an InvokeResponse");
  }
}

// Reads what the worker answered so far; every answer is a FastResponse.
void Drain(int client) {
  char buffer[70 * 1024];
  while (true) {
    const ssize_t n = recv(client, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n <= 0) {
      return;
    }
    v1::FastResponse response;
    Check(response.ParseFromArray(buffer, static_cast<int>(n)),
          "the channel answered something other than a FastResponse");
    Check(CodeInRange(response.code()), "the channel answered a bad code");
  }
}

void OverAChannel(const std::vector<std::string>& messages) {
  int pair[2];
  Check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0,
        "socketpair(SOCK_SEQPACKET)");
  UniqueFd client(pair[0]);
  DirectChannels channels;
  worker::v1::OpenChannel open;
  open.set_client_name("fuzz");
  open.set_client_pid(1);
  const uint64_t id = channels.Open(open, UniqueFd(pair[1]));
  for (size_t i = 0; i < messages.size() && channels.size() == 1; i += 2) {
    const std::string& request = messages[i];
    if (send(client.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      break;  // Too long for a datagram: the client cannot send it either.
    }
    std::optional<worker::v1::InvokeRequest> call = channels.Receive(id);
    if (call.has_value()) {
      worker::v1::InvokeReply reply;
      // What the worker would relay: a reply that parses (a failed parse
      // leaves a partial message no worker ever builds).
      if (i + 1 < messages.size() && !reply.ParseFromString(messages[i + 1])) {
        reply.Clear();
      }
      reply.set_id(call->id());
      channels.Reply(id, reply);
    }
    Drain(client.get());
  }
  client.Reset();
  if (channels.size() == 1) {
    Check(!channels.Receive(id).has_value(),
          "an invocation from a closed channel");
  }
  Check(channels.size() == 0, "a closed channel was kept");
}

}  // namespace
}  // namespace swift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swift::fuzz;  // NOLINT: the entry point is global.
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  const std::vector<std::string> messages = SplitMessages(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  for (const std::string& message : messages) {
    Translate(message);
  }
  const int fds_before = OpenFdCount();
  OverAChannel(messages);
  Check(OpenFdCount() == fds_before, "a direct channel leaked a descriptor");
  return 0;
}
