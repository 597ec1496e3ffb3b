// MetricsAddress: where swiftd serves its Prometheus metrics
// (--metrics_address), checked before anything listens, so that a typo or
// a port another program holds is a start-up error naming the flag rather
// than an exception deep inside the HTTP server.
//
// Thread-safe: plain functions.
#ifndef SWIFT_DAEMON_METRICS_METRICS_ADDRESS_H_
#define SWIFT_DAEMON_METRICS_METRICS_ADDRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

struct MetricsAddress {
  // An IPv4 literal, e.g. "127.0.0.1".
  std::string ip;
  // 0 lets the kernel pick a free port (tests).
  uint16_t port = 0;

  // "ip:port", as the HTTP server takes it.
  std::string ToString() const;
};

// ParseMetricsAddress()
//
// "127.0.0.1:7472" -> {"127.0.0.1", 7472}. kInvalidArgument, with a
// message that names --metrics_address and shows the expected form, for
// anything but an IPv4 literal and a port in 0..65535 (host names are
// refused: the exporter binds exactly what it is told).
absl::StatusOr<MetricsAddress> ParseMetricsAddress(absl::string_view text);

// CheckCanListen()
//
// Binds and listens on `address` once, then lets it go, so that the reason
// a listener cannot be had is the kernel's own: kFailedPrecondition naming
// the flag for a port in use (EADDRINUSE) or an address that is not this
// host's (EADDRNOTAVAIL), kPermissionDenied for a privileged port, the
// errno's status otherwise. Another program may still take the port right
// after; the exporter then fails with a less precise message.
absl::Status CheckCanListen(const MetricsAddress& address);

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_METRICS_ADDRESS_H_
