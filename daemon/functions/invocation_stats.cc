// InvocationStats; see invocation_stats.h.
#include "daemon/functions/invocation_stats.h"

namespace swift {
namespace {

// The modes in the order Of() lists them (ModeIndex()'s inverse).
constexpr v1::InvokeRequest::Mode kModes[] = {
    v1::InvokeRequest::COLD, v1::InvokeRequest::WARM, v1::InvokeRequest::FORK};

}  // namespace

size_t InvocationStats::ModeIndex(v1::InvokeRequest::Mode mode) {
  switch (mode) {
    case v1::InvokeRequest::COLD:
      return 0;
    case v1::InvokeRequest::WARM:
      return 1;
    default:
      // FORK, and MODE_UNSPECIFIED, which is served as FORK.
      return 2;
  }
}

void InvocationStats::Record(const std::string& function,
                             v1::InvokeRequest::Mode mode,
                             const absl::Status& result,
                             absl::Duration elapsed) {
  absl::MutexLock lock(&mu_);
  auto it = functions_.find(function);
  if (it == functions_.end()) {
    if (functions_.size() >= kMaxFunctions) {
      return;
    }
    it = functions_.try_emplace(function).first;
  }
  ModeCounts& counts = it->second[ModeIndex(mode)];
  ++counts.invocations;
  if (!result.ok()) {
    ++counts.failures;
  }
  counts.latency.Add(elapsed);
}

void InvocationStats::Forget(const std::string& function) {
  absl::MutexLock lock(&mu_);
  functions_.erase(function);
}

std::vector<v1::InvocationModeStats> InvocationStats::Of(
    const std::string& function) const {
  PerMode counts;
  {
    absl::MutexLock lock(&mu_);
    const auto it = functions_.find(function);
    if (it != functions_.end()) {
      counts = it->second;
    }
  }
  std::vector<v1::InvocationModeStats> out;
  for (v1::InvokeRequest::Mode mode : kModes) {
    const ModeCounts& of_mode = counts[ModeIndex(mode)];
    v1::InvocationModeStats& stats = out.emplace_back();
    stats.set_mode(mode);
    stats.set_invocations(of_mode.invocations);
    stats.set_failures(of_mode.failures);
    of_mode.latency.ToProto(stats.mutable_latency());
  }
  return out;
}

size_t InvocationStats::size() const {
  absl::MutexLock lock(&mu_);
  return functions_.size();
}

}  // namespace swift
