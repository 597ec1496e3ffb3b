// IrqAffinity: swiftd's affinity-aware interrupt mode (issue 13, FastWake's
// mode 2, the daemon's part). It pins the interrupt of each completion
// vector i of every RDMA device to one CPU, the online CPUs' (i mod their
// count)-th, so that a CQ created on vector CompVectorForCpu(cpu) (libswift,
// swift/wait.h) is interrupted on its waiter's core; it records what each
// IRQ's affinity was and puts it back on Restore() or destruction.
//
// Which IRQ serves which vector comes from /proc/interrupts by the driver's
// IRQ names (daemon/devices/irq_map.h). A software device (rxe, siw) has no
// IRQs: it is reported as such and nothing is changed. Writing
// <proc>/irq/N/smp_affinity_list needs root; without it, or with
// --irq_affinity=false, every IRQ is left as is, with that reason. A write
// the kernel refuses (EIO for an IRQ whose affinity the kernel manages,
// EROFS where /proc/irq is read-only, e.g. systemd's
// ProtectKernelTunables=) is recorded for that IRQ with the error and is
// not fatal. Devices that appear after Apply() are not handled.
//
// Thread-safe: Snapshot() and Restore() may run concurrently.
#ifndef SWIFT_DAEMON_IRQ_IRQ_AFFINITY_H_
#define SWIFT_DAEMON_IRQ_IRQ_AFFINITY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "daemon/devices/irq_map.h"

namespace swift {

struct IrqAffinityOptions {
  // Where procfs is: "<proc_root>/interrupts", "<proc_root>/irq/N/...".
  // Tests point it at a directory tree of their own.
  std::string proc_root = "/proc";
  // --irq_affinity: change affinities at all (false: report only).
  bool enabled = true;
  // May swiftd write /proc/irq (it runs as root)? swiftd passes
  // geteuid() == 0.
  bool privileged = false;
  // Writes `text` to the file at `path`; null: open(2) and write(2). A
  // seam for tests of a write the kernel refuses.
  std::function<absl::Status(const std::string& path, const std::string& text)>
      write_file;
};

// One completion vector and what was done with its IRQ.
struct IrqVectorState {
  int vector = 0;
  // -1: no IRQ carries the vector's name (`action` is the name looked for).
  int irq = -1;
  std::string action;
  // The CPU the IRQ is pinned to (or would be); -1 without an IRQ.
  int target_cpu = -1;
  // smp_affinity_list as found at Apply(), and as read at Snapshot().
  std::string original_affinity;
  std::string current_affinity;
  // swiftd wrote target_cpu; Restore() then writes original_affinity back.
  bool changed = false;
  // Why it was not changed, or why restoring failed; empty otherwise.
  std::string reason;
  // Interrupts so far (Snapshot()), in all and on target_cpu.
  uint64_t interrupts = 0;
  uint64_t interrupts_on_target = 0;
};

struct DeviceIrqState {
  std::string device;
  std::string bus_address;
  IrqMapState state = IrqMapState::kNotRecognised;
  std::string detail;
  std::vector<IrqVectorState> vectors;
};

// What IrqAffinity did, as `swiftctl irq` shows it.
struct IrqReport {
  bool enabled = false;
  bool privileged = false;
  // The online CPUs (/proc/interrupts' header).
  std::vector<int> cpus;
  // Why /proc/interrupts could not be read; empty when it was.
  std::string error;
  // Restore() ran: the original affinities are back.
  bool restored = false;
  std::vector<DeviceIrqState> devices;
};

class IrqAffinity final {
 public:
  // Apply()
  //
  // Maps each of `devices`' completion vectors to its IRQ and, when
  // `options` allow, pins it (see above). Never fails: what could not be
  // done is in Snapshot(), per device and IRQ, and logged.
  static std::unique_ptr<IrqAffinity> Apply(
      const std::vector<IrqDevice>& devices, IrqAffinityOptions options);

  IrqAffinity(const IrqAffinity&) = delete;
  IrqAffinity& operator=(const IrqAffinity&) = delete;
  // Restore()s.
  ~IrqAffinity();

  // Restore()
  //
  // Writes each changed IRQ's original affinity back (a failure is logged
  // and kept in the IRQ's reason). Later calls do nothing.
  void Restore();

  // Snapshot()
  //
  // The state, with each IRQ's affinity and interrupt counts read now.
  IrqReport Snapshot() const;

 private:
  explicit IrqAffinity(IrqAffinityOptions options);

  absl::Status Write(const std::string& path, const std::string& text) const;
  std::string AffinityPath(int irq) const;

  // Immutable after construction.
  const IrqAffinityOptions options_;

  mutable absl::Mutex mu_;
  IrqReport report_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_IRQ_IRQ_AFFINITY_H_
