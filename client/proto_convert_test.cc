// The plain types of swift/client.h against the Control API's messages.
#include "client/proto_convert.h"

#include <cstdint>
#include <limits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ProtoConvertTest, DaemonStatusCarriesEveryField) {
  v1::GetStatusResponse response;
  response.set_version("0.1.0");
  response.set_api_version(3);
  response.set_min_api_version(1);
  response.set_uptime_us(2500000);
  response.set_pid(4242);
  response.set_devices_count(2);
  response.set_devices_failed_count(1);
  response.set_clients_count(7);
  response.set_socket_path("/run/swift/swiftd.sock");
  response.set_start_time_unix_us(1700000000123456);
  response.set_incarnation(99);
  response.set_peer_address("10.0.0.1:7471");

  const DaemonStatus status = DaemonStatusFromProto(response);
  EXPECT_EQ(status.version, "0.1.0");
  EXPECT_EQ(status.api_version, 3u);
  EXPECT_EQ(status.min_api_version, 1u);
  EXPECT_EQ(status.uptime, absl::Milliseconds(2500));
  EXPECT_EQ(status.pid, 4242);
  EXPECT_EQ(status.devices_count, 2u);
  EXPECT_EQ(status.devices_failed_count, 1u);
  EXPECT_EQ(status.clients_count, 7u);
  EXPECT_EQ(status.socket_path, "/run/swift/swiftd.sock");
  EXPECT_EQ(absl::ToUnixMicros(status.start_time), 1700000000123456);
  EXPECT_EQ(status.incarnation, 99u);
  EXPECT_EQ(status.peer_address, "10.0.0.1:7471");
}

TEST(ProtoConvertTest, AnEmptyStatusIsTheZeroValue) {
  const DaemonStatus status = DaemonStatusFromProto(v1::GetStatusResponse());
  EXPECT_EQ(status.uptime, absl::ZeroDuration());
  EXPECT_EQ(status.start_time, absl::UnixEpoch());
  EXPECT_TRUE(status.version.empty());
}

TEST(ProtoConvertTest, FunctionSpecCarriesEveryField) {
  FunctionSpec spec;
  spec.name = "resize";
  spec.library_path = "/opt/f/resize.so";
  spec.peers = {{"10.0.0.1:7471", "kv"}, {"hostb", "sink"}};
  spec.max_instances = 4;
  spec.idle_timeout = absl::Seconds(30);
  spec.memory_limit_bytes = 1 << 30;
  spec.uid = 1000;
  spec.gid = 100;
  spec.prepared = 3;
  spec.spare_instances = 0;

  const v1::RegisterFunctionRequest request = FunctionSpecToProto(spec);
  EXPECT_FALSE(request.has_header());
  EXPECT_EQ(request.name(), "resize");
  EXPECT_EQ(request.library_path(), "/opt/f/resize.so");
  ASSERT_EQ(request.peers_size(), 2);
  EXPECT_EQ(request.peers(0).host(), "10.0.0.1:7471");
  EXPECT_EQ(request.peers(0).service(), "kv");
  EXPECT_EQ(request.peers(1).host(), "hostb");
  EXPECT_EQ(request.peers(1).service(), "sink");
  EXPECT_EQ(request.max_instances(), 4u);
  EXPECT_EQ(request.idle_timeout_ms(), 30000u);
  EXPECT_EQ(request.memory_limit_bytes(), 1u << 30);
  EXPECT_EQ(request.uid(), 1000u);
  EXPECT_EQ(request.gid(), 100u);
  EXPECT_EQ(request.prepared(), 3u);
  // Zero spares is a choice (fork on arrival), not the default.
  ASSERT_TRUE(request.has_spare_instances());
  EXPECT_EQ(request.spare_instances(), 0u);
}

TEST(ProtoConvertTest, UnsetSparesAndZeroTimeoutsLeaveSwiftdsDefaults) {
  FunctionSpec spec;
  spec.name = "f";
  const v1::RegisterFunctionRequest request = FunctionSpecToProto(spec);
  EXPECT_FALSE(request.has_spare_instances());
  EXPECT_EQ(request.idle_timeout_ms(), 0u);
  EXPECT_EQ(request.peers_size(), 0);
}

TEST(ProtoConvertTest, DurationsRoundToWholeMillisecondsWithinTheField) {
  FunctionSpec spec;
  spec.idle_timeout = absl::Microseconds(10);  // Positive: at least 1 ms.
  EXPECT_EQ(FunctionSpecToProto(spec).idle_timeout_ms(), 1u);
  spec.idle_timeout = absl::Microseconds(2999);
  EXPECT_EQ(FunctionSpecToProto(spec).idle_timeout_ms(), 2u);
  spec.idle_timeout = absl::Hours(24 * 365 * 100);  // Clamped.
  EXPECT_EQ(FunctionSpecToProto(spec).idle_timeout_ms(),
            std::numeric_limits<uint32_t>::max());
  spec.idle_timeout = -absl::Seconds(1);  // Negative: the default.
  EXPECT_EQ(FunctionSpecToProto(spec).idle_timeout_ms(), 0u);
}

TEST(ProtoConvertTest, InvocationCarriesEveryField) {
  Invocation invocation;
  invocation.function = "resize";
  invocation.payload = std::string("a\0b", 3);
  invocation.mode = InvokeMode::kWarm;
  invocation.timeout = absl::Milliseconds(1500);
  const v1::InvokeRequest request = InvocationToProto(invocation);
  EXPECT_EQ(request.function(), "resize");
  EXPECT_EQ(request.payload(), std::string("a\0b", 3));
  EXPECT_EQ(request.mode(), v1::InvokeRequest::WARM);
  EXPECT_EQ(request.timeout_ms(), 1500u);
}

TEST(ProtoConvertTest, ADefaultInvocationForksWithSwiftdsTimeout) {
  const v1::InvokeRequest request = InvocationToProto(Invocation());
  EXPECT_EQ(request.mode(), v1::InvokeRequest::FORK);
  EXPECT_EQ(request.timeout_ms(), 0u);
}

TEST(ProtoConvertTest, ModesRoundTrip) {
  for (InvokeMode mode :
       {InvokeMode::kFork, InvokeMode::kWarm, InvokeMode::kCold}) {
    EXPECT_EQ(InvokeModeFromProto(InvokeModeToProto(mode)), mode);
  }
  EXPECT_EQ(InvokeModeToProto(InvokeMode::kCold), v1::InvokeRequest::COLD);
  // An older server that leaves the mode unset served a fork.
  EXPECT_EQ(InvokeModeFromProto(v1::InvokeRequest::MODE_UNSPECIFIED),
            InvokeMode::kFork);
}

TEST(ProtoConvertTest, InvokeResultCarriesEveryField) {
  v1::InvokeResponse response;
  response.set_result("done");
  response.set_served_by(v1::InvokeRequest::COLD);
  response.set_instance_pid(77);
  response.set_total_us(900);
  response.set_function_us(100);
  response.set_worker_us(800);
  response.set_spare(true);
  response.set_parked(true);
  const InvokeResult result = InvokeResultFromProto(response);
  EXPECT_EQ(result.result, "done");
  EXPECT_EQ(result.served_by, InvokeMode::kCold);
  EXPECT_EQ(result.instance_pid, 77);
  EXPECT_EQ(result.total, absl::Microseconds(900));
  EXPECT_EQ(result.function_time, absl::Microseconds(100));
  EXPECT_EQ(result.worker_time, absl::Microseconds(800));
  EXPECT_TRUE(result.spare);
  EXPECT_TRUE(result.parked);
}

TEST(ProtoConvertTest, RegistrationAnswers) {
  v1::RegisterFunctionResponse registered;
  registered.set_worker_pid(5);
  registered.set_worker_startup_us(370000);
  const RegisteredFunction plain = RegisteredFunctionFromProto(registered);
  EXPECT_EQ(plain.worker_pid, 5);
  EXPECT_EQ(plain.worker_startup, absl::Milliseconds(370));

  v1::UnregisterFunctionResponse unregistered;
  unregistered.set_worker_pid(6);
  EXPECT_EQ(UnregisteredFunctionFromProto(unregistered).worker_pid, 6);
}

}  // namespace
}  // namespace swift
