// Capability probes; see device_probes.h.
#include "daemon/devices/device_probes.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/devices/irq_map.h"

namespace swift {
namespace {

// Entries of directory `path` (without "." and ".."); -1 if it cannot be
// read.
int CountDirectoryEntries(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    return -1;
  }
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace

Capability ImportCapability(const verbs::DeviceInfo& info) {
  if (info.context_import_supported) {
    return {true, "ibv_import_device on a dup of swiftd's command fd worked"};
  }
  return {false,
          absl::StrCat("ibv_import_device: ", info.context_import_error.empty()
                                                  ? std::string("failed")
                                                  : info.context_import_error)};
}

Capability ForkPostCapability(DoorbellKind kind, absl::string_view evidence) {
  switch (kind) {
    case DoorbellKind::kMmio:
      return {true,
              absl::StrCat("MMIO doorbell, no system call (", evidence, ")")};
    case DoorbellKind::kKernelCommand:
      return {true,
              absl::StrCat("posts go to the kernel by ioctl (", evidence, ")")};
    case DoorbellKind::kWriteCommand:
      return {false,
              absl::StrCat("needs the ioctl doorbell: the provider rings with "
                           "write() on the uverbs fd, which the kernel "
                           "refuses in a forked child (EACCES); "
                           "swift_worker's instances ring through ioctl (",
                           evidence, ")")};
    case DoorbellKind::kUnknown:
      break;
  }
  return {false, absl::StrCat("unknown provider doorbell: a child's EACCES "
                              "is reported, never retried (",
                              evidence, ")")};
}

Capability ProbeForkChildPost(ibv_context* context, std::string& doorbell) {
  absl::StatusOr<ProviderDoorbell> detected = DetectDoorbell(context);
  if (!detected.ok()) {
    doorbell = std::string(DoorbellKindName(DoorbellKind::kUnknown));
    return {false, absl::StrCat("doorbell detection failed: ",
                                detected.status().ToString())};
  }
  doorbell = std::string(DoorbellKindName(detected->kind));
  return ForkPostCapability(detected->kind, detected->evidence);
}

int CountInterruptLines(absl::string_view proc_interrupts,
                        const std::vector<std::string>& tokens) {
  absl::StatusOr<ProcInterrupts> parsed = ParseProcInterrupts(proc_interrupts);
  if (!parsed.ok()) {
    return 0;
  }
  int count = 0;
  for (const IrqLine& line : parsed->irqs) {
    const bool named = std::any_of(
        line.actions.begin(), line.actions.end(), [&](const std::string& a) {
          return std::any_of(
              tokens.begin(), tokens.end(), [&](const std::string& token) {
                return !token.empty() && absl::StrContains(a, token);
              });
        });
    if (named) ++count;
  }
  return count;
}

Capability ProbeHardwareIrqs(const std::string& name, uint32_t& irq_count,
                             const std::string& sysfs_class,
                             const std::string& proc_interrupts) {
  irq_count = 0;
  const std::string address = ParentBusAddress(name, sysfs_class);
  if (address.empty()) {
    return {false,
            "software device: no parent bus device in sysfs, so completion "
            "events come from the kernel's software path, not interrupts"};
  }
  const std::string parent = absl::StrCat(sysfs_class, "/", name, "/device");
  const int msi = CountDirectoryEntries(parent + "/msi_irqs");
  const int lines =
      CountInterruptLines(ReadFile(proc_interrupts), {name, address});
  irq_count = static_cast<uint32_t>(std::max(msi, lines));
  if (irq_count > 0) {
    return {true, absl::StrCat(std::max(msi, 0), " MSI vector(s) of ", address,
                               ", ", lines, " line(s) in /proc/interrupts")};
  }
  return {false, absl::StrCat("parent device ", address,
                              " has no MSI vectors and no line in "
                              "/proc/interrupts names it")};
}

}  // namespace swift
