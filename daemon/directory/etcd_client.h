// EtcdClient: the calls swiftd's directory makes to an etcd cluster, over
// etcd's v3 gRPC API (proto/etcd_v3.proto): leases, puts, prefix reads and
// prefix watches.
//
// One gRPC channel per endpoint. A unary call starts at the endpoint that
// answered last and fails over to the next when one is unreachable, each
// attempt taking its share of the caller's deadline, so a dead member
// costs a fraction of the call, never all of it. Errors name the endpoint
// ("etcd at 10.0.0.5:2379: ..."), keep gRPC's code (kUnavailable for an
// unreachable cluster), and never block past the deadline. Thread-safe.
#ifndef SWIFT_DAEMON_DIRECTORY_ETCD_CLIENT_H_
#define SWIFT_DAEMON_DIRECTORY_ETCD_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/directory/etcd_key_value.h"
#include "daemon/directory/etcd_tls.h"
#include "proto/etcd_v3.grpc.pb.h"

namespace swift {

class EtcdClient {
 public:
  // `endpoints`: "host:port" each (DirectoryUrl::endpoints); not empty.
  // With `tls` enabled, every channel is TLS (etcd's https client URLs).
  explicit EtcdClient(std::vector<std::string> endpoints, EtcdTls tls = {});
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  struct Lease {
    int64_t id = 0;
    absl::Duration ttl;  // As etcd granted it (it may raise a short one).
  };
  absl::StatusOr<Lease> GrantLease(absl::Duration ttl, absl::Time deadline);
  // KeepAlive(): renews `lease` once; returns its new TTL. kNotFound: the
  // lease expired or was revoked (its keys are gone).
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease, absl::Time deadline);
  absl::Status RevokeLease(int64_t lease, absl::Time deadline);

  // Put(): writes `key` bound to `lease` (0: none); returns the revision.
  absl::StatusOr<int64_t> Put(const std::string& key, const std::string& value,
                              int64_t lease, absl::Time deadline);

  // GetPrefix(): every key under `prefix`, read in pages at one revision
  // (so a large directory is one consistent snapshot), and that revision.
  struct Snapshot {
    std::vector<EtcdKeyValue> kvs;
    int64_t revision = 0;
  };
  absl::StatusOr<Snapshot> GetPrefix(const std::string& prefix,
                                     absl::Time deadline);
  // DeletePrefix(): removes every key under `prefix`; returns how many.
  absl::StatusOr<int64_t> DeletePrefix(const std::string& prefix,
                                       absl::Time deadline);

  // A watch on a prefix: one gRPC stream, read by one thread.
  class Watch {
   public:
    ~Watch();
    // Next(): blocks until the next events (or a progress notice, with no
    // events), and sets `revision` to the store's revision they bring.
    // kCancelled after Cancel(); kOutOfRange when etcd compacted the
    // history the watch started from (read a fresh snapshot);
    // kUnavailable when the stream broke.
    absl::Status Next(std::vector<EtcdEvent>* events, int64_t* revision);
    // Cancel(): from any thread; Next() returns kCancelled.
    void Cancel();

   private:
    friend class EtcdClient;
    Watch() = default;
    std::string endpoint_;
    grpc::ClientContext context_;
    std::unique_ptr<etcdserverpb::Watch::Stub> stub_;
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest,
                                             etcdserverpb::WatchResponse>>
        stream_;
    std::atomic<bool> cancelled_{false};
  };
  // WatchPrefix(): events under `prefix` from `start_revision` on
  // (inclusive), once etcd confirmed the watch.
  absl::StatusOr<std::unique_ptr<Watch>> WatchPrefix(const std::string& prefix,
                                                     int64_t start_revision);

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  };

  // Runs `call(endpoint, context)` on each endpoint in turn from the last
  // good one until one is reachable or the deadline passes.
  template <typename Call>
  absl::Status OnSomeEndpoint(absl::Time deadline, const Call& call);

  const std::vector<std::string> endpoints_;
  std::vector<Endpoint> channels_;
  absl::Mutex mu_;
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
};

// The key just past every key that starts with `prefix` (etcd's range_end
// for a prefix).
std::string EtcdPrefixEnd(const std::string& prefix);

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_ETCD_CLIENT_H_
