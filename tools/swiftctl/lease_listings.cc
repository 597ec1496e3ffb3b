// The lease and client listings; see lease_listings.h.
#include "tools/swiftctl/lease_listings.h"

#include <utility>

namespace swift::swiftctl {
namespace {

// Bounded: a listing that keeps growing must still end.
constexpr int kMaxPages = 1024;

template <typename Response, typename Ask, typename Page, typename Rows>
absl::StatusOr<Response> Paged(FastPathClient& fast_path, Ask ask, Page page,
                               Rows rows) {
  Response whole;
  uint32_t offset = 0;
  for (int pages = 0; pages < kMaxPages; ++pages) {
    v1::FastRequest call;
    ask(call, offset);
    absl::StatusOr<v1::FastResponse> response = fast_path.Call(std::move(call));
    if (!response.ok()) {
      return response.status();
    }
    Response* answer = page(*response);
    const int received = rows(*answer)->size();
    const uint32_t remaining = answer->remaining();
    if (pages == 0) {
      whole = std::move(*answer);
    } else {
      for (auto& row : *rows(*answer)) {
        *rows(whole)->Add() = std::move(row);
      }
    }
    if (remaining == 0 || received == 0) {
      break;
    }
    offset += static_cast<uint32_t>(received);
  }
  whole.set_remaining(0);
  return whole;
}

}  // namespace

absl::StatusOr<v1::ListLeasesResponse> ListLeases(FastPathClient& fast_path) {
  return Paged<v1::ListLeasesResponse>(
      fast_path,
      [](v1::FastRequest& call, uint32_t offset) {
        call.mutable_list_leases()->set_offset(offset);
      },
      [](v1::FastResponse& response) { return response.mutable_list_leases(); },
      [](v1::ListLeasesResponse& page) { return page.mutable_leases(); });
}

absl::StatusOr<v1::ListClientsResponse> ListClients(FastPathClient& fast_path) {
  return Paged<v1::ListClientsResponse>(
      fast_path,
      [](v1::FastRequest& call, uint32_t offset) {
        call.mutable_list_clients()->set_offset(offset);
      },
      [](v1::FastResponse& response) {
        return response.mutable_list_clients();
      },
      [](v1::ListClientsResponse& page) { return page.mutable_clients(); });
}

}  // namespace swift::swiftctl
