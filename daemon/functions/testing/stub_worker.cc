// stub_worker: a stand-in for swift_worker that speaks its protocol with
// swiftd (proto/worker.proto) without RDMA, so that WorkerManager's whole
// life (register, invoke WARM/FORK/COLD, list, direct channels,
// unregister, restore) runs on a host without a device.
//
// It takes swift_worker's flags (daemon/worker/worker_main.cc) and refuses
// any other, so a command line swiftd and the worker disagree on fails
// here too. What it does comes from the file --function names (the
// "library"), one directive per line; a file without directives (or a real
// library) gives a worker that gets ready and serves:
//   startup fail CODE MESSAGE   report WorkerFailed (absl code) and exit 1
//   startup exit STATUS         exit at once, reporting nothing
//   startup hang                never report (swiftd's startup timeout)
//   record PATH                 append the command line to PATH, a line
// Invocations answer with result "echo:PAYLOAD", except payloads
//   fail:MESSAGE                the function failed (kAborted, MESSAGE)
//   exit                        the worker exits without replying
//   hang                        never replies (the function hangs)
// WARM is served WARM once an instance has run (FORK before); FORK is
// served by a spare while --spares allows; --cold serves one invocation
// and exits. Stats follow every reply, as swift_worker's do.
// With --template it is a cold template: it takes no --function, serves
// COLD requests naming their library (cold_function) in its own process
// (instance_pid is the template's), with the payloads above ("exit": the
// template dies mid-invocation), and answers "echo:PAYLOAD" from
// template; it refuses to start (kFailedPrecondition) while a file
// SOCKET.refuse_template exists (--socket's path), appending a line to it.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/seqpacket_socket.h"
#include "daemon/worker/channel_messages.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"
#include "proto/worker.pb.h"

namespace swift {
namespace {

using worker::v1::InvokeReply;
using worker::v1::InvokeRequest;

struct Flags {
  std::map<std::string, std::string> values;
  bool cold = false;
  bool template_mode = false;

  int Int(const std::string& name, int fallback) const {
    int value = fallback;
    auto it = values.find(name);
    return it != values.end() && absl::SimpleAtoi(it->second, &value)
               ? value
               : fallback;
  }
};

// swift_worker's flags; false (after saying why) for any other.
bool ParseFlags(int argc, char** argv, Flags* flags) {
  static const char* const kKnown[] = {
      "control_fd", "function", "socket",        "connect",
      "prepared",   "spares",   "max_instances", "idle_timeout_ms"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cold") {
      flags->cold = true;
      continue;
    }
    if (arg == "--template") {
      flags->template_mode = true;
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name =
        absl::StartsWith(arg, "--") && equals != std::string::npos
            ? arg.substr(2, equals - 2)
            : "";
    bool known = false;
    for (const char* flag : kKnown) {
      known = known || name == flag;
    }
    if (!known) {
      std::cerr << "stub_worker: unknown argument " << arg << "\n";
      return false;
    }
    flags->values[name] = arg.substr(equals + 1);
  }
  return true;
}

class StubWorker {
 public:
  StubWorker(const Flags& flags, SeqpacketSocket control)
      : flags_(flags), control_(std::move(control)) {}

  // Reports ready and serves until swiftd closes the socket.
  int Run() {
    worker::v1::WorkerUp up;
    up.mutable_ready()->set_pid(getpid());
    const std::string connect = Value("connect");
    const std::vector<std::string> targets = connect.empty()
                                                 ? std::vector<std::string>()
                                                 : absl::StrSplit(connect, ',');
    up.mutable_ready()->set_ready_connections(flags_.Int("prepared", 2) *
                                              static_cast<int>(targets.size()));
    up.mutable_ready()->set_startup_us(1);
    spares_ = flags_.Int("spares", 1);
    SendUp(up);
    while (true) {
      std::vector<pollfd> fds = {{control_.fd(), POLLIN, 0}};
      for (const SeqpacketSocket& channel : channels_) {
        fds.push_back({channel.fd(), POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), -1) < 0) {
        continue;
      }
      for (size_t i = fds.size() - 1; i > 0; --i) {
        if (fds[i].revents != 0) {
          ServeChannel(i - 1);
        }
      }
      if (fds[0].revents == 0) {
        continue;
      }
      absl::StatusOr<SeqpacketSocket::Message> message = control_.Receive();
      if (!message.ok()) {
        return 0;  // swiftd closed us: retire.
      }
      worker::v1::WorkerDown down;
      down.ParseFromString(message->data);
      if (down.has_open_channel()) {
        for (UniqueFd& fd : message->fds) {
          channels_.emplace_back(std::move(fd));
        }
        SendStats();
        continue;
      }
      worker::v1::WorkerUp reply;
      *reply.mutable_reply() = Serve(down.invoke());
      *reply.mutable_reply()->mutable_stats() = stats_;
      SendUp(reply);
      if (flags_.cold) {
        return 0;
      }
    }
  }

 private:
  std::string Value(const std::string& name) const {
    auto it = flags_.values.find(name);
    return it == flags_.values.end() ? "" : it->second;
  }

  void SendUp(const worker::v1::WorkerUp& up) {
    (void)control_.Send(up.SerializeAsString());
  }

  void SendStats() {
    stats_.set_channels(static_cast<uint32_t>(channels_.size()));
    worker::v1::WorkerUp up;
    *up.mutable_stats() = stats_;
    SendUp(up);
  }

  // One invocation, as an instance would run it.
  InvokeReply Serve(const InvokeRequest& request) {
    if (request.payload() == "exit") {
      _exit(3);
    }
    while (request.payload() == "hang") {
      pause();
    }
    InvokeReply reply;
    reply.set_id(request.id());
    reply.set_instance_pid(getpid());
    reply.set_worker_us(2);
    reply.set_function_us(1);
    if (flags_.template_mode) {
      reply.set_served_by(worker::v1::COLD);
      reply.set_from_template(true);
      if (request.mode() != worker::v1::COLD ||
          request.cold_function().library_path().empty()) {
        EncodeStatus(absl::InvalidArgumentError("not a COLD call with its "
                                                "function"),
                     &reply);
        return reply;
      }
    } else if (flags_.cold || request.mode() == worker::v1::COLD) {
      reply.set_served_by(worker::v1::COLD);
    } else if (request.mode() == worker::v1::WARM && ran_) {
      reply.set_served_by(worker::v1::WARM);
    } else {
      reply.set_served_by(worker::v1::FORK);
      reply.set_spare(spares_ > 0);
      stats_.set_spare_hits(stats_.spare_hits() + (spares_ > 0 ? 1 : 0));
      stats_.set_forks(stats_.forks() + 1);
      stats_.set_instances(std::min<uint32_t>(stats_.instances() + 1,
                                              flags_.Int("max_instances", 8)));
    }
    ran_ = true;
    if (absl::StartsWith(request.payload(), "fail:")) {
      EncodeStatus(absl::AbortedError(request.payload().substr(5)), &reply);
    } else {
      EncodeStatus(absl::OkStatus(), &reply);
      reply.set_result("echo:" + request.payload());
    }
    return reply;
  }

  // A request on direct channel `index` (or its end). Channels carry the
  // fast path's client-facing messages, translated as swift_worker does.
  void ServeChannel(size_t index) {
    absl::StatusOr<SeqpacketSocket::Message> message =
        channels_[index].Receive();
    v1::FastRequest call;
    if (!message.ok() || !call.ParseFromString(message->data)) {
      channels_.erase(channels_.begin() + index);
      SendStats();
      return;
    }
    absl::StatusOr<InvokeRequest> request = FromChannelRequest(call);
    v1::FastResponse response;
    if (!request.ok()) {
      response = ChannelErrorResponse(call.call_id(), request.status());
    } else {
      const InvokeReply reply = Serve(*request);
      stats_.set_channel_invocations(stats_.channel_invocations() + 1);
      stats_.set_channel_failures(stats_.channel_failures() +
                                  (reply.code() != 0 ? 1 : 0));
      response =
          ToChannelResponse(call.call_id(), reply, call.invoke().function());
    }
    (void)channels_[index].Send(response.SerializeAsString());
    SendStats();
  }

  const Flags& flags_;
  SeqpacketSocket control_;
  std::vector<SeqpacketSocket> channels_;
  worker::v1::WorkerStats stats_;
  int spares_ = 0;
  bool ran_ = false;
};

// Follows the --function file's startup directives; returns false when
// the worker is not to serve (after doing what they say).
bool FollowDirectives(const Flags& flags, int argc, char** argv,
                      SeqpacketSocket& control) {
  std::ifstream file(
      flags.values.count("function") != 0 ? flags.values.at("function") : "");
  std::string line;
  while (std::getline(file, line)) {
    const std::vector<std::string> words =
        absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (words.size() >= 2 && words[0] == "record") {
      std::ofstream(words[1], std::ios::app)
          << absl::StrJoin(argv + 1, argv + argc, " ") << "\n";
    } else if (words.size() >= 2 && words[0] == "startup") {
      if (words[1] == "hang") {
        while (true) {
          pause();
        }
      }
      int value = 0;
      if (words.size() < 3 || !absl::SimpleAtoi(words[2], &value)) {
        continue;
      }
      if (words[1] == "exit") {
        _exit(value);
      }
      if (words[1] == "fail") {
        worker::v1::WorkerUp up;
        EncodeStatus(absl::Status(static_cast<absl::StatusCode>(value),
                                  words.size() == 4 ? words[3] : "failed"),
                     up.mutable_failed());
        (void)control.Send(up.SerializeAsString());
        return false;
      }
    }
  }
  return true;
}

}  // namespace
}  // namespace swift

int main(int argc, char** argv) {
  swift::Flags flags;
  if (!swift::ParseFlags(argc, argv, &flags)) {
    return 2;
  }
  const int control_fd = flags.Int("control_fd", -1);
  if (control_fd < 0 || fcntl(control_fd, F_GETFD) < 0) {
    std::cerr << "stub_worker: --control_fd missing or closed\n";
    return 2;
  }
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  swift::SeqpacketSocket control((swift::UniqueFd(control_fd)));
  if (flags.template_mode) {
    const std::string refuse =
        (flags.values.count("socket") != 0 ? flags.values.at("socket") : "") +
        ".refuse_template";
    if (access(refuse.c_str(), F_OK) == 0) {
      std::ofstream(refuse, std::ios::app) << "refused\n";
      swift::worker::v1::WorkerUp up;
      swift::EncodeStatus(
          absl::FailedPreconditionError("this template may not start"),
          up.mutable_failed());
      (void)control.Send(up.SerializeAsString());
      return 1;
    }
  } else if (!swift::FollowDirectives(flags, argc, argv, control)) {
    return 1;
  }
  return swift::StubWorker(flags, std::move(control)).Run();
}
