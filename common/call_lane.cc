// CallLane implementation; see call_lane.h.
#include "common/call_lane.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace swift {

// The shared memory. Each side writes its own cache lines only, so that a
// spinning reader does not make the writer's stores bounce. Sizes are
// atomics too (relaxed: the call id's release and acquire order them), so
// that a peer writing while we read is a garbled call, never undefined
// behaviour.
struct CallLane::Layout {
  alignas(64) std::atomic<uint32_t> server_watching;
  alignas(64) std::atomic<uint32_t> client_watching;
  alignas(64) std::atomic<uint64_t> request_call_id;
  std::atomic<uint32_t> request_size;
  alignas(64) std::atomic<uint64_t> answer_call_id;
  std::atomic<uint32_t> answer_size;
  alignas(64) char request[kSlotBytes];
  alignas(64) char answer[kSlotBytes];
};

namespace {

static_assert(std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "the lane's atomics are shared between processes: they must "
              "be lock-free");

// The size that says "on the socket" (more than any slot holds).
constexpr uint32_t kOnSocket = std::numeric_limits<uint32_t>::max();

constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

}  // namespace

void CallLane::Unmap::operator()(Layout* layout) const {
  munmap(layout, kBytes);
}

absl::StatusOr<CallLane> CallLane::Create(UniqueFd* for_client) {
  static_assert(sizeof(Layout) == kBytes, "kSlotBytes and kBytes disagree");
  UniqueFd memory(
      memfd_create("swift-call-lane", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memory.valid()) {
    return ErrnoStatus(errno, "memfd_create(call lane)");
  }
  if (ftruncate(memory.get(), kBytes) != 0) {
    return ErrnoStatus(errno, "ftruncate(call lane)");
  }
  if (fcntl(memory.get(), F_ADD_SEALS, kSeals) != 0) {
    return ErrnoStatus(errno, "sealing the call lane");
  }
  void* mapped = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                      memory.get(), 0);
  if (mapped == MAP_FAILED) {
    return ErrnoStatus(errno, "mmap(call lane)");
  }
  // A new memfd reads as zeros: every atomic starts at 0, no call posted.
  *for_client = std::move(memory);
  return CallLane(static_cast<Layout*>(mapped));
}

absl::StatusOr<CallLane> CallLane::Map(UniqueFd fd) {
  struct stat info = {};
  if (fstat(fd.get(), &info) != 0) {
    return ErrnoStatus(errno, "fstat(call lane)");
  }
  if (static_cast<size_t>(info.st_size) != kBytes ||
      (fcntl(fd.get(), F_GET_SEALS) & kSeals) != kSeals) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a call lane: ", info.st_size, " bytes (expected ",
                     kBytes, "), or not sealed"));
  }
  void* mapped =
      mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapped == MAP_FAILED) {
    return ErrnoStatus(errno, "mmap(call lane)");
  }
  return CallLane(static_cast<Layout*>(mapped));
}

bool CallLane::server_watching() const {
  return layout_->server_watching.load() != 0;
}

bool CallLane::PostRequest(uint64_t call_id, absl::string_view request) {
  if (request.size() > kSlotBytes) {
    return false;
  }
  std::memcpy(layout_->request, request.data(), request.size());
  layout_->request_size.store(static_cast<uint32_t>(request.size()),
                              std::memory_order_relaxed);
  // Sequentially consistent: ordered before the caller's next look at
  // server_watching (see the file comment).
  layout_->request_call_id.store(call_id);
  return true;
}

void CallLane::PostRequestOnSocket(uint64_t call_id) {
  layout_->request_size.store(kOnSocket, std::memory_order_relaxed);
  layout_->request_call_id.store(call_id);
}

void CallLane::set_client_watching(bool watching) {
  layout_->client_watching.store(watching ? 1 : 0);
}

CallLane::Answer CallLane::TakeAnswer(uint64_t call_id,
                                      std::string* answer) const {
  if (layout_->answer_call_id.load() != call_id) {
    return Answer::kNotYet;
  }
  const uint32_t size = layout_->answer_size.load(std::memory_order_relaxed);
  if (size == kOnSocket) {
    return Answer::kOnSocket;
  }
  answer->assign(layout_->answer, std::min<size_t>(size, kSlotBytes));
  return Answer::kHere;
}

void CallLane::set_server_watching(bool watching) {
  layout_->server_watching.store(watching ? 1 : 0);
}

bool CallLane::client_watching() const {
  return layout_->client_watching.load() != 0;
}

CallLane::Request CallLane::TakeRequest(uint64_t* call_id,
                                        std::string* request) {
  const uint64_t id = layout_->request_call_id.load();
  if (id == last_request_) {
    return Request::kNone;
  }
  last_request_ = id;
  *call_id = id;
  // Read once: the client may change it under us.
  const uint32_t size = layout_->request_size.load(std::memory_order_relaxed);
  if (size == kOnSocket) {
    return Request::kOnSocket;
  }
  if (size > kSlotBytes) {
    return Request::kMalformed;
  }
  request->assign(layout_->request, size);
  return Request::kHere;
}

void CallLane::SocketRequestArrived(uint64_t call_id) {
  // The client marks before it sends: the mark is visible by now.
  if (layout_->request_call_id.load() == call_id) {
    last_request_ = call_id;
  }
}

bool CallLane::PostAnswer(uint64_t call_id, absl::string_view answer) {
  if (answer.size() > kSlotBytes) {
    return false;
  }
  std::memcpy(layout_->answer, answer.data(), answer.size());
  layout_->answer_size.store(static_cast<uint32_t>(answer.size()),
                             std::memory_order_relaxed);
  layout_->answer_call_id.store(call_id);
  return true;
}

void CallLane::PostAnswerOnSocket(uint64_t call_id) {
  layout_->answer_size.store(kOnSocket, std::memory_order_relaxed);
  layout_->answer_call_id.store(call_id);
}

}  // namespace swift
