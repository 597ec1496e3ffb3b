// PreloadHintsKeeper: keeps swiftd's preload hints file (preload_hints_file.h)
// in step with the device table: written at start from the open devices'
// provider libraries and importable contexts, rewritten whenever a device
// appears, vanishes or changes, removed when the keeper is destroyed.
//
// Thread-safe: the table's listener is the only writer after Start().
#ifndef SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_KEEPER_H_
#define SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_KEEPER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/devices/device_record.h"
#include "daemon/devices/device_table.h"
#include "daemon/devices/preload_hints_file.h"

namespace swift {

// The hints for `records`: this process's pid, the provider libraries of
// the open devices (each once, in the records' order), the open devices
// whose context can be imported (`context_import.supported`; the first
// kPreloadHintsMaxImports in the records' order) and the providers' knobs
// for the CPU /proc/cpuinfo describes. Importable devices the file cannot
// list (over the limit, or a name readers refuse) are left out, each added
// to `*left_out` (when not null) as "name (why)".
PreloadHints HintsForDevices(const std::vector<DeviceRecord>& records,
                             std::vector<std::string>* left_out = nullptr);

class PreloadHintsKeeper final {
 public:
  // Start()
  //
  // Writes `path` from `table` and subscribes to its changes. Errors: the
  // file could not be written (the caller may go on without it: programs
  // then load every provider, as without swiftd).
  static absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> Start(
      std::string path, DeviceTable* table);

  PreloadHintsKeeper(const PreloadHintsKeeper&) = delete;
  PreloadHintsKeeper& operator=(const PreloadHintsKeeper&) = delete;
  // Unsubscribes, then removes the file.
  ~PreloadHintsKeeper();

 private:
  PreloadHintsKeeper(DeviceTable* table, std::unique_ptr<PreloadHintsFile> file)
      : table_(table), file_(std::move(file)) {}
  void Refresh();
  // Logs the importable devices the file leaves out, the first time any
  // are.
  void WarnLeftOut(const std::vector<std::string>& left_out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  DeviceTable* const table_;
  absl::Mutex mu_;
  std::unique_ptr<PreloadHintsFile> file_ ABSL_GUARDED_BY(mu_);
  bool warned_left_out_ ABSL_GUARDED_BY(mu_) = false;
  int subscription_ = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_KEEPER_H_
