// `swiftctl top`'s input: one sample of a running swiftd's counters and
// listings, taken over the existing Control API and fast path calls
// (GetStatus, ListServices, ListConnections, ListWorkers, ListClients).
// Two samples and the time between them make one frame (top_frame.h).
//
// Thread-compatible: a TopSampler is used by one thread at a time.
#ifndef SWIFT_TOOLS_SWIFTCTL_TOP_SAMPLE_H_
#define SWIFT_TOOLS_SWIFTCTL_TOP_SAMPLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/control/control_client.h"
#include "client/fast_path_client.h"
#include "proto/fast_path.pb.h"
#include "proto/swift.pb.h"

namespace swift::swiftctl {

// What swiftd answered at one moment. The listings are the caller's view:
// root sees every tenant's rows and swiftd's own counters, anyone else its
// own (see proto/fast_path.proto).
struct TopSample {
  // When the sample was complete (the clock the rates divide by).
  absl::Time taken = absl::UnixEpoch();
  v1::GetStatusResponse status;
  v1::ListServicesResponse services;
  v1::ListConnectionsResponse connections;
  v1::ListWorkersResponse workers;
  // Fast path clients, without the connections of the process that took
  // the sample (swiftctl top itself).
  v1::ListClientsResponse clients;
};

class TopSampler {
 public:
  // Connect()
  //
  // Opens the Control API (gRPC, not attached) and the fast path of the
  // swiftd at `socket_path`; each later call is bounded by `timeout`.
  // kUnavailable/kNotFound when swiftd is not running there ("swiftd is not
  // running: ..."), as ControlClient::Connect() and FastPathClient::Connect()
  // say. The caller owns the result.
  static absl::StatusOr<std::unique_ptr<TopSampler>> Connect(
      const std::string& socket_path, absl::Duration timeout);

  // Takes both connections to one swiftd; Connect() makes them.
  TopSampler(std::unique_ptr<ControlClient> control,
             std::unique_ptr<FastPathClient> fast_path)
      : control_(std::move(control)), fast_path_(std::move(fast_path)) {}

  TopSampler(const TopSampler&) = delete;
  TopSampler& operator=(const TopSampler&) = delete;

  // Take()
  //
  // One sample: five calls to swiftd, in turn. Returns the first call's
  // error (kUnavailable when swiftd went away, kDeadlineExceeded when it did
  // not answer in time). Blocks for the calls.
  absl::StatusOr<TopSample> Take();

 private:
  std::unique_ptr<ControlClient> control_;
  std::unique_ptr<FastPathClient> fast_path_;
};

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_TOP_SAMPLE_H_
