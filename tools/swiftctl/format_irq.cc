// `swiftctl irq`; see format_irq.h.
#include "tools/swiftctl/format_irq.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {
namespace {

std::string OrDash(const std::string& text) {
  return text.empty() ? "-" : text;
}

// The first line: what swiftd does with the IRQs it finds.
std::string ModeLine(const v1::ListIrqsResponse& irqs) {
  std::string line = "IRQ affinity: ";
  if (!irqs.enabled()) {
    absl::StrAppend(&line, "off (--irq_affinity=false): IRQs left as is");
  } else if (!irqs.privileged()) {
    absl::StrAppend(&line, "on, but swiftd is not root: IRQs left as is");
  } else {
    absl::StrAppend(&line, "on: completion vector i -> the i-th online CPU");
  }
  if (irqs.cpus_size() > 0) {
    absl::StrAppend(&line, "; online CPUs ", absl::StrJoin(irqs.cpus(), ","));
  }
  if (irqs.restored()) {
    absl::StrAppend(&line, "; original affinities restored (swiftd stops)");
  }
  return line + "\n";
}

}  // namespace

std::string FormatIrqs(const v1::ListIrqsResponse& irqs) {
  std::string out = ModeLine(irqs);
  if (!irqs.error().empty()) {
    absl::StrAppend(&out, "cannot read /proc/interrupts: ", irqs.error(), "\n");
  }
  if (irqs.devices().empty()) {
    absl::StrAppend(&out, "No RDMA devices, so no completion IRQs to place.\n");
    return out;
  }
  std::vector<std::vector<std::string>> rows;
  std::string notes;
  for (const v1::DeviceIrqInfo& device : irqs.devices()) {
    // Reasons an IRQ was left as is, each with the vectors it applies to.
    std::map<std::string, std::vector<int>> reasons;
    for (const v1::IrqVectorInfo& vector : device.vectors()) {
      const bool has_irq = vector.irq() >= 0;
      rows.push_back(
          {device.device(), absl::StrCat(vector.vector()),
           has_irq ? absl::StrCat(vector.irq()) : "-", vector.action(),
           has_irq && vector.target_cpu() >= 0
               ? absl::StrCat(vector.target_cpu())
               : "-",
           OrDash(vector.original_affinity()),
           OrDash(vector.current_affinity()), vector.changed() ? "yes" : "no",
           has_irq ? absl::StrCat(vector.interrupts()) : "-",
           has_irq ? absl::StrCat(vector.interrupts_on_target()) : "-"});
      if (!vector.changed() && !vector.reason().empty()) {
        reasons[vector.reason()].push_back(vector.vector());
      }
    }
    absl::StrAppend(&notes, device.device(),
                    device.bus_address().empty()
                        ? std::string()
                        : absl::StrCat(" (", device.bus_address(), ")"),
                    ": ", device.detail(), "\n");
    for (const auto& [reason, vectors] : reasons) {
      absl::StrAppend(&notes, "  ",
                      vectors.size() == 1 ? "vector " : "vectors ",
                      absl::StrJoin(vectors, ","), ": ", reason, "\n");
    }
  }
  if (!rows.empty()) {
    absl::StrAppend(
        &out, "\n",
        FormatTable({"DEVICE", "VECTOR", "IRQ", "NAME", "CPU", "WAS", "NOW",
                     "CHANGED", "INTERRUPTS", "ON CPU"},
                    rows));
  }
  absl::StrAppend(&out, "\n", notes);
  return out;
}

}  // namespace swift::swiftctl
