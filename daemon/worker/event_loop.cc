// EventLoop implementation; see event_loop.h.
#include "daemon/worker/event_loop.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace swift {

int EventLoop::PollTimeoutMs(absl::Time wake, absl::Time now,
                             absl::Duration max_sleep) {
  return static_cast<int>(std::max<int64_t>(
      0, absl::ToInt64Milliseconds(std::min(wake - now, max_sleep)) + 1));
}

absl::Status EventLoop::Run(Handler& handler, absl::Duration max_sleep) {
  while (true) {
    const std::vector<Watch> watches = handler.Watches();
    std::vector<pollfd> fds;
    fds.reserve(watches.size());
    for (const Watch& watch : watches) {
      fds.push_back({watch.fd, POLLIN, 0});
    }
    const int timeout_ms =
        PollTimeoutMs(handler.NextWake(), absl::Now(), max_sleep);
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", strerror(errno)));
    }
    for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
          !handler.OnReadable(watches[i])) {
        return absl::OkStatus();
      }
    }
    handler.OnRound();
  }
}

}  // namespace swift
