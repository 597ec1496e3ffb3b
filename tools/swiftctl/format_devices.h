// How `swiftctl devices` shows swiftd's device cache: a table of devices
// (state, provider, completion vectors, IRQs, capabilities), one of ports,
// one of GIDs with their types and netdevs, then the reason for every
// capability a device lacks and the error of every device swiftd cannot
// use. Pure functions of the message; thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_FORMAT_DEVICES_H_
#define SWIFT_TOOLS_SWIFTCTL_FORMAT_DEVICES_H_

#include <string>

#include "proto/swift.pb.h"

namespace swift::swiftctl {

// FormatDevices()
//
// `swiftctl devices` as tables (see above); a hint when there are none.
std::string FormatDevices(const v1::ListDevicesResponse& devices);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_FORMAT_DEVICES_H_
