// Tests of ParseMetricsAddress() and CheckCanListen().
#include "daemon/metrics/metrics_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/match.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ParseMetricsAddressTest, TakesAnIpv4AddressAndAPort) {
  absl::StatusOr<MetricsAddress> address =
      ParseMetricsAddress("127.0.0.1:7472");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->ip, "127.0.0.1");
  EXPECT_EQ(address->port, 7472);
  EXPECT_EQ(address->ToString(), "127.0.0.1:7472");
}

TEST(ParseMetricsAddressTest, RefusesWhatIsNotIpPortNamingTheFlag) {
  for (const char* bad : {"", "7472", ":7472", "localhost:7472", "127.0.0.1:",
                          "127.0.0.1:65536", "127.0.0.1:x", "300.0.0.1:7472"}) {
    absl::StatusOr<MetricsAddress> address = ParseMetricsAddress(bad);
    ASSERT_FALSE(address.ok()) << bad;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(
        absl::StrContains(address.status().message(), "--metrics_address"))
        << address.status();
  }
}

// A listener on a free loopback port, held by the test.
struct Listener {
  UniqueFd fd;
  uint16_t port = 0;
};

Listener Listen() {
  Listener listener;
  listener.fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address),
                 sizeof(address)),
            0);
  EXPECT_EQ(listen(listener.fd.get(), 1), 0);
  EXPECT_EQ(getsockname(listener.fd.get(),
                        reinterpret_cast<sockaddr*>(&address), &length),
            0);
  listener.port = ntohs(address.sin_port);
  return listener;
}

TEST(CheckCanListenTest, APortInUseIsAClearError) {
  const Listener taken = Listen();
  const absl::Status status =
      CheckCanListen(MetricsAddress{"127.0.0.1", taken.port});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--metrics_address"));
  EXPECT_TRUE(absl::StrContains(status.message(), "in use")) << status;
}

TEST(CheckCanListenTest, AnAddressOfAnotherHostIsAClearError) {
  // 192.0.2.0/24 is TEST-NET-1: never this host's.
  const absl::Status status = CheckCanListen(MetricsAddress{"192.0.2.1", 0});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "not an address of this"))
      << status;
}

TEST(CheckCanListenTest, AFreePortIsLetGo) {
  uint16_t port = 0;
  {
    const Listener probe = Listen();
    port = probe.port;
  }
  EXPECT_TRUE(CheckCanListen(MetricsAddress{"127.0.0.1", port}).ok());
  // Let go: the port can be taken again at once.
  EXPECT_TRUE(CheckCanListen(MetricsAddress{"127.0.0.1", port}).ok());
}

}  // namespace
}  // namespace swift
