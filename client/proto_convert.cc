// Plain types <-> Control API messages; see proto_convert.h.
#include "client/proto_convert.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace swift {
namespace {

// `duration` in whole milliseconds for a uint32 field: zero and negative
// durations are 0 (the server's default), a positive one at least 1.
uint32_t ToMillisecondsField(absl::Duration duration) {
  if (duration <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(duration);
  return static_cast<uint32_t>(std::clamp<int64_t>(
      ms, 1, std::numeric_limits<uint32_t>::max()));
}

absl::Duration Micros(uint64_t microseconds) {
  return absl::Microseconds(static_cast<int64_t>(std::min<uint64_t>(
      microseconds, std::numeric_limits<int64_t>::max())));
}

}  // namespace

DaemonStatus DaemonStatusFromProto(const v1::GetStatusResponse& response) {
  DaemonStatus status;
  status.version = response.version();
  status.api_version = response.api_version();
  status.min_api_version = response.min_api_version();
  status.uptime = Micros(response.uptime_us());
  status.pid = response.pid();
  status.devices_count = response.devices_count();
  status.devices_failed_count = response.devices_failed_count();
  status.clients_count = response.clients_count();
  status.socket_path = response.socket_path();
  status.start_time = absl::FromUnixMicros(response.start_time_unix_us());
  status.incarnation = response.incarnation();
  status.peer_address = response.peer_address();
  return status;
}

v1::RegisterFunctionRequest FunctionSpecToProto(const FunctionSpec& spec) {
  v1::RegisterFunctionRequest request;
  request.set_name(spec.name);
  request.set_library_path(spec.library_path);
  for (const FunctionPeer& peer : spec.peers) {
    v1::FunctionPeer* added = request.add_peers();
    added->set_host(peer.host);
    added->set_service(peer.service);
  }
  request.set_max_instances(spec.max_instances);
  request.set_idle_timeout_ms(ToMillisecondsField(spec.idle_timeout));
  request.set_memory_limit_bytes(spec.memory_limit_bytes);
  request.set_uid(spec.uid);
  request.set_gid(spec.gid);
  request.set_prepared(spec.prepared);
  if (spec.spare_instances.has_value()) {
    request.set_spare_instances(*spec.spare_instances);
  }
  return request;
}

RegisteredFunction RegisteredFunctionFromProto(
    const v1::RegisterFunctionResponse& response) {
  RegisteredFunction registered;
  registered.worker_pid = response.worker_pid();
  registered.worker_startup = Micros(response.worker_startup_us());
  return registered;
}

UnregisteredFunction UnregisteredFunctionFromProto(
    const v1::UnregisterFunctionResponse& response) {
  UnregisteredFunction unregistered;
  unregistered.worker_pid = response.worker_pid();
  return unregistered;
}

v1::InvokeRequest::Mode InvokeModeToProto(InvokeMode mode) {
  switch (mode) {
    case InvokeMode::kCold:
      return v1::InvokeRequest::COLD;
    case InvokeMode::kWarm:
      return v1::InvokeRequest::WARM;
    case InvokeMode::kFork:
      break;
  }
  return v1::InvokeRequest::FORK;
}

InvokeMode InvokeModeFromProto(v1::InvokeRequest::Mode mode) {
  switch (mode) {
    case v1::InvokeRequest::COLD:
      return InvokeMode::kCold;
    case v1::InvokeRequest::WARM:
      return InvokeMode::kWarm;
    default:
      return InvokeMode::kFork;
  }
}

v1::InvokeRequest InvocationToProto(const Invocation& invocation) {
  v1::InvokeRequest request;
  request.set_function(invocation.function);
  request.set_payload(invocation.payload);
  request.set_mode(InvokeModeToProto(invocation.mode));
  request.set_timeout_ms(ToMillisecondsField(invocation.timeout));
  return request;
}

InvokeResult InvokeResultFromProto(const v1::InvokeResponse& response) {
  InvokeResult result;
  result.result = response.result();
  result.served_by = InvokeModeFromProto(response.served_by());
  result.instance_pid = response.instance_pid();
  result.total = Micros(response.total_us());
  result.function_time = Micros(response.function_us());
  result.worker_time = Micros(response.worker_us());
  result.spare = response.spare();
  result.parked = response.parked();
  return result;
}

}  // namespace swift
