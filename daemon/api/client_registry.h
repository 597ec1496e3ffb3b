// ClientRegistry: the clients attached to swiftd right now.
//
// A client is attached while its Attach stream is open; the registry is
// where later capabilities record what each client holds, so it can be
// released when the client goes away. It also knows the fast path's
// attached connections (CALLS and SERVICE; `swiftctl clients`), keyed by
// their channel id, with the kernel's word on who they are. Thread-safe.
#ifndef SWIFT_DAEMON_API_CLIENT_REGISTRY_H_
#define SWIFT_DAEMON_API_CLIENT_REGISTRY_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace swift {

class ClientRegistry final {
 public:
  struct Client {
    uint64_t id = 0;
    std::string name;
    int64_t pid = 0;
    absl::Time attached_at;
  };

  ClientRegistry() = default;
  ClientRegistry(const ClientRegistry&) = delete;
  ClientRegistry& operator=(const ClientRegistry&) = delete;

  // Adds a client and returns its id (never 0, never reused).
  uint64_t Add(std::string name, int64_t pid);

  // Removes client `id`; returns false if it was not registered.
  bool Remove(uint64_t id);

  int Count() const;

  // A snapshot of the clients, ordered by id.
  std::vector<Client> List() const;

  // A fast path connection after its hello.
  struct FastPathConnection {
    uint64_t channel_id = 0;
    std::string name;
    int64_t pid = 0;
    uid_t uid = 0;
    // "calls" or "service".
    std::string kind;
    absl::Time since;
  };

  // Adds (or replaces) the connection with `connection.channel_id`.
  void AddFastPath(FastPathConnection connection);
  // Removes it; false if it was not there.
  bool RemoveFastPath(uint64_t channel_id);
  // A snapshot, ordered by channel id.
  std::vector<FastPathConnection> ListFastPath() const;
  int FastPathCount() const;

 private:
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Client> clients_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, FastPathConnection> fast_path_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_API_CLIENT_REGISTRY_H_
