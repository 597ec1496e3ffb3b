// libswift's reading of the hints file swiftd keeps beside its socket
// (<socket dir>/preload.hints; format and trust rules in
// client/preload/preload_hints.h), for two cold-start cuts:
//   - LoadHintedProviders(): before this process's first
//     ibv_get_device_list, load only the provider libraries swiftd named
//     for this host's devices. Their constructors register the drivers,
//     libibverbs matches every device to them and never loads the other
//     providers (on rxe: the first device list 24-28 ms -> 5.5-6.2 ms;
//     ARCHITECTURE.md, "cold path"). libswift_preload.so applies the same
//     cut to programs that do not use libswift.
//   - SessionHints::CanShare(): whether swiftd can hand this process a
//     device context to import rather than open (only providers that can
//     import: mlx5, efa), known without a round trip, so that a session
//     on any other device (rxe) never waits for swiftd to learn it.
#ifndef SWIFT_CLIENT_HINTED_PROVIDERS_H_
#define SWIFT_CLIENT_HINTED_PROVIDERS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace swift {

struct SessionHints {
  // Provider libraries serving this host's devices (absolute paths).
  std::vector<std::string> providers;
  // Devices whose contexts swiftd shares (its "import" lines).
  std::vector<std::string> shareable_devices;
  // Why the file was not used (missing, untrusted, malformed); empty
  // when it was read.
  std::string unread_because;

  bool CanShare(absl::string_view device) const;
};

// ReadSessionHints()
//
// Reads <directory of `socket_path`>/preload.hints: a trusted file, well
// formed (not whether the swiftd that wrote it still runs: a session
// needs swiftd anyway and fails clearly without it). Never fails: a file
// that cannot be used only means libibverbs loads its providers as it
// always does and the session opens its device itself, so the reason is
// kept for logs and benchmarks. Thread-safe.
SessionHints ReadSessionHints(absl::string_view socket_path);

struct HintedProviders {
  // Providers loaded by this call (0 when an earlier call loaded them).
  int loaded = 0;
  // Why nothing was loaded, when nothing was (no hints file, a provider
  // not trusted, ...); empty otherwise.
  std::string skipped_because;
};

// LoadHintedProviders()
//
// Loads `hints.providers` once per process; later calls load nothing.
// Never fails (see ReadSessionHints()). Thread-safe.
HintedProviders LoadHintedProviders(const SessionHints& hints);

}  // namespace swift

#endif  // SWIFT_CLIENT_HINTED_PROVIDERS_H_
