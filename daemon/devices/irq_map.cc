// The /proc/interrupts parser and the completion-vector mapping; see
// irq_map.h.
#include "daemon/devices/irq_map.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace swift {
namespace {

// How one driver names the interrupt of completion vector i:
// <prefix><i>@pci:<bus address>.
struct NamingRule {
  const char* driver;
  const char* prefix;
};
constexpr NamingRule kNamingRules[] = {
    {"mlx5", "mlx5_comp"},
    {"mlx4", "mlx4-comp-"},
    {"efa", "efa-comp"},
};

// The next run of non-blanks in `text` from `*pos`, moving `*pos` past it;
// empty at the end.
absl::string_view NextWord(absl::string_view text, size_t* pos) {
  while (*pos < text.size() && absl::ascii_isspace(text[*pos])) ++*pos;
  const size_t start = *pos;
  while (*pos < text.size() && !absl::ascii_isspace(text[*pos])) ++*pos;
  return text.substr(start, *pos - start);
}

// Whether `word`, after the chip's name, is still part of what the kernel
// prints before the actions: the hardware IRQ number and the flow handler's
// name ("31981569-edge", "-fasteoi" when the IRQ has no domain, a bare
// number), or the trigger of architectures that show it ("Edge", "Level").
bool IsHwirqOrType(absl::string_view word) {
  if (word == "Edge" || word == "Level") return true;
  if (word.empty()) return false;
  if (word[0] == '-') return word.size() > 1;
  size_t digits = 0;
  while (digits < word.size() && absl::ascii_isdigit(word[digits])) ++digits;
  return digits > 0 && (digits == word.size() || word[digits] == '-');
}

std::string LineError(int number, absl::string_view what,
                      absl::string_view line) {
  return absl::StrCat("/proc/interrupts line ", number, ": ", what, ": '",
                      absl::StripAsciiWhitespace(line), "'");
}

// The vector of `action` under `rule` for a device at `address`: the i of
// "<prefix><i>@pci:<address>", or -1.
int VectorOf(absl::string_view action, const NamingRule& rule,
             absl::string_view address) {
  if (!absl::ConsumePrefix(&action, rule.prefix) ||
      !absl::ConsumeSuffix(&action, absl::StrCat("@pci:", address))) {
    return -1;
  }
  int vector = -1;
  if (action.empty() || !absl::ascii_isdigit(action[0]) ||
      !absl::SimpleAtoi(action, &vector)) {
    return -1;
  }
  return vector;
}

}  // namespace

uint64_t IrqLine::total() const {
  uint64_t sum = 0;
  for (uint64_t count : counts) sum += count;
  return sum;
}

const IrqLine* ProcInterrupts::Find(int irq) const {
  for (const IrqLine& line : irqs) {
    if (line.irq == irq) return &line;
  }
  return nullptr;
}

absl::StatusOr<ProcInterrupts> ParseProcInterrupts(absl::string_view text) {
  ProcInterrupts result;
  bool header_seen = false;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (!header_seen) {
      header_seen = true;
      for (absl::string_view word :
           absl::StrSplit(line, ' ', absl::SkipWhitespace())) {
        int cpu = -1;
        if (!absl::ConsumePrefix(&word, "CPU") ||
            !absl::SimpleAtoi(word, &cpu) || cpu < 0) {
          return absl::InvalidArgumentError(LineError(
              number, "expected the header of CPUs (\"CPU0 CPU1 ...\")", line));
        }
        result.cpus.push_back(cpu);
      }
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    int irq = -1;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(0, colon)),
                          &irq) ||
        irq < 0) {
      continue;  // NMI, LOC, ERR, ...: the architecture's counters.
    }
    const absl::string_view rest = line.substr(colon + 1);
    size_t pos = 0;
    IrqLine row;
    row.irq = irq;
    for (size_t cpu = 0; cpu < result.cpus.size(); ++cpu) {
      const absl::string_view word = NextWord(rest, &pos);
      uint64_t count = 0;
      if (word.empty() || !absl::SimpleAtoi(word, &count)) {
        return absl::InvalidArgumentError(LineError(
            number,
            absl::StrCat("expected ", result.cpus.size(),
                         " interrupt counts, one per CPU of the header"),
            line));
      }
      row.counts.push_back(count);
    }
    // The chip's name, then what IsHwirqOrType() recognises; the rest is
    // the actions, ", " between two.
    std::vector<absl::string_view> chip;
    size_t actions_start = pos;
    for (absl::string_view word = NextWord(rest, &pos); !word.empty();
         word = NextWord(rest, &pos)) {
      if (!chip.empty() && !IsHwirqOrType(word)) break;
      chip.push_back(word);
      actions_start = pos;
    }
    row.chip = absl::StrJoin(chip, " ");
    const absl::string_view actions =
        absl::StripAsciiWhitespace(rest.substr(actions_start));
    if (!actions.empty()) {
      for (absl::string_view action : absl::StrSplit(actions, ", ")) {
        action = absl::StripAsciiWhitespace(action);
        if (!action.empty()) row.actions.emplace_back(action);
      }
    }
    result.irqs.push_back(std::move(row));
  }
  if (!header_seen || result.cpus.empty()) {
    return absl::InvalidArgumentError(
        "/proc/interrupts: no header of CPUs (\"CPU0 CPU1 ...\")");
  }
  return result;
}

absl::StatusOr<ProcInterrupts> ReadProcInterrupts(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return ErrnoStatus(errno, absl::StrCat("open ", path));
  }
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return ErrnoStatus(errno, absl::StrCat("read ", path));
  }
  return ParseProcInterrupts(contents.str());
}

std::string ParentBusAddress(const std::string& name,
                             const std::string& sysfs_class) {
  const std::string parent = absl::StrCat(sysfs_class, "/", name, "/device");
  char target[PATH_MAX] = {};
  const ssize_t length = readlink(parent.c_str(), target, sizeof(target) - 1);
  if (length <= 0) {
    return "";
  }
  const std::string path(target, static_cast<size_t>(length));
  return path.substr(path.rfind('/') + 1);
}

absl::string_view IrqMapStateName(IrqMapState state) {
  switch (state) {
    case IrqMapState::kMapped:
      return "mapped";
    case IrqMapState::kSoftware:
      return "software";
    case IrqMapState::kNotRecognised:
      break;
  }
  return "not_recognised";
}

DeviceIrqMap MapCompletionVectors(const IrqDevice& device,
                                  const ProcInterrupts& interrupts) {
  DeviceIrqMap map;
  map.device = device.name;
  map.bus_address = device.bus_address;
  if (device.bus_address.empty()) {
    map.state = IrqMapState::kSoftware;
    map.detail =
        "no IRQs (software device): no parent bus device in sysfs, so the "
        "kernel signals its completions without a hardware interrupt";
    return map;
  }
  for (const NamingRule& rule : kNamingRules) {
    std::map<int, int> irq_of_vector;
    for (const IrqLine& line : interrupts.irqs) {
      for (const std::string& action : line.actions) {
        const int vector = VectorOf(action, rule, device.bus_address);
        if (vector >= 0) irq_of_vector.emplace(vector, line.irq);
      }
    }
    if (irq_of_vector.empty()) continue;
    const int vectors = device.num_comp_vectors > 0
                            ? device.num_comp_vectors
                            : irq_of_vector.rbegin()->first + 1;
    int found = 0;
    for (int vector = 0; vector < vectors; ++vector) {
      VectorIrq entry;
      entry.vector = vector;
      entry.action =
          absl::StrCat(rule.prefix, vector, "@pci:", device.bus_address);
      if (auto it = irq_of_vector.find(vector); it != irq_of_vector.end()) {
        entry.irq = it->second;
        ++found;
      }
      map.vectors.push_back(std::move(entry));
    }
    map.state = IrqMapState::kMapped;
    map.detail = absl::StrCat(rule.driver, " IRQ names (", rule.prefix,
                              "<vector>@pci:", device.bus_address, "): ", found,
                              " of ", vectors, " completion vectors");
    if (found < vectors) {
      absl::StrAppend(&map.detail,
                      " have an IRQ (the others have none yet: the driver "
                      "may request one when a CQ first uses the vector)");
    } else {
      absl::StrAppend(&map.detail, " have an IRQ");
    }
    return map;
  }
  map.state = IrqMapState::kNotRecognised;
  std::vector<std::string> named;
  for (const IrqLine& line : interrupts.irqs) {
    for (const std::string& action : line.actions) {
      if (absl::StrContains(action, device.bus_address)) {
        named.push_back(action);
      }
    }
  }
  std::vector<std::string> known;
  for (const NamingRule& rule : kNamingRules) {
    known.push_back(absl::StrCat(rule.prefix, "<i>@pci:"));
  }
  if (named.empty()) {
    map.detail = absl::StrCat(
        "IRQ names not recognised: no line of /proc/interrupts names ",
        device.bus_address,
        " (known completion IRQ names: ", absl::StrJoin(known, ", "), ")");
  } else {
    map.detail = absl::StrCat("IRQ names not recognised: ", named.size(),
                              " line(s) of /proc/interrupts name ",
                              device.bus_address, " (e.g. '", named.front(),
                              "'), none in a known completion IRQ form (",
                              absl::StrJoin(known, ", "), ")");
  }
  return map;
}

}  // namespace swift
