// AnswerOnChannel(); see channel_answer.h.
#include "daemon/worker/channel_answer.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "daemon/worker/channel_messages.h"

namespace swift {

absl::Status AnswerOnChannel(const worker::v1::InvokeRequest& request,
                             worker::v1::InvokeReply reply, absl::Time now,
                             SeqpacketSocket& worker, SeqpacketSocket channel,
                             uint64_t parked_route) {
  const worker::v1::ChannelAnswer& answer = request.answer_on_channel();
  reply.set_served_by(answer.served_by());
  reply.set_spare(answer.spare());
  reply.set_parked(answer.parked());
  reply.set_worker_us(static_cast<uint64_t>(std::max<int64_t>(
      0, absl::ToInt64Microseconds(
             now - absl::FromUnixNanos(answer.received_ns())))));
  worker::v1::InstanceUp note;
  *note.mutable_reply() = reply;
  note.mutable_reply()->clear_result();
  note.mutable_reply()->set_answered(true);
  if (parked_route != 0) {
    // The worker kept its own copy of the channel: only the route goes.
    note.mutable_returned()->set_route(parked_route);
  }
  if (absl::Status told = worker.Send(note.SerializeAsString()); !told.ok()) {
    return told;
  }
  (void)channel.Send(ToChannelResponse(request.id(), reply, answer.function())
                         .SerializeAsString());
  return absl::OkStatus();
}

}  // namespace swift
