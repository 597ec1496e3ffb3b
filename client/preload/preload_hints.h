/*
 * preload_hints: what libswift_preload.so reads from the file swiftd keeps
 * for it (<swiftd's socket directory>/preload.hints), and the checks that
 * make that file and the libraries it names safe to act on.
 *
 * The file is small line-oriented text, so that the preload needs no
 * protobuf, absl or C++ runtime (it is loaded into every verbs program):
 *
 *   swift-preload-hints 1
 *   pid 1234
 *   provider /usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so
 *   import rxe0
 *   env MLX5_STALL_CQ_POLL 0
 *
 * "pid" is the swiftd that wrote it (the preload steps aside when that
 * process is gone); each "provider" is a libibverbs provider library that
 * serves one of the host's devices; each "import" names a device whose
 * open context swiftd can hand to a client for ibv_import_device (libswift
 * then asks for it instead of opening the device itself; at most
 * kSwiftHintsMaxImports, a name of 1 to kSwiftHintsDeviceNameMax - 1
 * characters of [A-Za-z0-9_.-]); each "env" is a provider knob swiftd
 * determined for this host, applied only when the program has not set it.
 * Unknown keys are ignored (newer swiftd, older preload: "import" needed
 * no new version); a bad line makes the whole file invalid.
 *
 * Plain C, no allocation, no dependency beyond libc: the preload and
 * libswift's cold start both use it. All functions are reentrant.
 */
#ifndef SWIFT_CLIENT_PRELOAD_PRELOAD_HINTS_H_
#define SWIFT_CLIENT_PRELOAD_PRELOAD_HINTS_H_

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  kSwiftHintsVersion = 1,
  kSwiftHintsMaxProviders = 8,
  kSwiftHintsMaxEnv = 4,
  kSwiftHintsPathMax = 256,
  kSwiftHintsEnvMax = 32,
  kSwiftHintsMaxImports = 8,
  /* A device name and its NUL, as the kernel's IB_DEVICE_NAME_MAX. */
  kSwiftHintsDeviceNameMax = 64,
  /* Larger files are refused: swiftd never writes more than this. */
  kSwiftHintsFileMax = 4096,
};

struct swift_preload_hints {
  long pid;
  int provider_count;
  char providers[kSwiftHintsMaxProviders][kSwiftHintsPathMax];
  int env_count;
  char env_names[kSwiftHintsMaxEnv][kSwiftHintsEnvMax];
  char env_values[kSwiftHintsMaxEnv][kSwiftHintsEnvMax];
  int import_count;
  char import_devices[kSwiftHintsMaxImports][kSwiftHintsDeviceNameMax];
};

/*
 * Parses `length` bytes of `text`. Returns 0 and fills `*hints`, or -1 with
 * `*error` pointing at a static description. Refused: a missing or other
 * version header, no pid, a provider path that is not absolute or too
 * long, more providers, import or env lines than the limits, an import
 * whose device name is empty, too long or has a character outside
 * [A-Za-z0-9_.-], an env name outside the allowed set (only knobs swiftd
 * is known to write) or a value that is not a short decimal number.
 */
int swift_parse_preload_hints(const char* text, size_t length,
                              struct swift_preload_hints* hints,
                              const char** error);

/*
 * Whether `hints` lists `device` in an "import" line: swiftd can hand its
 * context to this process for ibv_import_device. Returns 1 or 0 (also for
 * a NULL `hints` or `device`).
 */
int swift_hints_can_import(const struct swift_preload_hints* hints,
                           const char* device);

/*
 * Whether a file (open as `fd`) may be trusted by a process running as
 * `euid`: a regular file owned by root or by `euid`, writable by nobody
 * else (no group or other write bit). Returns 0, or -1 with `*error`.
 */
int swift_check_trusted_file(int fd, uid_t euid, const char** error);

/*
 * Reads the hints file at `path` and checks that it is safe to act on: a
 * trusted file (above) for this process's euid, well formed. Returns 0 and
 * fills `*hints`, or -1 with `*why` (no file, untrusted, malformed).
 */
int swift_read_hints(const char* path, struct swift_preload_hints* hints,
                     const char** why);

/*
 * swift_read_hints(), and the swiftd that wrote the file still runs (the
 * pid is alive and named "swiftd"): what the preload needs to step aside
 * when swiftd is gone. libswift reads without this check: a session
 * needs swiftd anyway and fails clearly without it, and a provider named
 * by a stale file is still a trusted file (~0.25 ms less of a cold start
 * in the guest).
 */
int swift_read_live_hints(const char* path, struct swift_preload_hints* hints,
                          const char** why);

/*
 * dlopen()s provider library `path` (RTLD_NOW | RTLD_GLOBAL) when it is a
 * trusted file; it stays loaded for the life of the process: its
 * constructor registers the driver with libibverbs, which then matches
 * devices to it without loading any other provider. Returns 0, or -1 with
 * `*why` (missing, untrusted, dlopen's error).
 */
int swift_load_provider(const char* path, const char** why);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  /* SWIFT_CLIENT_PRELOAD_PRELOAD_HINTS_H_ */
