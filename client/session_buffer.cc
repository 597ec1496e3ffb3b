// SessionBuffer implementation; see session_buffer.h.
#include "client/session_buffer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace swift {

absl::StatusOr<SessionBuffer> SessionBuffer::Acquire(
    FastPathClient* fast_path, const Options& options) {
  if (options.bytes == 0) {
    return absl::InvalidArgumentError(
        "the session buffer must hold at least 1 byte (buffer_bytes)");
  }
  SessionBuffer buffer;
  if (!options.lease) {
    buffer.not_leased_because_ = "lease_buffer is off";
  } else if (options.bytes < options.lease_min_bytes) {
    buffer.not_leased_because_ =
        absl::StrCat("the buffer's ", options.bytes,
                     " bytes are under lease_buffer_min_bytes (",
                     options.lease_min_bytes,
                     "): populating them here costs less than asking swiftd");
  } else if (fast_path == nullptr) {
    buffer.not_leased_because_ = "no connection to swiftd";
  } else {
    LeasedMemory::Options lease_options;
    lease_options.device = options.device;
    lease_options.populate_mapping = options.populate_mapping;
    absl::StatusOr<LeasedMemory> lease =
        LeasedMemory::Take(fast_path, options.bytes, lease_options);
    if (lease.ok()) {
      buffer.lease_.emplace(*std::move(lease));
      return buffer;
    }
    buffer.not_leased_because_ =
        absl::StrCat("swiftd leased no memory: ", lease.status().ToString());
    // Once per process: a tenant over its lease quota would otherwise log
    // at every session it creates.
    SWIFT_LOG_ONCE(Warning, "libswift: ", buffer.not_leased_because_,
                   "; the session registers a memfd of its own instead (a "
                   "slower cold start). Logged once per process.");
  }
  // MAP_SHARED memory: a forked child writes the very pages the NIC reads.
  absl::StatusOr<verbs::SharedRegion> own =
      verbs::SharedRegion::Create("swift-session", options.bytes);
  if (!own.ok()) {
    return own.status();
  }
  buffer.own_.emplace(*std::move(own));
  return buffer;
}

uint8_t* SessionBuffer::data() const {
  return lease_ ? static_cast<uint8_t*>(lease_->data())
                : (own_ ? own_->data() : nullptr);
}

size_t SessionBuffer::size() const {
  return lease_ ? static_cast<size_t>(lease_->size())
                : (own_ ? own_->size() : 0);
}

}  // namespace swift
