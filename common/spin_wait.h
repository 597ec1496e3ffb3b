// SpinUntilReadable: waits for a socket's next message by spinning rather
// than sleeping, for a short while. A blocked reader costs a wake-up on
// each side of a local round trip (about 5-8 us each on our 2-vCPU hosts,
// most of a fast-path call); a reader that polls catches a message that is
// due within microseconds at once. Bounded twice: by `limit`, and by the
// process's spin slots (common/spin_slot.h: no more spinners than cores),
// so that spinning never takes the CPU from the thread that would answer,
// and by yielding the core after every poll: when the answering thread is
// runnable on the spinner's own core it runs at once, where a spinner
// yielding only every few dozen polls (each poll a system call) held it
// off ~25 us (control_rtt on the host: fast-path ping p50 28.2 -> 4.6 us,
// p99 33 -> 5.7 us).
#ifndef SWIFT_COMMON_SPIN_WAIT_H_
#define SWIFT_COMMON_SPIN_WAIT_H_

#include "absl/time/time.h"

namespace swift {

// True once `fd` is readable (or hung up, or in error: the caller's read
// says which) within `limit`; false when the limit passed, `limit` is not
// positive, or no spin slot was free. Never blocks for longer than
// `limit`; the caller then reads (blocking) as it would have anyway.
bool SpinUntilReadable(int fd, absl::Duration limit);

}  // namespace swift

#endif  // SWIFT_COMMON_SPIN_WAIT_H_
