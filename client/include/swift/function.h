/* The C ABI of a Swift function: what a shared library exports so that
 * swiftd's workers can run it, like an OpenWhisk action.
 *
 * A function library exports
 *
 *   int swift_function(const struct swift_invocation* invocation);
 *
 * which returns 0 on success (the result is what it wrote into
 * invocation->result) and any other value on failure (reported to the
 * caller as an error carrying that value and, if the function wrote one,
 * its result as the error's text: up to 256 bytes, e.g. "out of memory"). It runs in an instance: a fresh
 * worker (cold), or a child forked from a worker that already holds an open
 * device, a registered shared buffer and connected QPs (fork, warm). The
 * connections are plain verbs objects; post sends through
 * invocation->post_send, which rings the doorbell the way a forked process
 * must on this provider, and refuses memory a forked child cannot share
 * with the NIC (private, non-MAP_SHARED mappings).
 *
 * Thread-safety: an instance runs one invocation at a time; the function
 * may use its connections from one thread.
 */
#ifndef SWIFT_CLIENT_INCLUDE_SWIFT_FUNCTION_H_
#define SWIFT_CLIENT_INCLUDE_SWIFT_FUNCTION_H_

#include <infiniband/verbs.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The symbol a function library exports. */
#define SWIFT_FUNCTION_SYMBOL "swift_function"

/* One connected RC QP of the instance, to one of the peers the function
 * declared, with the shared buffer registered for it. */
struct swift_connection_view {
  struct ibv_qp* qp;
  struct ibv_cq* cq; /* Sends and receives of qp complete here. */
  struct ibv_mr* mr; /* The instance's buffer (MAP_SHARED memory). */
  uint8_t* buffer;
  size_t buffer_size;
  /* What the peer advertised for RDMA WRITE/READ (length 0: nothing). */
  uint64_t remote_addr;
  uint64_t remote_length;
  uint32_t remote_rkey;
};

struct swift_invocation {
  const uint8_t* payload;
  size_t payload_size;
  const struct swift_connection_view* connections;
  size_t connection_count;
  /* Posts `wr` (and its chain) on connections[connection] exactly once.
   * Returns 0, or an errno value: EPERM when a request's memory is private
   * (it would be lost after fork), EINVAL for a bad index, or the
   * provider's error. `context` is invocation->context. */
  int (*post_send)(void* context, size_t connection, struct ibv_send_wr* wr);
  /* Why the last post_send failed, for the function's error message. */
  const char* (*last_error)(void* context);
  void* context;
  /* Where the function writes its result, up to result_capacity bytes, and
   * how many it wrote. */
  uint8_t* result;
  size_t result_capacity;
  size_t* result_size;
};

typedef int (*swift_function_fn)(const struct swift_invocation* invocation);

#ifdef __cplusplus
}
#endif

#endif /* SWIFT_CLIENT_INCLUDE_SWIFT_FUNCTION_H_ */
