// DeviceRecord: everything swiftd knows about one RDMA device, as plain data
// (no verbs objects): attributes, ports, GIDs, provider, probed capabilities
// and where the device is in its life (open, failed, removed).
//
// DeviceTable keeps one per device name and hands out copies; a copy is a
// consistent snapshot. Plain data: thread-compatible.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_RECORD_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/verbs/device_info.h"

namespace swift {

enum class DeviceState {
  // swiftd holds an open context; `info` is current.
  kOpen,
  // Listed by libibverbs but could not be opened or queried: `error` says
  // why. Retried at each rescan.
  kFailed,
  // Gone from the host (rdma link delete, driver unbound, hot unplug) or
  // declared dead by the device (IBV_EVENT_DEVICE_FATAL): `error` says
  // which. swiftd's context is released; `info` is the last known state.
  kRemoved,
};

// "open", "failed", "removed".
absl::string_view DeviceStateName(DeviceState state);

// One probed capability: whether the device has it and, always, why.
struct Capability {
  bool supported = false;
  // For "yes" how it was established; for "no" the reason, e.g.
  // "ibv_import_device: Operation not supported".
  std::string detail;
};

struct DeviceRecord {
  std::string name;
  DeviceState state = DeviceState::kFailed;
  // OK when kOpen; otherwise why not.
  absl::Status error;
  // Last known attributes, ports and GIDs (kept when removed).
  verbs::DeviceInfo info;
  // The provider library serving the device (verbs::FindProviderLibrary)
  // and its driver name ("rxe"); empty when it could not be told.
  std::string provider_library;
  std::string driver;
  // Probed, never assumed (daemon/devices/device_probes.h).
  // ibv_import_device on a duplicate of swiftd's command fd.
  Capability context_import;
  // May a forked child ring the send doorbell with the provider's own
  // ibv_post_send()? (no: it needs the ioctl doorbell of
  // daemon/worker/fork/provider_doorbell.h).
  Capability fork_child_post;
  // "mmio", "write-command", ... (DoorbellKindName).
  std::string doorbell;
  // Interrupt lines for completion vectors (none: software device).
  Capability hardware_irqs;
  uint32_t irq_count = 0;
  // ibv_open_device plus the queries and probes.
  absl::Duration open_time;
  // The last async event that changed the record ("PORT_ERR on port 1"),
  // empty if none, and when the record last changed.
  std::string last_event;
  absl::Time changed_at;
  // DeviceTable's generation when this record last changed.
  uint64_t generation = 0;

  // Whether swiftd may hand a context of this device to a client to
  // import (daemon/contexts): open, and the import probe worked.
  bool CanShareContext() const {
    return state == DeviceState::kOpen && context_import.supported;
  }
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_RECORD_H_
