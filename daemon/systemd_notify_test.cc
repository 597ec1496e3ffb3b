#include "daemon/systemd_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(NotifySystemdTest, DoesNothingOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifySystemd("READY=1").ok());
}

TEST(NotifySystemdTest, SendsTheStateAsOneDatagram) {
  char dir[] = "/tmp/swift-notify-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/notify";
  UniqueFd receiver(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(receiver.get(), reinterpret_cast<sockaddr*>(&address),
                 sizeof(address)),
            0);

  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ASSERT_TRUE(NotifySystemd("READY=1\nSTATUS=Serving").ok());
  unsetenv("NOTIFY_SOCKET");

  char buffer[128] = {};
  ssize_t received = recv(receiver.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  EXPECT_EQ(std::string(buffer, received > 0 ? received : 0),
            "READY=1\nSTATUS=Serving");
  unlink(path.c_str());
  rmdir(dir);
}

TEST(NotifySystemdTest, ReportsAnUnreachableSocket) {
  setenv("NOTIFY_SOCKET", "/tmp/swift-no-such-notify-socket", 1);
  absl::Status status = NotifySystemd("READY=1");
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

TEST(NotifySystemdTest, RejectsARelativePath) {
  setenv("NOTIFY_SOCKET", "relative/notify", 1);
  absl::Status status = NotifySystemd("READY=1");
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift
