// Capability probes for one open device: context import, whether a forked
// child may post sends with the provider's own doorbell, and hardware
// interrupt lines for completion vectors. Each answers yes or no with the
// reason, and never fails: a probe that cannot tell says so in its detail
// (swiftd's start-up must not depend on a probe).
//
// The pure parts (classification, /proc/interrupts counting) are separate
// functions, tested on any host. Thread-safe: no state.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_PROBES_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_PROBES_H_

#include <infiniband/verbs.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "daemon/devices/device_record.h"
#include "daemon/worker/fork/provider_doorbell.h"

namespace swift {

// ImportCapability()
//
// The import probe's answer as a Capability, from what QueryDeviceInfo()
// found (it tries ibv_import_device on a dup of the command fd).
Capability ImportCapability(const verbs::DeviceInfo& info);

// ForkPostCapability()
//
// Whether a forked child may ring the send doorbell the provider's own way,
// for a provider whose doorbell is `kind` (`evidence`: how it was told).
// Pure.
Capability ForkPostCapability(DoorbellKind kind, absl::string_view evidence);

// ProbeForkChildPost()
//
// DetectDoorbell() (daemon/worker/fork: the same detection the fork path
// uses) for `context`, as a Capability; `doorbell` gets the kind's name.
// Costs one RDMA netlink round trip.
Capability ProbeForkChildPost(ibv_context* context, std::string& doorbell);

// CountInterruptLines()
//
// The IRQs of `proc_interrupts` (/proc/interrupts text, parsed by
// ParseProcInterrupts() of irq_map.h) with an action name that contains any
// of `tokens` (e.g. "mlx5_comp", a PCI address); 0 when the text does not
// parse. Empty tokens are ignored. Pure.
int CountInterruptLines(absl::string_view proc_interrupts,
                        const std::vector<std::string>& tokens);

// ProbeHardwareIrqs()
//
// Whether device `name` raises completion interrupts: a software device
// (rxe, siw: no parent bus device under `sysfs_class`/<name>/device) has
// none; otherwise the MSI vectors of its parent (device/msi_irqs) and the
// /proc/interrupts lines naming the device or its parent's address.
// `irq_count` gets the number found.
Capability ProbeHardwareIrqs(
    const std::string& name, uint32_t& irq_count,
    const std::string& sysfs_class = "/sys/class/infiniband",
    const std::string& proc_interrupts = "/proc/interrupts");

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_PROBES_H_
