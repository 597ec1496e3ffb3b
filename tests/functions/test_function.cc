// A Swift function for the tests (see swift/function.h). The payload picks
// what it does:
//   "write:TEXT"  RDMA WRITE of TEXT into connection 0's remote buffer at
//                 offset 0, waits for the completion; result "wrote N"
//   "echo:TEXT"   result TEXT (no RDMA)
//   "fail"        returns 7
//   "crash"       dies of SIGSEGV
//   "hang"        never returns
//   "private"     posts a WRITE from private (malloc'ed, registered) memory,
//                 which libswift must refuse in a forked instance
#include <infiniband/verbs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "swift/function.h"

namespace {

int SetResult(const swift_invocation* invocation, const std::string& text) {
  const size_t size = std::min(text.size(), invocation->result_capacity);
  std::memcpy(invocation->result, text.data(), size);
  *invocation->result_size = size;
  return 0;
}

// Posts one signaled WRITE of `length` bytes at `addr` (lkey) and waits.
int WriteAndWait(const swift_invocation* invocation, uint64_t addr,
                 uint32_t length, uint32_t lkey) {
  const swift_connection_view& connection = invocation->connections[0];
  ibv_sge sge = {addr, length, lkey};
  ibv_send_wr wr = {};
  wr.wr_id = 42;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_RDMA_WRITE;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = connection.remote_addr;
  wr.wr.rdma.rkey = connection.remote_rkey;
  if (invocation->post_send(invocation->context, 0, &wr) != 0) {
    // libswift's reason reaches the caller in the error message.
    return 3;
  }
  for (int spins = 0; spins < 100000000; ++spins) {
    ibv_wc wc;
    const int polled = ibv_poll_cq(connection.cq, 1, &wc);
    if (polled < 0) {
      return 4;
    }
    if (polled == 1) {
      return wc.status == IBV_WC_SUCCESS && wc.wr_id == 42 ? 0 : 5;
    }
  }
  return 6;
}

}  // namespace

extern "C" int swift_function(const swift_invocation* invocation) {
  const std::string payload(reinterpret_cast<const char*>(invocation->payload),
                            invocation->payload_size);
  if (payload.rfind("echo:", 0) == 0) {
    return SetResult(invocation, payload.substr(5));
  }
  if (payload == "fail") {
    return 7;
  }
  if (payload == "crash") {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
    return 0;
  }
  if (payload == "hang") {
    while (true) {
      pause();
    }
  }
  if (invocation->connection_count == 0) {
    return 2;
  }
  const swift_connection_view& connection = invocation->connections[0];
  if (payload.rfind("write:", 0) == 0) {
    const std::string text = payload.substr(6);
    std::memcpy(connection.buffer, text.data(), text.size());
    const int rc =
        WriteAndWait(invocation, reinterpret_cast<uint64_t>(connection.buffer),
                     static_cast<uint32_t>(text.size()), connection.mr->lkey);
    return rc != 0
               ? rc
               : SetResult(invocation, "wrote " + std::to_string(text.size()));
  }
  if (payload == "private") {
    void* memory = std::malloc(4096);
    std::memset(memory, 'p', 4096);
    ibv_mr* mr =
        ibv_reg_mr(connection.mr->pd, memory, 4096, IBV_ACCESS_LOCAL_WRITE);
    if (mr == nullptr) {
      return 8;
    }
    const int rc = WriteAndWait(invocation, reinterpret_cast<uint64_t>(memory),
                                64, mr->lkey);
    ibv_dereg_mr(mr);
    std::free(memory);
    return rc;
  }
  return 9;
}
