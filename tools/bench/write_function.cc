// The function the invoke benchmark and the soak run (tools/bench/run invoke,
// tools/bench/run soak; see swift/function.h): one RDMA WRITE of the payload
// into connection 0's remote buffer and an RDMA READ back, compared; returns
// "ok N" (non-zero, with no result, when anything differs or the payload
// does not fit). Each instance works in its own slice of the local and the
// remote buffer, chosen by its QP number: a worker hands every instance the
// SAME local buffer (the worker session's), and up to max_instances run at
// once, so instances using the same bytes would overwrite each other's
// read-back.
#include <infiniband/verbs.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "swift/function.h"

namespace {

int PostAndWait(const swift_invocation* invocation, ibv_wr_opcode opcode,
                uint8_t* local, uint64_t remote, uint32_t length) {
  const swift_connection_view& connection = invocation->connections[0];
  ibv_sge sge = {reinterpret_cast<uint64_t>(local), length,
                 connection.mr->lkey};
  ibv_send_wr wr = {};
  wr.wr_id = opcode;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = opcode;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = connection.remote_addr + remote;
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
  const size_t length = invocation->payload_size;
  if (length == 0 || length > UINT32_MAX) {
    return 5;
  }
  const size_t local_slots = connection.buffer_size / (2 * length);
  const size_t remote_slots = connection.remote_length / length;
  const size_t slots = local_slots < remote_slots ? local_slots : remote_slots;
  if (slots == 0) {
    return 5;
  }
  const size_t slot = connection.qp->qp_num % slots;
  uint8_t* out = connection.buffer + slot * 2 * length;
  uint8_t* back = out + length;
  std::memcpy(out, invocation->payload, length);
  std::memset(back, 0, length);
  const uint32_t bytes = static_cast<uint32_t>(length);
  if (int rc = PostAndWait(invocation, IBV_WR_RDMA_WRITE, out,
                           slot * length, bytes);
      rc != 0) {
    return rc;
  }
  if (int rc = PostAndWait(invocation, IBV_WR_RDMA_READ, back,
                           slot * length, bytes);
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
