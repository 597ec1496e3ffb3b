// ConnectStats; see connect_stats.h.
#include "daemon/api/connect_stats.h"

namespace swift {

void ConnectStats::Record(uid_t uid, absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  all_.Add(latency);
  auto it = tenants_.find(uid);
  if (it == tenants_.end()) {
    if (tenants_.size() >= kMaxTenants) {
      return;
    }
    it = tenants_.try_emplace(uid).first;
  }
  it->second.Add(latency);
}

v1::LatencyHistogram ConnectStats::All() const {
  v1::LatencyHistogram out;
  absl::MutexLock lock(&mu_);
  all_.ToProto(&out);
  return out;
}

v1::LatencyHistogram ConnectStats::Of(uid_t uid) const {
  v1::LatencyHistogram out;
  absl::MutexLock lock(&mu_);
  const auto it = tenants_.find(uid);
  (it != tenants_.end() ? it->second : LatencyHistogram()).ToProto(&out);
  return out;
}

}  // namespace swift
