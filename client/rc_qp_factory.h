// RcQpFactory: a Session's RC QPs, each with its own CQ (and completion
// channel, on a chosen completion vector), moved to INIT on the session's
// port. Internal to libswift; see qp_factory.h.
//
// Thread-safe (verbs allow creating and modifying different QPs at once).
#ifndef SWIFT_CLIENT_RC_QP_FACTORY_H_
#define SWIFT_CLIENT_RC_QP_FACTORY_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "client/qp_factory.h"
#include "common/verbs/endpoint.h"
#include "common/verbs/pd.h"
#include "common/verbs/port_address.h"
#include "common/verbs/qp.h"

namespace swift {

class RcQpFactory final : public QpFactory {
 public:
  struct Options {
    int cq_entries = 128;
    verbs::QpCapacity capacity;
    // A completion channel per CQ (SessionOptions::completion_channels).
    bool completion_channel = true;
    // -1: CQs spread over the context's completion vectors; else this one.
    int comp_vector = -1;
  };

  // `pd` and `port_num` are those of the session; the factory keeps `pd`
  // alive. A QP in INIT needs only its port's number: the port's address
  // (GID, MTU) matters from RTR on (ConnectPooledQp).
  RcQpFactory(std::shared_ptr<verbs::Pd> pd, uint8_t port_num, Options options)
      : pd_(std::move(pd)), port_num_(port_num), options_(options) {}

  absl::StatusOr<PooledQp> Create() override;
  absl::Status ResetToInit(PooledQp& pooled) override;

 private:
  const std::shared_ptr<verbs::Pd> pd_;
  const uint8_t port_num_;
  const Options options_;
  // CQs created so far: the next spread vector.
  std::atomic<uint32_t> created_{0};
};

// ConnectPooledQp()
//
// Moves `pooled`, in INIT, to RTR toward `remote` on `port`, then to RTS
// at its own PSN. The failing transition's status otherwise.
absl::Status ConnectPooledQp(PooledQp& pooled, const verbs::PortAddress& port,
                             const verbs::QpEndpoint& remote);

}  // namespace swift

#endif  // SWIFT_CLIENT_RC_QP_FACTORY_H_
