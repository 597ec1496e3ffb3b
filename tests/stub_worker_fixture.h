// Test fixtures for WorkerManager with the stub worker
// (daemon/functions/testing/stub_worker.cc: swift_worker's protocol
// without verbs), shared by worker_manager_stub_test.cc (the success path
// and its failures) and worker_manager_tenant_test.cc (functions run as
// another user): no swiftd, no device.
#ifndef SWIFT_TESTS_STUB_WORKER_FIXTURE_H_
#define SWIFT_TESTS_STUB_WORKER_FIXTURE_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/command_testing.h"
#include "daemon/functions/worker_manager.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"

namespace swift::testing {

// An authorization that lets every caller use every function (the API
// layer decides for real: daemon/functions/function_access.h).
inline FunctionRegistry::Authorize Anyone() {
  return [](const v1::RegisterFunctionRequest&) { return absl::OkStatus(); };
}

// One that refuses, as AuthorizeInvocation() does for another tenant.
inline FunctionRegistry::Authorize Nobody() {
  return [](const v1::RegisterFunctionRequest& spec) {
    return absl::PermissionDeniedError("not yours: " + spec.name());
  };
}

// WorkerManager with the stub worker: no swiftd, no device.
class StubWorkerTest : public ::testing::Test {
 protected:
  WorkerManager::Options Options() {
    WorkerManager::Options options;
    options.worker_binary =
        Absolute(RunfilePath("daemon/functions/testing/stub_worker"));
    // Workers never connect to it: the stub brokers nothing.
    options.swiftd_socket = dir_.path() + "/swiftd.sock";
    options.startup_timeout = absl::Seconds(10);
    return options;
  }

  // Writes the stub's directives (see stub_worker.cc) as the library of
  // function `name`; returns its path.
  std::string Library(const std::string& name, const std::string& directives) {
    const std::string path = absl::StrCat(dir_.path(), "/", name, ".so");
    std::ofstream(path) << directives;
    return path;
  }

  v1::RegisterFunctionRequest Function(const std::string& name,
                                       const std::string& directives = "") {
    v1::RegisterFunctionRequest request;
    request.set_name(name);
    request.set_library_path(Library(name, directives));
    return request;
  }

  static v1::InvokeRequest Invocation(const std::string& function,
                                      v1::InvokeRequest::Mode mode,
                                      const std::string& payload) {
    v1::InvokeRequest request;
    request.set_function(function);
    request.set_mode(mode);
    request.set_payload(payload);
    return request;
  }

  static v1::WorkerInfo Info(const WorkerManager& manager,
                             const std::string& name) {
    for (const v1::WorkerInfo& info : manager.List()) {
      if (info.function() == name) {
        return info;
      }
    }
    return v1::WorkerInfo();
  }

  // Polls the state of `name` for up to 10 s until it contains `part`.
  static std::string AwaitState(const WorkerManager& manager,
                                const std::string& name,
                                const std::string& part) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::string state = Info(manager, name).state();
    while (!absl::StrContains(state, part) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
      state = Info(manager, name).state();
    }
    return state;
  }

  static absl::Status Allow(const v1::RegisterFunctionRequest&) {
    return absl::OkStatus();
  }

  TempDir dir_;
};

// Functions that run as nobody, served by a copy of the stub worker that
// nobody may run (Bazel's tree is root's). Needs root.
class TenantStubWorkerTest : public StubWorkerTest {
 protected:
  static constexpr uint32_t kNobody = 65534;

  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root to run workers as another user";
    }
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    stub_ = CopyRunfileForAnyone("daemon/functions/testing/stub_worker",
                                 dir_.path());
    ASSERT_FALSE(stub_.empty());
  }

  WorkerManager::Options Options() {
    WorkerManager::Options options = StubWorkerTest::Options();
    options.worker_binary = stub_;
    return options;
  }

  v1::RegisterFunctionRequest TenantFunction(const std::string& name,
                                             uint32_t uid = kNobody) {
    v1::RegisterFunctionRequest request = Function(name);
    chmod(request.library_path().c_str(), 0644);
    request.set_uid(uid);
    return request;
  }

  std::string stub_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_STUB_WORKER_FIXTURE_H_
