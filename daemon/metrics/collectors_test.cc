// The collectors and hook-fed metrics give back what they were given:
// each one's families against a known view of its subsystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/command_testing.h"
#include "daemon/metrics/broker_collector.h"
#include "daemon/metrics/connect_metrics.h"
#include "daemon/metrics/device_collector.h"
#include "daemon/metrics/directory_collector.h"
#include "daemon/metrics/function_collector.h"
#include "daemon/metrics/function_metrics.h"
#include "daemon/metrics/label_cap.h"
#include "daemon/metrics/process_collector.h"
#include "daemon/metrics/tenant_collector.h"
#include "gtest/gtest.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace swift {
namespace {

using Labels = std::map<std::string, std::string>;

const prometheus::MetricFamily* Find(
    const std::vector<prometheus::MetricFamily>& families,
    const std::string& name) {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name == name) {
      return &family;
    }
  }
  return nullptr;
}

// The sample of `name` with exactly `labels`: its gauge, counter or
// histogram count; nullopt when there is none.
std::optional<double> Value(
    const std::vector<prometheus::MetricFamily>& families,
    const std::string& name, const Labels& labels = {}) {
  const prometheus::MetricFamily* family = Find(families, name);
  if (family == nullptr) {
    return std::nullopt;
  }
  for (const prometheus::ClientMetric& metric : family->metric) {
    Labels have;
    for (const auto& label : metric.label) {
      have[label.name] = label.value;
    }
    if (have != labels) {
      continue;
    }
    switch (family->type) {
      case prometheus::MetricType::Counter:
        return metric.counter.value;
      case prometheus::MetricType::Histogram:
        return static_cast<double>(metric.histogram.sample_count);
      default:
        return metric.gauge.value;
    }
  }
  return std::nullopt;
}

TEST(DeviceCollectorTest, ExportsDeviceAndPortStates) {
  DeviceRecord open;
  open.name = "rxe0";
  open.state = DeviceState::kOpen;
  verbs::PortInfo port;
  port.port_num = 1;
  port.state = "ACTIVE";
  port.active = true;
  open.info.ports.push_back(port);
  DeviceRecord removed;
  removed.name = "mlx5_1";
  removed.state = DeviceState::kRemoved;
  port.state = "DOWN";
  port.active = false;
  removed.info.ports.push_back(port);
  DeviceCollector collector([&] {
    return std::vector<DeviceRecord>{open, removed};
  });
  const auto families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_device_state",
                  {{"device", "rxe0"}, {"state", "open"}}),
            1);
  EXPECT_EQ(Value(families, "swift_device_state",
                  {{"device", "rxe0"}, {"state", "removed"}}),
            0);
  EXPECT_EQ(Value(families, "swift_device_state",
                  {{"device", "mlx5_1"}, {"state", "removed"}}),
            1);
  EXPECT_EQ(
      Value(families, "swift_port_active", {{"device", "rxe0"}, {"port", "1"}}),
      1);
  EXPECT_EQ(Value(families, "swift_port_active",
                  {{"device", "mlx5_1"}, {"port", "1"}}),
            0);
  EXPECT_EQ(Value(families, "swift_port_state",
                  {{"device", "mlx5_1"}, {"port", "1"}, {"state", "DOWN"}}),
            1);
}

TEST(DeviceCollectorTest, AHostWithoutDevicesHasEmptyFamilies) {
  DeviceCollector collector([] { return std::vector<DeviceRecord>(); });
  const auto families = collector.Collect();
  ASSERT_NE(Find(families, "swift_device_state"), nullptr);
  EXPECT_TRUE(Find(families, "swift_device_state")->metric.empty());
}

TEST(BrokerCollectorTest, ExportsConnectsHandshakesAndServices) {
  BrokerCollector::View view;
  view.brokering = true;
  view.counters.connected = 7;
  view.counters.closed = 3;
  view.counters.failed["NOT_FOUND"] = 2;
  view.counters.failed["UNAVAILABLE"] = 1;
  view.connection_tenants = {0, 1000, 1000, 1001, 1002};
  view.admission.in_flight = 4;
  view.admission.queued = 5;
  view.admission.admitted = 11;
  view.admission.timed_out = 6;
  view.admission.queue_full = 8;
  view.admission_tenants = {{1000, 2, 3}};
  view.peers = 2;
  ServiceRegistry::ServiceStats kv;
  kv.name = "kv";
  kv.owner_uid = 1000;
  kv.pooled = 12;
  kv.connections = 4;
  kv.accepted = 9;
  kv.refused = 1;
  view.services = {kv};
  // Two tenants fit: the third and fourth fold into "other".
  LabelCap tenants(2);
  LabelCap services(10);
  BrokerCollector collector([&] { return view; }, &tenants, &services);
  const auto families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_connects_total",
                  {{"result", "ok"}, {"reason", "OK"}}),
            7);
  EXPECT_EQ(Value(families, "swift_connects_total",
                  {{"result", "failed"}, {"reason", "NOT_FOUND"}}),
            2);
  EXPECT_EQ(Value(families, "swift_connects_total",
                  {{"result", "failed"}, {"reason", "UNAVAILABLE"}}),
            1);
  EXPECT_EQ(Value(families, "swift_connections_closed_total"), 3);
  EXPECT_EQ(Value(families, "swift_connections", {{"tenant", "0"}}), 1);
  EXPECT_EQ(Value(families, "swift_connections", {{"tenant", "1000"}}), 2);
  EXPECT_EQ(Value(families, "swift_connections", {{"tenant", "other"}}), 2);
  EXPECT_EQ(Value(families, "swift_handshakes_in_flight"), 4);
  EXPECT_EQ(Value(families, "swift_handshakes_queued"), 5);
  EXPECT_EQ(Value(families, "swift_handshakes_admitted_total"), 11);
  EXPECT_EQ(Value(families, "swift_handshakes_refused_total",
                  {{"reason", "deadline"}}),
            6);
  EXPECT_EQ(Value(families, "swift_handshakes_refused_total",
                  {{"reason", "queue_full"}}),
            8);
  EXPECT_EQ(
      Value(families, "swift_tenant_handshakes_queued", {{"tenant", "1000"}}),
      3);
  EXPECT_EQ(Value(families, "swift_peers"), 2);
  EXPECT_EQ(Value(families, "swift_services", {{"tenant", "1000"}}), 1);
  EXPECT_EQ(
      Value(families, "swift_service_pooled_endpoints", {{"service", "kv"}}),
      12);
  EXPECT_EQ(Value(families, "swift_service_connections", {{"service", "kv"}}),
            4);
  EXPECT_EQ(Value(families, "swift_service_accepts_total",
                  {{"service", "kv"}, {"result", "refused"}}),
            1);
}

TEST(BrokerCollectorTest, WithoutBrokeringOnlyServicesAreExported) {
  LabelCap tenants(2), services(2);
  BrokerCollector collector([] { return BrokerCollector::View(); }, &tenants,
                            &services);
  const auto families = collector.Collect();
  EXPECT_EQ(Find(families, "swift_connects_total"), nullptr);
  EXPECT_NE(Find(families, "swift_services"), nullptr);
}

TEST(DirectoryCollectorTest, ExportsTheDirectorysState) {
  Directory::State state;
  state.reachable = false;
  state.registered = true;
  state.hosts = 42;
  state.revision = 1234;
  state.registrations = 2;
  state.watch_restarts = 3;
  state.bad_records = 1;
  DirectoryCollector collector([&] { return state; });
  const std::vector<prometheus::MetricFamily> families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_directory_reachable"), 0);
  EXPECT_EQ(Value(families, "swift_directory_registered"), 1);
  EXPECT_EQ(Value(families, "swift_directory_hosts"), 42);
  EXPECT_EQ(Value(families, "swift_directory_revision"), 1234);
  EXPECT_EQ(Value(families, "swift_directory_registrations_total"), 2);
  EXPECT_EQ(Value(families, "swift_directory_watch_restarts_total"), 3);
  EXPECT_EQ(Value(families, "swift_directory_bad_records_total"), 1);
}

TEST(TenantCollectorTest, ExportsClientsAndLeasesByTenant) {
  TenantCollector::View view;
  view.clients = {
      {1000, "calls"}, {1000, "calls"}, {1000, "service"}, {0, "calls"}};
  view.control_clients = 3;
  view.leasing = true;
  view.leases = {{1000, 4096}, {1000, 8192}, {0, 100}};
  view.pools = {{1000, 1 << 20}};
  view.populated_bytes = 5 << 20;
  view.populate_seconds = 0.25;
  LabelCap tenants(10);
  TenantCollector collector([&] { return view; }, &tenants);
  const auto families = collector.Collect();
  EXPECT_EQ(
      Value(families, "swift_clients", {{"kind", "calls"}, {"tenant", "1000"}}),
      2);
  EXPECT_EQ(Value(families, "swift_clients",
                  {{"kind", "service"}, {"tenant", "1000"}}),
            1);
  EXPECT_EQ(Value(families, "swift_control_clients"), 3);
  EXPECT_EQ(Value(families, "swift_leases", {{"tenant", "1000"}}), 2);
  EXPECT_EQ(Value(families, "swift_leased_bytes", {{"tenant", "1000"}}), 12288);
  EXPECT_EQ(Value(families, "swift_leased_bytes", {{"tenant", "0"}}), 100);
  EXPECT_EQ(Value(families, "swift_lease_pool_bytes", {{"tenant", "1000"}}),
            1 << 20);
  EXPECT_EQ(Value(families, "swift_lease_populated_bytes_total"), 5 << 20);
  EXPECT_EQ(Value(families, "swift_lease_populate_seconds_total"), 0.25);
}

v1::WorkerInfo Function(const std::string& name, const std::string& state,
                        int64_t pid) {
  v1::WorkerInfo info;
  info.set_function(name);
  info.set_state(state);
  info.set_worker_pid(pid);
  info.set_invocations(10);
  info.set_failures(2);
  info.set_instances(3);
  info.set_busy_instances(1);
  info.set_spare_instances(1);
  info.set_prepared_sets(4);
  info.set_forks(6);
  info.set_spare_hits(5);
  return info;
}

TEST(FunctionCollectorTest, ExportsFunctionsAndCountsEachCrashOnce) {
  FunctionCollector::View view;
  view.functions = {Function("f", "ready", 100), Function("g", "exited", 200),
                    Function("h", "failed: no peer, retrying in 4s", 0)};
  view.workers = 2;
  LabelCap functions(10);
  FunctionCollector collector([&] { return view; }, &functions);
  auto families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_functions", {{"state", "ready"}}), 1);
  EXPECT_EQ(Value(families, "swift_functions", {{"state", "exited"}}), 1);
  EXPECT_EQ(Value(families, "swift_functions", {{"state", "failed"}}), 1);
  EXPECT_EQ(Value(families, "swift_functions", {{"state", "restoring"}}), 0);
  EXPECT_EQ(
      Value(families, "swift_function_invocations_total", {{"function", "f"}}),
      10);
  EXPECT_EQ(
      Value(families, "swift_function_failures_total", {{"function", "f"}}), 2);
  EXPECT_EQ(
      Value(families, "swift_function_spare_instances", {{"function", "f"}}),
      1);
  EXPECT_EQ(
      Value(families, "swift_function_prepared_sets", {{"function", "f"}}), 4);
  EXPECT_EQ(
      Value(families, "swift_function_spare_hits_total", {{"function", "f"}}),
      5);
  EXPECT_EQ(Value(families, "swift_workers"), 2);
  EXPECT_EQ(Value(families, "swift_workers_crashed_total"), 1);
  // The same exit seen again is not counted again; a new worker's is.
  families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_workers_crashed_total"), 1);
  view.functions[1].set_worker_pid(201);
  families = collector.Collect();
  EXPECT_EQ(Value(families, "swift_workers_crashed_total"), 2);
}

TEST(ConnectMetricsTest, ObservesEachStepInSeconds) {
  ConnectMetrics metrics;
  v1::ConnectResult result;
  result.set_broker_us(2000);
  result.set_admission_us(10);
  result.set_peer_call_us(1500);
  result.set_remote_serve_us(1200);
  result.set_remote_app_wait_us(900);
  result.set_app_accept_us(700);
  metrics.Observe(result);
  metrics.Observe(result);
  const auto families = metrics.registry()->Collect();
  const prometheus::MetricFamily* family =
      Find(families, "swift_connect_step_seconds");
  ASSERT_NE(family, nullptr);
  for (const char* step : {"broker", "admission", "peer_call", "remote_serve",
                           "remote_app_wait", "app_accept"}) {
    EXPECT_EQ(Value(families, "swift_connect_step_seconds", {{"step", step}}),
              2)
        << step;
  }
  for (const prometheus::ClientMetric& metric : family->metric) {
    if (metric.label[0].value == "broker") {
      EXPECT_DOUBLE_EQ(metric.histogram.sample_sum, 0.004);
    }
  }
}

TEST(FunctionMetricsTest, CountsInvocationsByFunctionModeAndResult) {
  LabelCap functions(1);
  FunctionMetrics metrics(&functions);
  metrics.ObserveInvocation("f", v1::InvokeRequest::FORK, absl::OkStatus(),
                            absl::Milliseconds(1));
  metrics.ObserveInvocation("f", v1::InvokeRequest::MODE_UNSPECIFIED,
                            absl::OkStatus(), absl::Milliseconds(3));
  metrics.ObserveInvocation("f", v1::InvokeRequest::COLD,
                            absl::AbortedError("returned 1"),
                            absl::Milliseconds(40));
  // Past the cap of one function name.
  metrics.ObserveInvocation("g", v1::InvokeRequest::WARM, absl::OkStatus(),
                            absl::Milliseconds(1));
  metrics.CountWorkerStarted("register");
  metrics.CountWorkerStarted("cold");
  metrics.CountWorkerStarted("cold");
  const auto families = metrics.registry()->Collect();
  EXPECT_EQ(Value(families, "swift_invocations_total",
                  {{"function", "f"}, {"mode", "fork"}, {"result", "OK"}}),
            2);
  EXPECT_EQ(Value(families, "swift_invocations_total",
                  {{"function", "f"}, {"mode", "cold"}, {"result", "ABORTED"}}),
            1);
  EXPECT_EQ(Value(families, "swift_invocations_total",
                  {{"function", "other"}, {"mode", "warm"}, {"result", "OK"}}),
            1);
  EXPECT_EQ(Value(families, "swift_invocation_duration_seconds",
                  {{"function", "f"}, {"mode", "fork"}, {"result", "OK"}}),
            2);
  EXPECT_EQ(
      Value(families, "swift_workers_started_total", {{"reason", "cold"}}), 2);
  EXPECT_EQ(
      Value(families, "swift_workers_started_total", {{"reason", "restore"}}),
      0);
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ProcessCollectorTest, ReadsAProcDirectory) {
  testing::TempDir dir;
  const std::string self = dir.path() + "/proc/self";
  ASSERT_EQ(mkdir((dir.path() + "/proc").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(self.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((self + "/fd").c_str(), 0755), 0);
  for (const char* fd : {"0", "1", "2", "7"}) {
    Write(self + "/fd/" + fd, "");
  }
  Write(self + "/limits",
        "Limit                     Soft Limit           Hard Limit   Units\n"
        "Max open files            65536                65536        files\n");
  Write(self + "/status",
        "Name:\tswiftd\nVmSize:\t  200 kB\nVmRSS:\t  100 "
        "kB\nThreads:\t9\n");
  const long ticks = sysconf(_SC_CLK_TCK);
  // utime 3 s, stime 1 s, started 10 s after boot (fields 14, 15, 22).
  Write(self + "/stat",
        absl::StrCat("42 (swift d) S 1 1 1 0 -1 0 0 0 0 0 ", 3 * ticks, " ",
                     ticks, " 0 0 20 0 9 0 ", 10 * ticks, " 0 0\n"));
  Write(dir.path() + "/proc/stat", "cpu 1 2 3\nbtime 1700000000\n");
  const ProcessCollector collector(self);
  const auto families = collector.Collect();
  EXPECT_EQ(Value(families, "process_open_fds"), 4);
  EXPECT_EQ(Value(families, "process_max_fds"), 65536);
  EXPECT_EQ(Value(families, "process_threads"), 9);
  EXPECT_EQ(Value(families, "process_resident_memory_bytes"), 100 * 1024);
  EXPECT_EQ(Value(families, "process_virtual_memory_bytes"), 200 * 1024);
  EXPECT_EQ(Value(families, "process_cpu_seconds_total"), 4);
  EXPECT_EQ(Value(families, "process_start_time_seconds"), 1700000010);
}

TEST(ProcessCollectorTest, CountsThisProcessesDescriptors) {
  const ProcessCollector collector;
  const std::optional<double> before = collector.Read().open_fds;
  ASSERT_TRUE(before.has_value());
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(collector.Read().open_fds, *before + 1);
  close(fd);
  EXPECT_GE(collector.Read().threads.value_or(0), 1);
  EXPECT_GT(collector.Read().resident_bytes.value_or(0), 0);
}

}  // namespace
}  // namespace swift
