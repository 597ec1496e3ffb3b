// DeviceCache: every RDMA device on the host, opened once by swiftd and
// kept current while it runs.
//
// For each device it keeps the open context (later parts hand it out with
// Acquire(): memory leases, sessions) and a DeviceRecord: attributes, ports,
// GID table with types and netdevs, completion vectors, the provider library
// that serves it, and probed capabilities (import, a forked child's send
// doorbell, hardware IRQs). A device that fails to open or a probe that
// fails is recorded, never fatal: `swiftctl devices` explains it.
//
// Keeping current (unless Options::watch is off):
//   - a thread per open device reads its async events (AsyncEventReader):
//     port up/down, GID/LID/PKey changes re-read the ports and GID table;
//     DEVICE_FATAL marks the device removed;
//   - a monitor thread listens to kernel uevents for the "infiniband" and
//     "infiniband_verbs" subsystems (uevent.h says why uevents and not the
//     RDMA netlink monitor) and rescans on each, plus every
//     Options::rescan_interval as the fallback for lost uevents and for
//     hosts where none arrive (a network namespace without them). A rescan
//     lists the devices (ibv_get_device_list sees hot-plugged ones), opens
//     new ones and marks vanished ones kRemoved: its event thread is
//     joined, listeners are told, and the context closes once the last
//     holder lets go.
// Who must learn of a removal subscribes to table() (device_table.h has
// the contract: generation counter and listeners).
//
// Thread-safe. Shutdown() joins every thread; the destructor calls it.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "common/verbs/context.h"
#include "common/verbs/device_info.h"
#include "daemon/devices/async_event_reader.h"
#include "daemon/devices/device_table.h"

namespace swift {

class DeviceCache final {
 public:
  struct Options {
    // Use only these devices (all when empty); others are never opened.
    std::vector<std::string> only;
    // Follow async events and uevents and rescan; off: open once, as at
    // start (tests, tools).
    bool watch = true;
    // The fallback rescan's period.
    absl::Duration rescan_interval = absl::Seconds(30);
  };

  // One device as the rest of swiftd reads it (a copy).
  struct Entry {
    std::string name;
    // Null unless the device is open; see `error`.
    std::shared_ptr<verbs::Context> context;
    verbs::DeviceInfo info;
    absl::Duration open_time;
    // OK when `context` is usable; otherwise why not (failed or removed).
    absl::Status error;
  };

  // Start()
  //
  // Lists the devices and opens each one (or those in `only`), probes
  // them, and (with `watch`) starts following them. Zero devices gives an
  // empty cache, not an error. Fails when the device list cannot be read,
  // or with kNotFound when a name in `only` is not a device. A uevent
  // socket that cannot be opened is a warning: rescans still run.
  static absl::StatusOr<std::unique_ptr<DeviceCache>> Start(Options options);

  // OpenAll()
  //
  // Start() with `only` and the default options.
  static absl::StatusOr<std::unique_ptr<DeviceCache>> OpenAll(
      const std::vector<std::string>& only = {});

  DeviceCache(const DeviceCache&) = delete;
  DeviceCache& operator=(const DeviceCache&) = delete;
  ~DeviceCache();

  // Shutdown()
  //
  // Stops the monitor and every event thread and joins them. The contexts
  // stay open until the cache is destroyed. Later calls do nothing.
  void Shutdown();

  // Every device ever seen, in the order first seen (a snapshot).
  std::vector<Entry> entries() const;

  // The records and the generation they are consistent with.
  std::vector<DeviceRecord> Snapshot(uint64_t* generation = nullptr) const {
    return table_.Snapshot(generation);
  }

  // Subscribe to changes, Acquire() contexts, read the generation.
  DeviceTable& table() { return table_; }
  const DeviceTable& table() const { return table_; }

  // Devices open now, that failed to open, that were removed.
  int open_count() const;
  int failed_count() const;
  int removed_count() const;

  // RequestRescan()
  //
  // Asks the monitor to rescan now (returns at once; no-op without
  // `watch`). Rescan() does it on the calling thread and returns when done.
  void RequestRescan();
  absl::Status Rescan();

  // Rescans done so far (start-up's included).
  uint64_t rescans() const { return rescans_.load(); }

 private:
  explicit DeviceCache(Options options);

  // Opens and probes `device`; the context is null unless the record is
  // kOpen.
  std::pair<DeviceRecord, std::shared_ptr<verbs::Context>> OpenAndProbe(
      ibv_device* device);
  // Starts the event thread of an open device (a failure is logged).
  void StartReader(const std::string& name,
                   const std::shared_ptr<verbs::Context>& context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rescan_mu_);
  void StopReader(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(rescan_mu_);
  // An event thread's callback.
  void OnEvent(const std::string& name, ibv_context* context,
               uint32_t port_count, const DeviceEvent& event);
  void Monitor();

  const Options options_;
  DeviceTable table_;

  // Serializes rescans (start-up, monitor, Rescan()) and owns the readers.
  absl::Mutex rescan_mu_ ABSL_ACQUIRED_BEFORE(fatal_mu_);
  std::map<std::string, std::unique_ptr<AsyncEventReader>> readers_
      ABSL_GUARDED_BY(rescan_mu_);

  // Devices whose event thread saw DEVICE_FATAL: the next rescan closes
  // them (never the event thread itself: it polls the context's fd).
  absl::Mutex fatal_mu_;
  std::set<std::string> fatal_ ABSL_GUARDED_BY(fatal_mu_);

  UniqueFd uevents_;  // -1 when uevents are unavailable.
  UniqueFd wake_;     // eventfd: rescan requests and Shutdown().
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> rescans_{0};
  std::thread monitor_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_CACHE_H_
