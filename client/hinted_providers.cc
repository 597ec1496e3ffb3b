// ReadSessionHints() and LoadHintedProviders(); see hinted_providers.h.
#include "client/hinted_providers.h"

#include <algorithm>

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "client/preload/preload_hints.h"
#include "common/unix_socket.h"

namespace swift {

bool SessionHints::CanShare(absl::string_view device) const {
  return std::find(shareable_devices.begin(), shareable_devices.end(),
                   device) != shareable_devices.end();
}

SessionHints ReadSessionHints(absl::string_view socket_path) {
  SessionHints result;
  const std::string path = PreloadHintsPath(socket_path);
  swift_preload_hints hints;  // ~2.8 KiB.
  const char* why = nullptr;
  // Not swift_read_live_hints(): see preload_hints.h.
  if (swift_read_hints(path.c_str(), &hints, &why) != 0) {
    result.unread_because = absl::StrCat(why, " (", path, ")");
    return result;
  }
  for (int i = 0; i < hints.provider_count; ++i) {
    result.providers.emplace_back(hints.providers[i]);
  }
  for (int i = 0; i < hints.import_count; ++i) {
    result.shareable_devices.emplace_back(hints.import_devices[i]);
  }
  return result;
}

HintedProviders LoadHintedProviders(const SessionHints& hints) {
  static absl::once_flag once;
  HintedProviders result;
  result.skipped_because = "already loaded by an earlier session";
  absl::call_once(once, [&] {
    result.skipped_because.clear();
    if (!hints.unread_because.empty()) {
      result.skipped_because = hints.unread_because;
      return;
    }
    if (hints.providers.empty()) {
      result.skipped_because = "swiftd named no provider";
      return;
    }
    for (const std::string& provider : hints.providers) {
      const char* why = nullptr;
      if (swift_load_provider(provider.c_str(), &why) == 0) {
        ++result.loaded;
      } else {
        result.skipped_because = absl::StrCat(why, ": ", provider);
      }
    }
  });
  return result;
}

}  // namespace swift
