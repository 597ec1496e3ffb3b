// ConnectionImpl: a connected pooled QP handed to the application, and
// what to do with the QP when the connection ends. Internal to libswift.
#ifndef SWIFT_CLIENT_CONNECTION_IMPL_H_
#define SWIFT_CLIENT_CONNECTION_IMPL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "client/qp_pool.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/mr.h"
#include "swift/session.h"

namespace swift {

class ConnectionImpl final : public Connection {
 public:
  // Gives the QP back (recycle, re-advertise, ...) and reports failures.
  using Release = std::function<absl::Status(PooledQp)>;

  // `mr` must outlive the connection.
  ConnectionImpl(PooledQp pooled, const verbs::Mr* mr,
                 const verbs::QpEndpoint& remote, uint64_t id, Release release)
      : pooled_(std::move(pooled)),
        mr_(mr),
        remote_(remote),
        id_(id),
        release_(std::move(release)) {}
  ~ConnectionImpl() override { (void)Close(); }

  ibv_qp* qp() const override {
    return pooled_.qp ? pooled_.qp->get() : nullptr;
  }
  ibv_cq* cq() const override {
    return pooled_.cq ? pooled_.cq->get() : nullptr;
  }
  ibv_mr* mr() const override { return mr_->get(); }
  uint8_t* buffer() const override { return mr_->addr(); }
  size_t buffer_size() const override { return mr_->length(); }
  RemoteMemory remote() const override;
  uint64_t id() const override { return id_; }
  bool peer_closed() const override { return peer_closed_.load(); }
  void MarkPeerClosed() { peer_closed_.store(true); }
  ConnectSteps connect_steps() const override { return steps_; }
  const std::string& host() const override { return host_; }
  // Set once, before the connection is handed to the application.
  void set_connect_steps(const ConnectSteps& steps) { steps_ = steps; }
  void set_host(std::string host) { host_ = std::move(host); }

  absl::Status Close() override;

 private:
  absl::Mutex mu_;
  PooledQp pooled_;
  const verbs::Mr* const mr_;
  const verbs::QpEndpoint remote_;
  const uint64_t id_;
  Release release_;
  std::atomic<bool> peer_closed_{false};
  ConnectSteps steps_;
  std::string host_;
};

}  // namespace swift

#endif  // SWIFT_CLIENT_CONNECTION_IMPL_H_
