// ChangeBoard: swiftd's side of the change pages (common/change_page.h),
// one per tenant that asked for one. The broker bumps a tenant's page each
// time it finds one of the tenant's connections ended or suspect, or ends
// one its client did not close; a client
// holding pre-connected pairs reads the page instead of asking swiftd
// whether its pairs still stand (issue 12).
//
// Bounded: at most `max_pages` tenants get a page (a page is a memfd of
// 4 KiB and one mapping); beyond, Share() refuses and clients keep asking
// with check_connections. Pages live as long as swiftd.
//
// Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_CHANGE_BOARD_H_
#define SWIFT_DAEMON_BROKER_CHANGE_BOARD_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/change_page.h"
#include "common/unique_fd.h"

namespace swift {

class ChangeBoard final {
 public:
  static constexpr int kDefaultMaxPages = 4096;

  explicit ChangeBoard(int max_pages = kDefaultMaxPages)
      : max_pages_(max_pages) {}
  ~ChangeBoard();

  ChangeBoard(const ChangeBoard&) = delete;
  ChangeBoard& operator=(const ChangeBoard&) = delete;

  struct Shared {
    UniqueFd fd;  // Read-only: the holder can map it PROT_READ only.
    uint64_t generation = 0;
  };

  // Share()
  //
  // A read-only fd of `uid`'s page (made on first use) and its count now.
  // kResourceExhausted past max_pages tenants; otherwise the failing
  // call's errno status (memfd_create, mmap, reopening read-only).
  absl::StatusOr<Shared> Share(uid_t uid);

  // Counts one change for `uid` (nothing when it has no page: nobody
  // watches). Cheap: a hash lookup and an atomic add.
  void Bump(uid_t uid);

  // The count of `uid`'s page (0 without one); for tests.
  uint64_t Generation(uid_t uid) const;

 private:
  struct Page {
    UniqueFd fd;  // Read-write, swiftd's.
    ChangePage* mapped = nullptr;
  };

  const int max_pages_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uid_t, Page> pages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_CHANGE_BOARD_H_
