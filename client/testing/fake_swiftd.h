// FakeSwiftd: a fake of swiftd's fast path on a temporary SOCK_SEQPACKET
// socket, for host tests of libswift's client side (no daemon, no
// device): hellos answered as swiftd does (device "fake0"), every other
// request by a handler the test gives.
#ifndef SWIFT_CLIENT_TESTING_FAKE_SWIFTD_H_
#define SWIFT_CLIENT_TESTING_FAKE_SWIFTD_H_

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/seqpacket_socket.h"
#include "common/version.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift {

// A fast-path socket listening in a new temporary directory: sets `dir`
// and `path` (<dir>/swiftd.fast.sock, the fast path of <dir>/swiftd.sock).
// The caller removes both when done.
inline std::unique_ptr<SeqpacketListener> ListenInTempDir(std::string* dir,
                                                          std::string* path) {
  char name[] = "/tmp/fake_swiftd.XXXXXX";
  *dir = mkdtemp(name);
  *path = *dir + "/swiftd.fast.sock";
  absl::StatusOr<SeqpacketListener> listener =
      SeqpacketListener::Listen(*path, 0600);
  EXPECT_TRUE(listener.ok()) << listener.status();
  return listener.ok()
             ? std::make_unique<SeqpacketListener>(*std::move(listener))
             : nullptr;
}

// What the fake answers a request with: the bytes to send back, or nullopt
// to close the connection without answering.
using Handler =
    std::function<std::optional<std::string>(const v1::FastRequest&)>;

// swiftd's answer to a hello or a ping.
inline v1::FastResponse AnswerOf(const v1::FastRequest& request) {
  v1::FastResponse response;
  response.set_call_id(request.call_id());
  if (request.has_hello()) {
    response.mutable_hello()->set_api_version(kControlApiVersion);
    response.mutable_hello()->set_device("fake0");
  } else if (request.has_ping()) {
    response.mutable_ping()->set_sequence(request.ping().sequence());
  }
  return response;
}

// Answers hellos and pings as swiftd does.
inline std::optional<std::string> Answer(const v1::FastRequest& request) {
  return AnswerOf(request).SerializeAsString();
}

// A fake swiftd fast path: one thread per connection, each request answered
// by `handler` after the hello (always answered).
class FakeSwiftd {
 public:
  explicit FakeSwiftd(Handler handler) : handler_(std::move(handler)) {
    listener_ = ListenInTempDir(&dir_, &path_);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeSwiftd() {
    Stop();
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      for (auto& connection : connections_) {
        shutdown(connection->fd(), SHUT_RDWR);
      }
      threads.swap(threads_);
    }
    for (std::thread& thread : threads) thread.join();
    rmdir(dir_.c_str());
  }

  // Stops accepting and removes the socket: new connections fail.
  void Stop() {
    if (!acceptor_.joinable()) return;
    listener_->Shutdown();
    acceptor_.join();
    unlink(path_.c_str());
  }

  const std::string& path() const { return path_; }
  // The Control API socket path whose fast path this is (what
  // SessionOptions::socket_path names).
  std::string control_socket_path() const { return dir_ + "/swiftd.sock"; }

  int accepted() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(connections_.size());
  }

  // Connections the client closed (or shut down).
  int closed_by_client() {
    absl::MutexLock lock(&mu_);
    return closed_by_client_;
  }

  std::vector<uint64_t> call_ids() {
    absl::MutexLock lock(&mu_);
    return call_ids_;
  }

  // Answers from now on to requests other than hellos carry `fd` (the
  // caller keeps it open while the fake runs), as swiftd attaches a
  // lease's or a shared context's fd; -1: none.
  void set_attached_fd(int fd) {
    absl::MutexLock lock(&mu_);
    attached_fd_ = fd;
  }

  // Hellos answered from now on carry `port` as their device's address.
  void set_hello_port(const v1::CachedPortAddress& port) {
    absl::MutexLock lock(&mu_);
    hello_port_ = port;
  }

 private:
  void AcceptLoop() {
    while (true) {
      absl::StatusOr<SeqpacketSocket> accepted = listener_->Accept();
      if (!accepted.ok()) return;
      absl::MutexLock lock(&mu_);
      connections_.push_back(
          std::make_unique<SeqpacketSocket>(*std::move(accepted)));
      SeqpacketSocket* connection = connections_.back().get();
      threads_.emplace_back([this, connection] { Serve(*connection); });
    }
  }

  void Serve(SeqpacketSocket& connection) {
    while (true) {
      absl::StatusOr<SeqpacketSocket::Message> message = connection.Receive();
      v1::FastRequest request;
      if (!message.ok()) {
        absl::MutexLock lock(&mu_);
        ++closed_by_client_;
        return;
      }
      if (!request.ParseFromString(message->data)) return;
      std::optional<std::string> reply;
      std::vector<int> fds;
      if (request.has_hello()) {
        v1::FastResponse hello = AnswerOf(request);
        absl::MutexLock lock(&mu_);
        if (hello_port_.has_value()) {
          *hello.mutable_hello()->mutable_port_address() = *hello_port_;
        }
        reply = hello.SerializeAsString();
      } else {
        {
          absl::MutexLock lock(&mu_);
          call_ids_.push_back(request.call_id());
          if (attached_fd_ >= 0) fds.push_back(attached_fd_);
        }
        reply = handler_(request);
      }
      if (!reply.has_value()) {
        shutdown(connection.fd(), SHUT_RDWR);
        return;
      }
      if (!connection.Send(*reply, fds).ok()) return;
    }
  }

  const Handler handler_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<SeqpacketListener> listener_;
  std::thread acceptor_;
  absl::Mutex mu_;
  // Kept open until the fake is destroyed, so no fd number is reused
  // while a thread may still shut it down.
  std::vector<std::unique_ptr<SeqpacketSocket>> connections_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> call_ids_ ABSL_GUARDED_BY(mu_);
  int closed_by_client_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<v1::CachedPortAddress> hello_port_ ABSL_GUARDED_BY(mu_);
  int attached_fd_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_TESTING_FAKE_SWIFTD_H_
