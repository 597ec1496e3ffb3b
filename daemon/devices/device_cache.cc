// DeviceCache implementation; see device_cache.h.
#include "daemon/devices/device_cache.h"

#include <algorithm>

#include "common/status_macros.h"
#include "common/verbs/device_list.h"
#include "glog/logging.h"

namespace swift {
namespace {

DeviceCache::Entry OpenOne(ibv_device* device) {
  DeviceCache::Entry entry;
  entry.name = ibv_get_device_name(device);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      verbs::Context::Open(device);
  if (!context.ok()) {
    entry.error = context.status();
    return entry;
  }
  absl::StatusOr<verbs::DeviceInfo> info =
      verbs::QueryDeviceInfo((*context)->get());
  if (!info.ok()) {
    entry.error = info.status();
    return entry;
  }
  entry.open_time = absl::Now() - start;
  entry.context = *std::move(context);
  entry.info = *std::move(info);
  return entry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceCache>> DeviceCache::OpenAll(
    const std::vector<std::string>& only) {
  SWIFT_ASSIGN_OR_RETURN(verbs::DeviceList devices, verbs::DeviceList::Get());
  for (const std::string& name : only) {
    SWIFT_RETURN_IF_ERROR(devices.Find(name).status());
  }
  std::vector<Entry> entries;
  for (int i = 0; i < devices.size(); ++i) {
    if (!only.empty() &&
        std::find(only.begin(), only.end(),
                  ibv_get_device_name(devices.at(i))) == only.end()) {
      continue;
    }
    Entry entry = OpenOne(devices.at(i));
    if (entry.error.ok()) {
      LOG(INFO) << "Opened RDMA device " << entry.name << " in "
                << absl::ToInt64Microseconds(entry.open_time) << " us ("
                << entry.info.ports.size() << " port(s), context import "
                << (entry.info.context_import_supported ? "supported"
                                                        : "not supported")
                << ")";
    } else {
      LOG(WARNING) << "Cannot use RDMA device " << entry.name << ": "
                   << entry.error;
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) {
    LOG(INFO) << "No RDMA devices found; serving with none";
  }
  return std::unique_ptr<DeviceCache>(new DeviceCache(std::move(entries)));
}

int DeviceCache::open_count() const {
  int count = 0;
  for (const Entry& entry : entries_) {
    count += entry.error.ok() ? 1 : 0;
  }
  return count;
}

int DeviceCache::failed_count() const {
  return static_cast<int>(entries_.size()) - open_count();
}

}  // namespace swift
