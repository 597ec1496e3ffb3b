// RequestSharedContext() and ImportSharedContext(); see shared_context.h.
#include "client/shared_context.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/connect_steps.h"

namespace swift {

absl::StatusOr<SharedContextGrant> RequestSharedContext(
    FastPathClient* fast_path, const std::string& device) {
  const absl::Time start = absl::Now();
  v1::FastRequest request;
  request.mutable_share_context()->set_device(device);
  std::vector<UniqueFd> fds;
  absl::StatusOr<v1::FastResponse> response =
      fast_path->CallWithFds(std::move(request), &fds);
  if (!response.ok()) {
    return response.status();
  }
  if (!response->has_share_context() || fds.size() != 1) {
    return absl::InternalError(absl::StrCat(
        "swiftd's share_context answer carried ", fds.size(), " fds, not one"));
  }
  SharedContextGrant grant;
  grant.command_fd = std::move(fds[0]);
  grant.pd_handle = response->share_context().pd_handle();
  grant.context_id = response->share_context().context_id();
  grant.from_pool = response->share_context().from_pool();
  grant.call_us = MicrosSince(start);
  return grant;
}

absl::StatusOr<ImportedContext> ImportSharedContext(SharedContextGrant grant) {
  ImportedContext imported;
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      verbs::Context::Import(std::move(grant.command_fd));
  if (!context.ok()) {
    return context.status();
  }
  imported.context = *std::move(context);
  absl::StatusOr<std::shared_ptr<verbs::Pd>> pd =
      verbs::Pd::Import(imported.context, grant.pd_handle);
  if (!pd.ok()) {
    return pd.status();
  }
  imported.pd = *std::move(pd);
  return imported;
}

}  // namespace swift
