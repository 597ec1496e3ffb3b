// ToInvokeResponse(); see invoke_reply.h.
#include "proto/invoke_reply.h"

#include "absl/strings/str_cat.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

v1::InvokeRequest::Mode ToApiMode(worker::v1::InvokeMode mode) {
  switch (mode) {
    case worker::v1::COLD:
      return v1::InvokeRequest::COLD;
    case worker::v1::WARM:
      return v1::InvokeRequest::WARM;
    default:
      return v1::InvokeRequest::FORK;
  }
}

}  // namespace

absl::StatusOr<v1::InvokeResponse> ToInvokeResponse(
    const worker::v1::InvokeReply& reply, const std::string& function) {
  if (absl::Status status = DecodeStatus(reply); !status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("function '", function, "': ", status.message()));
  }
  v1::InvokeResponse response;
  response.set_result(reply.result());
  response.set_served_by(ToApiMode(reply.served_by()));
  response.set_instance_pid(reply.instance_pid());
  response.set_function_us(reply.function_us());
  response.set_worker_us(reply.worker_us());
  response.set_total_us(reply.worker_us());
  response.set_spare(reply.spare());
  response.set_parked(reply.parked());
  return response;
}

}  // namespace swift
