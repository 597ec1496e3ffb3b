// AsyncEventReader implementation; see async_event_reader.h.
#include "daemon/devices/async_event_reader.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/nonblocking.h"
#include "common/thread_name.h"
#include "glog/logging.h"

namespace swift {

DeviceEvent ClassifyAsyncEvent(ibv_event_type type, uint32_t port_num) {
  const std::string on_port = absl::StrCat(" on port ", port_num);
  switch (type) {
    case IBV_EVENT_PORT_ACTIVE:
      return {DeviceEventAction::kRefreshPorts, "PORT_ACTIVE" + on_port};
    case IBV_EVENT_PORT_ERR:
      return {DeviceEventAction::kRefreshPorts, "PORT_ERR" + on_port};
    case IBV_EVENT_GID_CHANGE:
      return {DeviceEventAction::kRefreshPorts, "GID_CHANGE" + on_port};
    case IBV_EVENT_LID_CHANGE:
      return {DeviceEventAction::kRefreshPorts, "LID_CHANGE" + on_port};
    case IBV_EVENT_PKEY_CHANGE:
      return {DeviceEventAction::kRefreshPorts, "PKEY_CHANGE" + on_port};
    case IBV_EVENT_SM_CHANGE:
      return {DeviceEventAction::kRefreshPorts, "SM_CHANGE" + on_port};
    case IBV_EVENT_CLIENT_REREGISTER:
      return {DeviceEventAction::kRefreshPorts, "CLIENT_REREGISTER" + on_port};
    case IBV_EVENT_DEVICE_FATAL:
      return {DeviceEventAction::kDeviceFatal, "DEVICE_FATAL"};
    default:
      return {DeviceEventAction::kIgnore, ibv_event_type_str(type)};
  }
}

absl::StatusOr<std::unique_ptr<AsyncEventReader>> AsyncEventReader::Start(
    ibv_context* context, std::string name, Callback callback) {
  if (absl::Status status =
          SetNonBlocking(context->async_fd, absl::StrCat("async_fd of ", name));
      !status.ok()) {
    return status;
  }
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) {
    return ErrnoStatus(errno, "eventfd");
  }
  std::unique_ptr<AsyncEventReader> reader(new AsyncEventReader(
      context, std::move(name), std::move(callback), std::move(wake)));
  reader->thread_ = std::thread([raw = reader.get()] {
    NameThisThread("sw-async-events");
    raw->Run();
  });
  return reader;
}

AsyncEventReader::AsyncEventReader(ibv_context* context, std::string name,
                                   Callback callback, UniqueFd wake)
    : context_(context),
      name_(std::move(name)),
      callback_(std::move(callback)),
      wake_(std::move(wake)) {}

AsyncEventReader::~AsyncEventReader() { Stop(); }

void AsyncEventReader::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  const uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof(one)) != sizeof(one)) {
    PLOG(ERROR) << "Cannot wake the async event reader of " << name_;
  }
  thread_.join();
}

void AsyncEventReader::Run() {
  pollfd fds[2] = {{context_->async_fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      PLOG(ERROR) << "poll() on the async events of " << name_
                  << " failed; no more events are read";
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if ((fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 &&
        (fds[0].revents & POLLIN) == 0) {
      LOG(WARNING) << "The async event fd of " << name_
                   << " reports an error; no more events are read";
      return;
    }
    ibv_async_event event = {};
    // Non-blocking: EAGAIN when another wake-up raced us to the event.
    while (ibv_get_async_event(context_, &event) == 0) {
      const uint32_t port = event.element.port_num;
      const ibv_event_type type = event.event_type;
      // Ack before acting: destroying the object an event names waits for
      // its ack, and the callback may take time.
      ibv_ack_async_event(&event);
      events_read_.fetch_add(1);
      DeviceEvent classified = ClassifyAsyncEvent(type, port);
      VLOG(1) << name_ << ": async event " << classified.description;
      if (classified.action != DeviceEventAction::kIgnore) {
        callback_(classified);
      }
    }
  }
}

}  // namespace swift
