/*
 * preload_probe: a minimal verbs program for the preload's tests. Lists the
 * devices (the call whose first run the preload shortens) and prints the
 * provider libraries (lib<name>-rdmav<N>.so) mapped into the process, one
 * per line ("provider <path>"), then "devices <N>", then opens each device
 * and allocates a PD in it: "opened <name>" (or "cannot open <name>").
 */
#include <infiniband/verbs.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  int num_devices = 0;
  struct ibv_device** list = ibv_get_device_list(&num_devices);
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  char last[512] = "";
  while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
    const char* path = strchr(line, '/');
    if (path == NULL || strstr(path, "-rdmav") == NULL) continue;
    if (strcmp(path, last) != 0) printf("provider %s", path);
    snprintf(last, sizeof(last), "%s", path);
  }
  if (maps != NULL) fclose(maps);
  printf("devices %d\n", list != NULL ? num_devices : -1);
  for (int i = 0; list != NULL && i < num_devices; ++i) {
    struct ibv_context* context = ibv_open_device(list[i]);
    struct ibv_pd* pd = context != NULL ? ibv_alloc_pd(context) : NULL;
    printf("%s %s\n", pd != NULL ? "opened" : "cannot open",
           ibv_get_device_name(list[i]));
    if (pd != NULL) ibv_dealloc_pd(pd);
    if (context != NULL) ibv_close_device(context);
  }
  if (list != NULL) ibv_free_device_list(list);
  return 0;
}
