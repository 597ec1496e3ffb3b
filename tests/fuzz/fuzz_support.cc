// Shared pieces of the fuzz targets; see fuzz_support.h.
#include "tests/fuzz/fuzz_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"

namespace swift::fuzz {
namespace {

// What Exchange() attaches. Opened before main(), so that the targets'
// descriptor counts never see it appear.
const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);

// Sends `chunk` from `offset` on non-blocking `fd`, with a descriptor of
// /dev/null attached when `with_fd`. Returns the bytes sent, 0 when the
// socket is full, -1 when the peer is gone or refuses the chunk.
ssize_t SendChunk(int fd, const std::string& chunk, size_t offset,
                  bool with_fd) {
  iovec iov = {const_cast<char*>(chunk.data()) + offset, chunk.size() - offset};
  msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (with_fd && dev_null >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &dev_null, sizeof(int));
  }
  const ssize_t sent =
      sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent >= 0) {
    // A zero-length datagram is sent whole: count it as progress.
    return chunk.empty() ? 1 : sent;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    return 0;
  }
  return -1;  // EPIPE, ECONNRESET, EMSGSIZE...: this chunk goes no further.
}

std::mutex scratch_mu;
std::vector<std::string>* scratch_directories = nullptr;

int RemoveEntry(const char* path, const struct stat*, int, FTW*) {
  remove(path);
  return 0;
}

void RemoveScratchDirectories() {
  std::lock_guard<std::mutex> lock(scratch_mu);
  for (const std::string& directory : *scratch_directories) {
    nftw(directory.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
}

}  // namespace

std::vector<std::string> SplitMessages(absl::string_view input) {
  std::vector<std::string> messages;
  std::string current;
  size_t i = 0;
  while (i < input.size() && messages.size() < kMaxMessages) {
    const char c = input[i++];
    if (c != '\\') {
      current.push_back(c);
      continue;
    }
    if (i < input.size() && input[i] == '\\') {
      current.push_back('\\');
      ++i;
      continue;
    }
    ++i;  // The byte after a lone backslash ends the message with it.
    messages.push_back(std::move(current));
    current.clear();
  }
  if (messages.size() < kMaxMessages && (!current.empty() || i > 0)) {
    messages.push_back(std::move(current));
  }
  return messages;
}

std::string JoinMessages(const std::vector<std::string>& messages) {
  std::string input;
  for (size_t m = 0; m < messages.size(); ++m) {
    for (const char c : messages[m]) {
      input.push_back(c);
      if (c == '\\') {
        input.push_back('\\');
      }
    }
    if (m + 1 < messages.size()) {
      input.append("\\ ");
    }
  }
  return input;
}

std::vector<std::string> Exchange(int fd, const std::vector<std::string>& chunks,
                                  const std::vector<bool>& fds_for,
                                  absl::Duration timeout) {
  const int flags = fcntl(fd, F_GETFL);
  Check(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0,
        "fcntl(O_NONBLOCK) on the client socket");
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> answers;
  std::string buffer(128 * 1024, '\0');
  size_t next = 0;    // The chunk being sent.
  size_t offset = 0;  // Bytes of it sent already (streams).
  bool shut = false;
  while (true) {
    if (next == chunks.size() && !shut) {
      shutdown(fd, SHUT_WR);  // The server's next read sees the end.
      shut = true;
    }
    pollfd poll_fd = {fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)),
                      0};
    const absl::Duration left = deadline - absl::Now();
    const int ready =
        left <= absl::ZeroDuration()
            ? 0
            : poll(&poll_fd, 1,
                   static_cast<int>(absl::ToInt64Milliseconds(left) + 1));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      Check(false, absl::StrCat("the server neither answered nor closed the "
                                "connection within ",
                                absl::FormatDuration(timeout), " (a hang)"));
    }
    if (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n > 0) {
        answers.emplace_back(buffer.data(), static_cast<size_t>(n));
        continue;
      }
      if (n == 0 ||
          (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        return answers;  // EOF or reset: the conversation is over.
      }
    }
    if (!shut && (poll_fd.revents & POLLOUT)) {
      const bool with_fd = next < fds_for.size() && fds_for[next] && offset == 0;
      const ssize_t sent = SendChunk(fd, chunks[next], offset, with_fd);
      if (sent < 0) {
        next = chunks.size();  // The peer stopped listening: read the rest.
      } else if (sent > 0) {
        offset += static_cast<size_t>(sent);
        if (offset >= chunks[next].size()) {
          ++next;
          offset = 0;
        }
      }
    }
  }
}

namespace {

// The sanitizer runtime probes memory by writing it into a pipe it opens
// and closes at once (without O_CLOEXEC), on any thread, for instance when
// a server thread starts. Counted, such a pipe made a baseline two too
// high and a clean run look like a double close (CI, fast_path_fuzz). Every
// pipe Swift opens is O_CLOEXEC, so a pipe without it is the runtime's.
// A descriptor closed since readdir() is not open either.
bool IsSanitizerProbeOrGone(int dir_fd, const char* name) {
  const int fd = atoi(name);
  if (fd == dir_fd) {
    return true;
  }
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0) {
    return true;
  }
  if (flags & FD_CLOEXEC) {
    return false;
  }
  char target[64];
  const std::string link = absl::StrCat("/proc/self/fd/", name);
  const ssize_t size = readlink(link.c_str(), target, sizeof(target) - 1);
  return size >= 5 && strncmp(target, "pipe:", 5) == 0;
}

}  // namespace

int OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  Check(dir != nullptr, "opendir(/proc/self/fd)");
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.' &&
        !IsSanitizerProbeOrGone(dirfd(dir), entry->d_name)) {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

void ExpectFdCount(int expected, absl::string_view what) {
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  int open = OpenFdCount();
  while (open != expected && absl::Now() < deadline) {
    usleep(1000);
    open = OpenFdCount();
  }
  if (open != expected) {
    Check(false, absl::StrCat(what, ": ", open, " descriptors open, expected ",
                              expected,
                              " (a descriptor leaked or was closed twice)"));
  }
}

void QuietLogs() {
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_ERROR;
}

std::string ScratchDirectory(absl::string_view name) {
  struct stat info;
  const bool shm = stat("/dev/shm", &info) == 0 && S_ISDIR(info.st_mode) &&
                   access("/dev/shm", W_OK) == 0;
  const char* tmp = getenv("TMPDIR");
  std::string base = shm ? "/dev/shm" : (tmp != nullptr ? tmp : "/tmp");
  std::string path = absl::StrCat(base, "/swift-fuzz-", name, "-XXXXXX");
  Check(mkdtemp(path.data()) != nullptr,
        absl::StrCat("mkdtemp(", path, "): ", strerror(errno)));
  std::lock_guard<std::mutex> lock(scratch_mu);
  if (scratch_directories == nullptr) {
    scratch_directories = new std::vector<std::string>();
    atexit(RemoveScratchDirectories);
  }
  scratch_directories->push_back(path);
  return path;
}

void Check(bool condition, absl::string_view what) {
  if (!condition) {
    fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()),
            what.data());
    fflush(stderr);
    abort();
  }
}

}  // namespace swift::fuzz
