// Pd: a protection domain (ibv_pd), deallocated when the last owner lets go.
//
// Every MR, QP and address handle lives in a PD and holds a
// std::shared_ptr<Pd>, so the PD outlives them; the PD in turn holds the
// Context it was allocated on. The kernel refuses to free a PD that still has
// objects in it (EBUSY); Destroy() reports that as a status so a caller (or
// a test) can observe it, where the destructor can only log it.
//
// Thread-safe as libibverbs is for using get(); Destroy() must not race with
// any other use of this PD.
#ifndef SWIFT_COMMON_VERBS_PD_H_
#define SWIFT_COMMON_VERBS_PD_H_

#include <infiniband/verbs.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/context.h"

namespace swift::verbs {

class Pd final {
  // Only Allocate() and Import() can name this, so only they can construct a Pd
  // (through std::make_shared, which needs a public constructor).
  struct PrivateKey {
    explicit PrivateKey() = default;
  };

 public:
  // Allocate()
  //
  // ibv_alloc_pd on `context` (must not be null). Errors carry the verb's
  // errno, naming the device, e.g. kResourceExhausted for ENOMEM.
  static absl::StatusOr<std::shared_ptr<Pd>> Allocate(
      std::shared_ptr<Context> context);

  // Import()
  //
  // ibv_import_pd: the PD with kernel handle `handle` in `context`, an
  // imported context (Context::Import) whose other holder made it. The PD
  // is this owner's from then on: destroying it (the destructor, Destroy())
  // deallocates the kernel object. Errors carry the verb's errno
  // (kUnimplemented: the provider cannot import; kInvalidArgument or
  // kNotFound: no such PD in that context).
  static absl::StatusOr<std::shared_ptr<Pd>> Import(
      std::shared_ptr<Context> context, uint32_t handle);

  // Use Allocate() or Import(); takes ownership of `pd`.
  Pd(PrivateKey, std::shared_ptr<Context> context, ibv_pd* pd)
      : context_(std::move(context)), pd_(pd), handle_(pd->handle) {}

  Pd(const Pd&) = delete;
  Pd& operator=(const Pd&) = delete;

  // Deallocates the PD unless Destroy() already did; a refusal is logged
  // (SWIFT_LOG, naming the PD) and the PD is leaked to the kernel, which
  // frees it when the device is closed.
  ~Pd();

  // Destroy()
  //
  // ibv_dealloc_pd now. OK if it succeeded or the PD was already destroyed
  // (idempotent). kFailedPrecondition (EBUSY) while MRs, QPs or AHs still
  // live in the PD; the PD then stays valid and owned, and a later call may
  // succeed. After success get() is null and the PD may not be used.
  absl::Status Destroy();

  // The PD, or nullptr after a successful Destroy().
  ibv_pd* get() const { return pd_; }
  const std::shared_ptr<Context>& context() const { return context_; }

  // "pd <handle> on <device>", for messages.
  std::string Describe() const;

 private:
  // Declared first: destroyed after the PD is freed.
  const std::shared_ptr<Context> context_;
  ibv_pd* pd_;
  const uint32_t handle_;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_PD_H_
