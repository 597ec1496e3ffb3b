// The call lane (common/call_lane.h) between libswift's FastPathClient and
// a real swiftd, under load: threads calling back to back, each connection
// with its own lane, next to a client that asked for none. Every answer
// must be its own call's: a call lost, answered twice or crossed with
// another's would show as a wrong sequence or an error.
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/fast_path_client.h"
#include "common/testing/eventually.h"
#include "common/unix_socket.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"
#include "tests/test_swiftd.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;
using ::swift::testing::TestSwiftd;

// The call lanes mapped in this process (swiftd runs in it too: both ends
// of each lane).
int LaneMappings() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    count += line.find("swift-call-lane") != std::string::npos;
  }
  return count;
}

TEST(FastPathLaneSwiftdTest, BackToBackCallsFromManyThreadsEachGetTheirAnswer) {
  TestSwiftd swiftd;
  ASSERT_TRUE(swiftd.ok());
  const std::string path = FastPathSocketPath(swiftd.socket_path());
  absl::StatusOr<std::unique_ptr<FastPathClient>> spinning =
      FastPathClient::Connect(path, "lane-test");
  ASSERT_TRUE(spinning.ok()) << spinning.status();
  absl::StatusOr<std::unique_ptr<FastPathClient>> sleeping =
      FastPathClient::Connect(path, "no-lane-test",
                              /*answer_spin=*/absl::ZeroDuration());
  ASSERT_TRUE(sleeping.ok()) << sleeping.status();

  constexpr int kThreads = 4;
  constexpr uint64_t kCalls = 2000;
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    FastPathClient* client = (t == 0 ? *sleeping : *spinning).get();
    threads.emplace_back([client, t, &mu, &failures] {
      for (uint64_t i = 0; i < kCalls; ++i) {
        const uint64_t sequence = t * 1000000 + i;
        v1::FastRequest request;
        request.mutable_ping()->set_sequence(sequence);
        absl::StatusOr<v1::FastResponse> response = client->Call(request);
        if (!response.ok() || response->ping().sequence() != sequence) {
          absl::MutexLock lock(&mu);
          failures.push_back(response.ok()
                                 ? "a crossed answer"
                                 : std::string(response.status().message()));
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " threads failed, "
                                << "the first with: " << failures.front();
  // The spinning client's connections have lanes (one per thread at most,
  // both ends mapped here); the other client's have none.
  const int mapped = LaneMappings();
  EXPECT_GE(mapped, 2);
  EXPECT_LE(mapped, 2 * (kThreads - 1));
  spinning->reset();
  sleeping->reset();
  EXPECT_TRUE(Eventually([] { return LaneMappings() == 0; }))
      << LaneMappings() << " lane mappings left";
}

}  // namespace
}  // namespace swift
