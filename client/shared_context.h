// A device context shared by swiftd (issue 11, the cold path): swiftd
// opened it ahead of time with a PD in it, for this process alone; the
// process imports both (ibv_import_device, ibv_import_pd) instead of
// opening the device, which on mlx5 allocates UARs and may read all of
// /proc/cpuinfo. Only providers that can import take this path (mlx5,
// efa): SessionHints::CanShare() says which devices, and on any other
// (rxe, siw) the session opens its device itself. Internal to libswift.
//
// Ownership: the imported PD is this process's (destroying it deallocates
// the kernel object); swiftd keeps its copy of the context until the fast
// path connection that asked ends, and the objects made here live until
// both copies are closed (common/verbs/shareable_context.h).
#ifndef SWIFT_CLIENT_SHARED_CONTEXT_H_
#define SWIFT_CLIENT_SHARED_CONTEXT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/fast_path_client.h"
#include "common/unique_fd.h"
#include "common/verbs/context.h"
#include "common/verbs/pd.h"

namespace swift {

// What swiftd handed over, not yet imported.
struct SharedContextGrant {
  UniqueFd command_fd;
  uint32_t pd_handle = 0;
  uint64_t context_id = 0;
  bool from_pool = false;
  double call_us = 0;  // The round trip.
};

// RequestSharedContext()
//
// Asks swiftd through `fast_path` for a context of `device`. Errors:
// swiftd's answer (kFailedPrecondition when the device's provider cannot
// import, with the probe's reason; kNotFound; kResourceExhausted naming
// --max_shared_contexts_per_tenant; kUnimplemented from a swiftd that
// shares none); kInternal when the answer carries no fd.
absl::StatusOr<SharedContextGrant> RequestSharedContext(
    FastPathClient* fast_path, const std::string& device);

struct ImportedContext {
  std::shared_ptr<verbs::Context> context;
  std::shared_ptr<verbs::Pd> pd;
};

// ImportSharedContext()
//
// Imports the grant's context and PD. Errors: Context::Import's and
// Pd::Import's (the fd is closed either way).
absl::StatusOr<ImportedContext> ImportSharedContext(SharedContextGrant grant);

}  // namespace swift

#endif  // SWIFT_CLIENT_SHARED_CONTEXT_H_
