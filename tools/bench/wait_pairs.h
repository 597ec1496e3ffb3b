// WaitPairs: N connected RC queue-pair pairs between two RDMA devices opened
// by one process, for the wait-mode benchmark (tools/bench/run wait_modes).
//
// Each side of each pair owns a completion channel, one CQ (its sends and
// receives complete there) and an RC QP: a CqWaiter needs a channel to
// itself, so channels are never shared. Each device has one PD and one
// registered buffer that holds every QP's receive slots (kRecvDepth slots of
// kSlotBytes per side). Sends are inline (up to kMaxInline bytes), so they
// need no registered memory.
//
// Thread-compatible: Create() and destruction run on one thread; in between,
// each side's CQ and QP are driven by one thread (its owner), and
// PostRecv() on a side only by that side's owner.
#ifndef SWIFT_TOOLS_BENCH_WAIT_PAIRS_H_
#define SWIFT_TOOLS_BENCH_WAIT_PAIRS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/verbs/completion_channel.h"
#include "common/verbs/context.h"
#include "common/verbs/cq.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"

namespace swift::bench {

// Receives kept posted on every QP, and the bytes of each receive slot.
inline constexpr int kRecvDepth = 4;
inline constexpr uint32_t kSlotBytes = 64;
// Largest inline send, send queue depth and CQ size per side.
inline constexpr uint32_t kMaxInline = 16;
inline constexpr uint32_t kSendDepth = 64;
inline constexpr int kCqEntries = 128;

// An open device and the port address its QPs use.
struct WaitDevice {
  std::shared_ptr<verbs::Context> context;
  verbs::PortAddress port;
};

// OpenWaitDevice()
//
// Opens device `name` and reads port 1's address (the RoCE v2 IPv4-mapped
// GID unless `gid_index` is given). Errors: those of Context::OpenByName()
// and QueryPortAddress().
absl::StatusOr<WaitDevice> OpenWaitDevice(const std::string& name,
                                          std::optional<uint32_t> gid_index);

// One side of one pair. Members in creation order: destroyed QP first.
struct WaitSide {
  std::shared_ptr<verbs::CompletionChannel> channel;
  std::shared_ptr<verbs::Cq> cq;
  std::unique_ptr<verbs::Qp> qp;
  uint32_t psn = 0;
  uint8_t* slots = nullptr;  // kRecvDepth slots of kSlotBytes.
  uint32_t lkey = 0;

  // PostRecv()
  //
  // Posts receive slot `slot` (0..kRecvDepth-1) with wr_id `slot`.
  absl::Status PostRecv(int slot);
  // The receive slot `slot`'s bytes.
  const uint8_t* Slot(int slot) const { return slots + slot * kSlotBytes; }
};

class WaitPairs final {
 public:
  // Create()
  //
  // `pairs` (>= 1) pairs: side A of each on `a`, side B on `b` (may be the
  // same device), connected RESET -> RTS against each other, with every
  // receive slot posted. Errors: kInvalidArgument for pairs < 1; otherwise
  // the first failing verb's status.
  static absl::StatusOr<std::unique_ptr<WaitPairs>> Create(const WaitDevice& a,
                                                           const WaitDevice& b,
                                                           int pairs);

  WaitPairs(const WaitPairs&) = delete;
  WaitPairs& operator=(const WaitPairs&) = delete;
  ~WaitPairs() = default;

  int size() const { return static_cast<int>(a_sides_.size()); }
  WaitSide& a(int i) { return *a_sides_[i]; }
  WaitSide& b(int i) { return *b_sides_[i]; }

 private:
  WaitPairs() = default;

  // One device's share: its PD, the receive slots' memory and their MR.
  struct Memory {
    std::shared_ptr<verbs::Pd> pd;
    std::vector<uint8_t> bytes;
    std::unique_ptr<verbs::Mr> mr;
  };

  // Creates a side's channel, CQ and QP in `memory`'s PD; slot memory
  // index `index`.
  static absl::StatusOr<std::unique_ptr<WaitSide>> MakeSide(
      const WaitDevice& device, Memory& memory, int index);

  // Declared first: released after every side's QP and CQ.
  Memory a_memory_;
  Memory b_memory_;
  std::vector<std::unique_ptr<WaitSide>> a_sides_;
  std::vector<std::unique_ptr<WaitSide>> b_sides_;
};

}  // namespace swift::bench

#endif  // SWIFT_TOOLS_BENCH_WAIT_PAIRS_H_
