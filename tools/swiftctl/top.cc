// `swiftctl top`'s loop and terminal handling; see top.h.
#include "tools/swiftctl/top.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "tools/swiftctl/format.h"
#include "tools/swiftctl/top_frame.h"
#include "tools/swiftctl/top_sample.h"

namespace swift::swiftctl {
namespace {

// Alternate screen on, cursor hidden, screen cleared; and back.
constexpr char kEnterScreen[] = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr char kLeaveScreen[] = "\x1b[?25h\x1b[?1049l";

// Whether stdout is a terminal that takes ANSI escapes.
bool IsCapableTerminal() {
  if (isatty(STDOUT_FILENO) != 1) {
    return false;
  }
  const char* term = std::getenv("TERM");
  return term != nullptr && term[0] != '\0' && std::strcmp(term, "dumb") != 0;
}

void Write(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Holds the alternate screen for its lifetime, so that every way out of the
// loop (a signal, an error) gives the user's screen back.
class AlternateScreen final {
 public:
  AlternateScreen() { Write(kEnterScreen); }
  ~AlternateScreen() { Write(kLeaveScreen); }
  AlternateScreen(const AlternateScreen&) = delete;
  AlternateScreen& operator=(const AlternateScreen&) = delete;
};

// The signals top waits for instead of dying of them.
sigset_t TopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Waits `duration`; false when SIGINT or SIGTERM came first.
bool Sleep(absl::Duration duration, const sigset_t& signals) {
  const absl::Time deadline = absl::Now() + duration;
  for (absl::Duration left = duration; left > absl::ZeroDuration();
       left = deadline - absl::Now()) {
    const timespec timeout = absl::ToTimespec(left);
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (signal == SIGINT || signal == SIGTERM) {
      return false;
    }
    if (signal < 0 && errno == EAGAIN) {
      break;
    }
    // EINTR (another signal's handler ran): wait for what is left.
  }
  return true;
}

// Read at every frame: the terminal may have been resized since.
TopFrameOptions FrameOptionsFor(bool terminal) {
  TopFrameOptions options;
  options.terminal = terminal;
  winsize size = {};
  if (terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
    options.width = size.ws_col;
    options.height = size.ws_row;
  }
  return options;
}

}  // namespace

absl::Status RunTop(const TopOptions& options) {
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--interval must be positive");
  }
  // Blocked before any client starts a thread, so that every thread
  // inherits the mask and the signals wait for sigtimedwait() here rather
  // than killing the process with the terminal still in the view's state.
  const sigset_t signals = TopSignals();
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return absl::InternalError("pthread_sigmask failed");
  }
  SWIFT_ASSIGN_OR_RETURN(
      std::unique_ptr<TopSampler> sampler,
      TopSampler::Connect(options.socket_path, options.timeout));
  SWIFT_ASSIGN_OR_RETURN(TopSample previous, sampler->Take());

  const bool terminal = !options.once && IsCapableTerminal();
  std::unique_ptr<AlternateScreen> screen;
  if (terminal) {
    screen = std::make_unique<AlternateScreen>();
    Write(absl::StrCat("swiftctl top: sampling swiftd every ",
                       absl::FormatDuration(options.interval),
                       "; Ctrl-C quits.\n"));
  }
  for (int frames = 0;; ++frames) {
    if (!Sleep(options.interval, signals)) {
      return absl::OkStatus();
    }
    SWIFT_ASSIGN_OR_RETURN(TopSample current, sampler->Take());
    std::string frame =
        FormatTopFrame(previous, current, FrameOptionsFor(terminal));
    if (!terminal && frames > 0) {
      // Plain blocks, one per refresh, apart.
      frame.insert(0, "\n");
    }
    Write(frame);
    if (options.once) {
      return absl::OkStatus();
    }
    previous = std::move(current);
  }
}

}  // namespace swift::swiftctl
