// TopSampler; see top_sample.h.
#include "tools/swiftctl/top_sample.h"

#include <unistd.h>

#include <utility>

#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "tools/swiftctl/lease_listings.h"

namespace swift::swiftctl {

absl::StatusOr<std::unique_ptr<TopSampler>> TopSampler::Connect(
    const std::string& socket_path, absl::Duration timeout) {
  ClientOptions options;
  options.socket_path = socket_path;
  options.client_name = "swiftctl top";
  // A viewer holds nothing for swiftd to release, and must not show up as
  // one of the clients it counts.
  options.attach = false;
  options.connect_timeout = timeout;
  options.call_timeout = timeout;
  SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<ControlClient> control,
                         ControlClient::Connect(options));
  SWIFT_ASSIGN_OR_RETURN(
      std::unique_ptr<FastPathClient> fast_path,
      FastPathClient::Connect(FastPathSocketPath(socket_path), "swiftctl top"));
  return std::make_unique<TopSampler>(std::move(control), std::move(fast_path));
}

absl::StatusOr<TopSample> TopSampler::Take() {
  TopSample sample;
  SWIFT_ASSIGN_OR_RETURN(sample.status, control_->GetStatus());
  SWIFT_ASSIGN_OR_RETURN(sample.services, control_->ListServices());
  SWIFT_ASSIGN_OR_RETURN(sample.connections, control_->ListConnections());
  SWIFT_ASSIGN_OR_RETURN(sample.workers, control_->ListWorkers());
  SWIFT_ASSIGN_OR_RETURN(v1::ListClientsResponse clients,
                         ListClients(*fast_path_));
  // This process's own fast path connections (the ControlClient's and the
  // listing's) are the viewer, not swiftd's clients.
  const int64_t self = getpid();
  for (v1::AttachedClient& client : *clients.mutable_clients()) {
    if (client.pid() != self) {
      *sample.clients.add_clients() = std::move(client);
    }
  }
  sample.taken = absl::Now();
  return sample;
}

}  // namespace swift::swiftctl
