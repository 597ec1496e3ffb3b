// Which interrupt serves which completion vector of an RDMA device: a parser
// of /proc/interrupts and the mapping from a device's completion vectors to
// IRQ numbers by the names its driver gives its interrupts.
//
// Only the driver's IRQ names tie an IRQ to a device and a vector: libibverbs
// reports num_comp_vectors, never the interrupts behind them. The naming
// rules known here (each read from the driver's source, each vector i
// served by the IRQ named with i):
//   mlx5  "mlx5_comp<i>@pci:<PCI address>"  (and "mlx5_async0@pci:..." for
//         the control EQ, not a completion vector). Recent kernels request
//         a vector's IRQ only when a CQ first uses it, so a vector may have
//         none yet.
//   mlx4  "mlx4-comp-<i>@pci:<PCI address>"
//   efa   "efa-comp<i>@pci:<PCI address>"
// Other drivers name their interrupts in their own ways (bnxt_re
// "bnxt_re-nq-<i>@pci:..." picks a notification queue per CQ by load, not by
// the vector) or it was not confirmed: such a device is reported as "IRQ
// names not recognised", with the lines that name its address. A software
// device (rxe, siw: no parent bus device) raises no interrupts at all.
//
// Pure functions, except ReadProcInterrupts() and ParentBusAddress(), which
// read a file and sysfs. Thread-safe: no state.
#ifndef SWIFT_DAEMON_DEVICES_IRQ_MAP_H_
#define SWIFT_DAEMON_DEVICES_IRQ_MAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift {

// One numbered row of /proc/interrupts, e.g.
//   " 45:   1200   0   IR-PCI-MSI 31981569-edge   mlx5_comp0@pci:0000:3b:00.0"
struct IrqLine {
  int irq = -1;
  // Interrupts taken per CPU, in the order of ProcInterrupts::cpus.
  std::vector<uint64_t> counts;
  // What the kernel prints between the counts and the actions: the chip,
  // the hardware IRQ number and the flow type ("IR-PCI-MSI 31981569-edge"),
  // runs of spaces squeezed to one.
  std::string chip;
  // The handlers' names, in the kernel's order (shared IRQs have several).
  std::vector<std::string> actions;

  uint64_t total() const;
};

// /proc/interrupts, parsed.
struct ProcInterrupts {
  // The CPUs of the header line ("CPU0 CPU1 ..."): the online ones, in
  // column order.
  std::vector<int> cpus;
  // The numbered rows, in file order. The named rows of the architecture's
  // own counters (NMI, LOC, ERR, ...) are skipped.
  std::vector<IrqLine> irqs;

  // The row of IRQ `irq`; null when there is none.
  const IrqLine* Find(int irq) const;
};

// ParseProcInterrupts()
//
// `text` as /proc/interrupts prints it. kInvalidArgument naming the line
// when the header has no CPU column, or a numbered row has fewer counts
// than the header has CPUs or a count that is not a number.
absl::StatusOr<ProcInterrupts> ParseProcInterrupts(absl::string_view text);

// ReadProcInterrupts()
//
// Reads and parses the file at `path` (normally "/proc/interrupts"). The
// read's error (ErrnoStatus, naming the path), or ParseProcInterrupts()'s.
absl::StatusOr<ProcInterrupts> ReadProcInterrupts(const std::string& path);

// ParentBusAddress()
//
// The bus address of RDMA device `name`'s parent device, the last part of
// the sysfs link `sysfs_class`/<name>/device (e.g. "0000:3b:00.0"); empty
// when it has none (a software device: rxe, siw) or it cannot be read.
std::string ParentBusAddress(
    const std::string& name,
    const std::string& sysfs_class = "/sys/class/infiniband");

// A device as the mapping needs it.
struct IrqDevice {
  std::string name;
  // ParentBusAddress(); empty for a software device.
  std::string bus_address;
  // As ibv_query_device reports it.
  int num_comp_vectors = 0;
};

enum class IrqMapState {
  // At least one completion vector's IRQ was found.
  kMapped,
  // No parent bus device: completions are signalled by the kernel's
  // software path, no interrupt to steer.
  kSoftware,
  // A hardware device whose IRQ names follow none of the known rules, or
  // whose known names are absent from /proc/interrupts.
  kNotRecognised,
};

// "mapped", "software", "not_recognised".
absl::string_view IrqMapStateName(IrqMapState state);

// One completion vector and the IRQ found for it.
struct VectorIrq {
  int vector = 0;
  // -1 when no IRQ carries the vector's name (not requested yet, or the
  // driver has fewer interrupts than vectors); `action` is then the name
  // looked for.
  int irq = -1;
  std::string action;
};

struct DeviceIrqMap {
  std::string device;
  std::string bus_address;
  IrqMapState state = IrqMapState::kNotRecognised;
  // Why, in a sentence: the rule that matched and how many vectors it
  // found, or why none could be mapped.
  std::string detail;
  // kMapped: one entry per completion vector, in vector order.
  std::vector<VectorIrq> vectors;
};

// MapCompletionVectors()
//
// The IRQ of each of `device`'s completion vectors, by the naming rules
// above, in `interrupts`. Pure.
DeviceIrqMap MapCompletionVectors(const IrqDevice& device,
                                  const ProcInterrupts& interrupts);

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_IRQ_MAP_H_
