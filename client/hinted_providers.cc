// LoadHintedProviders(); see hinted_providers.h.
#include "client/hinted_providers.h"

#include "absl/base/call_once.h"
#include "absl/strings/str_cat.h"
#include "client/preload/preload_hints.h"
#include "common/unix_socket.h"

namespace swift {
namespace {

HintedProviders LoadOnce(const std::string& hints_path) {
  HintedProviders result;
  static swift_preload_hints hints;  // ~2.5 KiB; used once per process.
  const char* why = nullptr;
  // Not swift_read_live_hints(): see preload_hints.h.
  if (swift_read_hints(hints_path.c_str(), &hints, &why) != 0) {
    result.skipped_because = absl::StrCat(why, " (", hints_path, ")");
    return result;
  }
  for (int i = 0; i < hints.provider_count; ++i) {
    if (swift_load_provider(hints.providers[i], &why) == 0) {
      ++result.loaded;
    } else {
      result.skipped_because = absl::StrCat(why, ": ", hints.providers[i]);
    }
  }
  if (hints.provider_count == 0) {
    result.skipped_because = "swiftd named no provider";
  }
  return result;
}

}  // namespace

HintedProviders LoadHintedProviders(absl::string_view socket_path) {
  static absl::once_flag once;
  HintedProviders result;
  result.skipped_because = "already loaded by an earlier session";
  absl::call_once(once,
                  [&] { result = LoadOnce(PreloadHintsPath(socket_path)); });
  return result;
}

}  // namespace swift
