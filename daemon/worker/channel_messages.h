// The worker's edge on a direct channel: translation between the
// client-facing messages a channel carries and the worker's own protocol.
//
// A direct channel (see direct_channels.h) is a fast path connection that
// swiftd handed to the worker. libswift speaks on it what it speaks to
// swiftd on the fast path (proto/fast_path.proto): a FastRequest whose
// `invoke` is the Control API's InvokeRequest, answered by one
// FastResponse whose `invoke` is the InvokeResponse, the status in `code`
// and `message`. The worker's instances speak proto/worker.proto; these
// functions are the only place the two meet on a channel, and the answer
// goes through ToInvokeResponse() (proto/invoke_reply.h), the same mapping
// swiftd applies to the worker's replies it relays.
#ifndef SWIFT_DAEMON_WORKER_CHANNEL_MESSAGES_H_
#define SWIFT_DAEMON_WORKER_CHANNEL_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/fast_path.pb.h"
#include "proto/worker.pb.h"

namespace swift {

// FromChannelRequest()
//
// The worker's request for a client's FastRequest: id = call_id, WARM or
// FORK, the payload, the timeout (0: kDefaultCallTimeout, swift/defaults.h).
// kInvalidArgument when it carries no invocation, or a COLD one (cold
// invocations start a new worker: they go through swiftd).
absl::StatusOr<worker::v1::InvokeRequest> FromChannelRequest(
    const v1::FastRequest& request);

// ReadChannelRequest()
//
// What the worker (or an instance the channel is parked on) runs for the
// bytes a client sent on its channel, read at `now`: FromChannelRequest()'s
// request, with answer_on_channel naming the function and the time. When
// there is nothing to run, nullopt, and `*refusal` is the answer to send:
// to malformed bytes (call id 0), or FromChannelRequest()'s error named
// after the function.
std::optional<worker::v1::InvokeRequest> ReadChannelRequest(
    absl::string_view bytes, absl::Time now, v1::FastResponse* refusal);

// ToChannelResponse()
//
// The answer to the invocation `call_id` of `function` that `reply` ended:
// ToInvokeResponse()'s response, or its error (prefixed with the function's
// name) encoded as every fast path status is.
v1::FastResponse ToChannelResponse(uint64_t call_id,
                                   const worker::v1::InvokeReply& reply,
                                   const std::string& function);

// ChannelErrorResponse()
//
// The answer to a request that could not be read (no function to name).
v1::FastResponse ChannelErrorResponse(uint64_t call_id,
                                      const absl::Status& status);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_CHANNEL_MESSAGES_H_
