// FunctionLibrary on the host: a library that exports swift_function opens
// and runs; a missing file is kNotFound; a library without the entry
// point is kInvalidArgument.
#include "daemon/worker/function_library.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace swift {
namespace {

// A data dependency, from the test's working directory (its runfiles).
std::string Runfile(const std::string& path) {
  char cwd[4096];
  return std::string(getcwd(cwd, sizeof(cwd))) + "/" + path;
}

TEST(FunctionLibraryTest, OpensAndRunsTheEntryPoint) {
  absl::StatusOr<FunctionLibrary> library =
      FunctionLibrary::Open(Runfile("daemon/worker/testing/echo_function.so"));
  ASSERT_TRUE(library.ok()) << library.status();
  ASSERT_NE(library->function(), nullptr);
  const std::string payload = "hello";
  uint8_t result[16] = {};
  size_t result_size = 0;
  swift_invocation invocation = {};
  invocation.payload = reinterpret_cast<const uint8_t*>(payload.data());
  invocation.payload_size = payload.size();
  invocation.result = result;
  invocation.result_capacity = sizeof(result);
  invocation.result_size = &result_size;
  EXPECT_EQ(library->function()(&invocation), 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(result), result_size), "hello");
  // A second handle to the same library is the same code.
  absl::StatusOr<FunctionLibrary> again =
      FunctionLibrary::Open(library->path());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->function(), library->function());
}

TEST(FunctionLibraryTest, AMissingLibraryIsNotFound) {
  absl::StatusOr<FunctionLibrary> library =
      FunctionLibrary::Open("/nonexistent/f.so");
  EXPECT_EQ(library.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(library.status().message().find("/nonexistent/f.so"),
            std::string::npos)
      << library.status();
}

TEST(FunctionLibraryTest, ALibraryWithoutTheEntryPointIsRefused) {
  absl::StatusOr<FunctionLibrary> library =
      FunctionLibrary::Open(Runfile("daemon/worker/testing/no_function.so"));
  EXPECT_EQ(library.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(library.status().message().find("exports no 'swift_function'"),
            std::string::npos)
      << library.status();
}

}  // namespace
}  // namespace swift
