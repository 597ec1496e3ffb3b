// ConnectSteps arithmetic; see connect_steps.h.
#include "client/connect_steps.h"

#include <algorithm>

namespace swift {
namespace {

// `whole` minus the `part` of it another process measured; never negative
// (each side rounds to whole microseconds).
double Less(uint32_t whole, uint32_t part) {
  return whole > part ? static_cast<double>(whole - part) : 0.0;
}

}  // namespace

double MicrosSince(absl::Time start) {
  return absl::ToDoubleMicroseconds(absl::Now() - start);
}

void AddRemoteSteps(const v1::ConnectResult& result, double round_trip_us,
                    ConnectSteps& steps) {
  steps.to_swiftd_us = std::max(0.0, round_trip_us - result.broker_us());
  steps.admission_us = result.admission_us();
  steps.broker_us = Less(result.broker_us(),
                         result.admission_us() + result.peer_call_us());
  steps.peer_link_us = Less(result.peer_call_us(), result.remote_serve_us());
  steps.remote_us =
      Less(result.remote_serve_us(), result.remote_app_wait_us());
  steps.to_app_us = Less(result.remote_app_wait_us(), result.app_accept_us());
  steps.app_accept_us = result.app_accept_us();
}

}  // namespace swift
