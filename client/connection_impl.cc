// ConnectionImpl implementation; see connection_impl.h.
#include "client/connection_impl.h"

namespace swift {

RemoteMemory ConnectionImpl::remote() const {
  RemoteMemory memory;
  if (remote_.buffer.has_value()) {
    memory.addr = remote_.buffer->addr;
    memory.length = remote_.buffer->length;
    memory.rkey = remote_.buffer->rkey;
  }
  return memory;
}

absl::Status ConnectionImpl::Close() {
  Release release;
  PooledQp pooled;
  {
    absl::MutexLock lock(&mu_);
    if (!release_) {
      return absl::OkStatus();
    }
    release = std::move(release_);
    release_ = nullptr;
    pooled = std::move(pooled_);
  }
  return release(std::move(pooled));
}

}  // namespace swift
