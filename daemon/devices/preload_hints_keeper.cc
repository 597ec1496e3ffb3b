// PreloadHintsKeeper; see preload_hints_keeper.h.
#include "daemon/devices/preload_hints_keeper.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

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

PreloadHints HintsForDevices(const std::vector<DeviceRecord>& records) {
  PreloadHints hints;
  hints.pid = getpid();
  for (const DeviceRecord& record : records) {
    if (record.state != DeviceState::kOpen ||
        record.provider_library.empty() ||
        std::find(hints.providers.begin(), hints.providers.end(),
                  record.provider_library) != hints.providers.end()) {
      continue;
    }
    hints.providers.push_back(record.provider_library);
  }
  hints.env = ProviderKnobs(hints.providers, ReadCpuinfo());
  return hints;
}

absl::StatusOr<std::unique_ptr<PreloadHintsKeeper>> PreloadHintsKeeper::Start(
    std::string path, DeviceTable* table) {
  absl::StatusOr<std::unique_ptr<PreloadHintsFile>> file =
      PreloadHintsFile::Write(std::move(path),
                              HintsForDevices(table->Snapshot()));
  if (!file.ok()) {
    return file.status();
  }
  std::unique_ptr<PreloadHintsKeeper> keeper(
      new PreloadHintsKeeper(table, *std::move(file)));
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
  const PreloadHints hints = HintsForDevices(table_->Snapshot());
  absl::MutexLock lock(&mu_);
  if (absl::Status updated = file_->Update(hints); !updated.ok()) {
    LOG(WARNING) << "Could not update the preload hints: " << updated;
  }
}

}  // namespace swift
