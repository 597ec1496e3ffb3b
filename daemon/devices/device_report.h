// Turns the device cache into the Control API's ListDevices answer and the
// fast path's DescribeDevices answer (the same devices, one message).
// Pure functions of the records; thread-safe.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_

#include <vector>

#include "daemon/devices/device_cache.h"
#include "daemon/devices/device_record.h"
#include "proto/swift.pb.h"

namespace swift {

// DeviceToProto()
//
// One record as a v1::Device: a failed device has its name, state and
// `error` set and nothing else; a removed one keeps its last known state
// beside the error.
v1::Device DeviceToProto(const DeviceRecord& record);

// ListDevicesFromRecords()
//
// Every record, in the given order, with the generation they match.
v1::ListDevicesResponse ListDevicesFromRecords(
    const std::vector<DeviceRecord>& records, uint64_t generation);

// ListDevicesFromCache()
//
// The cache's devices now, in the order first seen.
v1::ListDevicesResponse ListDevicesFromCache(const DeviceCache& cache);

// DescribeDevices()
//
// The fast path's answer: the same snapshot as ListDevicesFromCache().
v1::DescribeDevicesResult DescribeDevices(const DeviceCache& cache);

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_REPORT_H_
