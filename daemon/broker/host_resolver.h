// HostResolver: how the broker finds hosts it was not told of by --peers,
// and which host serves a service when a client names only the service.
//
// An interface so that the broker knows nothing of where the answers come
// from; swiftd's cluster directory (daemon/directory/, on etcd) is the
// implementation. Implementations are thread-safe and answer from memory:
// the broker calls them on every connect.
#ifndef SWIFT_DAEMON_BROKER_HOST_RESOLVER_H_
#define SWIFT_DAEMON_BROKER_HOST_RESOLVER_H_

#include <string>

#include "absl/status/statusor.h"

namespace swift {

class HostResolver {
 public:
  virtual ~HostResolver() = default;

  // ResolveHost(): the peer address "ip:port" of the swiftd on `host`.
  // kNotFound: no such host (the message says whether it left, when and
  // why); kUnavailable: the directory cannot be asked and `host` is not
  // among what it held before.
  virtual absl::StatusOr<std::string> ResolveHost(const std::string& host) = 0;

  // PickHostForService(): the name of a host offering `service`, by the
  // implementation's policy; errors as ResolveHost()'s.
  virtual absl::StatusOr<std::string> PickHostForService(
      const std::string& service) = 0;

  // Describe(): names the source in listings and messages
  // ("etcd://10.0.0.5:2379/swift").
  virtual std::string Describe() const = 0;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_HOST_RESOLVER_H_
