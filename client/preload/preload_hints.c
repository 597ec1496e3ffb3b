/* preload_hints: parsing and trust checks; see preload_hints.h. */
#include "client/preload/preload_hints.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The provider knobs swiftd may set. Anything else in a hints file is a
 * sign of tampering or of a bug, never something to export blindly. */
static const char* const kAllowedEnv[] = {"MLX5_STALL_CQ_POLL"};

static int Refuse(const char* why, const char** error) {
  *error = why;
  return -1;
}

static int IsAllowedEnv(const char* name, size_t length) {
  for (size_t i = 0; i < sizeof(kAllowedEnv) / sizeof(kAllowedEnv[0]); ++i) {
    if (strlen(kAllowedEnv[i]) == length &&
        memcmp(kAllowedEnv[i], name, length) == 0) {
      return 1;
    }
  }
  return 0;
}

static int IsShortNumber(const char* value, size_t length) {
  if (length == 0 || length >= kSwiftHintsEnvMax) return 0;
  for (size_t i = 0; i < length; ++i) {
    if (!isdigit((unsigned char)value[i])) return 0;
  }
  return 1;
}

/* A device name as swiftd writes it: 1 to kSwiftHintsDeviceNameMax - 1
 * characters of [A-Za-z0-9_.-] (ASCII whatever the program's locale). */
static int IsDeviceName(const char* name, size_t length) {
  if (length == 0 || length >= kSwiftHintsDeviceNameMax) return 0;
  for (size_t i = 0; i < length; ++i) {
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return 0;
    }
  }
  return 1;
}

/* Copies [begin, begin+length) into dest (capacity bytes) with a NUL. */
static void CopyField(char* dest, size_t capacity, const char* begin,
                      size_t length) {
  if (length >= capacity) length = capacity - 1;
  memcpy(dest, begin, length);
  dest[length] = '\0';
}

/* One line without its newline: "key value..." */
static int ParseLine(const char* line, size_t length,
                     struct swift_preload_hints* hints, int* saw_pid,
                     const char** error) {
  const char* space = memchr(line, ' ', length);
  if (space == NULL) return Refuse("a line without a value", error);
  const size_t key_length = (size_t)(space - line);
  const char* value = space + 1;
  const size_t value_length = length - key_length - 1;
  if (key_length == 3 && memcmp(line, "pid", 3) == 0) {
    char digits[24];
    if (!IsShortNumber(value, value_length) ||
        value_length >= sizeof(digits)) {
      return Refuse("pid is not a number", error);
    }
    CopyField(digits, sizeof(digits), value, value_length);
    hints->pid = strtol(digits, NULL, 10);
    if (hints->pid <= 0) return Refuse("pid is not positive", error);
    *saw_pid = 1;
    return 0;
  }
  if (key_length == 8 && memcmp(line, "provider", 8) == 0) {
    if (hints->provider_count == kSwiftHintsMaxProviders) {
      return Refuse("too many providers", error);
    }
    if (value_length == 0 || value[0] != '/' ||
        value_length >= kSwiftHintsPathMax ||
        memchr(value, '\0', value_length) != NULL) {
      return Refuse("a provider path is not absolute or too long", error);
    }
    CopyField(hints->providers[hints->provider_count++], kSwiftHintsPathMax,
              value, value_length);
    return 0;
  }
  if (key_length == 6 && memcmp(line, "import", 6) == 0) {
    if (!IsDeviceName(value, value_length)) {
      return Refuse("an import names no valid device", error);
    }
    if (hints->import_count == kSwiftHintsMaxImports) {
      return Refuse("too many import lines", error);
    }
    CopyField(hints->import_devices[hints->import_count++],
              kSwiftHintsDeviceNameMax, value, value_length);
    return 0;
  }
  if (key_length == 3 && memcmp(line, "env", 3) == 0) {
    const char* name_end = memchr(value, ' ', value_length);
    if (name_end == NULL) return Refuse("env needs a name and a value", error);
    const size_t name_length = (size_t)(name_end - value);
    const char* number = name_end + 1;
    const size_t number_length = value_length - name_length - 1;
    if (!IsAllowedEnv(value, name_length)) {
      return Refuse("env names a variable swiftd never sets", error);
    }
    if (!IsShortNumber(number, number_length)) {
      return Refuse("env value is not a short number", error);
    }
    if (hints->env_count == kSwiftHintsMaxEnv) {
      return Refuse("too many env lines", error);
    }
    CopyField(hints->env_names[hints->env_count], kSwiftHintsEnvMax, value,
              name_length);
    CopyField(hints->env_values[hints->env_count], kSwiftHintsEnvMax, number,
              number_length);
    ++hints->env_count;
    return 0;
  }
  return 0; /* An unknown key: a newer swiftd's; ignored. */
}

int swift_parse_preload_hints(const char* text, size_t length,
                              struct swift_preload_hints* hints,
                              const char** error) {
  static const char kHeader[] = "swift-preload-hints 1\n";
  memset(hints, 0, sizeof(*hints));
  if (length > kSwiftHintsFileMax) return Refuse("the file is too big", error);
  if (length < sizeof(kHeader) - 1 ||
      memcmp(text, kHeader, sizeof(kHeader) - 1) != 0) {
    return Refuse("not a version 1 hints file", error);
  }
  int saw_pid = 0;
  size_t at = sizeof(kHeader) - 1;
  while (at < length) {
    const char* line = text + at;
    const char* newline = memchr(line, '\n', length - at);
    if (newline == NULL) return Refuse("the last line is unterminated", error);
    const size_t line_length = (size_t)(newline - line);
    if (line_length > 0 &&
        ParseLine(line, line_length, hints, &saw_pid, error) != 0) {
      return -1;
    }
    at += line_length + 1;
  }
  if (!saw_pid) return Refuse("no pid line", error);
  return 0;
}

int swift_hints_can_import(const struct swift_preload_hints* hints,
                           const char* device) {
  if (hints == NULL || device == NULL) return 0;
  for (int i = 0; i < hints->import_count && i < kSwiftHintsMaxImports; ++i) {
    if (strcmp(hints->import_devices[i], device) == 0) return 1;
  }
  return 0;
}

static int CheckTrustedStat(const struct stat* st, uid_t euid,
                            const char** error) {
  if (!S_ISREG(st->st_mode)) return Refuse("not a regular file", error);
  if (st->st_uid != 0 && st->st_uid != euid) {
    return Refuse("owned by another user", error);
  }
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Refuse("writable by group or others", error);
  }
  return 0;
}

int swift_check_trusted_file(int fd, uid_t euid, const char** error) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Refuse("fstat failed", error);
  return CheckTrustedStat(&st, euid, error);
}

/* Whether `pid` is a running swiftd (not a recycled pid). */
static int SwiftdAlive(long pid) {
  if (kill((pid_t)pid, 0) != 0 && errno != EPERM) return 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char comm[32] = {0};
  const ssize_t got = read(fd, comm, sizeof(comm) - 1);
  close(fd);
  return got >= 6 && strncmp(comm, "swiftd", 6) == 0;
}

int swift_read_hints(const char* path, struct swift_preload_hints* hints,
                     const char** why) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Refuse("no hints file (is swiftd running?)", why);
  const char* error = NULL;
  if (swift_check_trusted_file(fd, geteuid(), &error) != 0) {
    close(fd);
    return Refuse("hints file not trusted", why);
  }
  char text[kSwiftHintsFileMax + 1];
  size_t length = 0;
  for (;;) {
    const ssize_t got = read(fd, text + length, sizeof(text) - length);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    length += (size_t)got;
    if (length == sizeof(text)) break;
  }
  close(fd);
  if (swift_parse_preload_hints(text, length, hints, &error) != 0) {
    return Refuse("malformed hints", why);
  }
  return 0;
}

int swift_read_live_hints(const char* path, struct swift_preload_hints* hints,
                          const char** why) {
  if (swift_read_hints(path, hints, why) != 0) return -1;
  if (!SwiftdAlive(hints->pid)) {
    return Refuse("the swiftd that wrote the hints is gone", why);
  }
  return 0;
}

int swift_load_provider(const char* path, const char** why) {
  /* stat(), not open() and fstat(): dlopen() opens the file anyway (by
   * path, as stat() checks it), and an open of its own cost ~1 ms of a
   * cold start in the guest, whose files are on 9p. */
  struct stat st;
  if (stat(path, &st) != 0) return Refuse("provider missing", why);
  const char* error = NULL;
  if (CheckTrustedStat(&st, geteuid(), &error) != 0) {
    return Refuse("provider not trusted", why);
  }
  if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == NULL) {
    return Refuse("dlopen of the provider failed", why);
  }
  return 0;
}
