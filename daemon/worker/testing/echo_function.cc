// A Swift function for the worker's host tests: copies its payload into its
// result; the payload "fail" makes it return 7 with "failed" as its text.
// Uses no connection.
#include <cstring>

#include "swift/function.h"

extern "C" int swift_function(const struct swift_invocation* invocation) {
  const char kFail[] = "fail";
  if (invocation->payload_size == sizeof(kFail) - 1 &&
      std::memcmp(invocation->payload, kFail, sizeof(kFail) - 1) == 0) {
    std::memcpy(invocation->result, "failed", 6);
    *invocation->result_size = 6;
    return 7;
  }
  const size_t size = invocation->payload_size < invocation->result_capacity
                          ? invocation->payload_size
                          : invocation->result_capacity;
  std::memcpy(invocation->result, invocation->payload, size);
  *invocation->result_size = size;
  return 0;
}
