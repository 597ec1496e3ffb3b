// DeviceList: the RDMA devices libibverbs finds, owned for their lifetime.
//
// Thread-compatible: a const DeviceList may be read from several threads.
#ifndef SWIFT_COMMON_VERBS_DEVICE_LIST_H_
#define SWIFT_COMMON_VERBS_DEVICE_LIST_H_

#include <infiniband/verbs.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace swift::verbs {

class DeviceList final {
 public:
  // Get()
  //
  // Returns every device libibverbs sees. No devices is an empty list, not
  // an error (a host without RDMA, even one whose kernel has no uverbs
  // support, is a normal state). Fails only when ibv_get_device_list() fails
  // for another reason, with the status of its errno.
  static absl::StatusOr<DeviceList> Get();

  DeviceList(DeviceList&& other) noexcept;
  DeviceList& operator=(DeviceList&& other) noexcept;
  DeviceList(const DeviceList&) = delete;
  DeviceList& operator=(const DeviceList&) = delete;
  ~DeviceList();

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The i-th device; valid while this list lives. Requires 0 <= i < size().
  ibv_device* at(int i) const { return devices_[i]; }

  // Find()
  //
  // Returns the device called `name` (e.g. "rxe0"), or kNotFound naming the
  // devices that do exist.
  absl::StatusOr<ibv_device*> Find(absl::string_view name) const;

  // The devices' names, in libibverbs' order.
  std::vector<std::string> Names() const;

 private:
  DeviceList(ibv_device** devices, int size)
      : devices_(devices), size_(size) {}

  ibv_device** devices_ = nullptr;
  int size_ = 0;
};

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_DEVICE_LIST_H_
