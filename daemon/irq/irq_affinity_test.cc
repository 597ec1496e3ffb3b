// IrqAffinity against a /proc tree of the test's own: the mlx5 host's
// /proc/interrupts sample and an smp_affinity_list file per IRQ. It pins,
// records and restores; leaves everything as is when not root or turned
// off; records a write the kernel refuses per IRQ; reports a software
// device as having no IRQs.
#include "daemon/irq/irq_affinity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/testing/command_testing.h"
#include "daemon/irq/irq_report.h"

namespace swift {
namespace {

using ::swift::testing::ReadWholeFile;
using ::swift::testing::RunfilePath;
using ::swift::testing::TempDir;

constexpr int kFirstCompIrq = 39;   // mlx5_comp0@pci:0000:3b:00.0
constexpr int kSecondCompIrq = 48;  // mlx5_comp0@pci:0000:3b:00.1

// <root>/interrupts from the sample, and <root>/irq/N/smp_affinity_list
// holding "0-7" for every completion IRQ of both functions.
class ProcTree {
 public:
  ProcTree() {
    std::ofstream(root() + "/interrupts") << ReadWholeFile(
        RunfilePath("daemon/devices/testdata/proc_interrupts_mlx5.txt"));
    for (int irq = kFirstCompIrq; irq < kSecondCompIrq + 8; ++irq) {
      const std::string directory = absl::StrCat(root(), "/irq/", irq);
      EXPECT_EQ(system(("mkdir -p " + directory).c_str()), 0);
      SetAffinity(irq, "0-7");
    }
  }
  const std::string& root() const { return dir_.path(); }
  std::string AffinityPath(int irq) const {
    return absl::StrCat(root(), "/irq/", irq, "/smp_affinity_list");
  }
  void SetAffinity(int irq, const std::string& text) const {
    std::ofstream(AffinityPath(irq)) << text << "\n";
  }
  std::string Affinity(int irq) const {
    std::string text = ReadWholeFile(AffinityPath(irq));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

 private:
  TempDir dir_;
};

std::vector<IrqDevice> Devices() {
  return {{"mlx5_0", "0000:3b:00.0", 8},
          {"mlx5_1", "0000:3b:00.1", 8},
          {"rxe0", "", 1}};
}

IrqAffinityOptions Options(const ProcTree& tree, bool privileged) {
  IrqAffinityOptions options;
  options.proc_root = tree.root();
  options.privileged = privileged;
  return options;
}

TEST(IrqAffinityTest, PinsEachVectorToItsCpuAndRestoresTheOriginal) {
  ProcTree tree;
  tree.SetAffinity(kFirstCompIrq + 2, "2");  // Already where it belongs.
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), Options(tree, true));
  for (int vector = 0; vector < 8; ++vector) {
    EXPECT_EQ(tree.Affinity(kFirstCompIrq + vector), absl::StrCat(vector));
    EXPECT_EQ(tree.Affinity(kSecondCompIrq + vector), absl::StrCat(vector));
  }

  IrqReport report = affinity->Snapshot();
  EXPECT_TRUE(report.enabled);
  EXPECT_TRUE(report.privileged);
  EXPECT_TRUE(report.error.empty()) << report.error;
  EXPECT_EQ(report.cpus.size(), 8u);
  ASSERT_EQ(report.devices.size(), 3u);
  const DeviceIrqState& mlx5 = report.devices[0];
  EXPECT_EQ(mlx5.state, IrqMapState::kMapped);
  ASSERT_EQ(mlx5.vectors.size(), 8u);
  const IrqVectorState& vector0 = mlx5.vectors[0];
  EXPECT_EQ(vector0.irq, kFirstCompIrq);
  EXPECT_EQ(vector0.action, "mlx5_comp0@pci:0000:3b:00.0");
  EXPECT_EQ(vector0.target_cpu, 0);
  EXPECT_EQ(vector0.original_affinity, "0-7");
  EXPECT_EQ(vector0.current_affinity, "0");
  EXPECT_TRUE(vector0.changed);
  EXPECT_TRUE(vector0.reason.empty()) << vector0.reason;
  // The sample's counts: IRQ 39 fired 2545385 times on CPU 0.
  EXPECT_EQ(vector0.interrupts_on_target, 2545385u);
  EXPECT_GE(vector0.interrupts, vector0.interrupts_on_target);
  const IrqVectorState& vector2 = mlx5.vectors[2];
  EXPECT_FALSE(vector2.changed);
  EXPECT_EQ(vector2.reason, "already on CPU 2");
  EXPECT_EQ(vector2.original_affinity, "2");
  const DeviceIrqState& rxe = report.devices[2];
  EXPECT_EQ(rxe.state, IrqMapState::kSoftware);
  EXPECT_TRUE(rxe.vectors.empty());
  EXPECT_TRUE(absl::StrContains(rxe.detail, "no IRQs")) << rxe.detail;

  // A change made behind swiftd's back shows as the current affinity.
  tree.SetAffinity(kFirstCompIrq + 1, "5");
  EXPECT_EQ(affinity->Snapshot().devices[0].vectors[1].current_affinity, "5");

  affinity->Restore();
  for (int vector = 0; vector < 8; ++vector) {
    if (vector != 2) {
      EXPECT_EQ(tree.Affinity(kFirstCompIrq + vector), "0-7") << vector;
    }
    EXPECT_EQ(tree.Affinity(kSecondCompIrq + vector), "0-7") << vector;
  }
  EXPECT_EQ(tree.Affinity(kFirstCompIrq + 2), "2");
  report = affinity->Snapshot();
  EXPECT_TRUE(report.restored);
  EXPECT_EQ(report.devices[0].vectors[0].reason, "restored");
  EXPECT_FALSE(report.devices[0].vectors[0].changed);
  EXPECT_EQ(report.devices[0].vectors[0].current_affinity, "0-7");

  // Restore() runs once: the destructor does not write again.
  tree.SetAffinity(kFirstCompIrq, "6");
  affinity.reset();
  EXPECT_EQ(tree.Affinity(kFirstCompIrq), "6");
}

TEST(IrqAffinityTest, DestructionRestores) {
  ProcTree tree;
  IrqAffinity::Apply(Devices(), Options(tree, true)).reset();
  EXPECT_EQ(tree.Affinity(kFirstCompIrq + 3), "0-7");
  EXPECT_EQ(tree.Affinity(kSecondCompIrq + 7), "0-7");
}

TEST(IrqAffinityTest, NotRootLeavesEveryIrqAsIsAndSaysWhy) {
  ProcTree tree;
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), Options(tree, false));
  const IrqReport report = affinity->Snapshot();
  EXPECT_FALSE(report.privileged);
  for (const IrqVectorState& vector : report.devices[0].vectors) {
    EXPECT_FALSE(vector.changed);
    EXPECT_EQ(vector.reason, "left as is: not root");
    EXPECT_EQ(vector.original_affinity, "0-7");
    EXPECT_EQ(vector.target_cpu, vector.vector);
    EXPECT_EQ(tree.Affinity(vector.irq), "0-7");
  }
}

TEST(IrqAffinityTest, TurnedOffLeavesEveryIrqAsIs) {
  ProcTree tree;
  IrqAffinityOptions options = Options(tree, true);
  options.enabled = false;
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), options);
  const IrqReport report = affinity->Snapshot();
  EXPECT_FALSE(report.enabled);
  EXPECT_EQ(report.devices[1].vectors[4].reason,
            "left as is: --irq_affinity=false");
  EXPECT_EQ(tree.Affinity(kSecondCompIrq + 4), "0-7");
}

TEST(IrqAffinityTest, ARefusedWriteIsRecordedForThatIrqOnly) {
  ProcTree tree;
  IrqAffinityOptions options = Options(tree, true);
  const std::string refused = tree.AffinityPath(kFirstCompIrq + 5);
  options.write_file = [&](const std::string& path, const std::string& text) {
    if (path == refused) {
      // What the kernel answers for an IRQ whose affinity it manages.
      return ErrnoStatus(EIO, "write " + path);
    }
    std::ofstream(path) << text;
    return absl::OkStatus();
  };
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), options);
  const IrqReport report = affinity->Snapshot();
  const IrqVectorState& vector5 = report.devices[0].vectors[5];
  EXPECT_FALSE(vector5.changed);
  EXPECT_TRUE(absl::StartsWith(vector5.reason, "write refused: "))
      << vector5.reason;
  EXPECT_TRUE(absl::StrContains(vector5.reason, "Input/output error"))
      << vector5.reason;
  EXPECT_EQ(tree.Affinity(kFirstCompIrq + 5), "0-7");
  EXPECT_TRUE(report.devices[0].vectors[4].changed);
  EXPECT_EQ(tree.Affinity(kFirstCompIrq + 4), "4");
}

TEST(IrqAffinityTest, AFileThatCannotBeWrittenIsRecordedWithTheError) {
  ProcTree tree;
  // A directory where the file should be: open(O_WRONLY) fails (EISDIR)
  // through the real writer.
  const std::string path = tree.AffinityPath(kSecondCompIrq + 1);
  ASSERT_EQ(unlink(path.c_str()), 0);
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), Options(tree, true));
  const IrqVectorState vector1 = affinity->Snapshot().devices[1].vectors[1];
  EXPECT_FALSE(vector1.changed);
  EXPECT_TRUE(absl::StrContains(vector1.reason, path)) << vector1.reason;
  EXPECT_TRUE(affinity->Snapshot().devices[1].vectors[2].changed);
}

TEST(IrqAffinityTest, WithoutProcInterruptsNothingIsMappedAndTheErrorIsKept) {
  TempDir empty;
  IrqAffinityOptions options;
  options.proc_root = empty.path();
  options.privileged = true;
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), options);
  const IrqReport report = affinity->Snapshot();
  EXPECT_TRUE(absl::StrContains(report.error, "/interrupts")) << report.error;
  EXPECT_EQ(report.devices[0].state, IrqMapState::kNotRecognised);
  EXPECT_EQ(report.devices[2].state, IrqMapState::kSoftware);
}

TEST(IrqAffinityTest, TheReportBecomesTheListIrqsAnswer) {
  ProcTree tree;
  std::unique_ptr<IrqAffinity> affinity =
      IrqAffinity::Apply(Devices(), Options(tree, false));
  const v1::ListIrqsResponse response =
      ListIrqsFromReport(affinity->Snapshot());
  EXPECT_FALSE(response.privileged());
  EXPECT_TRUE(response.enabled());
  EXPECT_EQ(response.cpus_size(), 8);
  ASSERT_EQ(response.devices_size(), 3);
  EXPECT_EQ(response.devices(0).state(), "mapped");
  EXPECT_EQ(response.devices(0).bus_address(), "0000:3b:00.0");
  ASSERT_EQ(response.devices(0).vectors_size(), 8);
  EXPECT_EQ(response.devices(0).vectors(7).irq(), kFirstCompIrq + 7);
  EXPECT_EQ(response.devices(0).vectors(7).target_cpu(), 7);
  EXPECT_EQ(response.devices(0).vectors(7).reason(), "left as is: not root");
  EXPECT_EQ(response.devices(2).state(), "software");
  EXPECT_EQ(response.devices(2).vectors_size(), 0);
}

}  // namespace
}  // namespace swift
