// IrqAffinity on the Soft-RoCE guest's real devices, /proc and sysfs: rxe
// has no parent bus device, so it is reported as having no IRQs and nothing
// is written, while /proc/interrupts of the running kernel parses and names
// every online CPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "common/testing/rdma_test_env.h"
#include "daemon/devices/device_cache.h"
#include "daemon/devices/irq_map.h"
#include "daemon/irq/irq_affinity.h"
#include "daemon/irq/irq_report.h"

namespace swift {
namespace {

TEST(IrqAffinityRdmaTest, SoftRoceDevicesHaveNoIrqsAndNothingIsChanged) {
  DeviceCache::Options cache_options;
  cache_options.watch = false;
  absl::StatusOr<std::unique_ptr<DeviceCache>> cache =
      DeviceCache::Start(cache_options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  std::vector<IrqDevice> devices;
  std::vector<DeviceRecord> records;
  for (const DeviceRecord& record : (*cache)->Snapshot()) {
    if (record.state == DeviceState::kOpen && record.driver == "rxe") {
      devices.push_back({record.name, ParentBusAddress(record.name),
                         record.info.num_comp_vectors});
      records.push_back(record);
    }
  }
  if (devices.empty()) {
    if (swift::testing::RdmaRequired()) {
      FAIL() << "no rxe device, but SWIFT_RDMA_REQUIRED=1";
    }
    GTEST_SKIP() << "no rxe device on this host";
  }

  IrqAffinityOptions options;
  options.privileged = geteuid() == 0;
  std::unique_ptr<IrqAffinity> affinity = IrqAffinity::Apply(devices, options);
  const IrqReport report = affinity->Snapshot();
  EXPECT_TRUE(report.error.empty()) << report.error;
  EXPECT_EQ(static_cast<long>(report.cpus.size()),
            sysconf(_SC_NPROCESSORS_ONLN));
  ASSERT_EQ(report.devices.size(), devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceIrqState& device = report.devices[i];
    EXPECT_EQ(device.device, devices[i].name);
    EXPECT_EQ(device.state, IrqMapState::kSoftware) << device.detail;
    EXPECT_TRUE(device.bus_address.empty()) << device.bus_address;
    EXPECT_TRUE(device.vectors.empty());
    EXPECT_TRUE(absl::StartsWith(device.detail, "no IRQs (software device)"))
        << device.detail;
    // The device cache's own probe says the same.
    EXPECT_FALSE(records[i].hardware_irqs.supported)
        << records[i].hardware_irqs.detail;
  }
  const v1::ListIrqsResponse response = ListIrqsFromReport(report);
  EXPECT_EQ(response.devices(0).state(), "software");
}

}  // namespace
}  // namespace swift
