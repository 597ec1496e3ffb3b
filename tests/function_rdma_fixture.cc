// FunctionRdmaTest implementation; see function_rdma_fixture.h.
#include "tests/function_rdma_fixture.h"

#include <algorithm>
#include <utility>

#include "tests/test_swiftd.h"

namespace swift::testing {

FunctionRdmaTest::FunctionRdmaTest(int peer_port)
    : TwoSwiftdTest(peer_port),
      function_library_(
          Absolute(RunfilePath("tests/functions/test_function.so"))) {
  b_.options.worker_binary =
      Absolute(RunfilePath("daemon/worker/swift_worker"));
}

void FunctionRdmaTest::SetUp() {
  TwoSwiftdTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) {
    return;
  }
  sink_ = SessionOn(a_, /*pool_low=*/8, /*pool_high=*/16,
                    /*buffer_bytes=*/64 * 1024);
  ASSERT_NE(sink_, nullptr);
  absl::StatusOr<std::unique_ptr<Listener>> listener = sink_->Listen("sink", 8);
  ASSERT_TRUE(listener.ok()) << listener.status();
  listener_ = *std::move(listener);
  acceptor_ = std::thread([this] { AcceptLoop(); });

  ClientOptions client_options;
  client_options.socket_path = b_.socket();
  client_options.attach = false;
  absl::StatusOr<std::unique_ptr<ControlClient>> client =
      ControlClient::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = *std::move(client);
}

void FunctionRdmaTest::AcceptLoop() {
  // Keeps every connection until its peer closes it, so that instances'
  // QPs stay connected for as long as they want.
  while (!stopping_) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        listener_->Accept(absl::Milliseconds(20));
    absl::MutexLock lock(&mu_);
    if (connection.ok()) {
      accepted_.push_back(*std::move(connection));
    }
    accepted_.erase(
        std::remove_if(accepted_.begin(), accepted_.end(),
                       [](const auto& c) { return c->peer_closed(); }),
        accepted_.end());
  }
}

void FunctionRdmaTest::TearDown() {
  stopping_ = true;
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  client_.reset();
  if (b_.swiftd) {
    b_.swiftd->Shutdown(absl::Seconds(1));
  }
  {
    absl::MutexLock lock(&mu_);
    accepted_.clear();
  }
  listener_.reset();
  sink_.reset();
}

v1::RegisterFunctionRequest FunctionRdmaTest::TestFunction(
    const std::string& name) const {
  v1::RegisterFunctionRequest request;
  request.set_name(name);
  request.set_library_path(function_library_);
  v1::FunctionPeer* peer = request.add_peers();
  peer->set_host(a_.peer_address());
  peer->set_service("sink");
  request.set_max_instances(4);
  request.set_prepared(2);
  return request;
}

absl::StatusOr<v1::InvokeResponse> FunctionRdmaTest::InvokeFunction(
    const std::string& function, const std::string& payload,
    v1::InvokeRequest::Mode mode, uint32_t timeout_ms) {
  v1::InvokeRequest request;
  request.set_function(function);
  request.set_payload(payload);
  request.set_mode(mode);
  request.set_timeout_ms(timeout_ms);
  return client_->Invoke(request);
}

std::string FunctionRdmaTest::SinkBytes(size_t length) {
  const uint8_t* buffer = nullptr;
  for (int i = 0; i < 200 && buffer == nullptr; ++i) {
    {
      absl::MutexLock lock(&mu_);
      if (!accepted_.empty()) {
        buffer = accepted_.front()->buffer();
      }
    }
    if (buffer == nullptr) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  // The sink session's buffer, shared by all its connections: it lives as
  // long as sink_, whichever connection handed it out.
  return buffer == nullptr
             ? ""
             : std::string(reinterpret_cast<const char*>(buffer), length);
}

}  // namespace swift::testing
