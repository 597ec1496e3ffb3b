// DirectChannels implementation; see direct_channels.h.
#include "daemon/worker/direct_channels.h"

#include "daemon/worker/channel_messages.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {

uint64_t DirectChannels::Open(const worker::v1::OpenChannel& open,
                              UniqueFd fd) {
  const uint64_t id = next_id_++;
  auto channel = std::make_unique<Channel>(SeqpacketSocket(std::move(fd)));
  channel->client_name = open.client_name();
  channel->client_pid = open.client_pid();
  channels_[id] = std::move(channel);
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
  v1::FastResponse refusal;
  std::optional<worker::v1::InvokeRequest> request =
      ReadChannelRequest(message->data, now, &refusal);
  if (!request.has_value()) {
    // Counted as a failed invocation, as any answered error is.
    ++invocations_;
    ++failures_;
    (void)channel.socket.Send(refusal.SerializeAsString());
    return std::nullopt;
  }
  channel.function = request->answer_on_channel().function();
  channel.last_mode = request->mode();
  channel.last_request_at = now;
  return request;
}

void DirectChannels::Park(uint64_t id) {
  if (auto it = channels_.find(id); it != channels_.end()) {
    it->second->parked = true;
  }
}

void DirectChannels::Unpark(uint64_t id) {
  if (auto it = channels_.find(id); it != channels_.end()) {
    it->second->parked = false;
  }
}

void DirectChannels::Drop(uint64_t id) { channels_.erase(id); }

std::optional<uint64_t> DirectChannels::ChannelToPark() const {
  std::optional<uint64_t> best;
  absl::Time latest = absl::InfinitePast();
  for (const auto& [id, channel] : channels_) {
    if (!channel->parked && channel->last_mode == worker::v1::FORK &&
        channel->last_request_at > latest) {
      best = id;
      latest = channel->last_request_at;
    }
  }
  return best;
}

std::vector<std::pair<uint64_t, int>> DirectChannels::ReadableFds() const {
  std::vector<std::pair<uint64_t, int>> fds;
  fds.reserve(channels_.size());
  for (const auto& [id, channel] : channels_) {
    if (!channel->parked) {
      fds.emplace_back(id, channel->socket.fd());
    }
  }
  return fds;
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
