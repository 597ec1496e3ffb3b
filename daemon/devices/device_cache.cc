// DeviceCache implementation; see device_cache.h.
#include "daemon/devices/device_cache.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "common/thread_name.h"
#include "common/verbs/device_list.h"
#include "common/verbs/provider_library.h"
#include "daemon/devices/device_probes.h"
#include "daemon/devices/uevent.h"
#include "glog/logging.h"

namespace swift {
namespace {

bool Wanted(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() ||
         std::find(only.begin(), only.end(), name) != only.end();
}

}  // namespace

DeviceCache::DeviceCache(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<DeviceCache>> DeviceCache::OpenAll(
    const std::vector<std::string>& only) {
  Options options;
  options.only = only;
  return Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<DeviceCache>> DeviceCache::Start(
    Options options) {
  {
    SWIFT_ASSIGN_OR_RETURN(verbs::DeviceList devices, verbs::DeviceList::Get());
    for (const std::string& name : options.only) {
      SWIFT_RETURN_IF_ERROR(devices.Find(name).status());
    }
  }
  std::unique_ptr<DeviceCache> cache(new DeviceCache(std::move(options)));
  SWIFT_RETURN_IF_ERROR(cache->Rescan());
  if (cache->open_count() + cache->failed_count() == 0) {
    LOG(INFO) << "No RDMA devices found; serving with none";
  }
  if (!cache->options_.watch) {
    return cache;
  }
  cache->wake_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (cache->wake_.get() < 0) {
    return ErrnoStatus(errno, "eventfd for the device monitor");
  }
  absl::StatusOr<UniqueFd> uevents = OpenUeventSocket();
  if (uevents.ok()) {
    cache->uevents_ = *std::move(uevents);
  } else {
    LOG(WARNING) << "RDMA devices that appear or vanish are noticed only by "
                    "the rescan every "
                 << cache->options_.rescan_interval
                 << ": no kernel uevents: " << uevents.status();
  }
  cache->monitor_ = std::thread([raw = cache.get()] {
    NameThisThread("sw-dev-monitor");
    raw->Monitor();
  });
  return cache;
}

DeviceCache::~DeviceCache() { Shutdown(); }

void DeviceCache::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) {
    return;
  }
  shut_down_ = true;
  stopping_.store(true);
  if (monitor_.joinable()) {
    const uint64_t one = 1;
    if (write(wake_.get(), &one, sizeof(one)) != sizeof(one)) {
      PLOG(ERROR) << "Cannot wake the RDMA device monitor";
    }
    monitor_.join();
  }
  absl::MutexLock rescan(&rescan_mu_);
  for (auto& [name, reader] : readers_) {
    reader->Stop();
  }
  readers_.clear();
}

std::pair<DeviceRecord, std::shared_ptr<verbs::Context>>
DeviceCache::OpenAndProbe(ibv_device* device) {
  DeviceRecord record;
  record.name = ibv_get_device_name(device);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      verbs::Context::Open(device);
  if (!context.ok()) {
    record.error = context.status();
    return {std::move(record), nullptr};
  }
  absl::StatusOr<verbs::DeviceInfo> info =
      verbs::QueryDeviceInfo((*context)->get());
  if (!info.ok()) {
    record.error = info.status();
    return {std::move(record), nullptr};
  }
  record.info = *std::move(info);
  absl::StatusOr<verbs::ProviderLibrary> provider =
      verbs::FindProviderLibrary((*context)->get());
  if (provider.ok()) {
    record.provider_library = provider->path;
    record.driver = provider->driver;
  } else {
    LOG(WARNING) << provider.status();
  }
  record.context_import = ImportCapability(record.info);
  record.fork_child_post =
      ProbeForkChildPost((*context)->get(), record.doorbell);
  record.hardware_irqs = ProbeHardwareIrqs(record.name, record.irq_count);
  record.open_time = absl::Now() - start;
  record.state = DeviceState::kOpen;
  return {std::move(record), *std::move(context)};
}

void DeviceCache::StartReader(const std::string& name,
                              const std::shared_ptr<verbs::Context>& context) {
  if (!options_.watch) {
    return;
  }
  ibv_context* raw = context->get();
  uint32_t port_count = 0;
  if (std::optional<DeviceRecord> record = table_.Find(name)) {
    port_count = static_cast<uint32_t>(record->info.ports.size());
  }
  absl::StatusOr<std::unique_ptr<AsyncEventReader>> reader =
      AsyncEventReader::Start(
          raw, name, [this, name, raw, port_count](const DeviceEvent& event) {
            OnEvent(name, raw, port_count, event);
          });
  if (!reader.ok()) {
    LOG(WARNING) << "Port changes of " << name
                 << " are seen only at rescans: " << reader.status();
    return;
  }
  readers_[name] = *std::move(reader);
}

void DeviceCache::StopReader(const std::string& name) {
  auto it = readers_.find(name);
  if (it != readers_.end()) {
    it->second->Stop();
    readers_.erase(it);
  }
}

void DeviceCache::OnEvent(const std::string& name, ibv_context* context,
                          uint32_t port_count, const DeviceEvent& event) {
  if (event.action == DeviceEventAction::kDeviceFatal) {
    LOG(ERROR) << name << ": " << event.description
               << ": swiftd lets go of the device";
    {
      absl::MutexLock lock(&fatal_mu_);
      fatal_.insert(name);
    }
    RequestRescan();
    return;
  }
  absl::StatusOr<std::vector<verbs::PortInfo>> ports =
      verbs::QueryPorts(context, port_count);
  if (!ports.ok()) {
    LOG(WARNING) << name << ": after " << event.description << ": "
                 << ports.status() << "; rescanning";
    RequestRescan();
    return;
  }
  std::string states;
  for (const verbs::PortInfo& port : *ports) {
    absl::StrAppend(&states, states.empty() ? "" : ", ", "port ", port.port_num,
                    " ", port.state, " (", port.gids.size(), " GIDs)");
  }
  if (table_.UpdatePorts(name, *std::move(ports), event.description)) {
    LOG(INFO) << name << ": " << event.description << ": " << states;
  }
}

absl::Status DeviceCache::Rescan() {
  absl::MutexLock lock(&rescan_mu_);
  rescans_.fetch_add(1);
  SWIFT_ASSIGN_OR_RETURN(verbs::DeviceList devices, verbs::DeviceList::Get());
  std::set<std::string> fatal;
  {
    absl::MutexLock fatal_lock(&fatal_mu_);
    fatal.swap(fatal_);
  }
  std::set<std::string> present;
  for (int i = 0; i < devices.size(); ++i) {
    present.insert(ibv_get_device_name(devices.at(i)));
  }
  for (const DeviceRecord& record : table_.Snapshot()) {
    if (record.state == DeviceState::kRemoved) {
      continue;
    }
    absl::Status reason;
    if (record.state == DeviceState::kOpen && fatal.count(record.name) > 0) {
      reason = absl::UnavailableError(absl::StrCat(
          "RDMA device ", record.name,
          " reported a fatal error (IBV_EVENT_DEVICE_FATAL); swiftd reopens "
          "it if it comes back"));
    } else if (present.count(record.name) == 0) {
      reason = absl::UnavailableError(absl::StrCat(
          "RDMA device ", record.name, " was removed from the host (",
          record.info.uverbs_device.empty() ? "" : record.info.uverbs_device,
          record.info.uverbs_device.empty() ? "" : " is gone",
          "); use another device"));
    } else {
      continue;
    }
    StopReader(record.name);
    LOG(WARNING) << reason.message();
    table_.MarkRemoved(
        record.name, reason,
        fatal.count(record.name) > 0 ? "DEVICE_FATAL" : "removed");
  }
  for (int i = 0; i < devices.size(); ++i) {
    const std::string name = ibv_get_device_name(devices.at(i));
    if (!Wanted(options_.only, name)) {
      continue;
    }
    std::optional<DeviceRecord> known = table_.Find(name);
    if (known.has_value() && known->state == DeviceState::kOpen) {
      continue;
    }
    auto [record, context] = OpenAndProbe(devices.at(i));
    if (record.state != DeviceState::kOpen) {
      // Retried at every rescan: tell (and count a change) only when the
      // reason differs.
      if (!known.has_value() || known->state != DeviceState::kFailed ||
          known->error != record.error) {
        LOG(WARNING) << "Cannot use RDMA device " << name << ": "
                     << record.error;
        table_.Put(std::move(record), nullptr);
      }
      continue;
    }
    LOG(INFO) << "Opened RDMA device " << name << " in "
              << absl::ToInt64Microseconds(record.open_time) << " us ("
              << record.info.ports.size() << " port(s), provider "
              << (record.provider_library.empty() ? "unknown"
                                                  : record.provider_library)
              << "; import: " << record.context_import.detail
              << "; forked child's post: " << record.fork_child_post.detail
              << "; IRQs: " << record.hardware_irqs.detail << ")";
    table_.Put(std::move(record), context);
    StartReader(name, context);
  }
  return absl::OkStatus();
}

void DeviceCache::RequestRescan() {
  if (wake_.get() < 0) {
    return;
  }
  const uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof(one)) != sizeof(one)) {
    PLOG(ERROR) << "Cannot wake the RDMA device monitor";
  }
}

void DeviceCache::Monitor() {
  const int timeout_ms = static_cast<int>(std::max<int64_t>(
      1, absl::ToInt64Milliseconds(options_.rescan_interval)));
  while (!stopping_.load()) {
    pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {uevents_.get(), POLLIN, 0}};
    const int ready = poll(fds, uevents_.get() >= 0 ? 2 : 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      PLOG(ERROR) << "poll() in the RDMA device monitor";
      absl::SleepFor(absl::Seconds(1));
    }
    if (stopping_.load()) {
      return;
    }
    bool rescan = ready == 0;  // The periodic fallback.
    if (ready > 0 && fds[0].revents != 0) {
      uint64_t count = 0;
      while (read(wake_.get(), &count, sizeof(count)) > 0) {
      }
      rescan = true;
    }
    if (ready > 0 && uevents_.get() >= 0 && fds[1].revents != 0) {
      bool overrun = false;
      for (const Uevent& event : ReadUevents(uevents_.get(), overrun)) {
        if (IsRdmaUevent(event)) {
          VLOG(1) << "uevent " << event.action << " " << event.devpath;
          rescan = true;
        }
      }
      rescan = rescan || overrun;
    }
    if (rescan) {
      if (absl::Status status = Rescan(); !status.ok()) {
        LOG_EVERY_N(WARNING, 10) << "Rescan of the RDMA devices: " << status;
      }
    }
  }
}

std::vector<DeviceCache::Entry> DeviceCache::entries() const {
  std::vector<Entry> entries;
  for (DeviceRecord& record : table_.Snapshot()) {
    Entry entry;
    entry.name = record.name;
    if (record.state == DeviceState::kOpen) {
      absl::StatusOr<std::shared_ptr<verbs::Context>> context =
          table_.Acquire(record.name);
      entry.context = context.ok() ? *context : nullptr;
    }
    entry.info = std::move(record.info);
    entry.open_time = record.open_time;
    entry.error = record.error;
    entries.push_back(std::move(entry));
  }
  return entries;
}

int DeviceCache::open_count() const {
  int count = 0;
  for (const DeviceRecord& record : table_.Snapshot()) {
    count += record.state == DeviceState::kOpen ? 1 : 0;
  }
  return count;
}

int DeviceCache::failed_count() const {
  int count = 0;
  for (const DeviceRecord& record : table_.Snapshot()) {
    count += record.state == DeviceState::kFailed ? 1 : 0;
  }
  return count;
}

int DeviceCache::removed_count() const {
  int count = 0;
  for (const DeviceRecord& record : table_.Snapshot()) {
    count += record.state == DeviceState::kRemoved ? 1 : 0;
  }
  return count;
}

}  // namespace swift
