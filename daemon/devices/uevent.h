// Kernel uevents: how swiftd learns that an RDMA device appeared or went.
//
// The kernel broadcasts a uevent on a NETLINK_KOBJECT_UEVENT socket (group 1)
// whenever a device is added, removed, renamed or changed; that needs no
// udevd and no privilege. RDMA devices show up in two subsystems:
// "infiniband" (the device itself, e.g. rxeA) and "infiniband_verbs" (its
// uverbs character device, which is what libibverbs opens). The removal that
// matters comes from the latter: on `rdma link delete` of a provider without
// disassociation (rxe), the kernel removes the uverbs device and then waits
// until every process has closed its contexts, so swiftd must let go
// promptly when it sees it. (The RDMA netlink monitor group would say the
// same, but exists only from kernel 6.9 on; the guest runs 6.1.)
//
// A uevent only makes swiftd rescan: what is true is what libibverbs lists,
// so a lost, forged or reordered uevent can make swiftd late, never wrong.
//
// ParseUevent() is pure; OpenUeventSocket()/ReadUevents() are the system
// side. Thread-safe: no state.
#ifndef SWIFT_DAEMON_DEVICES_UEVENT_H_
#define SWIFT_DAEMON_DEVICES_UEVENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift {

struct Uevent {
  std::string action;     // "add", "remove", "change", "move", ...
  std::string devpath;    // "/devices/virtual/infiniband/rxeA"
  std::string subsystem;  // "infiniband", "infiniband_verbs", "net", ...
  std::string devname;    // "infiniband/uverbs2" for character devices.
};

// ParseUevent()
//
// One kernel uevent datagram: "ACTION@DEVPATH\0KEY=VALUE\0...". nullopt for
// anything else, e.g. udevd's re-broadcasts (they start with "libudev") or a
// truncated header. Pure.
std::optional<Uevent> ParseUevent(absl::string_view datagram);

// IsRdmaUevent()
//
// Whether `event` concerns an RDMA device or its uverbs node.
bool IsRdmaUevent(const Uevent& event);

// OpenUeventSocket()
//
// A non-blocking, close-on-exec NETLINK_KOBJECT_UEVENT socket bound to the
// kernel's group. Errors: the failing socket()/bind()'s errno status (e.g.
// in a sandbox without netlink).
absl::StatusOr<UniqueFd> OpenUeventSocket();

// ReadUevents()
//
// Every datagram queued on `fd` (from OpenUeventSocket) that parses, until
// the socket would block. Never blocks. Datagrams lost to an overrun
// (ENOBUFS) are not an error: `overrun` is set, and the caller should
// rescan.
std::vector<Uevent> ReadUevents(int fd, bool& overrun);

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_UEVENT_H_
