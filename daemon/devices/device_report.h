// Turns the device cache into the Control API's ListDevices answer.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_

#include "daemon/devices/device_cache.h"
#include "proto/swift.pb.h"

namespace swift {

// DeviceToProto()
//
// One cache entry as a v1::Device; a device that failed to open has its
// name and `error` set and nothing else.
v1::Device DeviceToProto(const DeviceCache::Entry& entry);

// ListDevicesFromCache()
//
// Every cache entry, in the cache's (libibverbs') order.
v1::ListDevicesResponse ListDevicesFromCache(const DeviceCache& cache);

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_
