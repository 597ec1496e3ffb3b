// MessageFloor implementation; see message_floor.h.
#include "tools/bench/message_floor.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cpu_set.h"
#include "common/errno_status.h"
#include "common/tcp_frame.h"
#include "common/testing/thread_status.h"
#include "common/thread_name.h"
#include "common/unique_fd.h"

namespace swift::bench {
namespace {

// About a ConnectCall's size (an endpoint, a service and a host name).
constexpr size_t kMessageBytes = 128;

// The message's first byte.
enum Kind : char {
  kConnect = 'c',    // client -> A -> B
  kAccept = 'a',     // B -> application
  kAnswer = 'r',     // application -> B -> A -> client
  kClose = 'x',      // client -> A -> B
  kClosed = 'd',     // B -> application (no answer)
  kClosedAck = 'k',  // A -> client
};

// The relay's sends and receives: one system call each, as a control
// plane's at best. A relay that fails in any way just ends; its client
// sees the connection close.
void SendOrExit(int fd, char* message, Kind kind) {
  message[0] = kind;
  size_t sent = 0;
  while (sent < kMessageBytes) {
    const ssize_t n =
        send(fd, message + sent, kMessageBytes - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    sent += static_cast<size_t>(n);
  }
}

// A whole message: one recv() on SOCK_SEQPACKET, and on TCP as many as
// the stream takes (one, for 128 bytes on loopback).
char ReceiveOrExit(int fd, char* message) {
  size_t received = 0;
  while (received < kMessageBytes) {
    const ssize_t n = recv(fd, message + received, kMessageBytes - received, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    received += static_cast<size_t>(n);
  }
  return message[0];
}

// The relay process: never returns.
[[noreturn]] void RunRelay(int client, int application) {
  // On one CPU, as swiftd's threads by default (--cpus=auto).
  absl::StatusOr<CpuSet> allowed = CpuSet::OfThisThread();
  if (!allowed.ok()) _exit(3);
  CpuSet first;
  first.Add(allowed->First());
  if (!first.ApplyToThisThread().ok()) _exit(3);
  // The two "hosts"' link, on loopback TCP as swiftd's own.
  absl::StatusOr<UniqueFd> listener = ListenTcp({"127.0.0.1", 0});
  if (!listener.ok()) _exit(3);
  absl::StatusOr<uint16_t> port = LocalPort(listener->get());
  if (!port.ok()) _exit(3);
  absl::StatusOr<UniqueFd> link_a = ConnectTcp({"127.0.0.1", *port});
  if (!link_a.ok()) _exit(3);
  absl::StatusOr<UniqueFd> link_b = AcceptTcp(listener->get());
  if (!link_b.ok()) _exit(3);
  const int a = link_a->get();
  const int b = link_b->get();

  std::thread b_link([b, application] {
    NameThisThread("floor-b-link");
    char message[kMessageBytes] = {};
    while (true) {
      const char kind = ReceiveOrExit(b, message);
      SendOrExit(application, message, kind == kConnect ? kAccept : kClosed);
    }
  });
  std::thread b_service([b, application] {
    NameThisThread("floor-b-svc");
    char message[kMessageBytes] = {};
    while (true) {
      ReceiveOrExit(application, message);
      SendOrExit(b, message, kAnswer);
    }
  });
  NameThisThread("floor-a-fast");
  char message[kMessageBytes] = {};
  while (true) {
    if (ReceiveOrExit(client, message) == kConnect) {
      SendOrExit(a, message, kConnect);
      ReceiveOrExit(a, message);
      SendOrExit(client, message, kAnswer);
    } else {
      SendOrExit(a, message, kClose);
      SendOrExit(client, message, kClosedAck);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MessageFloor>> MessageFloor::Start() {
  // One status line per live thread (common/testing/thread_status.h).
  if (const size_t threads =
          ::swift::testing::ThreadStatusFields(getpid(), "Name:\t").size();
      threads != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("MessageFloor::Start needs a process of one thread to "
                     "fork from; this one has ",
                     threads));
  }
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> client =
      SeqpacketSocket::Pair();
  if (!client.ok()) return client.status();
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> application =
      SeqpacketSocket::Pair();
  if (!application.ok()) return application.status();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    // The benchmark's ends must close here, or the relay would never see
    // them go.
    { SeqpacketSocket gone = std::move(client->first); }
    { SeqpacketSocket gone = std::move(application->first); }
    RunRelay(client->second.fd(), application->second.fd());
  }
  return std::unique_ptr<MessageFloor>(new MessageFloor(
      pid, std::move(client->first), std::move(application->first)));
}

MessageFloor::MessageFloor(pid_t pid, SeqpacketSocket client,
                           SeqpacketSocket application)
    : pid_(pid),
      client_(std::move(client)),
      application_(std::move(application)),
      application_thread_([this] { AnswerAccepts(); }) {}

MessageFloor::~MessageFloor() {
  shutdown(client_.fd(), SHUT_RDWR);
  shutdown(application_.fd(), SHUT_RDWR);
  application_thread_.join();
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

void MessageFloor::AnswerAccepts() {
  while (true) {
    absl::StatusOr<SeqpacketSocket::Message> message = application_.Receive();
    if (!message.ok() || message->data.empty()) return;
    if (message->data[0] == kAccept && !application_.Send(message->data).ok()) {
      return;
    }
  }
}

absl::StatusOr<absl::Duration> MessageFloor::ConnectAndClose() {
  std::string message(kMessageBytes, '\0');
  auto call = [&](Kind kind, Kind expected) -> absl::Status {
    message[0] = kind;
    if (absl::Status sent = client_.Send(message); !sent.ok()) return sent;
    absl::StatusOr<SeqpacketSocket::Message> answer = client_.Receive();
    if (!answer.ok()) return answer.status();
    if (answer->data.size() != kMessageBytes || answer->data[0] != expected) {
      return absl::InternalError("the message floor's relay answered wrong");
    }
    return absl::OkStatus();
  };
  const absl::Time start = absl::Now();
  if (absl::Status connected = call(kConnect, kAnswer); !connected.ok()) {
    return connected;
  }
  const absl::Duration connect_time = absl::Now() - start;
  if (absl::Status closed = call(kClose, kClosedAck); !closed.ok()) {
    return closed;
  }
  return connect_time;
}

}  // namespace swift::bench
