// RcQpFactory implementation; see rc_qp_factory.h.
#include "client/rc_qp_factory.h"

#include <algorithm>

#include "common/verbs/completion_channel.h"
#include "common/verbs/qp_transitions.h"

namespace swift {

absl::StatusOr<PooledQp> RcQpFactory::Create() {
  PooledQp pooled;
  const std::shared_ptr<verbs::Context>& context = pd_->context();
  std::shared_ptr<verbs::CompletionChannel> channel;
  if (options_.completion_channel) {
    absl::StatusOr<std::shared_ptr<verbs::CompletionChannel>> created =
        verbs::CompletionChannel::Create(context);
    if (!created.ok()) {
      return created.status();
    }
    channel = *std::move(created);
  }
  const int vectors = std::max(context->get()->num_comp_vectors, 1);
  const int vector = options_.comp_vector >= 0
                         ? options_.comp_vector
                         : static_cast<int>(created_.fetch_add(1) % vectors);
  absl::StatusOr<std::shared_ptr<verbs::Cq>> cq = verbs::Cq::Create(
      context, options_.cq_entries, std::move(channel), vector);
  if (!cq.ok()) {
    return cq.status();
  }
  pooled.cq = *std::move(cq);
  absl::StatusOr<std::unique_ptr<verbs::Qp>> qp = verbs::Qp::Create(
      pd_, pooled.cq, pooled.cq, IBV_QPT_RC, options_.capacity);
  if (!qp.ok()) {
    return qp.status();
  }
  pooled.qp = *std::move(qp);
  if (absl::Status init = verbs::ModifyRcToInit(*pooled.qp, port_num_);
      !init.ok()) {
    return init;
  }
  pooled.psn = verbs::RandomPsn();
  return pooled;
}

absl::Status RcQpFactory::ResetToInit(PooledQp& pooled) {
  if (absl::Status reset = verbs::ModifyToReset(*pooled.qp); !reset.ok()) {
    return reset;
  }
  // Completions of the previous connection must not leak into the next.
  ibv_wc drained[16];
  while (true) {
    absl::StatusOr<int> count = pooled.cq->Poll(drained, 16);
    if (!count.ok() || *count == 0) {
      break;
    }
  }
  if (absl::Status init = verbs::ModifyRcToInit(*pooled.qp, port_num_);
      !init.ok()) {
    return init;
  }
  pooled.psn = verbs::RandomPsn();
  return absl::OkStatus();
}

absl::Status ConnectPooledQp(PooledQp& pooled, const verbs::PortAddress& port,
                             const verbs::QpEndpoint& remote) {
  if (absl::Status rtr = verbs::ModifyRcToRtr(*pooled.qp, port, remote);
      !rtr.ok()) {
    return rtr;
  }
  return verbs::ModifyRcToRts(*pooled.qp, pooled.psn);
}

}  // namespace swift
