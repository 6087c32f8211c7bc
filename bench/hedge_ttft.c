/* SPDX-License-Identifier: Apache-2.0 */
/* Time to first token with and without hedging (issue 18), a benchmark, not a
 * test. A model group of two loopback deployments (the test server), each
 * answering its first byte after BASE ms, but after SLOW ms 10 % of the time
 * (seeded, the same draws for both runs). N sequential streams per mode:
 * without hedging, then with "hedge_after_ms" HEDGE. TTFT is from the call to
 * the first chunk carrying content, as the caller sees it (pull stream).
 * Prints p50, p90, p99, mean, max, and the requests the server got (what the
 * hedges cost). Run with bench/hedge_ttft.sh. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *sorted, int n, double p) {
    int i = (int)(p * (n - 1) + 0.5);
    return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* Scripts `n` answers for each deployment: 10 % slow, from a fixed seed. */
static void script(int n, int base, int slow, unsigned seed) {
    srand(seed);
    const char *ids[] = {"m1", "m2"};
    for (int d = 0; d < 2; d++) {
        size_t size = (size_t)n * 32 + 8;
        char *steps = malloc(size), *o = steps;
        o += sprintf(o, "[");
        for (int i = 0; i < n; i++) o += sprintf(o, "%s{\"delay_ms\":%d}", i ? "," : "", rand() % 10 == 0 ? slow : base);
        sprintf(o, "]");
        ts_script(ids[d], steps);
        free(steps);
    }
}

static void run(const char *label, int n, int hedge, int base, int slow) {
    char members[1024];
    snprintf(members, sizeof members,
             "\"primary\":\"g\",\"max_retries\":0,\"model_groups\":{\"g\":{\"deployments\":"
             "[{\"model\":\"local/m1\"},{\"model\":\"local/m2\"}]}}%s",
             hedge > 0 ? "" : "");
    char extra[128] = "";
    if (hedge > 0) snprintf(extra, sizeof extra, ",\"hedge_after_ms\":%d", hedge);
    strncat(members, extra, sizeof members - strlen(members) - 1);
    models_router *r = router_from(members);
    ts_reset();
    script(n * 2, base, slow, 42);
    int64_t *ttft = calloc((size_t)n, sizeof *ttft);
    int failed = 0;
    int64_t t0 = now_ms();
    for (int i = 0; i < n; i++) {
        int64_t start = now_us();
        models_error *err = NULL;
        models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
        if (!s) {
            failed++;
            models_error_free(err);
            continue;
        }
        const char *chunk;
        while (models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK) {
            if (ttft[i] == 0 && strstr(chunk, "\"content\":\"")) ttft[i] = now_us() - start;
        }
        models_stream_close(s);
    }
    int64_t wall = now_ms() - t0;
    qsort(ttft, (size_t)n, sizeof *ttft, cmp);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += (double)ttft[i];
    long requests = ts_stat("requests");
    printf("%-22s N=%d  TTFT ms: p50 %.1f  p90 %.1f  p99 %.1f  mean %.1f  max %.1f  | requests %ld (%+.1f %%)  failed %d  wall %.1f s\n",
           label, n, pct(ttft, n, 0.5) / 1000.0, pct(ttft, n, 0.9) / 1000.0, pct(ttft, n, 0.99) / 1000.0, sum / n / 1000.0,
           ttft[n - 1] / 1000.0, requests, 100.0 * (double)(requests - n) / n, failed, wall / 1000.0);
    free(ttft);
    models_router_free(r);
}

int main(int argc, char **argv) {
    (void)check_report;
    int n = argc > 1 ? atoi(argv[1]) : 300;
    int base = argc > 2 ? atoi(argv[2]) : 20;
    int slow = argc > 3 ? atoi(argv[3]) : 1000;
    int hedge = argc > 4 ? atoi(argv[4]) : 100;
    printf("two deployments, first byte after %d ms, %d ms 10 %% of the time; %d sequential streams per run\n", base, slow, n);
    run("without hedging", n, 0, base, slow);
    char label[64];
    snprintf(label, sizeof label, "hedge_after_ms %d", hedge);
    run(label, n, hedge, base, slow);
    return 0;
}
