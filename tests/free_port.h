// FreeLoopbackPort(): a TCP port free on 127.0.0.1 at the time of the call
// (bound once, then released), for servers a test starts.
#ifndef SWIFT_TESTS_FREE_PORT_H_
#define SWIFT_TESTS_FREE_PORT_H_

#include <cstdint>

namespace swift::testing {

uint16_t FreeLoopbackPort();

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FREE_PORT_H_
