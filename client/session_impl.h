// SessionImpl: libswift's Session: a device context, PD, registered buffer
// and QP pool, and the fast path to swiftd that brokers its connects.
// Internal to libswift; see swift/session.h for the contract (listeners are
// in listener_impl.h).
#ifndef SWIFT_CLIENT_SESSION_IMPL_H_
#define SWIFT_CLIENT_SESSION_IMPL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/change_watch.h"
#include "client/connection_impl.h"
#include "client/fast_path_client.h"
#include "client/hinted_providers.h"
#include "client/preconnect_pool.h"
#include "client/prewarm_learner.h"
#include "client/qp_pool.h"
#include "client/session_buffer.h"
#include "client/swiftd_start.h"
#include "common/verbs/context.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "swift/session.h"

namespace swift {

class SessionImpl final : public Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Create(
      const SessionOptions& options);

  using Session::Connect;  // Connect(service): swiftd picks the host.
  absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const std::string& host, const std::string& service,
      absl::Duration timeout) override;
  absl::StatusOr<std::unique_ptr<Listener>> Listen(const std::string& service,
                                                   int backlog) override;
  absl::StatusOr<int> Prewarm(const std::string& host,
                              const std::string& service, int count,
                              absl::Duration timeout) override;
  PreconnectStats preconnect_stats() const override;
  PoolStats pool_stats() const override { return pool_->stats(); }
  const StartSteps& start_steps() const override { return start_steps_; }
  const std::string& device() const override { return context_->name(); }
  absl::Status CheckBuffer() const override { return buffer_->Check(); }

  // For listeners.
  QpPool& pool() { return *pool_; }
  const verbs::Mr& mr() const { return *mr_; }
  const verbs::PortAddress& port() const { return port_; }
  // This session's endpoint for `pooled`, advertising the session buffer.
  verbs::QpEndpoint EndpointOf(const PooledQp& pooled) const;

 private:
  SessionImpl() = default;
  // The cold start's context_ and pd_: imported from swiftd when the hints
  // say it shares `device`'s and it answers, else opened and allocated
  // here (the reason kept in start_steps_). Each step is timed from `*lap`.
  absl::Status ImportOrOpenDevice(const std::string& device,
                                  const SessionHints& hints,
                                  SwiftdStart* swiftd_start, absl::Time* lap);
  // Tells swiftd that connection `connection_id` is closed, recycling its
  // QP while swiftd works; swiftd's answer's status.
  absl::Status CloseAndRecycle(uint64_t connection_id, PooledQp pooled);
  // A new connection by a full handshake through swiftd.
  absl::StatusOr<std::unique_ptr<ConnectionImpl>> Handshake(
      const std::string& host, const std::string& service,
      absl::Duration timeout);
  // For each id: "" while swiftd says the connection stands, else why not.
  absl::StatusOr<std::vector<std::string>> CheckConnections(
      const std::vector<uint64_t>& ids);
  std::unique_ptr<PreconnectPool> MakePreconnectPool();
  // A handshake to `service` on `host` was needed: prewarm it when the
  // learner says it is worth a pool (a no-op when learning is off).
  void LearnFromHandshake(const std::string& host, const std::string& service);
  // The count of swiftd's change page for this tenant (the pool's
  // `generation` hook): the page is asked for on first use, and again at
  // most once a second after swiftd went away or refused it.
  std::optional<PreconnectPool::ChangeCount> ChangeGeneration();

  // Creation order (members are destroyed in reverse).
  SessionOptions options_;
  StartSteps start_steps_;
  std::unique_ptr<FastPathClient> fast_path_;
  std::string fast_path_socket_;
  std::shared_ptr<verbs::Context> context_;
  std::shared_ptr<verbs::Pd> pd_;
  verbs::PortAddress port_;
  // After fast_path_ (a lease is released through it) and before mr_ (the
  // MR is deregistered before its memory goes).
  std::optional<SessionBuffer> buffer_;
  std::unique_ptr<verbs::Mr> mr_;
  std::unique_ptr<QpPool> pool_;
  absl::Mutex watch_mu_;
  std::unique_ptr<ChangeWatch> change_watch_ ABSL_GUARDED_BY(watch_mu_);
  // Watches opened so far (ChangeCount::watch).
  uint64_t watches_ ABSL_GUARDED_BY(watch_mu_) = 0;
  absl::Time next_watch_attempt_ ABSL_GUARDED_BY(watch_mu_) =
      absl::InfinitePast();
  // Its pairs close through fast_path_ and recycle into pool_, and it reads
  // change_watch_: declared after them, so destroyed before them.
  std::unique_ptr<PreconnectPool> preconnect_;
  // Pools learned from use (SessionOptions::learn_preconnect_after).
  mutable absl::Mutex learn_mu_;
  std::optional<PrewarmLearner> learner_ ABSL_GUARDED_BY(learn_mu_);
  // Services the application prewarmed itself, as "host\nservice".
  absl::flat_hash_set<std::string> prewarmed_by_app_ ABSL_GUARDED_BY(learn_mu_);
  uint64_t learned_ ABSL_GUARDED_BY(learn_mu_) = 0;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_SESSION_IMPL_H_
