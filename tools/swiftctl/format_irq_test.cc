// `swiftctl irq`: an mlx5 device whose IRQs swiftd pinned (one already in
// place, one the kernel refused), a software device with no IRQs, and the
// first line for each mode (off, not root, on).
#include "tools/swiftctl/format_irq.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace swift::swiftctl {
namespace {

v1::ListIrqsResponse Sample() {
  v1::ListIrqsResponse response;
  response.set_enabled(true);
  response.set_privileged(true);
  for (int cpu = 0; cpu < 4; ++cpu) response.add_cpus(cpu);
  v1::DeviceIrqInfo* mlx5 = response.add_devices();
  mlx5->set_device("mlx5_0");
  mlx5->set_bus_address("0000:3b:00.0");
  mlx5->set_state("mapped");
  mlx5->set_detail(
      "mlx5 IRQ names (mlx5_comp<vector>@pci:0000:3b:00.0): 4 of 4 "
      "completion vectors have an IRQ");
  for (int i = 0; i < 4; ++i) {
    v1::IrqVectorInfo* vector = mlx5->add_vectors();
    vector->set_vector(i);
    vector->set_irq(39 + i);
    vector->set_action(absl::StrCat("mlx5_comp", i, "@pci:0000:3b:00.0"));
    vector->set_target_cpu(i);
    vector->set_original_affinity("0-3");
    vector->set_current_affinity(absl::StrCat(i));
    vector->set_changed(true);
    vector->set_interrupts(1000 + i);
    vector->set_interrupts_on_target(900 + i);
  }
  mlx5->mutable_vectors(2)->set_changed(false);
  mlx5->mutable_vectors(2)->set_original_affinity("2");
  mlx5->mutable_vectors(2)->set_reason("already on CPU 2");
  mlx5->mutable_vectors(3)->set_changed(false);
  mlx5->mutable_vectors(3)->set_current_affinity("0-3");
  mlx5->mutable_vectors(3)->set_reason(
      "write refused: write /proc/irq/42/smp_affinity_list: Input/output "
      "error (the kernel manages this IRQ's affinity)");
  v1::DeviceIrqInfo* rxe = response.add_devices();
  rxe->set_device("rxe0");
  rxe->set_state("software");
  rxe->set_detail("no IRQs (software device): no parent bus device in sysfs");
  return response;
}

TEST(FormatIrqTest, ShowsEachVectorsIrqCpuAndWhyOneWasLeftAsIs) {
  const std::string out = FormatIrqs(Sample());
  EXPECT_TRUE(absl::StartsWith(
      out,
      "IRQ affinity: on: completion vector i -> the i-th online CPU; "
      "online CPUs 0,1,2,3\n"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "DEVICE  VECTOR  IRQ  NAME")) << out;
  EXPECT_TRUE(absl::StrContains(out, "mlx5_comp1@pci:0000:3b:00.0")) << out;
  // Vector 1: IRQ 40 pinned to CPU 1, was 0-3, fired 901 times there.
  EXPECT_TRUE(absl::StrContains(out,
                                "40   mlx5_comp1@pci:0000:3b:00.0  1    "
                                "0-3  1    yes      1001        901"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "  vector 2: already on CPU 2\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "  vector 3: write refused: ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "mlx5_0 (0000:3b:00.0): mlx5 IRQ names"))
      << out;
  EXPECT_TRUE(absl::StrContains(
      out, "rxe0: no IRQs (software device): no parent bus device"))
      << out;
}

TEST(FormatIrqTest, GroupsOneReasonForManyVectorsAndNamesTheMode) {
  v1::ListIrqsResponse response = Sample();
  response.set_privileged(false);
  for (v1::IrqVectorInfo& vector :
       *response.mutable_devices(0)->mutable_vectors()) {
    vector.set_changed(false);
    vector.set_reason("left as is: not root");
  }
  std::string out = FormatIrqs(response);
  EXPECT_TRUE(absl::StartsWith(
      out, "IRQ affinity: on, but swiftd is not root: IRQs left as is"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "  vectors 0,1,2,3: left as is: not root"))
      << out;
  response.set_enabled(false);
  out = FormatIrqs(response);
  EXPECT_TRUE(absl::StartsWith(out, "IRQ affinity: off (--irq_affinity=false)"))
      << out;
}

TEST(FormatIrqTest, OnlySoftwareDevicesSayNoIrqs) {
  v1::ListIrqsResponse response = Sample();
  response.mutable_devices()->DeleteSubrange(0, 1);
  const std::string out = FormatIrqs(response);
  EXPECT_FALSE(absl::StrContains(out, "DEVICE  VECTOR")) << out;
  EXPECT_TRUE(absl::StrContains(out, "rxe0: no IRQs (software device)")) << out;
}

TEST(FormatIrqTest, NoDevicesAndAnUnreadableProcInterrupts) {
  v1::ListIrqsResponse response;
  response.set_enabled(true);
  response.set_error("open /proc/interrupts: No such file or directory");
  const std::string out = FormatIrqs(response);
  EXPECT_TRUE(absl::StrContains(
      out, "cannot read /proc/interrupts: open /proc/interrupts: No such"))
      << out;
  EXPECT_TRUE(absl::StrContains(out, "No RDMA devices")) << out;
  response.set_restored(true);
  EXPECT_TRUE(absl::StrContains(FormatIrqs(response), "restored")) << out;
}

}  // namespace
}  // namespace swift::swiftctl
