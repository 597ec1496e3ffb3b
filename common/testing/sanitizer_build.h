// Whether this test binary was built with AddressSanitizer
// (--config=asan), for the few checks that cannot hold under it and say
// why where they are left out.
//
// ASan reserves ~15 TB of address space for its shadow at start, so a
// process under an RLIMIT_AS (a function's memory_limit_bytes) cannot even
// start; and a library put first by LD_PRELOAD must let ASan's runtime
// come first (ASAN_OPTIONS=verify_asan_link_order=0 tells it not to mind).
#ifndef SWIFT_COMMON_TESTING_SANITIZER_BUILD_H_
#define SWIFT_COMMON_TESTING_SANITIZER_BUILD_H_

// SWIFT_ADDRESS_SANITIZER_BUILD: 1 under ASan, else 0, for the
// preprocessor (a test that cannot run under ASan is left out, with the
// reason beside it, rather than skipped: the guest run fails on skips).
#if defined(__SANITIZE_ADDRESS__)
#define SWIFT_ADDRESS_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWIFT_ADDRESS_SANITIZER_BUILD 1
#endif
#endif
#ifndef SWIFT_ADDRESS_SANITIZER_BUILD
#define SWIFT_ADDRESS_SANITIZER_BUILD 0
#endif

namespace swift {
namespace testing {

inline constexpr bool kAddressSanitizerBuild = SWIFT_ADDRESS_SANITIZER_BUILD;

}  // namespace testing
}  // namespace swift

#endif  // SWIFT_COMMON_TESTING_SANITIZER_BUILD_H_
