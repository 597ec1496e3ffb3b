// DirectChannels implementation; see direct_channels.h.
#include "daemon/worker/direct_channels.h"

#include "daemon/worker/channel_messages.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {

uint64_t DirectChannels::Open(const worker::v1::OpenChannel& open,
                              UniqueFd fd) {
  const uint64_t id = next_id_++;
  channels_[id] = std::make_unique<Channel>(Channel{
      SeqpacketSocket(std::move(fd)), open.client_name(), open.client_pid(),
      /*function=*/""});
  return id;
}

std::vector<std::pair<uint64_t, int>> DirectChannels::Fds() const {
  std::vector<std::pair<uint64_t, int>> fds;
  fds.reserve(channels_.size());
  for (const auto& [id, channel] : channels_) {
    fds.emplace_back(id, channel->socket.fd());
  }
  return fds;
}

int DirectChannels::fd(uint64_t id) const {
  auto it = channels_.find(id);
  return it == channels_.end() ? -1 : it->second->socket.fd();
}

std::optional<worker::v1::InvokeRequest> DirectChannels::Receive(
    uint64_t id, absl::Time now) {
  auto it = channels_.find(id);
  if (it == channels_.end()) {
    return std::nullopt;
  }
  Channel& channel = *it->second;
  absl::StatusOr<SeqpacketSocket::Message> message = channel.socket.Receive();
  if (!message.ok()) {
    // The client closed its channel: a reply still due is dropped.
    channels_.erase(it);
    return std::nullopt;
  }
  v1::FastRequest request;
  if (!request.ParseFromString(message->data)) {
    // Counted as a failed invocation, as any answered error is.
    ++invocations_;
    ++failures_;
    (void)channel.socket.Send(
        ChannelErrorResponse(0, absl::InvalidArgumentError("malformed request"))
            .SerializeAsString());
    return std::nullopt;
  }
  channel.function = request.invoke().function();
  absl::StatusOr<worker::v1::InvokeRequest> call = FromChannelRequest(request);
  if (!call.ok()) {
    worker::v1::InvokeReply refused;
    refused.set_id(request.call_id());
    EncodeStatus(call.status(), &refused);
    Reply(id, refused);
    return std::nullopt;
  }
  worker::v1::ChannelAnswer* answer = call->mutable_answer_on_channel();
  answer->set_function(channel.function);
  answer->set_received_ns(absl::ToUnixNanos(now));
  return *std::move(call);
}

void DirectChannels::Reply(uint64_t id, const worker::v1::InvokeReply& reply) {
  ++invocations_;
  failures_ += reply.code() != 0 ? 1 : 0;
  auto it = channels_.find(id);
  if (reply.answered() || it == channels_.end()) {
    return;
  }
  // A client gone meanwhile: its channel closes on the next poll.
  (void)it->second->socket.Send(
      ToChannelResponse(reply.id(), reply, it->second->function)
          .SerializeAsString());
}

}  // namespace swift
