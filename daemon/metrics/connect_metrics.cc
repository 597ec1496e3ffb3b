// ConnectMetrics; see connect_metrics.h.
#include "daemon/metrics/connect_metrics.h"

#include "daemon/metrics/latency_buckets.h"

namespace swift {

ConnectMetrics::ConnectMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& family = prometheus::BuildHistogram()
                     .Name("swift_connect_step_seconds")
                     .Help(
                         "Time a brokered connect that succeeded spent in "
                         "each step (broker: all of it as this swiftd saw "
                         "it; admission, peer_call, remote_serve, "
                         "remote_app_wait, app_accept: its parts), in "
                         "seconds.")
                     .Register(*registry_);
  auto step = [&](const char* name) {
    return &family.Add({{"step", name}}, LatencyBuckets());
  };
  broker_ = step("broker");
  admission_ = step("admission");
  peer_call_ = step("peer_call");
  remote_serve_ = step("remote_serve");
  remote_app_wait_ = step("remote_app_wait");
  app_accept_ = step("app_accept");
}

void ConnectMetrics::Observe(const v1::ConnectResult& result) {
  constexpr double kSecondsPerMicro = 1e-6;
  broker_->Observe(result.broker_us() * kSecondsPerMicro);
  admission_->Observe(result.admission_us() * kSecondsPerMicro);
  peer_call_->Observe(result.peer_call_us() * kSecondsPerMicro);
  remote_serve_->Observe(result.remote_serve_us() * kSecondsPerMicro);
  remote_app_wait_->Observe(result.remote_app_wait_us() * kSecondsPerMicro);
  app_accept_->Observe(result.app_accept_us() * kSecondsPerMicro);
}

}  // namespace swift
