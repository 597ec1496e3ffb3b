// ServeAsInstance(); see instance_child.h.
#include "daemon/worker/instance_child.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "absl/time/clock.h"
#include "daemon/worker/channel_answer.h"
#include "daemon/worker/channel_messages.h"
#include "daemon/worker/fork/prefault.h"
#include "daemon/worker/instance_runtime.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {

void ServeAsInstance(const InstanceSpec& spec, SeqpacketSocket socket,
                     const ConnectionSet& connections,
                     absl::flat_hash_set<uint32_t> shared_lkeys,
                     const worker::v1::InvokeRequest* first,
                     UniqueFd first_channel) {
  // An instance outlives no worker: its QPs are the worker's to recycle.
  // (Checked after arming too: the worker may have died before.)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != spec.worker_pid) {
    _exit(0);
  }
  std::vector<Connection*> views;
  for (const auto& connection : connections) {
    views.push_back(connection.get());
  }
  // The child owns these QPs now; it never touches the worker's session
  // (its locks may have been held by another thread at fork) and leaves
  // with _exit(), so no destructor recycles what the worker will recycle.
  absl::StatusOr<std::unique_ptr<InstanceRuntime>> runtime =
      InstanceRuntime::Create(spec.function, views, spec.doorbell,
                              std::move(shared_lkeys));
  worker::v1::InvokeRequest request;
  // The client's channel the request came on (its answer goes there), if
  // it did; and `answer_route`, when that channel was parked here.
  std::optional<SeqpacketSocket> channel;
  uint64_t answer_route = 0;
  // A channel parked on this spare (ParkChannel), and its route.
  std::optional<SeqpacketSocket> parked;
  uint64_t parked_route = 0;
  auto tell = [&](const worker::v1::InstanceUp& up) {
    return socket.Send(up.SerializeAsString()).ok();
  };
  // The parked channel is readable: its request, or its end. False when
  // the worker is gone; true with `request` set when there is one to run.
  auto read_parked = [&](bool* run) {
    *run = false;
    absl::StatusOr<SeqpacketSocket::Message> message = parked->Receive();
    if (!message.ok()) {
      // The client closed it: the worker drops it; this stays a spare.
      worker::v1::InstanceUp up;
      up.mutable_channel_back()->set_route(parked_route);
      up.mutable_channel_back()->set_closed(true);
      parked.reset();
      parked_route = 0;
      return tell(up);
    }
    v1::FastResponse refusal;
    std::optional<worker::v1::InvokeRequest> call =
        ReadChannelRequest(message->data, absl::Now(), &refusal);
    if (!call.has_value()) {
      (void)parked->Send(refusal.SerializeAsString());
      // Still parked, still a spare; the worker counts the refusal.
      worker::v1::InstanceUp up;
      up.mutable_refused()->set_code(refusal.code());
      return tell(up);
    }
    request = *std::move(call);
    // A spare serves it, whatever its mode (as when no instance has run).
    request.mutable_answer_on_channel()->set_served_by(worker::v1::FORK);
    request.mutable_answer_on_channel()->set_spare(true);
    request.mutable_answer_on_channel()->set_parked(true);
    worker::v1::InstanceUp up;
    up.mutable_started()->set_route(parked_route);
    up.mutable_started()->set_id(request.id());
    up.mutable_started()->set_timeout_ms(request.timeout_ms());
    channel = std::move(parked);
    parked.reset();
    answer_route = parked_route;
    parked_route = 0;
    *run = true;
    return tell(up);
  };
  // Waits for the next request, from the worker or on a parked channel;
  // false when the worker let this instance go.
  auto next = [&]() {
    while (true) {
      if (parked.has_value()) {
        pollfd fds[2] = {{socket.fd(), POLLIN, 0}, {parked->fd(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
          if (errno == EINTR) continue;
          return false;
        }
        if (fds[0].revents == 0) {
          bool run = false;
          if (!read_parked(&run)) return false;
          if (run) return true;
          continue;
        }
      }
      absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
      worker::v1::InstanceDown down;
      if (!message.ok() || !down.ParseFromString(message->data)) {
        return false;
      }
      if (down.has_park()) {
        if (message->fds.size() == 1) {
          parked.emplace(std::move(message->fds[0]));
          parked_route = down.park().route();
        }
        continue;
      }
      request = down.invoke();
      channel.reset();
      if (!message->fds.empty()) {
        channel.emplace(std::move(message->fds[0]));
      }
      answer_route = 0;
      return true;
    }
  };
  if (first != nullptr) {
    request = *first;
    if (first_channel.valid()) {
      channel.emplace(std::move(first_channel));
    }
  } else {
    // A spare: everything is built; take the first run's page faults now
    // (best effort: without it the invocation only runs slower), then wait
    // for the invocation.
    (void)PrefaultForkedChild(getppid());
    if (!next()) {
      _exit(0);
    }
  }
  while (true) {
    worker::v1::InvokeReply reply;
    if (runtime.ok()) {
      reply = (*runtime)->Run(request);
    } else {
      reply.set_id(request.id());
      EncodeStatus(runtime.status(), &reply);
    }
    reply.set_instance_pid(getpid());
    // Without its channel (not expected) the answer goes to the worker,
    // which relays it.
    bool sent;
    if (request.has_answer_on_channel() && channel.has_value()) {
      sent = AnswerOnChannel(request, std::move(reply), absl::Now(), socket,
                             *std::move(channel), answer_route)
                 .ok();
      channel.reset();
    } else {
      worker::v1::InstanceUp up;
      *up.mutable_reply() = std::move(reply);
      sent = tell(up);
    }
    if (!sent || !next()) {
      _exit(0);  // The worker retired this instance.
    }
  }
}

}  // namespace swift
