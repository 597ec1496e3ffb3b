// ShareableContext: a device context with a PD in it, opened by swiftd to
// be handed to one client, which imports both (Context::Import,
// Pd::Import) instead of opening the device itself (issue 11: context
// import, where the provider has it: mlx5, efa; never rxe or siw).
//
// What is shared: the command fd's kernel file. Every object either
// process makes in it lives in that one file, reachable by handle from
// both, and is destroyed when the last of the two closes the file. That
// is why one ShareableContext serves one client only, never two: a
// context shared by two clients would let each reach the other's objects.
//
// Ownership: before the hand-out the PD is swiftd's (the destructor
// deallocates it). Once MarkHandedOut() says the client has its fd, the PD
// is the client's: the destructor then frees only swiftd's own view of it
// (ibv_unimport_pd, no kernel call) and closes swiftd's copy of the file,
// so the client's objects stay until the client closes its copy (or
// dies). Thread-compatible.
#ifndef SWIFT_COMMON_VERBS_SHAREABLE_CONTEXT_H_
#define SWIFT_COMMON_VERBS_SHAREABLE_CONTEXT_H_

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift::verbs {

class ShareableContext final {
 public:
  // Open()
  //
  // Opens device `name` and allocates a PD in it. Errors: kNotFound
  // listing the devices, the verbs' errno statuses naming the device.
  static absl::StatusOr<std::unique_ptr<ShareableContext>> Open(
      absl::string_view name);

  ShareableContext(const ShareableContext&) = delete;
  ShareableContext& operator=(const ShareableContext&) = delete;
  // See the file comment: deallocates the PD unless it was handed out,
  // then closes the context. Failures are logged, never thrown.
  ~ShareableContext();

  // A new fd on the context's kernel file, for the client (the caller
  // sends it and closes its copy). Errors: dup()'s errno status.
  absl::StatusOr<UniqueFd> DupCommandFd() const;

  // The PD's kernel handle, for the client's ibv_import_pd.
  uint32_t pd_handle() const { return pd_->handle; }
  const std::string& device() const { return device_; }

  // The client has the fd: the PD is its own from now on.
  void MarkHandedOut() { handed_out_ = true; }
  bool handed_out() const { return handed_out_; }

 private:
  ShareableContext(ibv_context* context, ibv_pd* pd, std::string device)
      : context_(context), pd_(pd), device_(std::move(device)) {}

  ibv_context* const context_;
  ibv_pd* const pd_;
  const std::string device_;
  bool handed_out_ = false;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_SHAREABLE_CONTEXT_H_
