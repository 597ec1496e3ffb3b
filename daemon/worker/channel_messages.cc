// The direct channel's translations; see channel_messages.h.
#include "daemon/worker/channel_messages.h"

#include "proto/invoke_reply.h"
#include "proto/wire_status.h"
#include "swift/defaults.h"

namespace swift {

absl::StatusOr<worker::v1::InvokeRequest> FromChannelRequest(
    const v1::FastRequest& request) {
  if (!request.has_invoke()) {
    return absl::InvalidArgumentError(
        "a function's channel carries invocations only");
  }
  const v1::InvokeRequest& invoke = request.invoke();
  if (invoke.mode() == v1::InvokeRequest::COLD) {
    return absl::InvalidArgumentError(
        "cold invocations go through swiftd (they start a new worker), not "
        "a direct channel");
  }
  worker::v1::InvokeRequest call;
  call.set_id(request.call_id());
  call.set_mode(invoke.mode() == v1::InvokeRequest::WARM ? worker::v1::WARM
                                                         : worker::v1::FORK);
  call.set_payload(invoke.payload());
  call.set_timeout_ms(invoke.timeout_ms() == 0
                          ? static_cast<uint32_t>(
                                absl::ToInt64Milliseconds(kDefaultCallTimeout))
                          : invoke.timeout_ms());
  return call;
}

std::optional<worker::v1::InvokeRequest> ReadChannelRequest(
    absl::string_view bytes, absl::Time now, v1::FastResponse* refusal) {
  v1::FastRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    *refusal = ChannelErrorResponse(
        0, absl::InvalidArgumentError("malformed request"));
    return std::nullopt;
  }
  const std::string& function = request.invoke().function();
  absl::StatusOr<worker::v1::InvokeRequest> call = FromChannelRequest(request);
  if (!call.ok()) {
    worker::v1::InvokeReply refused;
    refused.set_id(request.call_id());
    EncodeStatus(call.status(), &refused);
    *refusal = ToChannelResponse(request.call_id(), refused, function);
    return std::nullopt;
  }
  worker::v1::ChannelAnswer* answer = call->mutable_answer_on_channel();
  answer->set_function(function);
  answer->set_received_ns(absl::ToUnixNanos(now));
  return *std::move(call);
}

v1::FastResponse ToChannelResponse(uint64_t call_id,
                                   const worker::v1::InvokeReply& reply,
                                   const std::string& function) {
  v1::FastResponse response;
  response.set_call_id(call_id);
  absl::StatusOr<v1::InvokeResponse> answer = ToInvokeResponse(reply, function);
  EncodeStatus(answer.status(), &response);
  if (answer.ok()) {
    *response.mutable_invoke() = *std::move(answer);
  }
  return response;
}

v1::FastResponse ChannelErrorResponse(uint64_t call_id,
                                      const absl::Status& status) {
  v1::FastResponse response;
  response.set_call_id(call_id);
  EncodeStatus(status, &response);
  return response;
}

}  // namespace swift
