// AnswerOnChannel(); see channel_answer.h.
#include "daemon/worker/channel_answer.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "daemon/worker/channel_messages.h"

namespace swift {

absl::Status AnswerOnChannel(const worker::v1::InvokeRequest& request,
                             worker::v1::InvokeReply reply, absl::Time now,
                             SeqpacketSocket& worker, UniqueFd channel) {
  const worker::v1::ChannelAnswer& answer = request.answer_on_channel();
  reply.set_served_by(answer.served_by());
  reply.set_spare(answer.spare());
  reply.set_worker_us(static_cast<uint64_t>(std::max<int64_t>(
      0, absl::ToInt64Microseconds(
             now - absl::FromUnixNanos(answer.received_ns())))));
  worker::v1::InvokeReply note = reply;
  note.clear_result();
  note.set_answered(true);
  if (absl::Status told = worker.Send(note.SerializeAsString()); !told.ok()) {
    return told;
  }
  SeqpacketSocket client(std::move(channel));
  (void)client.Send(ToChannelResponse(request.id(), reply, answer.function())
                        .SerializeAsString());
  return absl::OkStatus();
}

}  // namespace swift
