// WaitModeName, ParseWaitMode, DefaultWaitMode and CompVectorForCpu; see
// swift/wait.h.
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "swift/wait.h"

namespace swift {

absl::string_view WaitModeName(WaitMode mode) {
  switch (mode) {
    case WaitMode::kBusyPoll:
      return "busy_poll";
    case WaitMode::kEvent:
      return "event";
    case WaitMode::kHybrid:
      return "hybrid";
    case WaitMode::kDispatcher:
      return "dispatcher";
  }
  return "unknown";
}

absl::StatusOr<WaitMode> ParseWaitMode(absl::string_view name) {
  for (WaitMode mode : {WaitMode::kBusyPoll, WaitMode::kEvent,
                        WaitMode::kHybrid, WaitMode::kDispatcher}) {
    if (name == WaitModeName(mode)) {
      return mode;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown wait mode \"", name,
                   "\": one of busy_poll, event, hybrid, dispatcher"));
}

WaitMode DefaultWaitMode() {
  // Read once: the environment of a running process does not change the
  // mode of waiters created later.
  static const WaitMode mode = [] {
    const char* value = std::getenv("SWIFT_WAIT_MODE");
    if (value == nullptr || *value == '\0') {
      return WaitMode::kHybrid;
    }
    absl::StatusOr<WaitMode> parsed = ParseWaitMode(value);
    if (!parsed.ok()) {
      SWIFT_LOG(Warning, "SWIFT_WAIT_MODE ignored: ", parsed.status().message(),
                "; using hybrid");
      return WaitMode::kHybrid;
    }
    return *parsed;
  }();
  return mode;
}

absl::StatusOr<int> CompVectorForCpu(ibv_context* context, int cpu) {
  if (context == nullptr) {
    return absl::InvalidArgumentError("CompVectorForCpu: null context");
  }
  if (cpu < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CompVectorForCpu: cpu ", cpu, " < 0"));
  }
  if (context->num_comp_vectors < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(ibv_get_device_name(context->device),
                     " reports no completion vectors"));
  }
  return cpu % context->num_comp_vectors;
}

}  // namespace swift
