/*
 * spawn_ready: times one fresh process from spawn to "ready", for the
 * cold-start benchmark's whole-process figures.
 *
 *   spawn_ready [NAME=VALUE...] -- PROGRAM ARGS...
 *
 * Runs PROGRAM with the extra environment variables, its fd 3 the write
 * end of a pipe; an argument that is exactly "{READY_FD}" becomes "3". The
 * program writes one byte to fd 3 when it is ready (cold_start_raw,
 * cold_start_swift). Prints ONE line: the program's own stdout line with
 * "whole_us" (fork to the ready byte) and "exit_code" added:
 *   {"whole_us":..,"exit_code":0,<the program's JSON fields>}
 * or {"whole_us":-1,"exit_code":N,"ok":false} when no byte came.
 * Plain C: the runner's own start-up is not measured, but it stays small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double NowUs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1e6 + now.tv_nsec / 1e3;
}

int main(int argc, char** argv) {
  int dash = 1;
  while (dash < argc && strcmp(argv[dash], "--") != 0) ++dash;
  if (dash + 1 >= argc) {
    fprintf(stderr, "usage: %s [NAME=VALUE...] -- PROGRAM ARGS...\n",
            argv[0]);
    return 2;
  }
  for (int i = dash + 1; i < argc; ++i) {
    if (strcmp(argv[i], "{READY_FD}") == 0) argv[i] = "3";
  }
  int ready[2];
  int output[2];
  if (pipe(ready) != 0 || pipe(output) != 0) {
    perror("pipe");
    return 1;
  }
  const double start = NowUs();
  const pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    for (int i = 1; i < dash; ++i) putenv(argv[i]);
    /* Read ends first: one of them may be fd 3 itself. */
    close(ready[0]);
    close(output[0]);
    if (ready[1] != 3) {
      dup2(ready[1], 3);
      close(ready[1]);
    }
    dup2(output[1], 1);
    if (output[1] != 1 && output[1] != 3) close(output[1]);
    execvp(argv[dash + 1], argv + dash + 1);
    perror(argv[dash + 1]);
    _exit(127);
  }
  close(ready[1]);
  close(output[1]);
  char byte;
  const double whole_us = read(ready[0], &byte, 1) == 1 ? NowUs() - start : -1;
  close(ready[0]);
  /* The program's first stdout line: its JSON object. */
  static char line[65536];
  size_t length = 0;
  ssize_t got;
  while (length < sizeof(line) - 1 &&
         (got = read(output[0], line + length, sizeof(line) - 1 - length)) >
             0) {
    length += (size_t)got;
  }
  close(output[0]);
  line[length] = '\0';
  char* newline = strchr(line, '\n');
  if (newline != NULL) *newline = '\0';
  int status = 0;
  waitpid(pid, &status, 0);
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (line[0] == '{' && line[1] != '\0' && line[1] != '}') {
    printf("{\"whole_us\":%.1f,\"exit_code\":%d,%s\n", whole_us, exit_code,
           line + 1);
  } else {
    printf("{\"whole_us\":%.1f,\"exit_code\":%d,\"ok\":false}\n", whole_us,
           exit_code);
  }
  return exit_code == 0 && whole_us >= 0 ? 0 : 1;
}
