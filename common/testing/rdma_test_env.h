// What an RDMA test needs to know about where it runs.
//
// Tests tagged "rdma" run inside the Soft-RoCE guest (tools/test boots it),
// where SWIFT_RDMA_REQUIRED=1 is set: there a missing device is a failure.
// Run anywhere else (e.g. `bazel test //...` on a host without RDMA) they
// skip. The guest harness names its devices in RXE_* variables.
#ifndef SWIFT_COMMON_TESTING_RDMA_TEST_ENV_H_
#define SWIFT_COMMON_TESTING_RDMA_TEST_ENV_H_

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace swift::testing {

// True inside the guest run, where tests must not skip for want of a device.
inline bool RdmaRequired() {
  const char* value = std::getenv("SWIFT_RDMA_REQUIRED");
  return value != nullptr && std::string(value) == "1";
}

// The value of environment variable `name`, or `fallback` when unset.
inline std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// The device single-host tests use (RXE_DEV, "rxe0" by default).
inline std::string TestDeviceName() { return EnvOr("RXE_DEV", "rxe0"); }

// Whether device TestDeviceName() is on this host (its sysfs entry).
inline bool TestDeviceExists() {
  return access(("/sys/class/infiniband/" + TestDeviceName()).c_str(), F_OK) ==
         0;
}

}  // namespace swift::testing

// In a test's SetUp() or body: without the test device, skip, or fail
// inside the guest run (SWIFT_RDMA_REQUIRED=1), where a skip proves
// nothing.
#define SWIFT_REQUIRE_RDMA_DEVICE()                                            \
  do {                                                                         \
    if (!::swift::testing::TestDeviceExists()) {                               \
      if (::swift::testing::RdmaRequired()) {                                  \
        FAIL() << "no RDMA device " << ::swift::testing::TestDeviceName()      \
               << ", but SWIFT_RDMA_REQUIRED=1";                               \
      }                                                                        \
      GTEST_SKIP() << "no RDMA device " << ::swift::testing::TestDeviceName(); \
    }                                                                          \
  } while (false)

#endif  // SWIFT_COMMON_TESTING_RDMA_TEST_ENV_H_
