// PreloadHintsKeeper; see preload_hints_keeper.h.
#include "daemon/devices/preload_hints_keeper.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace swift {
namespace {

std::string ReadCpuinfo() {
  std::ifstream file("/proc/cpuinfo");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

PreloadHints HintsForDevices(const std::vector<DeviceRecord>& records,
                             std::vector<std::string>* left_out) {
  PreloadHints hints;
  hints.pid = getpid();
  for (const DeviceRecord& record : records) {
    if (record.state != DeviceState::kOpen) continue;
    if (!record.provider_library.empty() &&
        std::find(hints.providers.begin(), hints.providers.end(),
                  record.provider_library) == hints.providers.end()) {
      hints.providers.push_back(record.provider_library);
    }
    if (!record.CanShareContext() ||
        std::find(hints.importable_devices.begin(),
                  hints.importable_devices.end(),
                  record.name) != hints.importable_devices.end()) {
      continue;
    }
    // Readers refuse the whole file for one bad import line: leave the
    // device out instead, and clients open it themselves.
    std::string why;
    if (!IsPreloadHintsDeviceName(record.name)) {
      why = "a name the hints readers refuse";
    } else if (hints.importable_devices.size() >=
               static_cast<size_t>(kPreloadHintsMaxImports)) {
      why = absl::StrCat("over the readers' limit of ", kPreloadHintsMaxImports,
                         " devices");
    } else {
      hints.importable_devices.push_back(record.name);
      continue;
    }
    if (left_out != nullptr) {
      left_out->push_back(absl::StrCat(record.name, " (", why, ")"));
    }
  }
  hints.env = ProviderKnobs(hints.providers, ReadCpuinfo());
  return hints;
}

absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> PreloadHintsKeeper::Start(
    std::string path, DeviceTable* table) {
  std::vector<std::string> left_out;
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> file =
      PreloadHintsFile::Write(std::move(path),
                              HintsForDevices(table->Snapshot(), &left_out));
  if (!file.ok()) {
    return file.status();
  }
  std::unique_ptr<PreloadHintsKeeper> keeper(
      new PreloadHintsKeeper(table, *std::move(file)));
  {
    absl::MutexLock lock(&keeper->mu_);
    keeper->WarnLeftOut(left_out);
  }
  PreloadHintsKeeper* raw = keeper.get();
  keeper->subscription_ =
      table->Subscribe([raw](const DeviceChange&) { raw->Refresh(); });
  return keeper;
}

PreloadHintsKeeper::~PreloadHintsKeeper() {
  // After this, no listener runs: the file can go.
  table_->Unsubscribe(subscription_);
}

void PreloadHintsKeeper::Refresh() {
  std::vector<std::string> left_out;
  const PreloadHints hints = HintsForDevices(table_->Snapshot(), &left_out);
  absl::MutexLock lock(&mu_);
  WarnLeftOut(left_out);
  if (absl::Status updated = file_->Update(hints); !updated.ok()) {
    LOG(WARNING) << "Could not update the preload hints: " << updated;
  }
}

void PreloadHintsKeeper::WarnLeftOut(const std::vector<std::string>& left_out) {
  if (left_out.empty() || warned_left_out_) return;
  warned_left_out_ = true;
  LOG(WARNING) << "The preload hints (" << file_->path()
               << ") leave out importable devices, whose clients open them "
                  "themselves instead of importing swiftd's context: "
               << absl::StrJoin(left_out, ", ") << " (not logged again)";
}

}  // namespace swift
