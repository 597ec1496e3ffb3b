// ConnectMetrics: latency histograms of the steps of every brokered connect
// that succeeded, fed by the broker as each one completes (Broker::Options
// ::on_connected), in the parts of v1::ConnectResult (libswift's
// ConnectSteps): broker (this swiftd, request to answer), admission
// (waiting for a handshake slot), peer_call (the call to the remote
// swiftd), remote_serve (its handling), remote_app_wait (waiting for the
// listening application) and app_accept (the application's own work).
//
// Thread-safe: prometheus-cpp's histograms are.
#ifndef SWIFT_DAEMON_METRICS_CONNECT_METRICS_H_
#define SWIFT_DAEMON_METRICS_CONNECT_METRICS_H_

#include <memory>

#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proto/fast_path.pb.h"

namespace swift {

class ConnectMetrics final {
 public:
  ConnectMetrics();
  ConnectMetrics(const ConnectMetrics&) = delete;
  ConnectMetrics& operator=(const ConnectMetrics&) = delete;

  // Observe(): one connect's steps, from the broker's answer.
  void Observe(const v1::ConnectResult& result);

  // swift_connect_step_seconds{step}, for the exposer.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* broker_;
  prometheus::Histogram* admission_;
  prometheus::Histogram* peer_call_;
  prometheus::Histogram* remote_serve_;
  prometheus::Histogram* remote_app_wait_;
  prometheus::Histogram* app_accept_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_CONNECT_METRICS_H_
