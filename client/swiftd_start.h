// SwiftdStart: the swiftd half of Session::Create(), run on a thread of its
// own so that it overlaps the device half (issue 11, the cold path).
//
// A new process's start has two chains that need nothing from each other
// until the buffer is registered:
//   swiftd half:  fast-path hello -> memory lease -> its pages mapped
//   device half:  providers -> device list and open -> PD -> QPs -> port
// Each took ~7 ms in the guest, one after the other. Run side by side, the
// start costs the longer of the two plus a thread start (~0.5-1 ms there).
// The lease is mapped with MAP_POPULATE on this thread: on a MAP_SHARED
// memfd that read-faults the pages, and the kernel maps 16 pages per fault
// (fault-around) where ibv_reg_mr's write pin would fault each page on its
// own; the registration then finds the page tables built.
//
// The device half may need two things from this one: the device's name,
// when the caller named none (swiftd's default): Device() waits for the
// hello alone; and, on a device whose context swiftd shares (the hints
// file says so: SessionHints::CanShare, never on rxe), that context, asked
// for right after the hello: SharedContext() waits for it. The hello also
// brings the device's port address from swiftd's cache: PortAddress() offers
// it, without waiting, so that the device half need not query the port when the
// hello came first.
//
// Thread-safe. The destructor waits for the thread.
#ifndef SWIFT_CLIENT_SWIFTD_START_H_
#define SWIFT_CLIENT_SWIFTD_START_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/fast_path_client.h"
#include "client/session_buffer.h"
#include "client/shared_context.h"
#include "common/verbs/port_address.h"
#include "swift/session.h"

namespace swift {

class SwiftdStart final {
 public:
  struct Result {
    std::unique_ptr<FastPathClient> fast_path;
    // Lease or memfd of the session's own (SessionBuffer), mapped.
    std::optional<SessionBuffer> buffer;
    double swiftd_us = 0;  // The hello (StartSteps::swiftd_us).
    double memory_us = 0;  // The buffer (StartSteps::memory_us).
  };

  // Starts the thread: connects to swiftd at `socket_path` (the Control
  // API socket; the fast path is beside it) as `client_name`, asks for a
  // shared context when the session's device is one of
  // `shareable_devices`, then takes the session's buffer as `options` ask.
  SwiftdStart(const SessionOptions& options, std::string client_name,
              std::vector<std::string> shareable_devices = {});
  ~SwiftdStart();

  SwiftdStart(const SwiftdStart&) = delete;
  SwiftdStart& operator=(const SwiftdStart&) = delete;

  // Device()
  //
  // The device the session uses: options.device at once when set, else
  // swiftd's (waits for the hello). Errors: the hello's (kUnavailable
  // when swiftd is not running); kFailedPrecondition when swiftd brokers
  // on no device and none was named.
  absl::StatusOr<std::string> Device();

  // PortAddress()
  //
  // Port 1 of `device` as swiftd's hello described it, if the hello has
  // been answered (never waits), named `device` and carried a valid
  // address; nullopt otherwise (the caller queries the port itself).
  std::optional<verbs::PortAddress> PortAddress(const std::string& device);

  // SharedContext()
  //
  // The context swiftd shared for the session's device (once; waits for
  // the call). Errors: swiftd's refusal (RequestSharedContext()), the
  // hello's error, kFailedPrecondition when the device is not one of
  // `shareable_devices` (nothing was asked).
  absl::StatusOr<SharedContextGrant> SharedContext();

  // Finish()
  //
  // Waits for the thread; what it made, or its first error. Once only.
  absl::StatusOr<Result> Finish();

 private:
  void Run(const SessionOptions& options, const std::string& client_name,
           const std::vector<std::string>& shareable_devices);

  absl::Mutex mu_;
  // Set once the hello is answered (or failed).
  std::optional<absl::StatusOr<std::string>> device_ ABSL_GUARDED_BY(mu_);
  // swiftd's device (the hello's) and its port address, once answered.
  std::string hello_device_ ABSL_GUARDED_BY(mu_);
  std::optional<verbs::PortAddress> hello_port_ ABSL_GUARDED_BY(mu_);
  // Set once a shared context was asked for (or will never be).
  std::optional<absl::StatusOr<SharedContextGrant>> shared_
      ABSL_GUARDED_BY(mu_);
  std::optional<absl::StatusOr<Result>> result_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_SWIFTD_START_H_
