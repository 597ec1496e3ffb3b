/*
 * libswift_preload.so: swiftd's cold-start cuts for unmodified verbs
 * programs (perftest, ibv_rc_pingpong, rping, ibv_devinfo...):
 *
 *   LD_PRELOAD=/usr/lib/swift/libswift_preload.so ib_write_lat -d rxe0
 *
 * Before main(), it reads the hints swiftd keeps beside its socket
 * (preload_hints.h) and
 *  - dlopen()s (RTLD_NOW | RTLD_GLOBAL) only the provider libraries that
 *    serve the host's devices: their constructors register the drivers,
 *    libibverbs matches every device to them and never loads the other
 *    providers (measured on rxe: the first ibv_get_device_list 24-28 ms
 *    -> 5.5-6.2 ms; ARCHITECTURE.md, "cold path");
 *  - exports the provider knobs swiftd determined for this host (mlx5: a
 *    set MLX5_STALL_CQ_POLL spares every ibv_open_device a read of
 *    /proc/cpuinfo), never overriding what the program's environment set.
 * It steps aside, changing nothing, when the program does not use
 * libibverbs, when it runs setuid, when SWIFT_PRELOAD_DISABLE is set, and
 * when the hints are missing, untrusted, malformed or written by a swiftd
 * that is no longer running. Context import (mlx5) is not done here yet.
 *
 * Environment: SWIFT_PRELOAD_HINTS (default /run/swift/preload.hints),
 * SWIFT_PRELOAD_DEBUG=1 (say on stderr what was done or why not).
 *
 * Plain C with no dependency beyond libc, on purpose: every library the
 * preload pulled in would be loaded into every verbs program before it
 * saved anything.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "client/preload/preload_hints.h"

static int debug_enabled;

static void Say(const char* what, const char* detail) {
  if (debug_enabled) {
    fprintf(stderr, "swift_preload: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
  }
}

__attribute__((constructor)) static void SwiftPreloadInit(void) {
  debug_enabled = getenv("SWIFT_PRELOAD_DEBUG") != NULL;
  if (getauxval(AT_SECURE) != 0 || getenv("SWIFT_PRELOAD_DISABLE") != NULL) {
    Say("disabled", NULL);
    return;
  }
  /* Only verbs programs: the program's own libraries are mapped before any
   * constructor runs, so libibverbs is there already if it is needed. */
  void* verbs = dlopen("libibverbs.so.1", RTLD_NOLOAD | RTLD_LAZY);
  if (verbs == NULL) {
    Say("not a verbs program; stepping aside", NULL);
    return;
  }
  dlclose(verbs); /* Drops only the reference NOLOAD took. */

  const char* path = getenv("SWIFT_PRELOAD_HINTS");
  if (path == NULL || path[0] == '\0') path = "/run/swift/preload.hints";
  static struct swift_preload_hints hints; /* ~2.5 KiB: off the stack. */
  const char* why = NULL;
  if (swift_read_live_hints(path, &hints, &why) != 0) {
    Say("stepping aside", why);
    return;
  }
  for (int i = 0; i < hints.env_count; ++i) {
    if (getenv(hints.env_names[i]) == NULL) {
      setenv(hints.env_names[i], hints.env_values[i], 0);
      Say("set", hints.env_names[i]);
    }
  }
  for (int i = 0; i < hints.provider_count; ++i) {
    if (swift_load_provider(hints.providers[i], &why) == 0) {
      Say("provider loaded", hints.providers[i]);
    } else {
      Say(why, hints.providers[i]);
    }
  }
}
