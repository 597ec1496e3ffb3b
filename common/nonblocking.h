// SetNonBlocking: O_NONBLOCK on a descriptor, for the threads that must
// never wait on a peer or a device (they poll, then read until EAGAIN).
#ifndef SWIFT_COMMON_NONBLOCKING_H_
#define SWIFT_COMMON_NONBLOCKING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace swift {

// SetNonBlocking()
//
// Adds O_NONBLOCK to `fd`'s status flags, keeping the others. On failure,
// fcntl's errno status naming `what` ("fcntl(<what>, O_NONBLOCK): ...").
absl::Status SetNonBlocking(int fd, absl::string_view what);

}  // namespace swift

#endif  // SWIFT_COMMON_NONBLOCKING_H_
