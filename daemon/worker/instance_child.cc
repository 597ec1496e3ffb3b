// ServeAsInstance(); see instance_child.h.
#include "daemon/worker/instance_child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "daemon/worker/channel_answer.h"
#include "daemon/worker/fork/prefault.h"
#include "daemon/worker/instance_runtime.h"
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
  // The client's channel when the request came on one (its answer goes
  // there), else invalid (it goes to the worker).
  UniqueFd channel;
  // Waits for the next request; false when the worker let this one go.
  auto next = [&]() {
    absl::StatusOr<SeqpacketSocket::Message> message = socket.Receive();
    if (!message.ok() || !request.ParseFromString(message->data)) {
      return false;
    }
    channel = message->fds.empty() ? UniqueFd() : std::move(message->fds[0]);
    return true;
  };
  if (first != nullptr) {
    request = *first;
    channel = std::move(first_channel);
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
    const absl::Status sent =
        request.has_answer_on_channel() && channel.valid()
            ? AnswerOnChannel(request, std::move(reply), absl::Now(), socket,
                              std::move(channel))
            : socket.Send(reply.SerializeAsString());
    if (!sent.ok() || !next()) {
      _exit(0);  // The worker retired this instance.
    }
  }
}

}  // namespace swift
