/*
 * swift_request_shared_context(): libswift_preload.so asking swiftd for a
 * device context it shares (ShareContextCall in proto/fast_path.proto;
 * only on devices whose provider can import: mlx5, efa), so that the
 * program's ibv_open_device imports it instead of opening the device.
 *
 * One short fast-path connection: hello, the call, the answer with the
 * context's command fd (SCM_RIGHTS), then closed. swiftd closes its own
 * copy when that connection ends; the program's fd alone keeps the
 * context from then on, as if the program had opened it. Each receive
 * waits at most a second, so that a stuck swiftd delays the program by
 * that at most, and then it opens the device itself.
 *
 * Plain C, no dependency beyond libc (preload_hints.h says why).
 */
#ifndef SWIFT_CLIENT_PRELOAD_SHARED_CONTEXT_REQUEST_H_
#define SWIFT_CLIENT_PRELOAD_SHARED_CONTEXT_REQUEST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Asks swiftd's fast path at `socket_path` for a context of `device`.
 * Returns the context's command fd (close-on-exec; the caller owns it)
 * and sets `*pd_handle`, or returns -1 and writes why into `why`
 * (`why_size` bytes, NUL-terminated): swiftd not there, its refusal, a
 * malformed answer.
 */
int swift_request_shared_context(const char* socket_path, const char* device,
                                 uint32_t* pd_handle, char* why,
                                 size_t why_size);

/*
 * The fast-path socket beside a hints file: "<dir of hints_path>/
 * swiftd.fast.sock" (swiftd's default socket names). Returns 0, or -1 when
 * it does not fit in `size` bytes.
 */
int swift_fast_path_beside(const char* hints_path, char* path, size_t size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWIFT_CLIENT_PRELOAD_SHARED_CONTEXT_REQUEST_H_ */
