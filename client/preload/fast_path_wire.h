/*
 * fast_path_wire: the few fast-path messages libswift_preload.so exchanges
 * with swiftd (proto/fast_path.proto), in protobuf's wire format by hand:
 * a FastRequest with a hello, one with a share_context call, and the
 * fields of a FastResponse the preload reads. The preload is loaded into
 * every verbs program and must not pull protobuf in (preload_hints.h says
 * why); proto/fast_path.proto stays the one contract, and
 * fast_path_wire_test checks these bytes against the generated code.
 *
 * Plain C, no allocation, reentrant.
 */
#ifndef SWIFT_CLIENT_PRELOAD_FAST_PATH_WIRE_H_
#define SWIFT_CLIENT_PRELOAD_FAST_PATH_WIRE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /* common/version.h's kControlApiVersion (the test checks they agree). */
  kSwiftWireApiVersion = 1,
  /* What a response's message is cut to. */
  kSwiftWireMessageMax = 256,
};

/*
 * Writes a FastRequest {call_id, hello {api_version, client_name, pid,
 * channel CALLS}} into `buffer` (`capacity` bytes). Returns its length,
 * or 0 when it does not fit.
 */
size_t swift_wire_hello(uint64_t call_id, const char* client_name, long pid,
                        char* buffer, size_t capacity);

/* Writes a FastRequest {call_id, share_context {device}}; as above. */
size_t swift_wire_share_context(uint64_t call_id, const char* device,
                                char* buffer, size_t capacity);

struct swift_wire_response {
  uint64_t call_id;
  int32_t code; /* absl::StatusCode; 0 is OK. */
  char message[kSwiftWireMessageMax];
  int has_hello;
  int has_share_context;
  uint64_t context_id;
  uint32_t pd_handle;
};

/*
 * Parses a FastResponse, skipping fields it does not read. Returns 0, or
 * -1 for bytes that are not a well-formed message.
 */
int swift_wire_parse_response(const char* data, size_t length,
                              struct swift_wire_response* response);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWIFT_CLIENT_PRELOAD_FAST_PATH_WIRE_H_ */
