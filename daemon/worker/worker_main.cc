// swift_worker: a function's worker process, spawned by swiftd (see
// worker.h). Not meant to be started by hand.
//
//   swift_worker --control_fd=N --function=/path/f.so --socket=SWIFTD_SOCK
//       [--connect=host/service]... [--prepared=2] [--max_instances=8]
//       [--spares=1] [--idle_timeout_ms=60000] [--cold]
//   swift_worker --control_fd=N --socket=SWIFTD_SOCK --template
#include <fcntl.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/seqpacket_socket.h"
#include "daemon/worker/worker.h"

ABSL_FLAG(int, control_fd, -1, "The SOCK_SEQPACKET socket to swiftd.");
ABSL_FLAG(std::string, function, "", "The function's shared library.");
ABSL_FLAG(std::string, socket, "/run/swift/swiftd.sock", "swiftd's socket.");
ABSL_FLAG(std::vector<std::string>, connect, {},
          "Peers every instance is connected to, as host/service.");
ABSL_FLAG(int, prepared, 2, "Connected QP sets kept ready for forks.");
ABSL_FLAG(int, spares, 1,
          "Children forked ahead of requests, kept ready for FORK.");
ABSL_FLAG(int, max_instances, 8, "Instances (children) at most.");
ABSL_FLAG(int, idle_timeout_ms, 60000, "An idle instance exits after this.");
ABSL_FLAG(bool, cold, false, "Serve one invocation in-process, then exit.");
ABSL_FLAG(bool, template, false,
          "Be a tenant's cold template: build the session only, and fork a "
          "child for each COLD invocation, which loads the function it "
          "names.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int control_fd = absl::GetFlag(FLAGS_control_fd);
  if (control_fd < 0 || fcntl(control_fd, F_GETFD) < 0) {
    std::cerr << "swift_worker is started by swiftd (--control_fd missing)\n";
    return 2;
  }
  // Not inherited by anything the function might exec.
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  swift::Worker::Options options;
  options.function_path = absl::GetFlag(FLAGS_function);
  options.socket_path = absl::GetFlag(FLAGS_socket);
  for (const std::string& target : absl::GetFlag(FLAGS_connect)) {
    const size_t slash = target.rfind('/');
    if (slash == std::string::npos || slash == 0 ||
        slash + 1 == target.size()) {
      std::cerr << "swift_worker: --connect takes host/service, got '" << target
                << "'\n";
      return 2;
    }
    options.targets.emplace_back(target.substr(0, slash),
                                 target.substr(slash + 1));
  }
  options.prepared = absl::GetFlag(FLAGS_prepared);
  options.spares = absl::GetFlag(FLAGS_spares);
  options.max_instances = absl::GetFlag(FLAGS_max_instances);
  options.idle_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  options.cold = absl::GetFlag(FLAGS_cold);
  options.template_mode = absl::GetFlag(FLAGS_template);
  swift::Worker worker(options,
                       swift::SeqpacketSocket(swift::UniqueFd(control_fd)));
  absl::Status status = worker.Run();
  return status.ok() ? 0 : 1;
}
