// ListenerImpl: libswift's Listener, a service's SERVICE channel to
// swiftd. Internal to libswift; see swift/session.h for the contract.
#ifndef SWIFT_CLIENT_LISTENER_IMPL_H_
#define SWIFT_CLIENT_LISTENER_IMPL_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/connection_impl.h"
#include "client/qp_pool.h"
#include "client/session_impl.h"
#include "common/seqpacket_socket.h"
#include "proto/fast_path.pb.h"
#include "swift/session.h"

namespace swift {

// InlineRefillBelow()
//
// Advertised QPs below which an accept replaces the QP it took at once,
// instead of leaving it to the advertiser's next batch: half the backlog,
// rounded up, so that swiftd's pool of the service does not run dry.
constexpr int InlineRefillBelow(int backlog) { return (backlog + 1) / 2; }

// ListenerImpl: a service's SERVICE channel to swiftd.
//
// Threads: kAcceptThreads readers take events off the channel, each moving
// its own event's QP to RTR and RTS and answering it (verbs allow modify_qp
// on different QPs at once), so a burst of connects does not queue behind
// one reader. The answer carries a ready QP of the session's pool that
// replaces the one taken (AcceptReply.replacements, when swiftd takes
// them): the refill costs no message of its own. When the pool has none
// ready (or swiftd is older), an advertiser thread replaces the QPs
// accepts took, in one AddEndpoints per burst, off the accept path; an
// accept then refills inline only when fewer than half the backlog is
// still advertised, so that swiftd's pool does not run dry (a dry pool
// refuses clients: kResourceExhausted).
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
  // swiftd adds an AcceptReply's replacements to its pool (ListenReply);
  // set before the threads start.
  bool takes_replacements_ = false;
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

#endif  // SWIFT_CLIENT_LISTENER_IMPL_H_
