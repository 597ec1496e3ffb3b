// HelloPortAddress(): the port address the fast path's hello offers
// clients (FastHelloReply.port_address), from the device table, so that a
// new process need not query the port and its GID table itself.
#ifndef SWIFT_DAEMON_DEVICES_HELLO_PORT_ADDRESS_H_
#define SWIFT_DAEMON_DEVICES_HELLO_PORT_ADDRESS_H_

#include <optional>
#include <string>

#include "daemon/devices/device_table.h"
#include "proto/fast_path.pb.h"

namespace swift {

// Port 1 of `device` as `table` describes it now (verbs::
// PortAddressFromInfo: what the client's own query would give); nullopt
// when the device is not open or the port has no usable address (the
// client then queries it, and gets the error).
std::optional<v1::CachedPortAddress> HelloPortAddress(
    const DeviceTable& table, const std::string& device);

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_HELLO_PORT_ADDRESS_H_
