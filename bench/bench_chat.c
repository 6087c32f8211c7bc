/* SPDX-License-Identifier: Apache-2.0 */
/* bench_chat: how much libmodels costs on top of the network, in one process.
 *
 *   bench_chat CHAT_BASE_URL STREAM_BASE_URL STREAM_FILE [SECONDS]
 *
 * CHAT_BASE_URL answers POST /chat/completions with a canned chat.completion;
 * STREAM_BASE_URL answers it with the canned event stream whose bytes are in
 * STREAM_FILE (bench/run starts nginx for both). SECONDS (default 5) is how
 * long each measurement runs.
 *
 * Measured:
 *   1. per request: models_chat against a plain libcurl easy request with a
 *      reused connection (same request, same server), interleaved round by
 *      round so that load changes hit both alike; medians, p90, ratio.
 *   2. per chunk: whole streams through models_chat_stream (push) and
 *      models_stream_open/next (pull), end to end, next to three references:
 *      json_loadb + json_decref of the same chunks from memory (the floor of
 *      parsing each chunk once), the bare libcurl transfer of the stream (the
 *      transport floor) and a hand-written C consumer (libcurl + memchr line
 *      split + one json_loadb per chunk). One stream of each kind per round,
 *      the order rotating; medians of the per-stream time per chunk.
 *
 * BENCH_ONLY=chat|stream|push|pull runs one part (for profiling).
 *
 * Prints a table and one "RESULT key value" line per figure for scripts.
 * Exits non-zero when a request fails or a stream is incomplete, never on a
 * missed target (a benchmark, not a test). */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <jansson.h>
#include <models.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_request.h"

static double seconds_per_test = 5.0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, models_error *e) {
    fprintf(stderr, "bench_chat: %s failed: %s: %s\n", what,
            e ? models_code_name(models_error_code(e)) : "", e ? models_error_message(e) : "");
    exit(1);
}

/* ---- statistics ------------------------------------------------------- */

typedef struct { double *v; size_t n, cap; } samples;

static void push_sample(samples *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) { perror("realloc"); exit(1); }
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of a sorted copy. */
static double quantile(const samples *s, double q) {
    double *c = malloc(s->n * sizeof *c);
    if (!c) exit(1);
    memcpy(c, s->v, s->n * sizeof *c);
    qsort(c, s->n, sizeof *c, cmp_double);
    double r = c[(size_t)(q * (double)(s->n - 1) + 0.5)];
    free(c);
    return r;
}

static double mean(const samples *s) {
    double t = 0;
    for (size_t i = 0; i < s->n; i++) t += s->v[i];
    return t / (double)s->n;
}

/* ---- a plain libcurl client: the baseline ---------------------------- */

typedef struct { char *p; size_t n, cap; } buffer;

static size_t collect(char *data, size_t size, size_t count, void *user) {
    buffer *b = user;
    size_t n = size * count;
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) return 0;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    buffer body;
} plain_client;

/* What a C programmer writes by hand: one easy handle kept for the connection,
 * the same headers the library sends. */
static void plain_init(plain_client *c, const char *url, int stream) {
    memset(c, 0, sizeof *c);
    c->easy = curl_easy_init();
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, stream ? "Accept: text/event-stream" : "Accept: application/json");
    c->headers = curl_slist_append(c->headers, "Authorization: Bearer " BENCH_KEY);
    c->headers = curl_slist_append(c->headers, "Expect:");
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "bench/1");
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, UPSTREAM_REQUEST);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(UPSTREAM_REQUEST));
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &c->body);
}

static void plain_request(plain_client *c) {
    c->body.n = 0;
    CURLcode rc = curl_easy_perform(c->easy);
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200 || c->body.n == 0) {
        fprintf(stderr, "bench_chat: plain libcurl request failed: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
        exit(1);
    }
}

static void plain_free(plain_client *c) {
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body.p);
}

/* ---- routers ---------------------------------------------------------- */

static models_router *bench_router(const char *base_url) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"bench/gpt-bench\",\"max_retries\":0,"
             "\"providers\":{\"bench\":{\"base_url\":\"%s\",\"api_key\":\"" BENCH_KEY "\"}}}", base_url);
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) die("models_router_new", err);
    return r;
}

static void library_chat(models_router *r) {
    char *answer = NULL;
    models_error *err = NULL;
    if (models_chat(r, REQUEST, &answer, &err) != MODELS_OK) die("models_chat", err);
    models_free(answer);
}

/* ---- 1. per request --------------------------------------------------- */

typedef struct {
    samples lib, plain, diff;
    size_t rounds;
} chat_result;

static chat_result bench_requests(const char *chat_base) {
    models_router *r = bench_router(chat_base);
    char url[1024];
    snprintf(url, sizeof url, "%s/chat/completions", chat_base);
    plain_client c;
    plain_init(&c, url, 0);

    for (int i = 0; i < 300; i++) { library_chat(r); plain_request(&c); }  /* warm up: connections, caches */

    chat_result res = {0};
    double end = now_s() + seconds_per_test;
    /* A round is one request of each kind; the order alternates so neither
     * always runs right after the other. */
    while (now_s() < end || res.rounds < 1000) {
        double t_lib, t_plain;
        if (res.rounds % 2 == 0) {
            double t0 = now_s(); library_chat(r);
            double t1 = now_s(); plain_request(&c);
            double t2 = now_s();
            t_lib = t1 - t0; t_plain = t2 - t1;
        } else {
            double t0 = now_s(); plain_request(&c);
            double t1 = now_s(); library_chat(r);
            double t2 = now_s();
            t_plain = t1 - t0; t_lib = t2 - t1;
        }
        push_sample(&res.lib, t_lib * 1e6);
        push_sample(&res.plain, t_plain * 1e6);
        push_sample(&res.diff, (t_lib - t_plain) * 1e6);
        res.rounds++;
    }
    plain_free(&c);
    models_router_free(r);
    return res;
}

/* ---- 2. per chunk ----------------------------------------------------- */

typedef struct { size_t chunks, bytes; } chunk_count;

static int count_chunk(void *user, const char *chunk, size_t len) {
    chunk_count *cc = user;
    cc->chunks++;
    cc->bytes += len + (unsigned char)chunk[len >> 1];  /* touch the chunk */
    return 0;
}

/* One whole stream through models_chat_stream; returns its chunk count. */
static size_t one_push(models_router *r) {
    chunk_count cc = {0};
    models_error *err = NULL;
    if (models_chat_stream(r, REQUEST, count_chunk, NULL, &cc, &err) != MODELS_OK) die("models_chat_stream", err);
    return cc.chunks;
}

/* One whole stream through models_stream_open/next, usage checked at the end. */
static size_t one_pull(models_router *r) {
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, REQUEST, &err);
    if (!s) die("models_stream_open", err);
    chunk_count cc = {0};
    const char *chunk;
    size_t len;
    models_code rc;
    while ((rc = models_stream_next(s, &chunk, &len, &err)) == MODELS_OK) count_chunk(&cc, chunk, len);
    if (rc != MODELS_DONE) die("models_stream_next", err);
    int64_t in = 0, out = 0;
    models_stream_usage(s, &in, &out);
    models_stream_close(s);
    if (in != 12 || out <= 0) { fprintf(stderr, "pull: usage %lld/%lld\n", (long long)in, (long long)out); exit(1); }
    return cc.chunks;
}

/* The transport floor: libcurl moves the bytes and nothing looks at them. */
static size_t discard(char *data, size_t size, size_t count, void *user) {
    (void)data;
    *(size_t *)user += size * count;
    return size * count;
}

static size_t one_raw(plain_client *c, size_t file_bytes, size_t chunks) {
    size_t got = 0;
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &got);
    if (curl_easy_perform(c->easy) != CURLE_OK || got != file_bytes) { fprintf(stderr, "raw stream failed\n"); exit(1); }
    return chunks;
}

/* A hand-written C consumer: split "data: ...\n\n" events with memchr, parse
 * each chunk once with json_loadb, look for "error". No SSE edge cases (CR line
 * ends, multi-line data, comments): what the library does is a superset. */
typedef struct { buffer line; size_t chunks, done; } hand_sse;

static void hand_event(hand_sse *h, const char *p, size_t n) {
    if (n < 6 || memcmp(p, "data: ", 6) != 0) return;
    p += 6; n -= 6;
    if (n == 6 && memcmp(p, "[DONE]", 6) == 0) { h->done = 1; return; }
    json_error_t e;
    json_t *j = json_loadb(p, n, 0, &e);
    if (!j) { fprintf(stderr, "hand: bad chunk\n"); exit(1); }
    if (json_object_get(j, "error")) exit(1);
    json_decref(j);
    h->chunks++;
}

static size_t hand_write(char *data, size_t size, size_t count, void *user) {
    hand_sse *h = user;
    size_t n = size * count, i = 0;
    while (i < n) {
        char *nl = memchr(data + i, '\n', n - i);
        size_t take = nl ? (size_t)(nl - (data + i)) : n - i;
        if (h->line.n == 0 && nl) {
            hand_event(h, data + i, take);                  /* whole line in this buffer */
        } else {
            collect(data + i, 1, take, &h->line);
            if (nl) { hand_event(h, h->line.p, h->line.n); h->line.n = 0; }
        }
        i += take + (nl ? 1 : 0);
    }
    return n;
}

static size_t one_hand(plain_client *c, hand_sse *h) {
    h->chunks = 0; h->done = 0; h->line.n = 0;
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, hand_write);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, h);
    if (curl_easy_perform(c->easy) != CURLE_OK || !h->done) { fprintf(stderr, "hand-written consumer failed\n"); exit(1); }
    return h->chunks;
}

/* ---- the stream file: its chunks, for the counts and json_loadb ------- */

typedef struct { char *text; size_t bytes; size_t chunks; const char **chunk; size_t *len; } stream_file;

static stream_file read_stream_file(const char *path) {
    stream_file f = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); exit(1); }
    fseek(fp, 0, SEEK_END);
    f.bytes = (size_t)ftell(fp);
    rewind(fp);
    f.text = malloc(f.bytes + 1);
    if (!f.text || fread(f.text, 1, f.bytes, fp) != f.bytes) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    fclose(fp);
    f.text[f.bytes] = 0;
    size_t cap = 16384;
    f.chunk = malloc(cap * sizeof *f.chunk);
    f.len = malloc(cap * sizeof *f.len);
    for (char *p = f.text; (p = strstr(p, "data: ")) != NULL;) {
        p += 6;
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!(n == 6 && memcmp(p, "[DONE]", 6) == 0)) {
            if (f.chunks == cap) {
                cap *= 2;
                f.chunk = realloc(f.chunk, cap * sizeof *f.chunk);
                f.len = realloc(f.len, cap * sizeof *f.len);
            }
            f.chunk[f.chunks] = p;
            f.len[f.chunks++] = n;
        }
        p += n;
    }
    return f;
}

/* json_loadb + json_decref of every chunk of the stream, from memory: the
 * floor of any consumer that parses each chunk once with jansson. */
static size_t one_json_pass(const stream_file *f) {
    for (size_t k = 0; k < f->chunks; k++) {
        json_error_t e;
        json_t *j = json_loadb(f->chunk[k], f->len[k], 0, &e);
        if (!j) { fprintf(stderr, "json_loadb failed on chunk %zu\n", k); exit(1); }
        json_decref(j);
    }
    return f->chunks;
}

/* ---- 2. streams, interleaved ------------------------------------------- */

enum { K_JSON, K_RAW, K_HAND, K_PUSH, K_PULL, K_COUNT };
static const char *const kind_name[K_COUNT] = {
    "json_loadb+decref only, from memory",
    "libcurl transfer only (floor)",
    "hand-written C: libcurl+memchr+json_loadb",
    "models_chat_stream (push)",
    "models_stream_open/next (pull)",
};
static const char *const kind_key[K_COUNT] = {"json", "raw", "hand", "push", "pull"};

typedef struct { samples per_chunk_us[K_COUNT]; double seconds[K_COUNT]; size_t chunks[K_COUNT]; size_t rounds; } stream_result;

/* Rounds of one stream of each kind, in an order that rotates every round, so
 * that a change of machine load hits every kind alike. */
static stream_result bench_streams(models_router *r, const char *url, const stream_file *f, unsigned mask) {
    plain_client c;
    plain_init(&c, url, 1);
    hand_sse h = {0};
    stream_result res;
    memset(&res, 0, sizeof res);
    for (int warm = 0; warm < 2; warm++) {
        if (mask & (1u << K_PUSH)) one_push(r);
        if (mask & (1u << K_PULL)) one_pull(r);
        if (mask & (1u << K_HAND)) one_hand(&c, &h);
    }
    int kinds = 0;
    for (int k = 0; k < K_COUNT; k++) kinds += (mask >> k) & 1;
    double end = now_s() + seconds_per_test * kinds;
    while (now_s() < end || res.rounds < 3) {
        for (int i = 0; i < K_COUNT; i++) {
            int k = (int)((res.rounds + (size_t)i) % K_COUNT);
            if (!(mask & (1u << k))) continue;
            double t0 = now_s();
            size_t n = 0;
            switch (k) {
            case K_JSON: n = one_json_pass(f); break;
            case K_RAW: n = one_raw(&c, f->bytes, f->chunks); break;
            case K_HAND: n = one_hand(&c, &h); break;
            case K_PUSH: n = one_push(r); break;
            case K_PULL: n = one_pull(r); break;
            }
            double dt = now_s() - t0;
            if (n != f->chunks) { fprintf(stderr, "%s: %zu chunks, expected %zu\n", kind_name[k], n, f->chunks); exit(1); }
            res.seconds[k] += dt;
            res.chunks[k] += n;
            push_sample(&res.per_chunk_us[k], dt * 1e6 / (double)n);
        }
        res.rounds++;
    }
    plain_free(&c);
    free(h.line.p);
    return res;
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CHAT_BASE_URL STREAM_BASE_URL STREAM_FILE [SECONDS]\n", argv[0]);
        return 2;
    }
    if (argc > 4) seconds_per_test = atof(argv[4]);
    const char *only = getenv("BENCH_ONLY");
    curl_global_init(CURL_GLOBAL_ALL);
    stream_file f = read_stream_file(argv[3]);
    char stream_url[1024];
    snprintf(stream_url, sizeof stream_url, "%s/chat/completions", argv[2]);

    printf("libmodels %s, libcurl %s, jansson %s; %.1f s per measurement\n\n",
           models_version(), curl_version_info(CURLVERSION_NOW)->version, JANSSON_VERSION, seconds_per_test);

    if (!only || strcmp(only, "chat") == 0) {
        chat_result c = bench_requests(argv[1]);
        double lm = quantile(&c.lib, 0.5), pm = quantile(&c.plain, 0.5);
        double l90 = quantile(&c.lib, 0.9), p90 = quantile(&c.plain, 0.9);
        printf("1. Per request (%zu interleaved rounds, microseconds)\n", c.rounds);
        printf("  %-28s %9s %9s %9s %9s\n", "", "median", "p90", "mean", "min");
        printf("  %-28s %9.1f %9.1f %9.1f %9.1f\n", "models_chat", lm, l90, mean(&c.lib), quantile(&c.lib, 0));
        printf("  %-28s %9.1f %9.1f %9.1f %9.1f\n", "plain libcurl, reused conn.", pm, p90, mean(&c.plain), quantile(&c.plain, 0));
        printf("  ratio of medians models_chat / libcurl: %.3f (target <= 1.10); p90 ratio %.3f\n", lm / pm, l90 / p90);
        printf("  median per-round difference: %+.1f us\n\n", quantile(&c.diff, 0.5));
        printf("RESULT chat_median_us %.1f\nRESULT curl_median_us %.1f\nRESULT chat_p90_us %.1f\nRESULT curl_p90_us %.1f\n"
               "RESULT chat_ratio %.3f\nRESULT chat_diff_us %.1f\n\n", lm, pm, l90, p90, lm / pm, quantile(&c.diff, 0.5));
        free(c.lib.v); free(c.plain.v); free(c.diff.v);
    }

    if (!only || strcmp(only, "stream") == 0 || strcmp(only, "push") == 0 || strcmp(only, "pull") == 0) {
        models_router *r = bench_router(argv[2]);
        unsigned mask = (1u << K_COUNT) - 1;
        if (only && strcmp(only, "push") == 0) mask = 1u << K_PUSH;
        if (only && strcmp(only, "pull") == 0) mask = 1u << K_PULL;
        stream_result s = bench_streams(r, stream_url, &f, mask);
        double mean_len = (double)(f.bytes - 14) / (double)f.chunks - 8;  /* minus "data: " and "\n\n" */
        printf("2. Streams of %zu chunks (%.0f bytes of JSON each on average), %zu interleaved rounds\n",
               f.chunks, mean_len, s.rounds);
        printf("  %-44s %10s %10s %12s\n", "", "us/chunk", "chunks/s", "chunks/s");
        printf("  %-44s %10s %10s %12s\n", "", "(median)", "(median)", "(all rounds)");
        for (int k = 0; k < K_COUNT; k++) {
            if (!(mask & (1u << k))) continue;
            double med = quantile(&s.per_chunk_us[k], 0.5);
            double all = (double)s.chunks[k] / s.seconds[k];
            printf("  %-44s %10.3f %10.0f %12.0f\n", kind_name[k], med, 1e6 / med, all);
            printf("RESULT %s_us_per_chunk %.3f\nRESULT %s_chunks_per_s %.0f\n", kind_key[k], med, kind_key[k], 1e6 / med);
            free(s.per_chunk_us[k].v);
        }
        printf("  target: >= 300000 chunks/s through push and pull\n");
        models_router_free(r);
    }
    free(f.text); free(f.chunk); free(f.len);
    curl_global_cleanup();
    return 0;
}
