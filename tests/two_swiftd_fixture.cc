// TwoSwiftdTest implementation; see two_swiftd_fixture.h.
#include "tests/two_swiftd_fixture.h"

#include <random>
#include <utility>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/testing/rdma_test_env.h"
#include "common/verbs/post_and_wait.h"

namespace swift::testing {
namespace {

// The cluster's secret both swiftds hold (issue 10 finding 4: peers are
// authenticated), fresh for each test process.
const std::string& ClusterSecret() {
  static const std::string* const secret = [] {
    std::random_device random;
    auto* bytes = new std::string(32, '\0');
    for (char& byte : *bytes) byte = static_cast<char>(random());
    return bytes;
  }();
  return *secret;
}

SwiftdHost MakeHost(const std::string& dir, const std::string& name,
                    const std::string& device, const std::string& ip,
                    int peer_port) {
  SwiftdHost host;
  host.ip = ip;
  host.options.socket_path = dir + "/" + name + ".sock";
  host.options.devices = {device};
  host.options.peer_address = absl::StrCat(ip, ":", peer_port);
  // Both hosts hold the secret and allow each other (and nobody else).
  host.options.peer_secret = ClusterSecret();
  for (const char* peer_ip : {"RXE_A_IP", "RXE_B_IP"}) {
    if (const std::string allowed = EnvOr(peer_ip, ""); !allowed.empty()) {
      host.options.peer_allow.push_back(allowed);
    }
  }
  return host;
}

}  // namespace

TwoSwiftdTest::TwoSwiftdTest(int peer_port)
    : a_(MakeHost(dir_.path(), "a", EnvOr("RXE_A_DEV", "rxeA"),
                  EnvOr("RXE_A_IP", ""), peer_port)),
      b_(MakeHost(dir_.path(), "b", EnvOr("RXE_B_DEV", "rxeB"),
                  EnvOr("RXE_B_IP", ""), peer_port)) {}

void TwoSwiftdTest::SetUp() {
  if (EnvOr("RXE_HOSTS", "") != "2") {
    if (RdmaRequired()) {
      FAIL() << "two hosts needed: run with tools/rxe-vm/run --hosts 2";
    }
    GTEST_SKIP() << "needs the two-host Soft-RoCE guest";
  }
  for (SwiftdHost* host : {&a_, &b_}) {
    absl::StatusOr<std::unique_ptr<SwiftdServer>> swiftd =
        SwiftdServer::Start(host->options);
    ASSERT_TRUE(swiftd.ok())
        << host->options.devices.front() << ": " << swiftd.status();
    host->swiftd = *std::move(swiftd);
  }
}

std::unique_ptr<Session> TwoSwiftdTest::SessionOn(const SwiftdHost& host,
                                                  int pool_low, int pool_high,
                                                  size_t buffer_bytes) {
  SessionOptions options;
  options.socket_path = host.socket();
  options.pool_low = pool_low;
  options.pool_high = pool_high;
  options.buffer_bytes = buffer_bytes;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? *std::move(session) : nullptr;
}

absl::Status WriteTo(Connection& connection, const std::string& bytes,
                     size_t remote_offset, size_t local_offset) {
  uint8_t* const staged = connection.buffer() + local_offset;
  std::memcpy(staged, bytes.data(), bytes.size());
  ibv_sge sge = {reinterpret_cast<uint64_t>(staged),
                 static_cast<uint32_t>(bytes.size()), connection.mr()->lkey};
  ibv_send_wr wr = verbs::SignaledRdmaRequest(
      IBV_WR_RDMA_WRITE, &sge, connection.remote().addr + remote_offset,
      connection.remote().rkey, /*wr_id=*/1);
  return verbs::PostAndWait(connection.qp(), connection.cq(), wr,
                            absl::Seconds(10));
}

}  // namespace swift::testing
