// ServeColdInstance(); see cold_child.h.
#include "daemon/worker/cold_child.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "daemon/worker/function_library.h"
#include "daemon/worker/instance_runtime.h"
#include "proto/wire_status.h"

namespace swift {

void ServeColdInstance(const ProviderDoorbell& doorbell, pid_t template_pid,
                       SeqpacketSocket socket, const ConnectionSet& connections,
                       absl::flat_hash_set<uint32_t> shared_lkeys,
                       const worker::v1::InvokeRequest& request) {
  // Checked after arming too: the template may have died before.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != template_pid) {
    _exit(0);
  }
  worker::v1::InvokeReply reply;
  // Loaded here, in the child only: the template stays free of any
  // tenant code, and the next child starts from it unchanged.
  absl::StatusOr<FunctionLibrary> library =
      FunctionLibrary::Open(request.cold_function().library_path());
  if (!library.ok()) {
    reply.set_id(request.id());
    EncodeStatus(library.status(), &reply);
  } else {
    std::vector<Connection*> views;
    for (const auto& connection : connections) {
      views.push_back(connection.get());
    }
    absl::StatusOr<std::unique_ptr<InstanceRuntime>> runtime =
        InstanceRuntime::Create(library->function(), views, doorbell,
                                std::move(shared_lkeys));
    if (runtime.ok()) {
      reply = (*runtime)->Run(request);
    } else {
      reply.set_id(request.id());
      EncodeStatus(runtime.status(), &reply);
    }
  }
  reply.set_instance_pid(getpid());
  (void)socket.Send(reply.SerializeAsString());
  _exit(0);
}

}  // namespace swift
