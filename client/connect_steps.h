// Where a brokered connect's time went: the ConnectSteps (swift/session.h)
// that the swiftds' and the application's measurements (a ConnectResult)
// add up to. Internal to libswift.
//
// Pure functions; thread-safe.
#ifndef SWIFT_CLIENT_CONNECT_STEPS_H_
#define SWIFT_CLIENT_CONNECT_STEPS_H_

#include <cstdint>

#include "absl/time/time.h"
#include "proto/fast_path.pb.h"
#include "swift/session.h"

namespace swift {

// Microseconds from `start` to now.
double MicrosSince(absl::Time start);

// AddRemoteSteps()
//
// Fills `steps`' remote parts from `result`, nested as measured: broker >
// peer call > remote serve > app wait > accept; each step is its span
// minus the span nested in it, never negative (each side rounds to whole
// microseconds). `round_trip_us` is the caller's own round trip to swiftd.
void AddRemoteSteps(const v1::ConnectResult& result, double round_trip_us,
                    ConnectSteps& steps);

}  // namespace swift

#endif  // SWIFT_CLIENT_CONNECT_STEPS_H_
