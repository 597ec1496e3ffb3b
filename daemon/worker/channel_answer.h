// AnswerOnChannel(): how an instance answers a client on its direct channel.
//
// The worker reads a channel's requests; the instance that runs one answers
// the client itself (proto/worker.proto: InvokeRequest.answer_on_channel),
// so that the reply crosses one process, not two. The worker still has to
// learn that the invocation ended, and how, before the client can send its
// next request: otherwise a WARM request could find the instance that just
// answered still busy. So the instance tells the worker first, then the
// client.
#ifndef SWIFT_DAEMON_WORKER_CHANNEL_ANSWER_H_
#define SWIFT_DAEMON_WORKER_CHANNEL_ANSWER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "proto/worker.pb.h"

namespace swift {

// AnswerOnChannel()
//
// Completes `reply` (the function's outcome for `request`, which carries
// answer_on_channel) with what the worker would have set: served_by, spare,
// parked,
// and worker_us counted from the worker's reading of the request to `now`.
// Sends the worker a copy without the result and with `answered` set (an
// InstanceUp), then the client its FastResponse on `channel`, which is
// closed after. A channel that was parked on this instance (`parked_route`
// not 0) goes back to the worker with the note (its route: the worker
// kept its own copy of the channel). Returns the error
// of the send to the worker (the worker is gone); a client gone meanwhile
// is no error (its answer is dropped, as the worker drops it).
absl::Status AnswerOnChannel(const worker::v1::InvokeRequest& request,
                             worker::v1::InvokeReply reply, absl::Time now,
                             SeqpacketSocket& worker, SeqpacketSocket channel,
                             uint64_t parked_route = 0);

}  // namespace swift

#endif  // SWIFT_DAEMON_WORKER_CHANNEL_ANSWER_H_
