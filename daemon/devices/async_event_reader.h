// AsyncEventReader: a thread that reads one open device's asynchronous
// events (ibv_get_async_event: port up/down, GID table changes, device
// fatal), acknowledges each at once, and hands a summary to a callback.
//
// The context's async fd is made non-blocking and polled together with an
// eventfd, so Stop() wakes and joins the thread without waiting for an
// event. Events about QPs, CQs, SRQs and WQs (swiftd creates none on its
// contexts) are acknowledged and dropped.
//
// Thread-safe: Stop() may be called from any thread but the reader's own
// (the callback must not stop its own reader). The context must outlive the
// reader (Stop() or destruction first).
#ifndef SWIFT_DAEMON_DEVICES_ASYNC_EVENT_READER_H_
#define SWIFT_DAEMON_DEVICES_ASYNC_EVENT_READER_H_

#include <infiniband/verbs.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace swift {

// What an async event asks the device cache to do.
enum class DeviceEventAction {
  kIgnore,        // An event about a QP/CQ/SRQ/WQ: not swiftd's.
  kRefreshPorts,  // Port state, LID, GID, PKey, SM changes: re-read ports.
  kDeviceFatal,   // IBV_EVENT_DEVICE_FATAL: the context is dead.
};

struct DeviceEvent {
  DeviceEventAction action = DeviceEventAction::kIgnore;
  // "PORT_ACTIVE on port 1", "GID_CHANGE on port 1", "DEVICE_FATAL".
  std::string description;
};

// ClassifyAsyncEvent()
//
// The action and description for an event of `type` on `port_num` (ignored
// for events that are not about a port). Pure.
DeviceEvent ClassifyAsyncEvent(ibv_event_type type, uint32_t port_num);

class AsyncEventReader final {
 public:
  using Callback = std::function<void(const DeviceEvent& event)>;

  // Start()
  //
  // Starts reading `context`'s events; `callback` runs on the reader's
  // thread for each event that is not kIgnore, after the event was acked.
  // `name` is for logs. Errors: the errno status of fcntl() on the async
  // fd or of eventfd().
  static absl::StatusOr<std::unique_ptr<AsyncEventReader>> Start(
      ibv_context* context, std::string name, Callback callback);

  AsyncEventReader(const AsyncEventReader&) = delete;
  AsyncEventReader& operator=(const AsyncEventReader&) = delete;
  // Stop()s.
  ~AsyncEventReader();

  // Stop()
  //
  // Wakes the thread and joins it; a callback in progress finishes first.
  // Later calls do nothing.
  void Stop();

  // Events read (acked) so far, of any kind. For tests and logs.
  uint64_t events_read() const { return events_read_; }

 private:
  AsyncEventReader(ibv_context* context, std::string name, Callback callback,
                   UniqueFd wake);
  void Run();

  ibv_context* const context_;
  const std::string name_;
  const Callback callback_;
  const UniqueFd wake_;  // eventfd: written by Stop().
  std::atomic<uint64_t> events_read_{0};
  std::thread thread_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_ASYNC_EVENT_READER_H_
