/* SPDX-License-Identifier: Apache-2.0 */
/* What sharing through Redis ("shared_state") costs per call, and how exact a
 * shared rate limit is. Not a test: it prints numbers (RESULT lines).
 *
 *   shared_state_bench CHAT_BASE_URL REDIS_PORT SECONDS
 *
 * CHAT_BASE_URL answers POST {base}/chat/completions (bench/run's nginx),
 * REDIS_PORT is a redis-server on 127.0.0.1 (bench/shared_state.sh starts
 * both). For each config, local and shared: 1 process and 8 processes, one
 * thread each, and 1 process with 8 threads, calling in a loop; per-call latency median and p99, and the
 * scripts Redis ran per call (INFO commandstats: EVALSHA + EVAL calls; those
 * sent without waiting for the answer included). Then 8 processes x 16
 * threads against one shared limit of 100 requests/s. */
#include <models.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *base_url;
static int redis_port;
static double seconds;

static const char *const REQUEST = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static double wall(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The config: `members` plus a provider "bench" on base_url; shared_state when `shared`. */
static char *config_for(char *buf, size_t size, const char *members, int shared, const char *prefix) {
    char state[256] = "";
    if (shared)
        snprintf(state, sizeof state, ",\"shared_state\":{\"redis_url\":\"redis://127.0.0.1:%d/0\",\"key_prefix\":\"%s\"}",
                 redis_port, prefix);
    snprintf(buf, size, "{%s%s,\"providers\":{\"bench\":{\"base_url\":\"%s\",\"api_key\":\"sk-bench-0123456789\"}}}",
             members, state, base_url);
    return buf;
}

static long long redis_evals(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "redis-cli -p %d INFO commandstats", redis_port);
    FILE *p = popen(cmd, "r");
    char line[512];
    long long n = 0;
    while (p && fgets(line, sizeof line, p)) {
        if (strncmp(line, "cmdstat_evalsha:calls=", 22) == 0) n += atoll(line + 22);
        if (strncmp(line, "cmdstat_eval:calls=", 19) == 0) n += atoll(line + 19);
    }
    if (p) pclose(p);
    return n;
}

struct worker {
    models_router *router;
    double until;
    int64_t *lat;
    size_t n, cap;
    long failures;
};

static void *work(void *arg) {
    struct worker *w = arg;
    while (wall() < w->until) {
        char *answer = NULL;
        models_error *err = NULL;
        int64_t t0 = now_us();
        models_code rc = models_chat(w->router, REQUEST, &answer, &err);
        int64_t took = now_us() - t0;
        if (rc != MODELS_OK) w->failures++;
        models_free(answer);
        models_error_free(err);
        if (w->n + 2 > w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        }
        w->lat[w->n++] = took;
        w->lat[w->n++] = (int64_t)(wall() * 1e6); /* when it ended (wall us) */
    }
    return NULL;
}

/* One process: `threads` threads calling until `until`; latencies (us) to `out`, then failures. */
static int run_child(const char *config, int threads, double start, double until, const char *out) {
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) {
        fprintf(stderr, "config: %s\n", models_error_message(err));
        return 2;
    }
    /* Warm up: connections to the provider and to Redis, scripts loaded. */
    for (int i = 0; i < 3; i++) {
        char *a = NULL;
        models_chat(r, REQUEST, &a, NULL);
        models_free(a);
    }
    while (wall() < start) usleep(1000);
    pthread_t t[64];
    struct worker w[64];
    memset(w, 0, sizeof w);
    for (int i = 0; i < threads; i++) {
        w[i].router = r;
        w[i].until = until;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    FILE *f = fopen(out, "wb");
    long failures = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        fwrite(w[i].lat, sizeof(int64_t), w[i].n, f);
        failures += w[i].failures;
        free(w[i].lat);
    }
    fclose(f);
    models_router_free(r);
    return failures > 0 ? 1 : 0;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static char self[512];

static double steady_rate;

/* `procs` processes x `threads` threads for `secs`; prints median/p99 and round
 * trips per call, and sets `steady_rate`: calls ended per second in the last
 * half of the window. */
static size_t measure(const char *name, const char *config, int procs, int threads, double secs) {
    long long evals0 = redis_evals();
    double start = wall() + 0.5, until = start + secs;
    char starts[32], untils[32], tn[16];
    snprintf(starts, sizeof starts, "%.6f", start);
    snprintf(untils, sizeof untils, "%.6f", until);
    snprintf(tn, sizeof tn, "%d", threads);
    pid_t pids[16];
    for (int i = 0; i < procs; i++) {
        char out[64];
        snprintf(out, sizeof out, "/tmp/ssb-%d-%d.bin", (int)getpid(), i);
        pids[i] = fork();
        if (pids[i] == 0) {
            execl(self, self, "child", config, tn, starts, untils, out, (char *)NULL);
            _exit(127);
        }
    }
    int64_t *all = NULL;
    size_t n = 0, ended = 0;
    double from = start + secs / 2;
    int failed = 0;
    for (int i = 0; i < procs; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
        char out[64];
        snprintf(out, sizeof out, "/tmp/ssb-%d-%d.bin", (int)getpid(), i);
        FILE *f = fopen(out, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        size_t k = (size_t)ftell(f) / sizeof(int64_t);
        fseek(f, 0, SEEK_SET);
        int64_t *pairs = malloc((k + 1) * sizeof *pairs);
        if (fread(pairs, sizeof(int64_t), k, f) != k) k = 0;
        all = realloc(all, (n + k / 2 + 1) * sizeof *all);
        for (size_t j = 0; j + 1 < k; j += 2) {
            all[n++] = pairs[j];
            double end = pairs[j + 1] / 1e6;
            if (end >= from && end < until) ended++;
        }
        free(pairs);
        fclose(f);
        unlink(out);
    }
    long long evals = redis_evals() - evals0;
    /* The warm-up calls are counted by Redis too: 3 per process. */
    size_t calls = n + 3 * (size_t)procs;
    qsort(all, n, sizeof *all, cmp64);
    double med = n ? all[n / 2] / 1000.0 : 0, p99 = n ? all[(size_t)(n * 0.99)] / 1000.0 : 0;
    printf("%-34s %d proc x %2d thr: %7zu calls, %8.0f calls/s, median %.3f ms, p99 %.3f ms, scripts run in Redis per call %.2f%s\n",
           name, procs, threads, n, n / secs, med, p99, calls ? (double)evals / calls : 0, failed ? "  (FAILED CALLS)" : "");
    printf("RESULT shared_state.%s.p%d.median_ms %.3f\nRESULT shared_state.%s.p%d.p99_ms %.3f\n", name, procs, med, name, procs, p99);
    free(all);
    steady_rate = ended / (until - from);
    return n;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "child") == 0)
        return run_child(argv[2], atoi(argv[3]), strtod(argv[4], NULL), strtod(argv[5], NULL), argv[6]);
    if (argc != 4) {
        fprintf(stderr, "usage: %s CHAT_BASE_URL REDIS_PORT SECONDS\n", argv[0]);
        return 2;
    }
    base_url = argv[1];
    redis_port = atoi(argv[2]);
    seconds = strtod(argv[3], NULL);
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 2;
    self[len] = '\0';

    static const struct { const char *name, *members; } configs[] = {
        {"model+cooldown", "\"primary\":\"bench/m1\",\"cooldown\":{}"},
        {"model+cooldown+rate_limit", "\"primary\":\"bench/m1\",\"cooldown\":{},"
                                      "\"rate_limits\":{\"bench\":{\"requests_per_second\":1000000}}"},
        {"group(2 deployments)+cooldown", "\"primary\":\"g\",\"cooldown\":{},\"model_groups\":{\"g\":{\"strategy\":\"least_busy\","
                                          "\"deployments\":[{\"model\":\"bench/d1\",\"rpm\":100000000},{\"model\":\"bench/d2\"}]}}"},
    };
    char config[2048], name[96], prefix[64];
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        for (int shared = 0; shared <= 1; shared++) {
            snprintf(prefix, sizeof prefix, "bench:%d:%zu:", (int)getpid(), i);
            config_for(config, sizeof config, configs[i].members, shared, prefix);
            snprintf(name, sizeof name, "%s.%s", configs[i].name, shared ? "shared" : "local");
            measure(name, config, 1, 1, seconds);
            measure(name, config, 8, 1, seconds);
            /* One router, many threads: the connection pool (one connection per thread talking at once). */
            measure(name, config, 1, 8, seconds);
        }
    }
    /* Accuracy: one shared limit of 100/s, 8 processes x 16 threads. */
    snprintf(prefix, sizeof prefix, "bench:%d:acc:", (int)getpid());
    config_for(config, sizeof config,
               "\"primary\":\"bench/m1\",\"rate_limits\":{\"bench\":{\"requests_per_second\":100,\"burst\":1}}", 1, prefix);
    measure("accuracy.shared_100_per_s", config, 8, 16, seconds);
    /* Every caller holds one reserved slot, so the calls answered run 128
     * behind; the rate at which they end, once going, is the provider's rate. */
    printf("shared limit 100/s, 8 processes x 16 threads: %.1f calls/s answered in the second half of the window\n", steady_rate);
    printf("RESULT shared_state.accuracy.calls_per_s %.1f\n", steady_rate);
    return 0;
}
