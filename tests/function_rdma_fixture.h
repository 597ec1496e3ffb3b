// FunctionRdmaTest: the serverless fork path's scenery on the two guest
// hosts (see TwoSwiftdTest). A sink service listens through swiftd A and
// accepts every connection; a ControlClient talks to swiftd B, which runs
// functions in swift_worker processes whose QPs it brokers to the sink.
// Helpers register the test function (tests/functions/test_function.so)
// with the sink as its peer, invoke it and read what landed in the sink.
//
// Not thread-safe: used from the test's thread (the sink's accept thread
// is internal).
#ifndef SWIFT_TESTS_FUNCTION_RDMA_FIXTURE_H_
#define SWIFT_TESTS_FUNCTION_RDMA_FIXTURE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/control/control_client.h"
#include "proto/swift.pb.h"
#include "swift/session.h"
#include "tests/two_swiftd_fixture.h"

namespace swift::testing {

class FunctionRdmaTest : public TwoSwiftdTest {
 protected:
  // swiftd B runs workers from the swift_worker in this test's runfiles.
  explicit FunctionRdmaTest(int peer_port);

  // TwoSwiftdTest::SetUp(), then the sink on A and the client on B.
  void SetUp() override;
  // Stops swiftd B (and so every worker) before the sink goes.
  void TearDown() override;

  // A registration of the test function named `name`, one connection to
  // the sink per instance, 4 instances at most, 2 connection sets
  // prepared.
  v1::RegisterFunctionRequest TestFunction(const std::string& name) const;

  // Invokes `function` with `payload` through swiftd B.
  absl::StatusOr<v1::InvokeResponse> InvokeFunction(
      const std::string& function, const std::string& payload,
      v1::InvokeRequest::Mode mode, uint32_t timeout_ms = 10000);

  // The first `length` bytes of the sink's buffer, which every sink
  // connection advertises (so any WRITE to offset 0 lands there); empty
  // when no connection reached the sink within 2 s.
  std::string SinkBytes(size_t length);

  // The test function library (absolute); a suite may point it elsewhere
  // before registering.
  std::string function_library_;
  std::unique_ptr<Session> sink_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<ControlClient> client_;

 private:
  void AcceptLoop();

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> accepted_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FUNCTION_RDMA_FIXTURE_H_
