// Listings implementation; see listings.h.
#include "daemon/api/listings.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/time/clock.h"

namespace swift {
namespace {

void FillAdmission(const AdmissionController& admission,
                   const FastPathCaller& caller, v1::AdmissionInfo* info) {
  const AdmissionController::Limits& limits = admission.limits();
  info->set_per_peer_limit(limits.per_peer);
  info->set_total_limit(limits.total);
  info->set_per_tenant_limit(limits.per_tenant);
  if (Listings::SeesAll(caller)) {
    const AdmissionController::Stats stats = admission.GetStats();
    info->set_in_flight(stats.in_flight);
    info->set_queued(stats.queued);
    info->set_admitted(stats.admitted);
    info->set_timed_out(stats.timed_out);
    info->set_queue_full(stats.queue_full);
    return;
  }
  // Others' handshakes are theirs: a tenant sees its own.
  const AdmissionController::TenantStats own =
      admission.GetTenantStats(caller.uid);
  info->set_in_flight(own.in_flight);
  info->set_queued(own.queued);
}

// Keeps, of `*rows` (a field of `response`), those from `offset` on that
// fit in Listings::kPageBytes with the rest of `response`; returns how
// many rows follow them. Linear: each row's size is taken once.
template <typename Response, typename Row>
uint32_t Paginate(uint32_t offset, Response& response,
                  google::protobuf::RepeatedPtrField<Row>* rows) {
  google::protobuf::RepeatedPtrField<Row> all;
  all.Swap(rows);
  const int skip = static_cast<int>(
      std::min<uint64_t>(offset, static_cast<uint64_t>(all.size())));
  size_t used = response.ByteSizeLong();
  int kept = skip;
  for (; kept < all.size(); ++kept) {
    // A row costs its bytes, its tag and its length (a varint < 5 bytes).
    const size_t row = all.Get(kept).ByteSizeLong() + 6;
    if (used + row > Listings::kPageBytes) {
      break;
    }
    used += row;
  }
  for (int i = skip; i < kept; ++i) {
    *rows->Add() = std::move(*all.Mutable(i));
  }
  return static_cast<uint32_t>(all.size() - kept);
}

}  // namespace

v1::ListServicesResponse Listings::Services(const FastPathCaller& caller,
                                            uint32_t offset) const {
  v1::ListServicesResponse response;
  if (services_ == nullptr) {
    return response;
  }
  for (const ServiceRegistry::ServiceStats& stats : services_->Stats()) {
    if (!SeesAll(caller) && stats.owner_uid != caller.uid) {
      continue;
    }
    v1::ServiceInfo* service = response.add_services();
    service->set_name(stats.name);
    service->set_owner(stats.owner);
    service->set_owner_uid(stats.owner_uid);
    service->set_pooled_qps(stats.pooled);
    service->set_connections(stats.connections);
    service->set_accepted(stats.accepted);
    service->set_refused(stats.refused);
  }
  response.set_remaining(
      Paginate(offset, response, response.mutable_services()));
  return response;
}

v1::ListConnectionsResponse Listings::Connections(
    const FastPathCaller& caller, uint32_t offset) const {
  v1::ListConnectionsResponse response;
  if (broker_ == nullptr) {
    return response;
  }
  const absl::Time now = absl::Now();
  for (const Broker::ConnectionView& view : broker_->Connections()) {
    if (!SeesAll(caller) && view.uid != caller.uid) {
      continue;
    }
    v1::ConnectionInfo* connection = response.add_connections();
    connection->set_id(view.id);
    connection->set_peer(view.peer);
    connection->set_service(view.service);
    connection->set_server_connection_id(view.server_connection_id);
    connection->set_client_pid(view.client_pid);
    connection->set_client_name(view.client_name);
    connection->set_uid(view.uid);
    connection->set_handshake_us(
        absl::ToInt64Microseconds(view.handshake_time));
    connection->set_age_us(absl::ToInt64Microseconds(now - view.connected_at));
    connection->set_remote_problem(view.remote_problem);
    connection->set_remote_ended(view.remote_ended);
  }
  const Broker::Counters counters = SeesAll(caller)
                                        ? broker_->GetCounters()
                                        : broker_->GetCountersOf(caller.uid);
  response.set_connected_total(counters.connected);
  response.set_closed_total(counters.closed);
  for (const auto& [reason, count] : counters.failed) {
    (*response.mutable_failed_by_reason())[reason] = count;
  }
  if (connects_ != nullptr) {
    *response.mutable_connect_latency() =
        SeesAll(caller) ? connects_->All() : connects_->Of(caller.uid);
  }
  FillAdmission(broker_->admission(), caller, response.mutable_admission());
  response.set_remaining(
      Paginate(offset, response, response.mutable_connections()));
  return response;
}

v1::ListWorkersResponse Listings::Workers(const FastPathCaller& caller,
                                          uint32_t offset) const {
  v1::ListWorkersResponse response;
  if (workers_ == nullptr) {
    return response;
  }
  for (v1::WorkerInfo& info : workers_->List()) {
    // A function's tenant is the user its worker runs as.
    if (!SeesAll(caller) && info.uid() != caller.uid) {
      continue;
    }
    for (v1::InvocationModeStats& mode :
         workers_->invocation_stats().Of(info.function())) {
      *info.add_by_mode() = std::move(mode);
    }
    *response.add_workers() = std::move(info);
  }
  response.set_remaining(
      Paginate(offset, response, response.mutable_workers()));
  return response;
}

v1::ListTenantsResponse Listings::Tenants(const FastPathCaller& caller,
                                          uint32_t offset) const {
  v1::ListTenantsResponse response;
  const BrokerQuotas* quotas =
      services_ != nullptr ? &services_->quotas()
                           : (broker_ != nullptr ? &broker_->quotas() : nullptr);
  const AdmissionController* admission =
      broker_ != nullptr ? &broker_->admission() : nullptr;
  std::set<uid_t> uids;
  if (SeesAll(caller)) {
    if (quotas != nullptr) {
      for (const BrokerQuotas::Usage& usage : quotas->List()) {
        uids.insert(usage.uid);
      }
    }
    if (admission != nullptr) {
      for (const AdmissionController::TenantStats& stats :
           admission->ListTenants()) {
        uids.insert(stats.tenant);
      }
    }
    if (workers_ != nullptr) {
      for (const v1::WorkerInfo& info : workers_->List()) {
        uids.insert(info.uid());
      }
    }
  } else {
    uids.insert(caller.uid);
  }
  for (uid_t uid : uids) {
    v1::TenantInfo* tenant = response.add_tenants();
    tenant->set_uid(uid);
    if (quotas != nullptr) {
      const BrokerQuotas::Usage usage = quotas->Of(uid);
      const BrokerQuotas::Limits& limits = quotas->limits();
      tenant->set_connections(usage.connections);
      tenant->set_max_connections(limits.connections);
      tenant->set_services(usage.services);
      tenant->set_max_services(limits.services);
      tenant->set_pooled_endpoints(usage.pooled_endpoints);
      tenant->set_max_pooled_endpoints(limits.pooled_endpoints);
    }
    if (admission != nullptr) {
      const AdmissionController::TenantStats stats =
          admission->GetTenantStats(uid);
      tenant->set_handshakes(stats.in_flight);
      tenant->set_max_handshakes(admission->limits().per_tenant);
      tenant->set_queued_connects(stats.queued);
    }
    if (workers_ != nullptr) {
      const TenantQuotas::Usage usage = workers_->QuotaUsage(uid);
      const TenantQuotas::Limits& limits = workers_->quota_limits();
      tenant->set_functions(usage.functions);
      tenant->set_max_functions(limits.max_functions_per_tenant);
      tenant->set_instances(usage.instances);
      tenant->set_max_instances(limits.max_instances_per_tenant);
      tenant->set_cold_workers(usage.cold_workers);
      tenant->set_max_cold_workers(limits.max_cold_workers_per_tenant);
    }
  }
  if (workers_ != nullptr) {
    response.set_max_workers(workers_->quota_limits().max_workers);
    if (SeesAll(caller)) {
      response.set_workers(workers_->workers_held());
    }
  }
  if (quotas != nullptr) {
    response.set_max_pooled_endpoints_per_service(
        quotas->limits().pooled_endpoints_per_service);
  }
  if (broker_ != nullptr) {
    response.set_max_connect_timeout_ms(static_cast<uint32_t>(
        absl::ToInt64Milliseconds(broker_->options().max_timeout)));
    response.set_max_peer_entries(broker_->options().max_peer_entries);
    if (SeesAll(caller)) {
      response.set_peer_entries(broker_->peer_entries());
    }
  }
  response.set_remaining(
      Paginate(offset, response, response.mutable_tenants()));
  return response;
}

}  // namespace swift
