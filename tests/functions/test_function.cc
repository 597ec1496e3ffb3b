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
//   "alloc:N"     allocates N bytes and touches every page; result
//                 "allocated N", or returns kAllocationFailed (ENOMEM) when
//                 the allocation is refused (the worker's memory limit)
#include <infiniband/verbs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "common/verbs/post_and_wait.h"
#include "swift/function.h"

namespace {

// What "alloc:N" returns when malloc refuses: the errno it stands for, so
// that "the function returned 12" reads as ENOMEM.
constexpr int kAllocationFailed = ENOMEM;

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
  ibv_send_wr wr = swift::verbs::SignaledRdmaRequest(
      IBV_WR_RDMA_WRITE, &sge, connection.remote_addr, connection.remote_rkey,
      /*wr_id=*/42);
  if (invocation->post_send(invocation->context, 0, &wr) != 0) {
    // libswift's reason reaches the caller in the error message.
    return 3;
  }
  const absl::Status completed = swift::verbs::WaitForCompletion(
      connection.cq, wr.wr_id, absl::Seconds(10));
  if (absl::IsDeadlineExceeded(completed)) {
    return 6;
  }
  return completed.ok() ? 0 : 5;
}

// Allocates `bytes` and writes to every page, so that the memory is really
// the instance's; frees it again.
int Allocate(const swift_invocation* invocation, size_t bytes) {
  // volatile: a compiler may otherwise drop an allocation nobody reads.
  volatile char* memory = static_cast<volatile char*>(std::malloc(bytes));
  if (memory == nullptr) {
    // The error's text (swift/function.h): the result of a failure.
    SetResult(invocation,
              "out of memory: malloc(" + std::to_string(bytes) + ") refused");
    return kAllocationFailed;
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t offset = 0; offset < bytes; offset += page) {
    memory[offset] = 1;
  }
  std::free(const_cast<char*>(memory));
  return SetResult(invocation, "allocated " + std::to_string(bytes));
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
  if (payload.rfind("alloc:", 0) == 0) {
    size_t bytes = 0;
    if (!absl::SimpleAtoi(payload.substr(6), &bytes)) {
      return 9;
    }
    return Allocate(invocation, bytes);
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
