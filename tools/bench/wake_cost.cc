// wake_cost: what this machine charges for waking an idle process, the
// floor under every paced request (issue 12: why a FORK invocation arriving
// 250 ms after the last costs ~5x one arriving back to back).
//
//   wake_cost [--interval_ms=250] [--paced=40] [--burst=100]
//
// Two processes, nothing of Swift's: a parent and a forked echo child on a
// SOCK_SEQPACKET pair, one byte each way. Back to back, a round trip is two
// wake-ups of processes that just ran; paced `interval_ms` apart, it is the
// same two wake-ups after the machine idled. Rounds alternate the two (one
// paced round trip, then a burst of back-to-back ones), so that drift hits
// both. A machine that idled stays slow for a while after it wakes: the
// burst's first half is reported as such (`after_pause`), its second half
// as back to back. Prints one JSON line: medians with p10/p90.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

ABSL_FLAG(int, interval_ms, 250, "The pause before each paced round trip.");
ABSL_FLAG(int, paced, 40, "Paced round trips.");
ABSL_FLAG(int, burst, 100, "Back-to-back round trips after each paced one.");

namespace {

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

double RoundTripUs(int fd) {
  char byte = 'x';
  const auto begin = std::chrono::steady_clock::now();
  if (send(fd, &byte, 1, 0) != 1 || recv(fd, &byte, 1, 0) != 1) {
    Die("round trip");
  }
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - begin)
      .count();
}

// "p50": the median; p10 and p90 beside it.
void Print(const char* name, std::vector<double> us, bool last) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  std::printf("\"%s_p50_us\": %.1f, \"%s_p10_us\": %.1f, \"%s_p90_us\": %.1f%s",
              name, at(0.5), name, at(0.1), name, at(0.9), last ? "" : ", ");
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int paced = std::max(1, absl::GetFlag(FLAGS_paced));
  const int burst = std::max(2, absl::GetFlag(FLAGS_burst));
  const absl::Duration interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_interval_ms));
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    Die("socketpair");
  }
  const pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    close(pair[0]);
    char byte;
    while (recv(pair[1], &byte, 1, 0) == 1 && send(pair[1], &byte, 1, 0) == 1) {
    }
    _exit(0);
  }
  close(pair[1]);
  std::vector<double> paced_us, after_pause_us, back_to_back_us;
  for (int i = 0; i < paced; ++i) {
    absl::SleepFor(interval);
    paced_us.push_back(RoundTripUs(pair[0]));
    for (int j = 0; j < burst; ++j) {
      (j < burst / 2 ? after_pause_us : back_to_back_us)
          .push_back(RoundTripUs(pair[0]));
    }
  }
  close(pair[0]);
  waitpid(child, nullptr, 0);
  std::printf("{\"bench\": \"wake_cost\", \"interval_ms\": %d, ",
              absl::GetFlag(FLAGS_interval_ms));
  Print("back_to_back", back_to_back_us, false);
  Print("after_pause", after_pause_us, false);
  Print("paced", paced_us, true);
  std::printf("}\n");
  return 0;
}
