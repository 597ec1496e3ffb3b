// DeviceCache: every RDMA device on the host, opened once when swiftd starts.
//
// Today swiftd uses these contexts to describe the devices (`swiftctl
// devices`, the device list every client gets) and to prove at start-up
// that each one opens; it allocates nothing on them. The warm PDs, MRs and
// QP pools an application uses live in that application's libswift Session
// (client/), and a function's in its swift_worker. Serving this cache to
// new processes is the cold path's job (see ARCHITECTURE.md). A device that
// fails to open is kept as an entry with its error, so `swiftctl devices`
// explains it instead of hiding it.
//
// Thread-safe: immutable after OpenAll() returns.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/verbs/context.h"
#include "common/verbs/device_info.h"

namespace swift {

class DeviceCache final {
 public:
  struct Entry {
    std::string name;
    // Null when the device could not be opened or queried; see `error`.
    std::shared_ptr<verbs::Context> context;
    verbs::DeviceInfo info;
    // ibv_open_device plus the queries that filled `info`.
    absl::Duration open_time;
    // OK when `context` is usable.
    absl::Status error;
  };

  // OpenAll()
  //
  // Lists the devices and opens each one, or only those named in `only`
  // when it is not empty. Zero devices gives an empty cache, not an error;
  // a device that fails to open or query is an entry with its error (logged
  // as a warning). Fails when the device list cannot be read, or with
  // kNotFound when a name in `only` is not a device.
  static absl::StatusOr<std::unique_ptr<DeviceCache>> OpenAll(
      const std::vector<std::string>& only = {});

  DeviceCache(const DeviceCache&) = delete;
  DeviceCache& operator=(const DeviceCache&) = delete;

  const std::vector<Entry>& entries() const { return entries_; }

  // Devices whose context is open.
  int open_count() const;
  // Devices that failed to open.
  int failed_count() const;

 private:
  explicit DeviceCache(std::vector<Entry> entries)
      : entries_(std::move(entries)) {}

  const std::vector<Entry> entries_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_
