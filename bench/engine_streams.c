/* SPDX-License-Identifier: Apache-2.0 */
/* engine_streams.c: N streams at once on one engine, on this thread, against
 * nginx serving a paced 200-chunk stream (bench/run's /paced/v1, limit_rate).
 *
 *   engine_streams BASE_URL N...
 *
 * For each N: wall time, CPU time per chunk (user + system of this process,
 * which has no other thread), and the growth of resident memory per stream
 * while they are open. Prints RESULT lines. */
#define _GNU_SOURCE
#include <models.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct totals { long chunks, ok, failed; char error[256]; };

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* Resident memory now, in KB (VmRSS). */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    ((struct totals *)user)->chunks++;
    return 0;
}

static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    (void)response_json;
    struct totals *t = user;
    if (code == MODELS_OK) t->ok++;
    else if (t->failed++ == 0) snprintf(t->error, sizeof t->error, "%s", models_error_message(err));
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: engine_streams BASE_URL N...\n");
        return 2;
    }
    char config[512];
    snprintf(config, sizeof config, "{\"primary\":\"bench/gpt-bench\",\"providers\":{\"bench\":"
             "{\"base_url\":\"%s\",\"api_key\":\"k\"}},\"timeout_ms\":600000}", argv[1]);
    models_router *r = models_router_new(config, NULL);
    models_engine *e = r ? models_engine_new(r, NULL) : NULL;
    if (!e) return 1;
    const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}";
    int status = 0;
    for (int a = 2; a < argc; a++) {
        int n = atoi(argv[a]);
        struct totals t = {0, 0, 0, ""};
        long rss0 = rss_kb(), rss_peak = rss0;
        double wall0 = now_s(), cpu0 = cpu_s();
        for (int i = 0; i < n; i++)
            if (models_stream_async(e, request, NULL, NULL, on_chunk, NULL, on_done, &t, NULL) != MODELS_OK) return 1;
        while (models_engine_calls(e) > 0) {
            models_engine_process(e, 1000);
            long rss = rss_kb();
            if (rss > rss_peak) rss_peak = rss;
        }
        double wall = now_s() - wall0, cpu = cpu_s() - cpu0;
        printf("  N=%-6d %7.2f s wall, %6.2f us CPU per chunk, %5.1f KB per open stream, %ld chunks, %ld failed%s%s\n", n, wall,
               t.chunks ? cpu * 1e6 / (double)t.chunks : 0.0, (double)(rss_peak - rss0) / n, t.chunks, t.failed,
               t.failed ? ": " : "", t.error);
        printf("RESULT engine_%d_wall_s %.2f\nRESULT engine_%d_cpu_us_per_chunk %.2f\nRESULT engine_%d_kb_per_stream %.1f\n", n, wall,
               n, t.chunks ? cpu * 1e6 / (double)t.chunks : 0.0, n, (double)(rss_peak - rss0) / n);
        fflush(stdout);
        if (t.failed) status = 1;
    }
    models_engine_free(e);
    models_router_free(r);
    return status;
}
