// OpenVerbsSharedContext(): ContextManager's opener in swiftd, a
// verbs::ShareableContext (a device context and PD opened to be imported
// by one client) behind ContextManager::SharedContext.
#ifndef SWIFT_DAEMON_CONTEXTS_VERBS_SHARED_CONTEXT_H_
#define SWIFT_DAEMON_CONTEXTS_VERBS_SHARED_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/contexts/context_manager.h"

namespace swift {

absl::StatusOr<std::unique_ptr<ContextManager::SharedContext>>
OpenVerbsSharedContext(const std::string& device);

}  // namespace swift

#endif  // SWIFT_DAEMON_CONTEXTS_VERBS_SHARED_CONTEXT_H_
