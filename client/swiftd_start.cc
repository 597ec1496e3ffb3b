// SwiftdStart implementation; see swiftd_start.h.
#include "client/swiftd_start.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/connect_steps.h"
#include "common/thread_name.h"
#include "common/unix_socket.h"

namespace swift {
namespace {

// The hello's port address, checked as the device's own answer would be;
// nullopt for anything a verbs port could not have said.
std::optional<verbs::PortAddress> PortAddressFromHello(
    const v1::CachedPortAddress& cached) {
  verbs::PortAddress port;
  if (cached.port_num() < 1 || cached.port_num() > 255 ||
      (cached.link_layer() != IBV_LINK_LAYER_ETHERNET &&
       cached.link_layer() != IBV_LINK_LAYER_INFINIBAND) ||
      cached.lid() > 0xffff || cached.active_mtu() < IBV_MTU_256 ||
      cached.active_mtu() > IBV_MTU_4096 || cached.gid_index() > 255 ||
      cached.gid().size() != sizeof(port.gid.raw)) {
    return std::nullopt;
  }
  port.port_num = static_cast<uint8_t>(cached.port_num());
  port.link_layer = static_cast<uint8_t>(cached.link_layer());
  port.lid = static_cast<uint16_t>(cached.lid());
  port.active_mtu = static_cast<ibv_mtu>(cached.active_mtu());
  port.gid_index = cached.gid_index();
  std::memcpy(port.gid.raw, cached.gid().data(), sizeof(port.gid.raw));
  return port;
}

}  // namespace

SwiftdStart::SwiftdStart(const SessionOptions& options, std::string client_name,
                         std::vector<std::string> shareable_devices)
    : device_(options.device.empty()
                  ? std::nullopt
                  : std::optional<absl::StatusOr<std::string>>(options.device)),
      thread_([this, options, client_name = std::move(client_name),
               shareable_devices = std::move(shareable_devices)] {
        NameThisThread("swift-start");
        Run(options, client_name, shareable_devices);
      }) {}

SwiftdStart::~SwiftdStart() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SwiftdStart::Run(const SessionOptions& options,
                      const std::string& client_name,
                      const std::vector<std::string>& shareable_devices) {
  Result result;
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<FastPathClient>> fast_path =
      FastPathClient::Connect(FastPathSocketPath(options.socket_path),
                              client_name, options.fast_path_spin);
  result.swiftd_us = MicrosSince(start);
  auto fail = [this](absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (!device_.has_value()) {
      device_ = status;
    }
    if (!shared_.has_value()) {
      shared_ = status;
    }
    result_ = std::move(status);
  };
  if (!fast_path.ok()) {
    fail(absl::Status(
        absl::IsNotFound(fast_path.status()) ? absl::StatusCode::kUnavailable
                                             : fast_path.status().code(),
        absl::StrCat("cannot reach swiftd at ", options.socket_path, ": ",
                     fast_path.status().message())));
    return;
  }
  result.fast_path = *std::move(fast_path);
  const v1::FastHelloReply& hello = result.fast_path->hello();
  std::string device = options.device.empty() ? hello.device() : options.device;
  if (device.empty()) {
    fail(absl::FailedPreconditionError(
        "swiftd has no RDMA device to broker on, and no device was given"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    device_ = device;
    hello_device_ = hello.device();
    if (hello.has_port_address()) {
      hello_port_ = PortAddressFromHello(hello.port_address());
    }
  }
  // Before the lease: the device half waits for this one.
  absl::StatusOr<SharedContextGrant> shared = absl::FailedPreconditionError(
      absl::StrCat("swiftd shares no context of ", device,
                   " (its provider cannot import: see swiftctl devices)"));
  if (std::find(shareable_devices.begin(), shareable_devices.end(), device) !=
      shareable_devices.end()) {
    shared = RequestSharedContext(result.fast_path.get(), device);
  }
  {
    absl::MutexLock lock(&mu_);
    shared_ = std::move(shared);
  }
  start = absl::Now();
  SessionBuffer::Options buffer_options;
  buffer_options.bytes = options.buffer_bytes;
  buffer_options.device = device;
  buffer_options.lease = options.lease_buffer;
  buffer_options.lease_min_bytes = options.lease_buffer_min_bytes;
  // This thread has the time: build the page tables here, not in
  // ibv_reg_mr on the critical path (see the file comment).
  buffer_options.populate_mapping = true;
  absl::StatusOr<SessionBuffer> buffer =
      SessionBuffer::Acquire(result.fast_path.get(), buffer_options);
  result.memory_us = MicrosSince(start);
  if (!buffer.ok()) {
    fail(buffer.status());
    return;
  }
  result.buffer.emplace(*std::move(buffer));
  absl::MutexLock lock(&mu_);
  result_ = std::move(result);
}

absl::StatusOr<std::string> SwiftdStart::Device() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<absl::StatusOr<std::string>>* device) {
        return device->has_value();
      },
      &device_));
  return *device_;
}

std::optional<verbs::PortAddress> SwiftdStart::PortAddress(
    const std::string& device) {
  absl::MutexLock lock(&mu_);
  if (device != hello_device_) {
    return std::nullopt;
  }
  return hello_port_;
}

absl::StatusOr<SharedContextGrant> SwiftdStart::SharedContext() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<absl::StatusOr<SharedContextGrant>>* shared) {
        return shared->has_value();
      },
      &shared_));
  absl::StatusOr<SharedContextGrant> shared = *std::move(shared_);
  // Once: a second call gets this instead of a moved-from grant.
  shared_ = absl::FailedPreconditionError(
      "SwiftdStart::SharedContext() was called twice");
  return shared;
}

absl::StatusOr<SwiftdStart::Result> SwiftdStart::Finish() {
  if (thread_.joinable()) {
    thread_.join();
  }
  absl::MutexLock lock(&mu_);
  if (!result_.has_value()) {
    return absl::FailedPreconditionError(
        "SwiftdStart::Finish() was called twice");
  }
  absl::StatusOr<Result> result = *std::move(result_);
  result_.reset();
  return result;
}

}  // namespace swift
