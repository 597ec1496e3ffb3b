// UniqueFd: the one owner of a file descriptor, closed when the owner dies.
//
// Thread-compatible. Move-only.
#ifndef SWIFT_COMMON_UNIQUE_FD_H_
#define SWIFT_COMMON_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace swift {

class UniqueFd final {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 means none).
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset(other.Release());
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership and returns the fd.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the owned fd, if any, and owns `fd` instead.
  void Reset(int fd = -1) {
    if (fd_ >= 0) {
      // close() is not retried on EINTR: on Linux the fd is gone either way.
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace swift

#endif  // SWIFT_COMMON_UNIQUE_FD_H_
