/* SPDX-License-Identifier: Apache-2.0 */
/* startup.c: the time to dlopen libmodels and create a router, as a program
 * that loads the library on demand (Python's ctypes, a plugin host) pays it.
 * Each run is a fresh process; run it many times and take the median:
 *   for i in $(seq 20); do ./startup build/libmodels.so.1; done | sort -n | sed -n 10p */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

typedef void *(*router_new_fn)(const char *, void **);
typedef void (*router_free_fn)(void *);

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "libmodels.so.1";
    double t0 = now_us();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    router_new_fn router_new = (router_new_fn)dlsym(lib, "models_router_new");
    router_free_fn router_free = (router_free_fn)dlsym(lib, "models_router_free");
    double t1 = now_us();
    void *r = router_new("{\"primary\":\"openai/gpt-4o\",\"fallbacks\":[\"anthropic/claude-sonnet-4-6\"],"
                         "\"providers\":{\"openai\":{\"api_key\":\"sk-x\"},\"anthropic\":{\"api_key\":\"sk-y\"}}}", NULL);
    double t2 = now_us();
    if (!r) { fprintf(stderr, "router_new failed\n"); return 1; }
    router_free(r);
    printf("%.0f %.0f %.0f\n", t2 - t0, t1 - t0, t2 - t1);
    return 0;
}
