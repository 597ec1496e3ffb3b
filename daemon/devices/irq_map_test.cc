// The /proc/interrupts parser and the completion-vector mapping, on the
// samples in testdata/ (an mlx5 host with 8 CPUs and two PCI functions and a
// 2-vCPU Soft-RoCE VM, both written for these tests in the kernel's format;
// the project's own Soft-RoCE guest, captured) and on rows of other
// kernels' formats.
#include "daemon/devices/irq_map.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "common/testing/command_testing.h"

namespace swift {
namespace {

using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunfilePath;

ProcInterrupts Sample(const std::string& name) {
  const std::string text =
      ReadWholeFile(RunfilePath("daemon/devices/testdata/" + name));
  EXPECT_FALSE(text.empty()) << name;
  absl::StatusOr<ProcInterrupts> parsed = ParseProcInterrupts(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *std::move(parsed) : ProcInterrupts();
}

TEST(IrqMapTest, ParsesTheMlx5HostSample) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_mlx5.txt");
  ASSERT_EQ(interrupts.cpus.size(), 8u);
  EXPECT_EQ(interrupts.cpus.front(), 0);
  EXPECT_EQ(interrupts.cpus.back(), 7);
  // 41 numbered rows; NMI, LOC, ERR, MIS, ... are not IRQs.
  EXPECT_EQ(interrupts.irqs.size(), 41u);
  EXPECT_EQ(interrupts.Find(-1), nullptr);

  const IrqLine* timer = interrupts.Find(0);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(timer->chip, "IO-APIC 2-edge");
  EXPECT_EQ(timer->actions, std::vector<std::string>{"timer"});
  EXPECT_EQ(timer->total(), 38u);

  const IrqLine* comp0 = interrupts.Find(39);
  ASSERT_NE(comp0, nullptr);
  EXPECT_EQ(comp0->chip, "IR-PCI-MSI 31981569-edge");
  EXPECT_EQ(comp0->actions,
            std::vector<std::string>{"mlx5_comp0@pci:0000:3b:00.0"});
  ASSERT_EQ(comp0->counts.size(), 8u);
  EXPECT_EQ(comp0->counts[0], 2545385u);
  EXPECT_EQ(comp0->counts[7], 1u);

  // A shared IRQ: two actions, one with a space in its name.
  const IrqLine* pme = interrupts.Find(26);
  ASSERT_NE(pme, nullptr);
  EXPECT_EQ(pme->actions, (std::vector<std::string>{"PCIe PME", "aerdrv"}));
  EXPECT_EQ(interrupts.Find(28)->actions,
            std::vector<std::string>{"ahci[0000:00:17.0]"});
}

TEST(IrqMapTest, ParsesTheSoftRoceVmSample) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_rxe_vm.txt");
  EXPECT_EQ(interrupts.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(interrupts.irqs.size(), 16u);
  const IrqLine* output = interrupts.Find(26);
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(output->chip, "PCI-MSI 65538-edge");
  EXPECT_EQ(output->actions, std::vector<std::string>{"virtio0-output.0"});
  EXPECT_EQ(output->counts, (std::vector<uint64_t>{0, 1187}));
  for (const IrqLine& line : interrupts.irqs) {
    for (const std::string& action : line.actions) {
      EXPECT_FALSE(absl::StrContains(action, "rxe")) << action;
    }
  }
}

// Captured from the project's own Soft-RoCE guest (tools/rxe-vm/run, Debian
// 12 kernel, 2 vCPUs) with rxe0 up and swiftd running.
TEST(IrqMapTest, ParsesTheGuestsOwnProcInterrupts) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_rxe_guest.txt");
  EXPECT_EQ(interrupts.cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(interrupts.irqs.size(), 11u);
  EXPECT_EQ(interrupts.Find(27)->actions,
            std::vector<std::string>{"virtio0-requests"});
  EXPECT_EQ(interrupts.Find(27)->total(), 3743u);
  EXPECT_EQ(MapCompletionVectors({"rxe0", "", 1}, interrupts).state,
            IrqMapState::kSoftware);
}

TEST(IrqMapTest, MapsBothMlx5FunctionsVectorByVector) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_mlx5.txt");
  const DeviceIrqMap first =
      MapCompletionVectors({"mlx5_0", "0000:3b:00.0", 8}, interrupts);
  EXPECT_EQ(first.state, IrqMapState::kMapped) << first.detail;
  EXPECT_EQ(first.bus_address, "0000:3b:00.0");
  ASSERT_EQ(first.vectors.size(), 8u);
  for (int vector = 0; vector < 8; ++vector) {
    EXPECT_EQ(first.vectors[vector].vector, vector);
    EXPECT_EQ(first.vectors[vector].irq, 39 + vector);
  }
  EXPECT_EQ(first.vectors[3].action, "mlx5_comp3@pci:0000:3b:00.0");
  EXPECT_TRUE(absl::StrContains(first.detail, "8 of 8")) << first.detail;

  // The second function's async IRQ (47) is not a completion vector.
  const DeviceIrqMap second =
      MapCompletionVectors({"mlx5_1", "0000:3b:00.1", 8}, interrupts);
  EXPECT_EQ(second.state, IrqMapState::kMapped);
  ASSERT_EQ(second.vectors.size(), 8u);
  EXPECT_EQ(second.vectors.front().irq, 48);
  EXPECT_EQ(second.vectors.back().irq, 55);
}

TEST(IrqMapTest, VectorsWithoutAnIrqYetAreListedWithoutOne) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_mlx5.txt");
  // More vectors than IRQs (recent kernels request them on first use).
  const DeviceIrqMap map =
      MapCompletionVectors({"mlx5_0", "0000:3b:00.0", 12}, interrupts);
  EXPECT_EQ(map.state, IrqMapState::kMapped);
  ASSERT_EQ(map.vectors.size(), 12u);
  EXPECT_EQ(map.vectors[7].irq, 46);
  EXPECT_EQ(map.vectors[8].irq, -1);
  EXPECT_EQ(map.vectors[11].action, "mlx5_comp11@pci:0000:3b:00.0");
  EXPECT_TRUE(absl::StrContains(map.detail, "8 of 12")) << map.detail;
}

TEST(IrqMapTest, SoftRoceHasNoIrqs) {
  const ProcInterrupts interrupts = Sample("proc_interrupts_rxe_vm.txt");
  const DeviceIrqMap map = MapCompletionVectors({"rxe0", "", 1}, interrupts);
  EXPECT_EQ(map.state, IrqMapState::kSoftware);
  EXPECT_TRUE(map.vectors.empty());
  EXPECT_TRUE(absl::StrContains(map.detail, "no IRQs (software device)"))
      << map.detail;
  EXPECT_EQ(IrqMapStateName(map.state), "software");
}

TEST(IrqMapTest, UnknownNamingIsNotRecognisedWithTheNamesSeen) {
  const char* text =
      "           CPU0       CPU1\n"
      " 90:        100          0  IR-PCI-MSI 1048577-edge      "
      "bnxt_re-nq-0@pci:0000:5e:00.0\n"
      " 91:          0        100  IR-PCI-MSI 1048578-edge      "
      "bnxt_re-nq-1@pci:0000:5e:00.0\n";
  absl::StatusOr<ProcInterrupts> interrupts = ParseProcInterrupts(text);
  ASSERT_TRUE(interrupts.ok()) << interrupts.status();
  DeviceIrqMap map =
      MapCompletionVectors({"bnxt_re0", "0000:5e:00.0", 2}, *interrupts);
  EXPECT_EQ(map.state, IrqMapState::kNotRecognised);
  EXPECT_TRUE(map.vectors.empty());
  EXPECT_TRUE(absl::StrContains(map.detail, "IRQ names not recognised"))
      << map.detail;
  EXPECT_TRUE(absl::StrContains(map.detail, "bnxt_re-nq-0@pci:0000:5e:00.0"))
      << map.detail;

  // A hardware device that no line names at all.
  map = MapCompletionVectors({"x", "0000:99:00.0", 2}, *interrupts);
  EXPECT_EQ(map.state, IrqMapState::kNotRecognised);
  EXPECT_TRUE(absl::StrContains(map.detail, "no line of /proc/interrupts"))
      << map.detail;
}

TEST(IrqMapTest, OtherKnownDriversAndNewerKernelRows) {
  // Kernels with per-device MSI domains print the device in the chip name;
  // a CPU may be offline (no CPU2 column).
  const char* text =
      "           CPU0       CPU1       CPU3\n"
      "120:          5          0          0 IR-PCI-MSIX-0000:3b:00.0    "
      "0-edge      mlx5_async0@pci:0000:3b:00.0\n"
      "121:       9000          1          0 IR-PCI-MSIX-0000:3b:00.0    "
      "1-edge      mlx5_comp0@pci:0000:3b:00.0\n"
      "130:          0         70          0  IR-PCI-MSI 524289-edge      "
      "mlx4-comp-0@pci:0000:04:00.0\n"
      "131:          0          0         80  IR-PCI-MSI 524290-edge      "
      "mlx4-comp-1@pci:0000:04:00.0\n"
      "140:          1          0          0   PCI-MSI 98305-edge      "
      "efa-comp0@pci:0000:00:06.0\n"
      "150:          0          0          0   IR-IO-APIC   18-fasteoi\n"
      "LOC:        100        200        300   Local timer interrupts\n";
  absl::StatusOr<ProcInterrupts> interrupts = ParseProcInterrupts(text);
  ASSERT_TRUE(interrupts.ok()) << interrupts.status();
  EXPECT_EQ(interrupts->cpus, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(interrupts->Find(121)->chip, "IR-PCI-MSIX-0000:3b:00.0 1-edge");
  // An IRQ with no handler has no action.
  EXPECT_TRUE(interrupts->Find(150)->actions.empty());
  EXPECT_EQ(interrupts->Find(150)->chip, "IR-IO-APIC 18-fasteoi");

  DeviceIrqMap mlx5 =
      MapCompletionVectors({"mlx5_0", "0000:3b:00.0", 1}, *interrupts);
  ASSERT_EQ(mlx5.vectors.size(), 1u);
  EXPECT_EQ(mlx5.vectors[0].irq, 121);
  DeviceIrqMap mlx4 =
      MapCompletionVectors({"mlx4_0", "0000:04:00.0", 2}, *interrupts);
  ASSERT_EQ(mlx4.vectors.size(), 2u);
  EXPECT_EQ(mlx4.vectors[1].irq, 131);
  EXPECT_TRUE(absl::StartsWith(mlx4.detail, "mlx4")) << mlx4.detail;
  DeviceIrqMap efa =
      MapCompletionVectors({"efa_0", "0000:00:06.0", 1}, *interrupts);
  EXPECT_EQ(efa.state, IrqMapState::kMapped);
  EXPECT_EQ(efa.vectors[0].irq, 140);
}

TEST(IrqMapTest, MalformedTextIsRefusedNamingTheLine) {
  absl::StatusOr<ProcInterrupts> parsed =
      ParseProcInterrupts(" 0: 1 2 IO-APIC 2-edge timer\n");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "line 1"))
      << parsed.status();
  parsed = ParseProcInterrupts(
      "      CPU0  CPU1\n"
      " 7:     1   IO-APIC 2-edge timer\n");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(parsed.status().message(), "line 2"))
      << parsed.status();
  EXPECT_FALSE(ParseProcInterrupts("").ok());
}

TEST(IrqMapTest, ReadsAFileAndSaysWhichOneIsMissing) {
  absl::StatusOr<ProcInterrupts> read = ReadProcInterrupts(
      RunfilePath("daemon/devices/testdata/proc_interrupts_rxe_vm.txt"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->irqs.size(), 16u);
  read = ReadProcInterrupts("/nonexistent/interrupts");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(
      absl::StrContains(read.status().message(), "/nonexistent/interrupts"));
}

TEST(IrqMapTest, ParentBusAddressIsTheSysfsLinksLastPart) {
  swift::testing::TempDir dir;
  const std::string device = dir.path() + "/mlx5_0";
  ASSERT_EQ(system(("mkdir -p " + device +
                    " && ln -s "
                    "../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0 " +
                    device + "/device")
                       .c_str()),
            0);
  EXPECT_EQ(ParentBusAddress("mlx5_0", dir.path()), "0000:3b:00.0");
  EXPECT_EQ(ParentBusAddress("rxe0", dir.path()), "");
}

}  // namespace
}  // namespace swift
