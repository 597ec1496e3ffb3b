// What Swift's fuzz targets share: one encoding of "several messages in one
// fuzz input", a bounded conversation with a server on a socket, an fd
// count for leak checks, quiet logs and a private scratch directory.
//
// The targets (tests/fuzz/*_fuzz.cc) are libFuzzer entry points built by
// --config=fuzz; this library is plain C++ so that the seed writer
// (write_seeds.cc), built by any config, encodes inputs the same way.
#ifndef SWIFT_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define SWIFT_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace swift::fuzz {

// The most messages SplitMessages() returns: more add nothing a fuzzer
// needs and would only slow each run down.
inline constexpr size_t kMaxMessages = 32;

// SplitMessages()
//
// Cuts a fuzz input into messages: bytes are taken as they are, except
// that "\\\\" stands for one backslash and a backslash followed by any
// other byte ends the message (both bytes dropped). The end of the input
// ends the last message. The encoding of FuzzedDataProvider's
// ConsumeRandomLengthString(), so that mutations split and join messages.
std::vector<std::string> SplitMessages(absl::string_view input);

// JoinMessages()
//
// The input SplitMessages() cuts into `messages` (for seeds).
std::string JoinMessages(const std::vector<std::string>& messages);

// Exchange()
//
// Sends `chunks` on the connected socket `fd` (each chunk one send: one
// datagram on SOCK_SEQPACKET, a piece of the stream on SOCK_STREAM), then
// shuts the sending side down, while reading and keeping whatever the peer
// answers, until the peer ends the conversation (EOF, reset). `fds_for`
// (may be empty) says, per chunk, whether to attach a descriptor (of
// /dev/null) with SCM_RIGHTS. Never blocks past `timeout`: a server that
// neither answers nor closes within it is a hang, and the target aborts
// (libFuzzer saves the input).
std::vector<std::string> Exchange(int fd, const std::vector<std::string>& chunks,
                                  const std::vector<bool>& fds_for,
                                  absl::Duration timeout = absl::Seconds(10));

// OpenFdCount()
//
// The process's open descriptors (entries of /proc/self/fd), less the
// sanitizer runtime's momentary probe pipes (see fuzz_support.cc).
int OpenFdCount();

// ExpectFdCount()
//
// Waits (up to 2 s: servers close on their own threads) until exactly
// `expected` descriptors are open; aborts naming `what` otherwise.
void ExpectFdCount(int expected, absl::string_view what);

// QuietLogs()
//
// glog to stderr, errors and worse only: the servers log every bad input,
// and a fuzzer makes millions. (FATAL still aborts.)
void QuietLogs();

// ScratchDirectory()
//
// A fresh private directory (mode 0700) for this process, on tmpfs when
// /dev/shm is usable (fsync there is free), removed at exit.
std::string ScratchDirectory(absl::string_view name);

// Check()
//
// A fuzz target's assertion: prints `what` and aborts when `condition` is
// false. Kept in every build mode (unlike assert()).
void Check(bool condition, absl::string_view what);

}  // namespace swift::fuzz

#endif  // SWIFT_TESTS_FUZZ_FUZZ_SUPPORT_H_
