// LoadHintedProviders(): libswift's first cold-start cut. Before this
// process's first ibv_get_device_list, load only the provider libraries
// swiftd named for this host's devices (the hints file beside its socket;
// client/preload/preload_hints.h). Their constructors register the drivers,
// libibverbs matches every device to them and never loads the other
// providers (on rxe: the first device list 24-28 ms -> 5.5-6.2 ms;
// ARCHITECTURE.md, "cold path"). libswift_preload.so applies the same cut
// to programs that do not use libswift.
#ifndef SWIFT_CLIENT_HINTED_PROVIDERS_H_
#define SWIFT_CLIENT_HINTED_PROVIDERS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace swift {

struct HintedProviders {
  // Providers loaded by this call (0 when an earlier call loaded them).
  int loaded = 0;
  // Why nothing was loaded, when nothing was (no hints file, swiftd gone,
  // a provider not trusted, ...); empty otherwise.
  std::string skipped_because;
};

// LoadHintedProviders()
//
// Loads the providers named in <directory of `socket_path`>/preload.hints
// once per process; later calls load nothing. Never fails: a missing or
// untrusted file only means libibverbs loads its providers as it always
// does, so the reason is returned for logs and benchmarks. Thread-safe.
HintedProviders LoadHintedProviders(absl::string_view socket_path);

}  // namespace swift

#endif  // SWIFT_CLIENT_HINTED_PROVIDERS_H_
