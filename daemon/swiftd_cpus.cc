// --cpus; see swiftd_cpus.h.
#include "daemon/swiftd_cpus.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace swift {

absl::StatusOr<CpusSetting> ParseCpusSetting(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  CpusSetting setting;
  if (value == "all") {
    setting.kind = CpusSetting::Kind::kAll;
    return setting;
  }
  if (value == "auto") {
    setting.kind = CpusSetting::Kind::kAuto;
    return setting;
  }
  absl::StatusOr<CpuSet> list = CpuSet::Parse(value);
  if (!list.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be auto, all or a CPU list: ", list.status().message()));
  }
  setting.kind = CpusSetting::Kind::kList;
  setting.list = *std::move(list);
  return setting;
}

absl::StatusOr<std::optional<CpuSet>> ChooseSwiftdCpus(
    const CpusSetting& setting, const CpuSet& allowed) {
  switch (setting.kind) {
    case CpusSetting::Kind::kAll:
      return std::optional<CpuSet>();
    case CpusSetting::Kind::kAuto: {
      CpuSet one;
      one.Add(allowed.First());
      return std::optional<CpuSet>(one);
    }
    case CpusSetting::Kind::kList:
      break;
  }
  if (!setting.list.IsSubsetOf(allowed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cpus=", setting.list.ToString(), ": swiftd may only run on CPUs ",
        allowed.ToString(),
        " (its affinity at start: taskset, systemd's CPUAffinity=, its "
        "cgroup's cpuset)"));
  }
  return std::optional<CpuSet>(setting.list);
}

}  // namespace swift
