// The pure parts of the capability probes and of the async event
// classification.
#include "daemon/devices/device_probes.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "daemon/devices/async_event_reader.h"

namespace swift {
namespace {

TEST(DeviceProbesTest, WriteCommandDoorbellNeedsTheIoctlDoorbell) {
  Capability post = ForkPostCapability(DoorbellKind::kWriteCommand,
                                       "kernel driver id 14 (rxe)");
  EXPECT_FALSE(post.supported);
  EXPECT_TRUE(absl::StrContains(post.detail, "needs the ioctl doorbell"))
      << post.detail;
  EXPECT_TRUE(absl::StrContains(post.detail, "rxe")) << post.detail;
}

TEST(DeviceProbesTest, MmioAndKernelCommandDoorbellsMayPostFromAChild) {
  EXPECT_TRUE(ForkPostCapability(DoorbellKind::kMmio, "mlx5_core").supported);
  EXPECT_TRUE(
      ForkPostCapability(DoorbellKind::kKernelCommand, "hfi1").supported);
  Capability unknown = ForkPostCapability(DoorbellKind::kUnknown, "no id");
  EXPECT_FALSE(unknown.supported);
  EXPECT_TRUE(absl::StrContains(unknown.detail, "unknown")) << unknown.detail;
}

TEST(DeviceProbesTest, ImportSaysWhyNot) {
  verbs::DeviceInfo info;
  info.context_import_error = "Operation not supported";
  Capability import = ImportCapability(info);
  EXPECT_FALSE(import.supported);
  EXPECT_EQ(import.detail, "ibv_import_device: Operation not supported");
  info.context_import_supported = true;
  EXPECT_TRUE(ImportCapability(info).supported);
}

TEST(DeviceProbesTest, CountsInterruptLinesNamingTheDevice) {
  const char* interrupts =
      "            CPU0       CPU1\n"
      "  0:         33          0   IO-APIC   2-edge      timer\n"
      " 45:       1200          0   PCI-MSI 1572864-edge  "
      "mlx5_async@pci:0000:03:00.0\n"
      " 46:         10         99   PCI-MSI 1572865-edge  "
      "mlx5_comp0@pci:0000:03:00.0\n"
      " 47:          0          5   PCI-MSI 1572866-edge  "
      "mlx5_comp1@pci:0000:03:00.0\n"
      " 48:          0          5   PCI-MSI 1572867-edge  eth0\n";
  EXPECT_EQ(CountInterruptLines(interrupts, {"0000:03:00.0"}), 3);
  EXPECT_EQ(CountInterruptLines(interrupts, {"mlx5_comp"}), 2);
  EXPECT_EQ(CountInterruptLines(interrupts, {"", "rxeA"}), 0);
  // The header never counts, even if a token matches it.
  EXPECT_EQ(CountInterruptLines(interrupts, {"CPU0"}), 0);
}

TEST(DeviceProbesTest, DeviceWithoutParentInSysfsIsSoftware) {
  uint32_t count = 7;
  Capability irqs = ProbeHardwareIrqs("rxeZ", count, "/nonexistent/class",
                                      "/nonexistent/interrupts");
  EXPECT_FALSE(irqs.supported);
  EXPECT_EQ(count, 0u);
  EXPECT_TRUE(absl::StrContains(irqs.detail, "software device")) << irqs.detail;
}

TEST(AsyncEventTest, PortEventsRefreshPortsAndFatalClosesTheDevice) {
  DeviceEvent down = ClassifyAsyncEvent(IBV_EVENT_PORT_ERR, 1);
  EXPECT_EQ(down.action, DeviceEventAction::kRefreshPorts);
  EXPECT_EQ(down.description, "PORT_ERR on port 1");
  EXPECT_EQ(ClassifyAsyncEvent(IBV_EVENT_PORT_ACTIVE, 2).description,
            "PORT_ACTIVE on port 2");
  EXPECT_EQ(ClassifyAsyncEvent(IBV_EVENT_GID_CHANGE, 1).action,
            DeviceEventAction::kRefreshPorts);
  EXPECT_EQ(ClassifyAsyncEvent(IBV_EVENT_LID_CHANGE, 1).action,
            DeviceEventAction::kRefreshPorts);
  DeviceEvent fatal = ClassifyAsyncEvent(IBV_EVENT_DEVICE_FATAL, 0);
  EXPECT_EQ(fatal.action, DeviceEventAction::kDeviceFatal);
  EXPECT_EQ(fatal.description, "DEVICE_FATAL");
  // Events about QPs and CQs are not swiftd's.
  EXPECT_EQ(ClassifyAsyncEvent(IBV_EVENT_QP_FATAL, 0).action,
            DeviceEventAction::kIgnore);
  EXPECT_EQ(ClassifyAsyncEvent(IBV_EVENT_CQ_ERR, 0).action,
            DeviceEventAction::kIgnore);
}

}  // namespace
}  // namespace swift
