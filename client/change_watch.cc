// ChangeWatch implementation; see change_watch.h.
#include "client/change_watch.h"

#include <poll.h>
#include <sys/mman.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/fast_path_client.h"
#include "common/errno_status.h"

namespace swift {

absl::StatusOr<std::unique_ptr<ChangeWatch>> ChangeWatch::Open(
    const std::string& fast_path_socket, const std::string& client_name) {
  absl::StatusOr<SeqpacketSocket> socket = FastPathClient::OpenChannel(
      fast_path_socket, client_name, v1::FastHello::CALLS);
  if (!socket.ok()) {
    return socket.status();
  }
  v1::FastRequest request;
  request.set_call_id(1);
  request.mutable_watch_changes();
  std::vector<UniqueFd> fds;
  absl::StatusOr<v1::FastResponse> answer = CallOn(*socket, request, &fds);
  if (!answer.ok()) {
    return answer.status();
  }
  if (!answer->has_watch_changes() || fds.size() != 1) {
    return absl::InternalError(absl::StrCat(
        "swiftd answered watch_changes with ", fds.size(), " fds, not one"));
  }
  void* mapped =
      mmap(nullptr, ChangePage::kBytes, PROT_READ, MAP_SHARED, fds[0].get(), 0);
  if (mapped == MAP_FAILED) {
    return ErrnoStatus(errno, "mmap(swiftd's change page)");
  }
  const auto* page = static_cast<const ChangePage*>(mapped);
  if (page->magic != ChangePage::kMagic) {
    munmap(mapped, ChangePage::kBytes);
    return absl::InternalError("swiftd's change page has the wrong magic");
  }
  return std::unique_ptr<ChangeWatch>(
      new ChangeWatch(*std::move(socket), page));
}

ChangeWatch::~ChangeWatch() {
  munmap(const_cast<ChangePage*>(page_), ChangePage::kBytes);
}

std::optional<uint64_t> ChangeWatch::Generation() const {
  // swiftd never writes on this connection: anything readable is its end
  // (or an error), and the count is then nobody's.
  pollfd watched = {socket_.fd(), POLLIN | POLLRDHUP, 0};
  if (poll(&watched, 1, 0) != 0) {
    return std::nullopt;
  }
  return LoadChangeGeneration(*page_);
}

}  // namespace swift
