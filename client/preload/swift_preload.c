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
 *    /proc/cpuinfo), never overriding what the program's environment set;
 *  - on devices whose contexts swiftd shares (the hints' "import" lines:
 *    providers that can import, mlx5 and efa, never rxe), makes the
 *    program's ibv_open_device import a context swiftd opened ahead of
 *    time (shared_context_request.h) instead of opening the device; on
 *    any refusal or failure it opens the device as it always would.
 * It steps aside, changing nothing, when the program does not use
 * libibverbs, when it runs setuid, when SWIFT_PRELOAD_DISABLE is set, and
 * when the hints are missing, untrusted, malformed or written by a swiftd
 * that is no longer running.
 *
 * Environment: SWIFT_PRELOAD_HINTS (default /run/swift/preload.hints),
 * SWIFT_PRELOAD_DEBUG=1 (say on stderr what was done or why not),
 * SWIFT_PRELOAD_NO_IMPORT=1 (keep the other cuts, open devices as usual).
 *
 * Plain C with no dependency beyond libc, on purpose: every library the
 * preload pulled in would be loaded into every verbs program before it
 * saved anything.
 */
#define _GNU_SOURCE /* dlvsym, RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "client/preload/preload_hints.h"
#include "client/preload/shared_context_request.h"

/* libibverbs' types, opaque here: the preload does not include its
 * headers' inline functions nor link it. */
struct ibv_device;
struct ibv_context;

static int debug_enabled;
/* Set by the constructor, read-only after: the hints, and whether (and
 * where) to ask swiftd for shared contexts. */
static struct swift_preload_hints hints; /* ~2.8 KiB: off the stack. */
static int import_enabled;
static char fast_path[kSwiftHintsPathMax];

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
  if (hints.import_count > 0 && getenv("SWIFT_PRELOAD_NO_IMPORT") == NULL &&
      swift_fast_path_beside(path, fast_path, sizeof(fast_path)) == 0) {
    import_enabled = 1;
    Say("contexts imported from swiftd on", hints.import_devices[0]);
  }
}

/* libibverbs' own functions, looked up on first use (the program may load
 * libibverbs after this library's constructor). */
typedef struct ibv_context* (*OpenDevice)(struct ibv_device*);
typedef struct ibv_context* (*ImportDevice)(int);
typedef const char* (*DeviceName)(struct ibv_device*);

static void* Real(const char* name, const char* version) {
  void* function = dlvsym(RTLD_NEXT, name, version);
  return function != NULL ? function : dlsym(RTLD_NEXT, name);
}

/* The device's context from swiftd (imported), or NULL to open it. */
static struct ibv_context* ImportFromSwiftd(struct ibv_device* device) {
  DeviceName device_name =
      (DeviceName)Real("ibv_get_device_name", "IBVERBS_1.1");
  ImportDevice import_device =
      (ImportDevice)Real("ibv_import_device", "IBVERBS_1.10");
  const char* name = device_name != NULL ? device_name(device) : NULL;
  if (name == NULL || import_device == NULL ||
      !swift_hints_can_import(&hints, name)) {
    return NULL;
  }
  char why[256];
  uint32_t pd_handle = 0;
  const int fd = swift_request_shared_context(fast_path, name, &pd_handle, why,
                                              sizeof(why));
  if (fd < 0) {
    Say("opening the device here; swiftd shared no context", why);
    return NULL;
  }
  const int saved_errno = errno;
  struct ibv_context* context = import_device(fd); /* Owns fd if it works. */
  if (context == NULL) {
    Say("opening the device here; ibv_import_device failed", strerror(errno));
    close(fd);
    errno = saved_errno;
    return NULL;
  }
  /* The PD swiftd made with it is unused here: it goes with the context. */
  Say("context imported from swiftd", name);
  return context;
}

/* Interposes libibverbs' ibv_open_device (also for librdmacm's calls). */
struct ibv_context* ibv_open_device(struct ibv_device* device) {
  if (import_enabled && device != NULL) {
    struct ibv_context* imported = ImportFromSwiftd(device);
    if (imported != NULL) return imported;
  }
  OpenDevice open_device = (OpenDevice)Real("ibv_open_device", "IBVERBS_1.1");
  if (open_device == NULL) {
    errno = ENOSYS;
    return NULL;
  }
  return open_device(device);
}
