// Frame I/O against deadlines; see frame_io.h.
#include "common/frame_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errno_status.h"

namespace swift {
namespace {

// What a buffer starts with: a peer link frame is a few hundred bytes, and
// a pipelined batch of them fits.
constexpr size_t kInitialBuffer = 4096;

// Waits until `fd` has `events` (or an error or hang-up to report, which
// the next call tells apart); kDeadlineExceeded with `late` at `deadline`.
absl::Status PollUntil(int fd, short events, absl::Time deadline,
                       absl::string_view late) {
  while (true) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(late);
      }
      // Rounded up: a deadline 0.4 ms away must not become a busy loop.
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(left + absl::Microseconds(999)),
          std::numeric_limits<int>::max()));
    }
    pollfd poll_fd = {fd, events, 0};
    const int ready = poll(&poll_fd, 1, timeout_ms);
    if (ready > 0) {
      return absl::OkStatus();
    }
    if (ready < 0 && errno != EINTR) {
      return ErrnoStatus(errno, "poll");
    }
  }
}

}  // namespace

absl::Status FrameReader::Fill(size_t wanted, absl::Time deadline,
                               bool poll_first) {
  if (start_ > 0 && start_ + wanted > buffer_.size()) {
    // Make room at the back by dropping what was returned.
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (buffer_.size() < start_ + wanted) {
    buffer_.resize(std::max(start_ + wanted, kInitialBuffer));
  }
  bool wait = poll_first;
  while (true) {
    if (wait) {
      if (absl::Status ready = PollUntil(fd_, POLLIN, deadline,
                                         "recv: peer silent past the deadline");
          !ready.ok()) {
        return ready;
      }
    }
    const ssize_t n =
        recv(fd_, buffer_.data() + end_, buffer_.size() - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return absl::OkStatus();
    }
    if (n == 0) {
      return absl::UnavailableError("recv: peer closed the connection");
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait = true;
    } else if (errno != EINTR) {
      return ErrnoStatus(errno, "recv");
    }
  }
}

absl::StatusOr<std::string> FrameReader::Read(absl::Time first_byte_deadline,
                                              absl::Duration frame_timeout,
                                              absl::Time frame_deadline) {
  constexpr size_t kHeader = 4;
  if (buffered() == 0) {
    start_ = end_ = 0;
    if (absl::Status status =
            Fill(kHeader, first_byte_deadline, /*poll_first=*/true);
        !status.ok()) {
      return status;
    }
  }
  const absl::Time deadline =
      std::min(absl::Now() + frame_timeout, frame_deadline);
  while (buffered() < kHeader) {
    if (absl::Status status = Fill(kHeader, deadline, /*poll_first=*/false);
        !status.ok()) {
      return status;
    }
  }
  absl::StatusOr<size_t> length = FrameLength(
      absl::string_view(buffer_.data() + start_, kHeader), max_bytes_);
  if (!length.ok()) {
    return length.status();
  }
  while (buffered() < kHeader + *length) {
    if (absl::Status status =
            Fill(kHeader + *length, deadline, /*poll_first=*/false);
        !status.ok()) {
      return status;
    }
  }
  std::string payload(buffer_.data() + start_ + kHeader, *length);
  start_ += kHeader + *length;
  return payload;
}

absl::Status SendFrameBefore(int fd, absl::string_view payload,
                             absl::Time deadline) {
  const std::string frame = EncodeFrame(payload);
  size_t done = 0;
  while (done < frame.size()) {
    // MSG_NOSIGNAL: a vanished peer is a status, not a SIGPIPE.
    const ssize_t n = send(fd, frame.data() + done, frame.size() - done,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (absl::Status ready =
              PollUntil(fd, POLLOUT, deadline,
                        "send: peer not reading past the deadline");
          !ready.ok()) {
        return ready;
      }
    } else if (errno != EINTR) {
      return ErrnoStatus(errno, "send");
    }
  }
  return absl::OkStatus();
}

}  // namespace swift
