/*
 * cold_start_raw: the raw-verbs baseline of `tools/bench/run cold_start`.
 *
 * What a plain verbs program does before its first connection, in a fresh
 * process: list the devices, open one, allocate a PD, register 4 MiB of
 * memory, create a CQ and an RC QP and take the QP to INIT. Plain C that
 * links only libibverbs, on purpose: it is also the "unmodified program"
 * run under libswift_preload.so, so it must load nothing a real verbs
 * program would not.
 *
 *   cold_start_raw DEVICE [READY_FD]
 *
 * Prints ONE line on stdout:
 *   {"variant":"raw","ok":true,"steps_us":{"get_device_list":..,
 *    "open_device":..,"alloc_pd":..,"reg_mr":..,"create_cq":..,
 *    "create_qp":..,"modify_init":..},"main_us":..,"providers":N}
 * main_us runs from the first line of main() to the QP in INIT; providers
 * counts the libibverbs provider libraries mapped into the process (what
 * the preload saves). When READY_FD is given, one byte is written to it at
 * that moment, so that a parent can time the whole process (spawn to
 * ready) without parsing output. Exit code 0 on success, 1 otherwise (the
 * failing verb named on stderr).
 */
#include <infiniband/verbs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { kMrBytes = 4 << 20 };

static double NowUs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1e6 + now.tv_nsec / 1e3;
}

/* Provider libraries (lib<name>-rdmav<N>.so) mapped into this process. */
static int CountProviders(void) {
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  char last[512] = "";
  int count = 0;
  if (maps == NULL) return -1;
  while (fgets(line, sizeof(line), maps) != NULL) {
    const char* path = strchr(line, '/');
    if (path == NULL || strstr(path, "-rdmav") == NULL) continue;
    /* Each library appears in several consecutive mappings. */
    if (strcmp(path, last) != 0) ++count;
    snprintf(last, sizeof(last), "%s", path);
  }
  fclose(maps);
  return count;
}

static int Fail(const char* step) {
  perror(step);
  printf("{\"variant\":\"raw\",\"ok\":false,\"failed_step\":\"%s\"}\n", step);
  return 1;
}

int main(int argc, char** argv) {
  const double start = NowUs();
  if (argc < 2) {
    fprintf(stderr, "usage: %s DEVICE [READY_FD]\n", argv[0]);
    return 2;
  }
  const char* device_name = argv[1];
  const int ready_fd = argc > 2 ? atoi(argv[2]) : -1;
  double steps[7];
  double t = NowUs();

  int num_devices = 0;
  struct ibv_device** list = ibv_get_device_list(&num_devices);
  if (list == NULL) return Fail("ibv_get_device_list");
  steps[0] = NowUs() - t;
  struct ibv_device* device = NULL;
  for (int i = 0; i < num_devices; ++i) {
    if (strcmp(ibv_get_device_name(list[i]), device_name) == 0) {
      device = list[i];
    }
  }
  if (device == NULL) {
    fprintf(stderr, "no RDMA device named %s\n", device_name);
    return Fail("find_device");
  }

  t = NowUs();
  struct ibv_context* context = ibv_open_device(device);
  if (context == NULL) return Fail("ibv_open_device");
  steps[1] = NowUs() - t;

  t = NowUs();
  struct ibv_pd* pd = ibv_alloc_pd(context);
  if (pd == NULL) return Fail("ibv_alloc_pd");
  steps[2] = NowUs() - t;

  /* Fresh anonymous memory, as a program's own buffer would be. */
  t = NowUs();
  void* buffer = mmap(NULL, kMrBytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buffer == MAP_FAILED) return Fail("mmap");
  struct ibv_mr* mr =
      ibv_reg_mr(pd, buffer, kMrBytes,
                 IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                     IBV_ACCESS_REMOTE_READ);
  if (mr == NULL) return Fail("ibv_reg_mr");
  steps[3] = NowUs() - t;

  t = NowUs();
  struct ibv_cq* cq = ibv_create_cq(context, 128, NULL, NULL, 0);
  if (cq == NULL) return Fail("ibv_create_cq");
  steps[4] = NowUs() - t;

  t = NowUs();
  struct ibv_qp_init_attr init = {
      .send_cq = cq,
      .recv_cq = cq,
      .cap = {.max_send_wr = 64, .max_recv_wr = 64, .max_send_sge = 1,
              .max_recv_sge = 1},
      .qp_type = IBV_QPT_RC,
  };
  struct ibv_qp* qp = ibv_create_qp(pd, &init);
  if (qp == NULL) return Fail("ibv_create_qp");
  steps[5] = NowUs() - t;

  t = NowUs();
  struct ibv_qp_attr attr = {
      .qp_state = IBV_QPS_INIT,
      .pkey_index = 0,
      .port_num = 1,
      .qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                         IBV_ACCESS_REMOTE_READ,
  };
  if (ibv_modify_qp(qp, &attr,
                    IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
                        IBV_QP_ACCESS_FLAGS) != 0) {
    return Fail("ibv_modify_qp(INIT)");
  }
  steps[6] = NowUs() - t;
  const double main_us = NowUs() - start;
  if (ready_fd >= 0) {
    const char byte = 'R';
    if (write(ready_fd, &byte, 1) != 1) return Fail("write(READY_FD)");
    close(ready_fd);
  }

  printf(
      "{\"variant\":\"raw\",\"ok\":true,\"steps_us\":{\"get_device_list\":%.1f,"
      "\"open_device\":%.1f,\"alloc_pd\":%.1f,\"reg_mr\":%.1f,"
      "\"create_cq\":%.1f,\"create_qp\":%.1f,\"modify_init\":%.1f},"
      "\"main_us\":%.1f,\"providers\":%d}\n",
      steps[0], steps[1], steps[2], steps[3], steps[4], steps[5], steps[6],
      main_us, CountProviders());

  /* Torn down in reverse order, as a well-behaved program would. */
  ibv_destroy_qp(qp);
  ibv_destroy_cq(cq);
  ibv_dereg_mr(mr);
  munmap(buffer, kMrBytes);
  ibv_dealloc_pd(pd);
  ibv_close_device(context);
  ibv_free_device_list(list);
  return 0;
}
