// IrqAffinity; see irq_affinity.h.
#include "daemon/irq/irq_affinity.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"
#include "glog/logging.h"

namespace swift {
namespace {

// ErrnoStatus() for a failed open or write of an affinity file, with what
// the usual refusals mean here (said where errno is known).
absl::Status AffinityWriteError(int error, absl::string_view call,
                                const std::string& path) {
  const char* hint = error == EIO ? " (the kernel manages this IRQ's affinity)"
                     : error == EROFS
                         ? " (/proc/irq is read-only here, e.g. systemd's "
                           "ProtectKernelTunables=)"
                         : "";
  const absl::Status status = ErrnoStatus(error, absl::StrCat(call, " ", path));
  return absl::Status(status.code(), absl::StrCat(status.message(), hint));
}

absl::Status WriteWholeFile(const std::string& path, const std::string& text) {
  // O_TRUNC as a shell's ">" does: procfs accepts it, and a test's plain file
  // then holds only what was written.
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) {
    return AffinityWriteError(errno, "open", path);
  }
  ssize_t written;
  do {
    written = write(fd.get(), text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) {
    return AffinityWriteError(errno, "write", path);
  }
  if (static_cast<size_t>(written) != text.size()) {
    return absl::InternalError(absl::StrCat("write ", path, ": short write"));
  }
  return absl::OkStatus();
}

// The file's text without the trailing newline; an error naming it.
absl::StatusOr<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return ErrnoStatus(errno, absl::StrCat("open ", path));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  return std::string(absl::StripAsciiWhitespace(contents.str()));
}

}  // namespace

IrqAffinity::IrqAffinity(IrqAffinityOptions options)
    : options_(std::move(options)) {}

IrqAffinity::~IrqAffinity() { Restore(); }

std::string IrqAffinity::AffinityPath(int irq) const {
  return absl::StrCat(options_.proc_root, "/irq/", irq, "/smp_affinity_list");
}

absl::Status IrqAffinity::Write(const std::string& path,
                                const std::string& text) const {
  return options_.write_file ? options_.write_file(path, text)
                             : WriteWholeFile(path, text);
}

std::unique_ptr<IrqAffinity> IrqAffinity::Apply(
    const std::vector<IrqDevice>& devices, IrqAffinityOptions options) {
  std::unique_ptr<IrqAffinity> affinity(new IrqAffinity(std::move(options)));
  const IrqAffinityOptions& o = affinity->options_;
  IrqReport report;
  report.enabled = o.enabled;
  report.privileged = o.privileged;
  absl::StatusOr<ProcInterrupts> interrupts =
      ReadProcInterrupts(absl::StrCat(o.proc_root, "/interrupts"));
  if (interrupts.ok()) {
    report.cpus = interrupts->cpus;
  } else {
    report.error = std::string(interrupts.status().message());
    LOG(WARNING) << "IRQ affinity: cannot map completion vectors to IRQs: "
                 << interrupts.status();
  }
  for (const IrqDevice& device : devices) {
    const DeviceIrqMap map = MapCompletionVectors(
        device, interrupts.ok() ? *interrupts : ProcInterrupts());
    DeviceIrqState state;
    state.device = map.device;
    state.bus_address = map.bus_address;
    state.state = map.state;
    state.detail = map.detail;
    int pinned = 0;
    for (const VectorIrq& entry : map.vectors) {
      IrqVectorState vector;
      vector.vector = entry.vector;
      vector.irq = entry.irq;
      vector.action = entry.action;
      if (entry.irq < 0) {
        vector.reason = "no IRQ";
        state.vectors.push_back(std::move(vector));
        continue;
      }
      vector.target_cpu = report.cpus.empty()
                              ? -1
                              : report.cpus[static_cast<size_t>(entry.vector) %
                                            report.cpus.size()];
      const std::string path = affinity->AffinityPath(entry.irq);
      absl::StatusOr<std::string> original = ReadTrimmed(path);
      if (!original.ok()) {
        vector.reason = absl::StrCat("left as is: cannot read it: ",
                                     original.status().message());
      } else {
        vector.original_affinity = *original;
        vector.current_affinity = *original;
        const std::string target = absl::StrCat(vector.target_cpu);
        if (!o.enabled) {
          vector.reason = "left as is: --irq_affinity=false";
        } else if (!o.privileged) {
          vector.reason = "left as is: not root";
        } else if (vector.target_cpu < 0) {
          vector.reason = "left as is: no online CPU known";
        } else if (*original == target) {
          vector.reason = absl::StrCat("already on CPU ", target);
        } else if (absl::Status written = affinity->Write(path, target + "\n");
                   !written.ok()) {
          vector.reason = absl::StrCat("write refused: ", written.message());
          LOG(WARNING) << "IRQ affinity: " << device.name << " vector "
                       << entry.vector << " (IRQ " << entry.irq
                       << "): " << vector.reason;
        } else {
          vector.changed = true;
          vector.current_affinity = target;
          ++pinned;
        }
      }
      state.vectors.push_back(std::move(vector));
    }
    LOG(INFO) << "IRQ affinity: " << device.name << ": " << map.detail
              << (map.state == IrqMapState::kMapped
                      ? absl::StrCat("; ", pinned,
                                     " pinned (vector i -> the i-th online "
                                     "CPU modulo ",
                                     report.cpus.size(), ")")
                      : std::string());
    report.devices.push_back(std::move(state));
  }
  absl::MutexLock lock(&affinity->mu_);
  affinity->report_ = std::move(report);
  return affinity;
}

void IrqAffinity::Restore() {
  absl::MutexLock lock(&mu_);
  if (report_.restored) return;
  report_.restored = true;
  int restored = 0;
  for (DeviceIrqState& device : report_.devices) {
    for (IrqVectorState& vector : device.vectors) {
      if (!vector.changed) continue;
      const absl::Status written =
          Write(AffinityPath(vector.irq), vector.original_affinity + "\n");
      if (!written.ok()) {
        vector.reason =
            absl::StrCat("could not restore ", vector.original_affinity, ": ",
                         written.message());
        LOG(ERROR) << "IRQ affinity: " << device.device << " vector "
                   << vector.vector << " (IRQ " << vector.irq
                   << ") stays on CPU " << vector.target_cpu << ": " << written;
        continue;
      }
      vector.changed = false;
      vector.current_affinity = vector.original_affinity;
      vector.reason = "restored";
      ++restored;
    }
  }
  if (restored > 0) {
    LOG(INFO) << "IRQ affinity: restored " << restored << " IRQ(s)";
  }
}

IrqReport IrqAffinity::Snapshot() const {
  IrqReport report;
  {
    absl::MutexLock lock(&mu_);
    report = report_;
  }
  absl::StatusOr<ProcInterrupts> interrupts =
      ReadProcInterrupts(absl::StrCat(options_.proc_root, "/interrupts"));
  for (DeviceIrqState& device : report.devices) {
    for (IrqVectorState& vector : device.vectors) {
      if (vector.irq < 0) continue;
      if (absl::StatusOr<std::string> now =
              ReadTrimmed(AffinityPath(vector.irq));
          now.ok()) {
        vector.current_affinity = *now;
      }
      const IrqLine* line =
          interrupts.ok() ? interrupts->Find(vector.irq) : nullptr;
      if (line == nullptr) continue;
      vector.interrupts = line->total();
      for (size_t i = 0; i < interrupts->cpus.size(); ++i) {
        if (interrupts->cpus[i] == vector.target_cpu &&
            i < line->counts.size()) {
          vector.interrupts_on_target = line->counts[i];
        }
      }
    }
  }
  return report;
}

}  // namespace swift
