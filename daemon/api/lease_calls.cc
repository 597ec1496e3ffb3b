// LeaseCalls implementation; see lease_calls.h.
#include "daemon/api/lease_calls.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "daemon/api/listings.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

// Whether a call handing out resources can be served: its subsystem runs
// (else kUnimplemented with `absent`) and the caller's uid is known, as
// the resource is its tenant's (else kPermissionDenied).
absl::Status Servable(bool present, absl::string_view absent,
                      const FastPathCaller& caller) {
  if (!present) {
    return absl::UnimplementedError(absent);
  }
  if (caller.uid == FastPathCaller::kUnknownId) {
    return absl::PermissionDeniedError(
        "swiftd could not learn the caller's uid (SO_PEERCRED)");
  }
  return absl::OkStatus();
}

}  // namespace

bool LeaseCalls::Handles(const v1::FastRequest& request) {
  switch (request.call_case()) {
    case v1::FastRequest::kLease:
    case v1::FastRequest::kReleaseLease:
    case v1::FastRequest::kCheckLease:
    case v1::FastRequest::kListLeases:
    case v1::FastRequest::kListClients:
    case v1::FastRequest::kShareContext:
      return true;
    default:
      return false;
  }
}

v1::FastResponse LeaseCalls::Handle(const FastPathCaller& caller,
                                    const v1::FastRequest& request,
                                    std::vector<UniqueFd>* fds) {
  v1::FastResponse response;
  if (request.call_case() == v1::FastRequest::kListClients) {
    *response.mutable_list_clients() =
        Clients(caller, request.list_clients().offset());
    return response;
  }
  if (request.call_case() == v1::FastRequest::kShareContext) {
    return ShareContext(caller, request.share_context(), fds);
  }
  if (absl::Status servable = Servable(
          leases_ != nullptr, "this swiftd keeps no memory leases", caller);
      !servable.ok()) {
    EncodeStatus(servable, &response);
    return response;
  }
  switch (request.call_case()) {
    case v1::FastRequest::kLease: {
      LeaseManager::Holder holder{caller.channel_id, caller.uid, caller.pid,
                                  caller.client_name};
      absl::StatusOr<LeaseManager::Grant> grant =
          leases_->Lease(holder, request.lease());
      if (!grant.ok()) {
        EncodeStatus(grant.status(), &response);
        return response;
      }
      *response.mutable_lease() = grant->result;
      fds->push_back(std::move(grant->fd));
      return response;
    }
    case v1::FastRequest::kReleaseLease: {
      absl::StatusOr<uint64_t> released =
          leases_->Release(caller.uid, request.release_lease().lease_id());
      if (!released.ok()) {
        EncodeStatus(released.status(), &response);
        return response;
      }
      response.mutable_release_lease()->set_size_bytes(*released);
      return response;
    }
    case v1::FastRequest::kCheckLease: {
      absl::StatusOr<std::string> device =
          leases_->Check(caller.uid, request.check_lease().lease_id());
      if (!device.ok()) {
        EncodeStatus(device.status(), &response);
        return response;
      }
      response.mutable_check_lease()->set_device(*device);
      return response;
    }
    default:
      *response.mutable_list_leases() =
          leases_->List(caller.uid, request.list_leases().offset());
      return response;
  }
}

v1::FastResponse LeaseCalls::ShareContext(const FastPathCaller& caller,
                                          const v1::ShareContextCall& call,
                                          std::vector<UniqueFd>* fds) {
  v1::FastResponse response;
  if (absl::Status servable =
          Servable(contexts_ != nullptr,
                   "this swiftd shares no device contexts", caller);
      !servable.ok()) {
    EncodeStatus(servable, &response);
    return response;
  }
  ContextManager::Holder holder{caller.channel_id, caller.uid, caller.pid,
                                caller.client_name};
  absl::StatusOr<ContextManager::Grant> grant = contexts_->Share(holder, call);
  if (!grant.ok()) {
    EncodeStatus(grant.status(), &response);
    return response;
  }
  *response.mutable_share_context() = grant->result;
  fds->push_back(std::move(grant->fd));
  return response;
}

void LeaseCalls::Attached(const FastPathCaller& caller,
                          v1::FastHello::Channel kind) {
  if (clients_ == nullptr) {
    return;
  }
  clients_->AddFastPath(ClientRegistry::FastPathConnection{
      caller.channel_id, caller.client_name, caller.pid, caller.uid,
      kind == v1::FastHello::SERVICE ? "service" : "calls", absl::Now()});
}

void LeaseCalls::Detached(const FastPathCaller& caller) {
  if (leases_ != nullptr) {
    leases_->ReleaseAllOf(caller.channel_id);
  }
  if (contexts_ != nullptr) {
    contexts_->ReleaseAllOf(caller.channel_id);
  }
  if (clients_ != nullptr) {
    clients_->RemoveFastPath(caller.channel_id);
  }
}

v1::ListClientsResponse LeaseCalls::Clients(const FastPathCaller& caller,
                                            uint32_t offset) const {
  v1::ListClientsResponse response;
  if (clients_ == nullptr) {
    return response;
  }
  const absl::flat_hash_map<uint64_t, LeaseManager::Holding> holdings =
      leases_ != nullptr
          ? leases_->HoldingsByChannel()
          : absl::flat_hash_map<uint64_t, LeaseManager::Holding>();
  const absl::flat_hash_map<uint64_t, int> contexts =
      contexts_ != nullptr ? contexts_->CountsByChannel()
                           : absl::flat_hash_map<uint64_t, int>();
  const absl::Time now = absl::Now();
  std::vector<v1::AttachedClient> rows;
  for (const ClientRegistry::FastPathConnection& connection :
       clients_->ListFastPath()) {
    if (!Listings::SeesAll(caller) && connection.uid != caller.uid) {
      continue;
    }
    v1::AttachedClient row;
    row.set_channel_id(connection.channel_id);
    row.set_pid(connection.pid);
    row.set_uid(connection.uid);
    row.set_name(connection.name);
    row.set_kind(connection.kind);
    row.set_since_unix_us(absl::ToUnixMicros(connection.since));
    row.set_age_us(absl::ToInt64Microseconds(now - connection.since));
    if (auto it = holdings.find(connection.channel_id); it != holdings.end()) {
      row.set_leases(it->second.leases);
      row.set_lease_bytes(it->second.bytes);
    }
    if (auto it = contexts.find(connection.channel_id); it != contexts.end()) {
      row.set_shared_contexts(it->second);
    }
    rows.push_back(std::move(row));
  }
  size_t used = 16;
  size_t next = std::min<size_t>(offset, rows.size());
  for (; next < rows.size(); ++next) {
    const size_t row_bytes = rows[next].ByteSizeLong() + 6;
    if (used + row_bytes > Listings::kPageBytes) {
      break;
    }
    used += row_bytes;
    *response.add_clients() = std::move(rows[next]);
  }
  response.set_remaining(static_cast<uint32_t>(rows.size() - next));
  return response;
}

}  // namespace swift
