// ChangeWatch: libswift's reader of its tenant's change page
// (common/change_page.h): swiftd counts there each connection of the
// tenant it finds ended or suspect, so that a pre-connected pair checked
// live at some count needs no call to swiftd while the count stands still
// (issue 12: the pool's take without a round trip).
//
// The page is read over a fast-path connection of its own, kept open for
// one reason: a swiftd that died cannot bump the page any more, but its
// end of that connection hangs up, and Generation() then says it no longer
// knows (a take goes back to asking, which fails as it should).
//
// Thread-safe (Generation() only reads).
#ifndef SWIFT_CLIENT_CHANGE_WATCH_H_
#define SWIFT_CLIENT_CHANGE_WATCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/change_page.h"
#include "common/seqpacket_socket.h"

namespace swift {

class ChangeWatch final {
 public:
  // Open()
  //
  // Asks swiftd at `fast_path_socket` for the caller's change page
  // (watch_changes) on a new connection and maps it read-only. Errors:
  // swiftd's answer (kUnimplemented from a swiftd without it,
  // kFailedPrecondition from one that brokers nothing,
  // kResourceExhausted past its page bound), kUnavailable when swiftd is
  // gone, kInternal for a page that is not one.
  static absl::StatusOr<std::unique_ptr<ChangeWatch>> Open(
      const std::string& fast_path_socket, const std::string& client_name);

  ChangeWatch(const ChangeWatch&) = delete;
  ChangeWatch& operator=(const ChangeWatch&) = delete;
  ~ChangeWatch();

  // The page's count now, or nullopt once swiftd hung up the connection
  // (it stopped or died: nobody counts any more).
  std::optional<uint64_t> Generation() const;

 private:
  ChangeWatch(SeqpacketSocket socket, const ChangePage* page)
      : socket_(std::move(socket)), page_(page) {}

  SeqpacketSocket socket_;
  const ChangePage* page_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_CHANGE_WATCH_H_
