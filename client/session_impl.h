// SessionImpl and ListenerImpl: libswift's Session and Listener.
// Internal to libswift; see swift/session.h for the contract.
#ifndef SWIFT_CLIENT_SESSION_IMPL_H_
#define SWIFT_CLIENT_SESSION_IMPL_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/connection_impl.h"
#include "client/fast_path_client.h"
#include "client/qp_pool.h"
#include "common/seqpacket_socket.h"
#include "common/verbs/context.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/shared_region.h"
#include "swift/session.h"

namespace swift {

class SessionImpl final : public Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Create(
      const SessionOptions& options);

  absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const std::string& host, const std::string& service,
      absl::Duration timeout) override;
  absl::StatusOr<std::unique_ptr<Listener>> Listen(const std::string& service,
                                                   int backlog) override;
  PoolStats pool_stats() const override { return pool_->stats(); }
  const std::string& device() const override { return context_->name(); }

  // For listeners.
  QpPool& pool() { return *pool_; }
  const verbs::Mr& mr() const { return *mr_; }
  const verbs::PortAddress& port() const { return port_; }
  // This session's endpoint for `pooled`, advertising the session buffer.
  verbs::QpEndpoint EndpointOf(const PooledQp& pooled) const;

 private:
  SessionImpl() = default;
  absl::Status CloseRemote(uint64_t connection_id);

  // Creation order (members are destroyed in reverse).
  SessionOptions options_;
  std::unique_ptr<FastPathClient> fast_path_;
  std::string fast_path_socket_;
  std::shared_ptr<verbs::Context> context_;
  std::shared_ptr<verbs::Pd> pd_;
  verbs::PortAddress port_;
  std::unique_ptr<verbs::SharedRegion> region_;
  std::unique_ptr<verbs::Mr> mr_;
  std::unique_ptr<QpPool> pool_;
};

// ListenerImpl: a service's SERVICE channel to swiftd.
//
// Threads: kAcceptThreads readers take events off the channel, each moving
// its own event's QP to RTR and RTS and answering it (verbs allow modify_qp
// on different QPs at once), so a burst of connects does not queue behind
// one reader; an advertiser thread replaces the QPs accepts took, in one
// AddEndpoints per burst, off the accept path. An accept refills inline
// only when fewer than half the backlog is still advertised, so that swiftd's
// pool does not run dry (a dry pool refuses clients: kResourceExhausted).
class ListenerImpl final : public Listener {
 public:
  // Opens the service channel and advertises `backlog` QPs of `session`,
  // which must outlive the listener.
  static absl::StatusOr<std::unique_ptr<Listener>> Create(
      SessionImpl* session, const std::string& socket_path,
      const std::string& client_name, const std::string& service, int backlog);
  ~ListenerImpl() override;

  absl::StatusOr<std::unique_ptr<Connection>> Accept(
      absl::Duration timeout) override;
  const std::string& service() const override { return service_; }

 private:
  ListenerImpl(SessionImpl* session, SeqpacketSocket channel,
               std::string service, int backlog)
      : session_(session),
        channel_(std::move(channel)),
        service_(std::move(service)),
        backlog_(backlog) {}

  // Starts the reader and advertiser threads (after the ListenReply).
  absl::Status StartThreads();
  // Takes `count` QPs from the session pool and advertises them to swiftd
  // in one message; those it could not take are owed again.
  absl::Status Advertise(int count);
  // Advertises every QP owed (taken by accepts, not yet replaced).
  absl::Status AdvertiseOwed();
  absl::Status SendUp(const v1::ServiceUp& up);
  // `receiver` is this reader's own descriptor of the channel (a dup: each
  // SeqpacketSocket receives into its own buffer).
  void ReadLoop(SeqpacketSocket receiver);
  void AdvertiseLoop();
  void HandleAccept(const v1::AcceptEvent& accept);
  absl::Status ReleaseConnection(uint64_t id, PooledQp pooled);

  SessionImpl* const session_;
  SeqpacketSocket channel_;
  const std::string service_;
  const int backlog_;
  absl::Mutex send_mu_;  // One ServiceUp at a time on channel_.
  std::vector<std::thread> readers_;
  std::thread advertiser_;

  absl::Mutex mu_;
  // Advertised QPs by QPN, until swiftd hands one to a client.
  absl::flat_hash_map<uint32_t, PooledQp> advertised_ ABSL_GUARDED_BY(mu_);
  // QPs accepts took and the advertiser has yet to replace.
  int owed_ ABSL_GUARDED_BY(mu_) = 0;
  // Accepted connections not yet taken by Accept().
  std::deque<std::unique_ptr<ConnectionImpl>> accepted_ ABSL_GUARDED_BY(mu_);
  // Live connections by id, to mark them closed by the peer.
  absl::flat_hash_map<uint64_t, ConnectionImpl*> live_ ABSL_GUARDED_BY(mu_);
  bool channel_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // The destructor runs.
};

}  // namespace swift

#endif  // SWIFT_CLIENT_SESSION_IMPL_H_
