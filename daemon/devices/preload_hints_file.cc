// PreloadHintsFile; see preload_hints_file.h.
#include "daemon/devices/preload_hints_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// Whether /proc/cpuinfo describes an Intel Sandy Bridge CPU (family 6,
// model 42 or 45), the one mlx5 stalls CQ polling for. An unreadable
// description counts as one, so nothing is set on a CPU we cannot tell.
bool MaybeSandyBridge(absl::string_view cpuinfo) {
  bool intel = false;
  int family = -1;
  int model = -1;
  for (absl::string_view line : absl::StrSplit(cpuinfo, '\n')) {
    std::pair<absl::string_view, absl::string_view> field =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    const absl::string_view key = absl::StripAsciiWhitespace(field.first);
    const absl::string_view value = absl::StripAsciiWhitespace(field.second);
    if (key == "vendor_id") {
      intel = value == "GenuineIntel";
    } else if (key == "cpu family" && family < 0) {
      (void)absl::SimpleAtoi(value, &family);
    } else if (key == "model" && model < 0) {
      (void)absl::SimpleAtoi(value, &model);
    }
  }
  if (family < 0 || model < 0) return true;
  return intel && family == 6 && (model == 42 || model == 45);
}

}  // namespace

bool IsPreloadHintsDeviceName(absl::string_view name) {
  if (name.empty() || name.size() >= kPreloadHintsDeviceNameMax) return false;
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string FormatPreloadHints(const PreloadHints& hints) {
  std::string text =
      absl::StrCat("swift-preload-hints 1\npid ", hints.pid, "\n");
  for (const std::string& provider : hints.providers) {
    absl::StrAppend(&text, "provider ", provider, "\n");
  }
  for (const std::string& device : hints.importable_devices) {
    absl::StrAppend(&text, "import ", device, "\n");
  }
  for (const auto& [name, value] : hints.env) {
    absl::StrAppend(&text, "env ", name, " ", value, "\n");
  }
  return text;
}

std::vector<std::pair<std::string, std::string>> ProviderKnobs(
    const std::vector<std::string>& providers, absl::string_view cpuinfo) {
  std::vector<std::pair<std::string, std::string>> knobs;
  for (const std::string& provider : providers) {
    if (absl::StrContains(provider, "/libmlx5") && !MaybeSandyBridge(cpuinfo)) {
      knobs.emplace_back("MLX5_STALL_CQ_POLL", "0");
      break;
    }
  }
  return knobs;
}

absl::StatusOr<std::unique_ptr<PreloadHintsFile>> PreloadHintsFile::Write(
    std::string path, const PreloadHints& hints) {
  std::unique_ptr<PreloadHintsFile> file(new PreloadHintsFile(std::move(path)));
  // On failure the destructor removes whatever a dead swiftd left there.
  if (absl::Status written = file->Update(hints); !written.ok()) {
    return written;
  }
  return file;
}

PreloadHintsFile::~PreloadHintsFile() {
  if (!path_.empty()) unlink(path_.c_str());
}

absl::Status PreloadHintsFile::Update(const PreloadHints& hints) {
  const std::string text = FormatPreloadHints(hints);
  // A name of its own (mkostemp: O_EXCL, never a link someone planted):
  // two writers of one path, such as two swiftds sharing a socket
  // directory on a test host, renamed each other's file away.
  std::string temporary = absl::StrCat(path_, ".XXXXXX");
  UniqueFd fd(mkostemp(temporary.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("mkostemp(", temporary, ")"));
  }
  // The umask may have taken bits; readers need exactly "not writable by
  // group or others", and everyone must read it.
  if (fchmod(fd.get(), 0644) != 0 ||
      write(fd.get(), text.data(), text.size()) !=
          static_cast<ssize_t>(text.size())) {
    const int error = errno;
    unlink(temporary.c_str());
    return ErrnoStatus(error, absl::StrCat("writing ", temporary));
  }
  if (rename(temporary.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return ErrnoStatus(error,
                       absl::StrCat("rename(", temporary, ", ", path_, ")"));
  }
  return absl::OkStatus();
}

}  // namespace swift
