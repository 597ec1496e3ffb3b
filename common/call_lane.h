// CallLane: a page of shared memory beside a fast-path connection, through
// which a call and its answer pass while both sides are awake and watching
// for them, with no system call at all.
//
// Why: on our hosts a system call costs ~1.3 us and a round trip over the
// socket takes four of them even when both sides spin (sendmsg and recvmsg
// each way): a bare 32-byte ping-pong cannot go under ~9 us, the fast-path
// goal is 10. Through the lane a call is two stores and a load each way.
//
// The socket stays the connection: it carries the hello, every answer with
// fds attached, whatever does not fit a slot, and a "doorbell" when the
// other side stopped watching. Who watches, and the doorbell that covers
// the race between posting and going to sleep:
//   - swiftd's connection thread sets server_watching while it spins for
//     the next call after an answer. A client posts a request in the lane
//     only when it sees server_watching; it then reads server_watching
//     again, and if swiftd stopped watching in between, it rings the
//     doorbell (a FastRequest with lane_doorbell) on the socket.
//   - swiftd clears server_watching, then looks at the lane once more,
//     only before sleeping in recvmsg. Both sides use sequentially
//     consistent operations, so of "post, then check" and "clear, then
//     check" at least one sees the other: a request is never stranded. A
//     doorbell for a request already taken finds nothing new and is
//     dropped. (Clearing the flag as soon as a call is taken would make
//     the client ring for it: each side keeps watching until it sleeps.)
//   - A call the client sends on the socket instead (too large, or swiftd
//     not watching) is marked in the lane first (PostRequestOnSocket), so
//     that swiftd, watching the lane alone, turns to the socket at once
//     and needs no system call per look; swiftd, reading it there, notes
//     the mark as seen (SocketRequestArrived).
//   - The answer goes the same way, mirrored: the client sets
//     client_watching while it waits for its answers; swiftd posts the
//     answer in the lane only while the client watches, and rings the
//     doorbell (a FastResponse with lane_doorbell) if it stopped. An answer
//     swiftd sends on the socket instead is marked in the lane
//     (PostAnswerOnSocket), so that a watching client reads it at once.
// Every post carries the call's id: the answer slot holds the answer to one
// call, and a stale doorbell is recognised by its id.
//
// swiftd makes the memory (a sealed memfd: the client can neither shrink
// it under swiftd's feet nor grow it) and trusts nothing in it: a request
// is copied out of the lane, bounds checked, before it is parsed, and a
// client that scribbles on its lane only garbles its own calls.
// Not thread-safe: one call at a time, as on the connection it goes with.
#ifndef SWIFT_COMMON_CALL_LANE_H_
#define SWIFT_COMMON_CALL_LANE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace swift {

class CallLane final {
 public:
  // The largest request or answer the lane carries; larger ones go on the
  // socket (listings do; pings, connects and closes fit).
  static constexpr size_t kSlotBytes = 8064;
  // The size of the shared memory.
  static constexpr size_t kBytes = 16384;

  // Create()
  //
  // swiftd's side: a new lane, and in `*for_client` the sealed memfd to
  // send the client (SCM_RIGHTS), which maps it with Map().
  static absl::StatusOr<CallLane> Create(UniqueFd* for_client);

  // Map()
  //
  // The client's side: maps the memfd swiftd sent (then closed here).
  // kInvalidArgument when it is not a lane.
  static absl::StatusOr<CallLane> Map(UniqueFd fd);

  CallLane(CallLane&&) = default;
  CallLane& operator=(CallLane&&) = default;
  ~CallLane() = default;

  // The client's side.

  // Whether swiftd's connection thread is watching the lane right now.
  bool server_watching() const;
  // Posts request `call_id`; false when it does not fit (send it on the
  // socket). Then check server_watching() and ring the doorbell if false.
  bool PostRequest(uint64_t call_id, absl::string_view request);
  // Marks that request `call_id` goes on the socket (before sending it).
  void PostRequestOnSocket(uint64_t call_id);
  void set_client_watching(bool watching);

  enum class Answer {
    kNotYet,
    // Copied to `*answer`.
    kHere,
    // swiftd sent it on the socket: read it there.
    kOnSocket,
  };
  // The answer to `call_id`, if swiftd posted it.
  Answer TakeAnswer(uint64_t call_id, std::string* answer) const;

  // swiftd's side.

  void set_server_watching(bool watching);
  bool client_watching() const;

  enum class Request {
    kNone,
    // Copied to `*request` (its call id in `*call_id`).
    kHere,
    // The client sends it on the socket: read it there.
    kOnSocket,
    // The client posted a size past the slot: it broke the lane's rules.
    kMalformed,
  };
  // A request posted since the last one taken.
  Request TakeRequest(uint64_t* call_id, std::string* request);
  // Request `call_id` came on the socket: its mark in the lane, if that is
  // what the lane holds, is taken with it.
  void SocketRequestArrived(uint64_t call_id);
  // Posts the answer to `call_id`; false when it does not fit. Then check
  // client_watching() and ring the doorbell if false.
  bool PostAnswer(uint64_t call_id, absl::string_view answer);
  // Marks that the answer to `call_id` went on the socket.
  void PostAnswerOnSocket(uint64_t call_id);

 private:
  struct Layout;
  struct Unmap {
    void operator()(Layout* layout) const;
  };

  explicit CallLane(Layout* layout) : layout_(layout) {}

  std::unique_ptr<Layout, Unmap> layout_;
  // swiftd's side: the id of the last request taken (ids start at 1).
  uint64_t last_request_ = 0;
};

}  // namespace swift

#endif  // SWIFT_COMMON_CALL_LANE_H_
