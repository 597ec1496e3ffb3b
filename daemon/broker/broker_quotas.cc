// BrokerQuotas implementation; see broker_quotas.h.
#include "daemon/broker/broker_quotas.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swift {
namespace {

const char* NameOf(BrokerQuotas::Resource resource) {
  switch (resource) {
    case BrokerQuotas::Resource::kConnections:
      return "connections";
    case BrokerQuotas::Resource::kServices:
      return "services";
    case BrokerQuotas::Resource::kPooledEndpoints:
      return "pooled endpoints";
  }
  return "objects";
}

}  // namespace

const char* BrokerQuotas::FlagOf(Resource resource) {
  switch (resource) {
    case Resource::kConnections:
      return kMaxConnectionsPerTenantFlag;
    case Resource::kServices:
      return kMaxServicesPerTenantFlag;
    case Resource::kPooledEndpoints:
      return kMaxPooledEndpointsPerTenantFlag;
  }
  return "";
}

int64_t& BrokerQuotas::CountOf(Usage& usage, Resource resource) {
  switch (resource) {
    case Resource::kConnections:
      return usage.connections;
    case Resource::kServices:
      return usage.services;
    case Resource::kPooledEndpoints:
      break;
  }
  return usage.pooled_endpoints;
}

BrokerQuotas::Limits BrokerQuotas::limits() const {
  absl::MutexLock lock(&mu_);
  return limits_;
}

void BrokerQuotas::SetLimits(const Limits& limits) {
  absl::MutexLock lock(&mu_);
  limits_ = limits;
}

int64_t BrokerQuotas::LimitOf(Resource resource) const {
  switch (resource) {
    case Resource::kConnections:
      return limits_.connections;
    case Resource::kServices:
      return limits_.services;
    case Resource::kPooledEndpoints:
      break;
  }
  return limits_.pooled_endpoints;
}

absl::Status BrokerQuotas::Acquire(uid_t uid, Resource resource,
                                   int64_t count) {
  if (count <= 0) {
    return absl::OkStatus();
  }
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(uid);
  const int64_t held = it == usage_.end() ? 0 : CountOf(it->second, resource);
  const int64_t limit = LimitOf(resource);
  if (uid != 0 && count > limit - held) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "uid ", uid, " holds ", held, " ", NameOf(resource), " and asked for ",
        count, " more: its quota is ", limit, " (", FlagOf(resource), ")"));
  }
  if (it == usage_.end()) {
    it = usage_.emplace(uid, Usage{uid}).first;
  }
  CountOf(it->second, resource) += count;
  return absl::OkStatus();
}

void BrokerQuotas::Release(uid_t uid, Resource resource, int64_t count) {
  if (count <= 0) {
    return;
  }
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(uid);
  if (it == usage_.end()) {
    return;
  }
  int64_t& held = CountOf(it->second, resource);
  held = std::max<int64_t>(0, held - count);
  const Usage& usage = it->second;
  if (usage.connections == 0 && usage.services == 0 &&
      usage.pooled_endpoints == 0) {
    usage_.erase(it);
  }
}

BrokerQuotas::Usage BrokerQuotas::Of(uid_t uid) const {
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(uid);
  return it == usage_.end() ? Usage{uid} : it->second;
}

std::vector<BrokerQuotas::Usage> BrokerQuotas::List() const {
  std::vector<Usage> list;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [uid, usage] : usage_) {
      list.push_back(usage);
    }
  }
  std::sort(list.begin(), list.end(),
            [](const Usage& a, const Usage& b) { return a.uid < b.uid; });
  return list;
}

}  // namespace swift
