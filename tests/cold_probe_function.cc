// A Swift function for tests/cold_template_rdma_test (see swift/function.h):
// says which process ran it, so that the test can tell which cold template
// forked it. The payload picks:
//   "write:TEXT"  RDMA WRITE of TEXT into connection 0's remote buffer at
//                 offset 0, waits for its completion; result
//                 "wrote N ppid P uid U" (P: the process that forked it)
//   "hang"        never returns
#include <infiniband/verbs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common/verbs/post_and_wait.h"
#include "swift/function.h"

namespace {

int SetResult(const swift_invocation* invocation, const std::string& text) {
  const size_t size = std::min(text.size(), invocation->result_capacity);
  std::memcpy(invocation->result, text.data(), size);
  *invocation->result_size = size;
  return 0;
}

}  // namespace

extern "C" int swift_function(const swift_invocation* invocation) {
  const std::string payload(reinterpret_cast<const char*>(invocation->payload),
                            invocation->payload_size);
  if (payload == "hang") {
    while (true) {
      pause();
    }
  }
  if (payload.rfind("write:", 0) != 0 || invocation->connection_count == 0) {
    return 1;
  }
  const swift_connection_view& connection = invocation->connections[0];
  const std::string text = payload.substr(6);
  std::memcpy(connection.buffer, text.data(), text.size());
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer),
                 static_cast<uint32_t>(text.size()), connection.mr->lkey};
  ibv_send_wr wr = swift::verbs::SignaledRdmaRequest(
      IBV_WR_RDMA_WRITE, &sge, connection.remote_addr, connection.remote_rkey,
      /*wr_id=*/42);
  if (invocation->post_send(invocation->context, 0, &wr) != 0) {
    return 3;
  }
  if (!swift::verbs::WaitForCompletion(connection.cq, wr.wr_id,
                                       absl::Seconds(10))
           .ok()) {
    return 5;
  }
  return SetResult(invocation, "wrote " + std::to_string(text.size()) +
                                   " ppid " + std::to_string(getppid()) +
                                   " uid " + std::to_string(getuid()));
}
