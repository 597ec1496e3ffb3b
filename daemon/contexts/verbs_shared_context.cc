// OpenVerbsSharedContext(); see verbs_shared_context.h.
#include "daemon/contexts/verbs_shared_context.h"

#include <utility>

#include "common/verbs/shareable_context.h"

namespace swift {
namespace {

class VerbsSharedContext final : public ContextManager::SharedContext {
 public:
  explicit VerbsSharedContext(std::unique_ptr<verbs::ShareableContext> context)
      : context_(std::move(context)) {}

  absl::StatusOr<UniqueFd> DupCommandFd() const override {
    return context_->DupCommandFd();
  }
  uint32_t pd_handle() const override { return context_->pd_handle(); }
  void MarkHandedOut() override { context_->MarkHandedOut(); }

 private:
  const std::unique_ptr<verbs::ShareableContext> context_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ContextManager::SharedContext>>
OpenVerbsSharedContext(const std::string& device) {
  absl::StatusOr<std::unique_ptr<verbs::ShareableContext>> context =
      verbs::ShareableContext::Open(device);
  if (!context.ok()) {
    return context.status();
  }
  return std::make_unique<VerbsSharedContext>(*std::move(context));
}

}  // namespace swift
