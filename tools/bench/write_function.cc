// The function tools/bench/run invoke measures (see swift/function.h):
// writes the payload's size in pattern bytes (4 KiB in the benchmark) into
// connection 0's remote buffer with one RDMA WRITE, reads them back with an
// RDMA READ (the peer's memory now holds them: verified), and returns
// "ok N". Returns non-zero, with no result, when anything differs.
#include <infiniband/verbs.h>

#include <cstring>
#include <string>

#include "swift/function.h"

namespace {

int PostAndWait(const swift_invocation* invocation, ibv_wr_opcode opcode,
                uint8_t* local, uint32_t length) {
  const swift_connection_view& connection = invocation->connections[0];
  ibv_sge sge = {reinterpret_cast<uint64_t>(local), length,
                 connection.mr->lkey};
  ibv_send_wr wr = {};
  wr.wr_id = opcode;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = opcode;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = connection.remote_addr;
  wr.wr.rdma.rkey = connection.remote_rkey;
  if (invocation->post_send(invocation->context, 0, &wr) != 0) {
    return 2;
  }
  while (true) {
    ibv_wc wc;
    const int polled = ibv_poll_cq(connection.cq, 1, &wc);
    if (polled < 0) {
      return 3;
    }
    if (polled == 1) {
      return wc.status == IBV_WC_SUCCESS ? 0 : 4;
    }
  }
}

}  // namespace

extern "C" int swift_function(const swift_invocation* invocation) {
  if (invocation->connection_count == 0) {
    return 1;
  }
  const swift_connection_view& connection = invocation->connections[0];
  const uint32_t length = static_cast<uint32_t>(invocation->payload_size);
  if (length == 0 || 2 * static_cast<size_t>(length) > connection.buffer_size ||
      length > connection.remote_length) {
    return 5;
  }
  uint8_t* out = connection.buffer;
  uint8_t* back = connection.buffer + length;
  std::memcpy(out, invocation->payload, length);
  std::memset(back, 0, length);
  if (int rc = PostAndWait(invocation, IBV_WR_RDMA_WRITE, out, length);
      rc != 0) {
    return rc;
  }
  if (int rc = PostAndWait(invocation, IBV_WR_RDMA_READ, back, length);
      rc != 0) {
    return rc;
  }
  if (std::memcmp(out, back, length) != 0) {
    return 6;
  }
  const std::string result = "ok " + std::to_string(length);
  std::memcpy(invocation->result, result.data(), result.size());
  *invocation->result_size = result.size();
  return 0;
}
