// DeviceList implementation; see device_list.h.
#include "common/verbs/device_list.h"

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errno_status.h"

namespace swift::verbs {

absl::StatusOr<DeviceList> DeviceList::Get() {
  int size = 0;
  errno = 0;
  ibv_device** devices = ibv_get_device_list(&size);
  if (devices == nullptr) {
    // libibverbs returns NULL with ENOSYS when the kernel has no uverbs
    // support at all: for a device list that means "no devices".
    if (errno == ENOSYS) {
      return DeviceList(nullptr, 0);
    }
    return ErrnoStatus(errno, "ibv_get_device_list");
  }
  return DeviceList(devices, size);
}

DeviceList::DeviceList(DeviceList&& other) noexcept
    : devices_(std::exchange(other.devices_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

DeviceList& DeviceList::operator=(DeviceList&& other) noexcept {
  if (this != &other) {
    if (devices_ != nullptr) {
      ibv_free_device_list(devices_);
    }
    devices_ = std::exchange(other.devices_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceList::~DeviceList() {
  if (devices_ != nullptr) {
    ibv_free_device_list(devices_);
  }
}

absl::StatusOr<ibv_device*> DeviceList::Find(absl::string_view name) const {
  for (int i = 0; i < size_; ++i) {
    if (name == ibv_get_device_name(devices_[i])) {
      return devices_[i];
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "no RDMA device named '", name, "' (found: ",
      empty() ? "none" : absl::StrJoin(Names(), ", "), ")"));
}

std::vector<std::string> DeviceList::Names() const {
  std::vector<std::string> names;
  names.reserve(size_);
  for (int i = 0; i < size_; ++i) {
    names.emplace_back(ibv_get_device_name(devices_[i]));
  }
  return names;
}

}  // namespace swift::verbs
