// RcQpFactory: a Session's RC QPs, each with its own CQ, moved to INIT on
// the session's port. Internal to libswift; see qp_factory.h.
//
// Thread-safe (verbs allow creating and modifying different QPs at once).
#ifndef SWIFT_CLIENT_RC_QP_FACTORY_H_
#define SWIFT_CLIENT_RC_QP_FACTORY_H_

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
  };

  // `pd` and `port` are those of the session; the factory keeps `pd` alive.
  RcQpFactory(std::shared_ptr<verbs::Pd> pd, verbs::PortAddress port,
              Options options)
      : pd_(std::move(pd)), port_(port), options_(options) {}

  absl::StatusOr<PooledQp> Create() override;
  absl::Status ResetToInit(PooledQp& pooled) override;

 private:
  const std::shared_ptr<verbs::Pd> pd_;
  const verbs::PortAddress port_;
  const Options options_;
};

// ConnectPooledQp()
//
// Moves `pooled`, in INIT, to RTR toward `remote` on `port`, then to RTS
// at its own PSN. The failing transition's status otherwise.
absl::Status ConnectPooledQp(PooledQp& pooled, const verbs::PortAddress& port,
                             const verbs::QpEndpoint& remote);

}  // namespace swift

#endif  // SWIFT_CLIENT_RC_QP_FACTORY_H_
