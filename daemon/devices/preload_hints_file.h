// PreloadHintsFile: the file swiftd keeps beside its socket
// (<socket dir>/preload.hints) for libswift_preload.so and libswift's cold
// start: which provider libraries serve this host's devices, which
// devices' contexts swiftd can hand out for ibv_import_device, and the
// provider knobs determined for this host. Its format and the readers'
// trust rules are in client/preload/preload_hints.h; a small text file
// rather than a call, so that the preload (loaded into every verbs
// program) needs no protobuf and no round trip.
//
// The file is replaced atomically (a temporary file renamed over it), so
// a reader sees the old contents or the new, never a mix, and removed when
// the owner is destroyed. A swiftd killed with SIGKILL leaves it behind;
// readers check that the pid in it is a running swiftd.
//
// Thread-compatible: one owner updates it.
#ifndef SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_FILE_H_
#define SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_FILE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

// The readers' limits for "import" lines (kSwiftHintsMaxImports and
// kSwiftHintsDeviceNameMax in client/preload/preload_hints.h): at most 8
// lines, a device name and its NUL in 64 bytes (the kernel's
// IB_DEVICE_NAME_MAX). A file beyond them is refused whole.
inline constexpr int kPreloadHintsMaxImports = 8;
inline constexpr int kPreloadHintsDeviceNameMax = 64;

// Whether readers accept `name` in an "import" line: 1 to
// kPreloadHintsDeviceNameMax - 1 characters of [A-Za-z0-9_.-].
bool IsPreloadHintsDeviceName(absl::string_view name);

struct PreloadHints {
  pid_t pid = 0;
  // Absolute paths of provider libraries, without duplicates.
  std::vector<std::string> providers;
  // Devices whose open context swiftd can hand to a client for
  // ibv_import_device, without duplicates: at most kPreloadHintsMaxImports,
  // each an IsPreloadHintsDeviceName() (written as given; readers refuse a
  // file that breaks either rule).
  std::vector<std::string> importable_devices;
  // Provider knobs (name, value); see ProviderKnobs().
  std::vector<std::pair<std::string, std::string>> env;
};

// The file's text for `hints` (client/preload/preload_hints.h's format).
std::string FormatPreloadHints(const PreloadHints& hints);

// ProviderKnobs()
//
// The environment knobs worth setting for `providers` on a CPU described
// by `cpuinfo` (/proc/cpuinfo's text). mlx5 reads all of /proc/cpuinfo in
// every ibv_open_device, to decide on a CQ-polling stall that only Intel
// Sandy Bridge CPUs (family 6, model 42 or 45) need, unless
// MLX5_STALL_CQ_POLL is set: on any other CPU, "0" is what that detection
// would decide, so setting it changes nothing but the cost. On a Sandy
// Bridge CPU (or an unreadable cpuinfo) nothing is set.
std::vector<std::pair<std::string, std::string>> ProviderKnobs(
    const std::vector<std::string>& providers, absl::string_view cpuinfo);

class PreloadHintsFile final {
 public:
  // Write()
  //
  // Writes `hints` to `path` (mode 0644, owned by the caller) atomically.
  // Errors: the failing call's errno status, naming the path.
  static absl::StatusOr<std::unique_ptr<PreloadHintsFile>> Write(
      std::string path, const PreloadHints& hints);

  PreloadHintsFile(const PreloadHintsFile&) = delete;
  PreloadHintsFile& operator=(const PreloadHintsFile&) = delete;
  // Removes the file.
  ~PreloadHintsFile();

  // Replaces the contents (e.g. a device with another provider appeared).
  absl::Status Update(const PreloadHints& hints);

  const std::string& path() const { return path_; }

 private:
  explicit PreloadHintsFile(std::string path) : path_(std::move(path)) {}

  const std::string path_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_PRELOAD_HINTS_FILE_H_
