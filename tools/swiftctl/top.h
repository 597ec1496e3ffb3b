// `swiftctl top`: a live view of a running swiftd, refreshed every
// interval (rates over the interval; top_frame.h says what is shown).
//
// On a terminal that understands ANSI escapes (stdout a tty, TERM set and
// not "dumb") the view takes the terminal's alternate screen and redraws in
// place until SIGINT (Ctrl-C) or SIGTERM, then gives the screen back as it
// was. Anywhere else, and with `once`, frames are plain lines, one block per
// refresh, with no escape codes.
//
// Not thread-safe: RunTop() blocks SIGINT and SIGTERM in the
// calling thread (and the threads it starts) to wait for them; call it from
// main() before starting other threads.
#ifndef SWIFT_TOOLS_SWIFTCTL_TOP_H_
#define SWIFT_TOOLS_SWIFTCTL_TOP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace swift::swiftctl {

struct TopOptions {
  // swiftd's Control API socket (its fast path socket is found beside it).
  std::string socket_path;
  // Deadline of each call to swiftd.
  absl::Duration timeout = absl::Seconds(5);
  // Time between two samples; positive.
  absl::Duration interval = absl::Seconds(1);
  // Print one frame (two samples `interval` apart) and return.
  bool once = false;
};

// RunTop()
//
// Shows frames on stdout until a signal ends it (or after one frame with
// `once`); OK then, also when a signal came before the first frame.
// kInvalidArgument for an interval that is not positive; swiftd's error
// (kUnavailable "swiftd is not running: ...", kDeadlineExceeded) when it
// cannot be reached or stops answering, after the terminal was restored.
absl::Status RunTop(const TopOptions& options);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_TOP_H_
