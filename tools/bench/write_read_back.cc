// WriteAndReadBack(); see write_read_back.h.
#include "tools/bench/write_read_back.h"

#include <infiniband/verbs.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/time/time.h"
#include "common/verbs/post_and_wait.h"

namespace swift::bench {
namespace {

absl::Status PostAndPoll(Connection& connection, ibv_wr_opcode opcode,
                         size_t local_offset, size_t remote_offset) {
  ibv_sge sge = {reinterpret_cast<uint64_t>(connection.buffer() + local_offset),
                 static_cast<uint32_t>(kReadBackBytes), connection.mr()->lkey};
  ibv_send_wr wr = verbs::SignaledRdmaRequest(
      opcode, &sge, connection.remote().addr + remote_offset,
      connection.remote().rkey, /*wr_id=*/opcode);
  return verbs::PostAndWait(connection.qp(), connection.cq(), wr,
                            absl::Seconds(10));
}

}  // namespace

absl::Status WriteAndReadBack(Connection& connection, size_t local_offset,
                              size_t remote_offset, char fill,
                              const std::string& label) {
  uint8_t* out = connection.buffer() + local_offset;
  uint8_t* back = out + kReadBackBytes;
  std::memset(out, fill, kReadBackBytes);
  std::memcpy(out, label.data(), std::min(label.size(), kReadBackBytes - 1));
  out[std::min(label.size(), kReadBackBytes - 1)] = '\0';
  std::memset(back, 0, kReadBackBytes);
  if (absl::Status write = PostAndPoll(connection, IBV_WR_RDMA_WRITE,
                                       local_offset, remote_offset);
      !write.ok()) {
    return write;
  }
  if (absl::Status read =
          PostAndPoll(connection, IBV_WR_RDMA_READ,
                      local_offset + kReadBackBytes, remote_offset);
      !read.ok()) {
    return read;
  }
  if (std::memcmp(out, back, kReadBackBytes) != 0) {
    return absl::DataLossError("read-back differs from what was written");
  }
  return absl::OkStatus();
}

}  // namespace swift::bench
