/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the C tests that drive the library against the loopback
 * test server: clocks, routers pointed at the server, reading the server's
 * stats and recorded requests (plain substring checks: the server writes
 * compact JSON, and C tests use only the C API, not a JSON library), and
 * counting the process's threads. */
#ifndef MODELS_TEST_UTIL_H
#define MODELS_TEST_UTIL_H

#include <models.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "test_server.h"

/* The smallest request the router accepts. */
static const char *const HELLO = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *const HELLO_STREAM = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}";

static inline int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static inline void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

/* A router from a whole config text; exits when the config is refused: every
 * test that calls it needs the router. */
static inline models_router *router_or_exit(const char *config) {
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) {
        fprintf(stderr, "models_router_new(%s): %s\n", config, models_error_message(err));
        exit(2);
    }
    return r;
}

/* A router with the top-level config `members` (e.g. "\"primary\":\"local/m1\"")
 * and one provider, "local", on the test server (key "sk-test-local-0123456789"). */
static inline models_router *router_from(const char *members) {
    char config[4096];
    ts_config(config, sizeof config, members, "local", NULL);
    return router_or_exit(config);
}

/* A router whose primary is "local/m1" on the test server, with `extra`
 * top-level members (may be ""). */
static inline models_router *local_router(const char *extra) {
    char members[1024];
    snprintf(members, sizeof members, "\"primary\":\"local/m1\"%s%s", extra && *extra ? "," : "", extra ? extra : "");
    return router_from(members);
}

/* The integer member `"name":N` of a JSON text (the first occurrence), or -1. */
static inline long json_int(const char *json, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = json ? strstr(json, key) : NULL;
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* One field of the server's /_control/stats ("connections", "requests", ...). */
static inline long ts_stat(const char *field) {
    char *stats = ts_get("stats");
    long v = json_int(stats, field);
    free(stats);
    return v;
}

/* How many times `needle` occurs in `haystack`. */
static inline int count_of(const char *haystack, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = haystack; p && (p = strstr(p, needle)) != NULL; p += len) n++;
    return n;
}

/* How many requests the server recorded for model id `id`. */
static inline int requests_for(const char *id) {
    char needle[128];
    snprintf(needle, sizeof needle, "\"model\":\"%s\",\"time\"", id);
    char *requests = ts_get("requests");
    int n = count_of(requests, needle);
    free(requests);
    return n;
}

/* What a stream delivered: its chunks, how many named the assistant's role,
 * and choice 0's "content" joined (the test server's chunks are compact and
 * these tests use no escapes in the text). */
struct stream_text {
    int chunks;
    int role_chunks;
    char text[4096];
};

static inline void stream_text_add(struct stream_text *s, const char *chunk) {
    s->chunks++;
    if (strstr(chunk, "\"role\":\"assistant\"")) s->role_chunks++;
    const char *p = strstr(chunk, "\"content\":\"");
    if (!p) return;
    p += strlen("\"content\":\"");
    size_t n = strcspn(p, "\""), used = strlen(s->text);
    if (used + n < sizeof s->text) {
        memcpy(s->text + used, p, n);
        s->text[used + n] = '\0';
    }
}

/* A models_chunk_fn that adds each chunk to the struct stream_text `user`. */
static inline int stream_text_on_chunk(void *user, const char *chunk, size_t len) {
    (void)len;
    stream_text_add(user, chunk);
    return 0;
}

/* What an engine call (models_chat_async(), models_stream_async(),
** models_embed_async()) delivered: async_on_done and async_on_chunk fill it
** (pass it as `user`), async_run processes the engine until it is done. */
struct async_outcome {
    int done; /* times on_done was called */
    models_code code;
    char kind[64];
    char message[512];
    char response[8192];
    struct stream_text stream;
};

static inline void async_on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    struct async_outcome *o = user;
    o->done++;
    o->code = code;
    snprintf(o->kind, sizeof o->kind, "%s", err ? models_error_kind(err) : "");
    snprintf(o->message, sizeof o->message, "%s", err ? models_error_message(err) : "");
    snprintf(o->response, sizeof o->response, "%s", response_json ? response_json : "");
}

static inline int async_on_chunk(void *user, const char *chunk, size_t len) {
    struct async_outcome *o = user;
    return stream_text_on_chunk(&o->stream, chunk, len);
}

/* Processes `e` until `o` is done (at most 20 s): on_done called once. */
static inline void async_run(models_engine *e, struct async_outcome *o) {
    int64_t until = now_ms() + 20000;
    while (!o->done && now_ms() < until) CHECK(models_engine_process(e, 100) >= 0);
    CHECK(o->done == 1);
}

/* Scripts `n` copies of one step (a JSON object text) for model id `id`. */
static inline void script_n(const char *id, const char *step, int n) {
    char steps[4096] = "[";
    for (int k = 0; k < n && strlen(steps) + strlen(step) + 2 < sizeof steps; k++) {
        strcat(steps, k ? "," : "");
        strcat(steps, step);
    }
    strcat(steps, "]");
    ts_script(id, steps);
}

/* Threads in this process right now (entries of /proc/self/task). */
static inline int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n;
}

/* `s` as a JSON string literal, quotes included; malloc'd. */
static inline char *json_quote(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 3), *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { *o++ = '\\'; *o++ = (char)*p; }
        else if (*p < 0x20) o += sprintf(o, "\\u%04x", *p);
        else *o++ = (char)*p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Scripts one streaming answer for `model` made of the raw SSE texts
 * `items[0..n)` (sent exactly as given, one HTTP chunk each), with more step
 * members in `extra` ("" for none, else e.g. "\"byte_at_a_time\":true"). */
static inline void ts_script_sse(const char *model, const char *const *items, size_t n, const char *extra) {
    size_t size = 64 + strlen(extra);
    char **quoted = malloc(n * sizeof *quoted);
    for (size_t i = 0; i < n; i++) {
        quoted[i] = json_quote(items[i]);
        size += strlen(quoted[i]) + 1;
    }
    char *steps = malloc(size), *o = steps;
    o += sprintf(o, "[{%s%s\"sse\":[", extra, *extra ? "," : "");
    for (size_t i = 0; i < n; i++) {
        o += sprintf(o, "%s%s", i ? "," : "", quoted[i]);
        free(quoted[i]);
    }
    sprintf(o, "]}]");
    free(quoted);
    ts_script(model, steps);
    free(steps);
}

/* Checks that a call returned `code` and reported it in `err` too (which the
 * caller still frees); prints the message when it did not. */
#define CHECK_FAILS_WITH(call_rc, err, code) do { \
    CHECK((call_rc) == (code)); \
    CHECK((err) != NULL && models_error_code(err) == (code)); \
    if ((call_rc) != (code)) fprintf(stderr, "  got %s: %s\n", models_code_name(call_rc), models_error_message(err)); \
} while (0)

/* The health object of `model` (the router's health is flat objects in one
 * array), copied to `out`; "" when the model is not listed. */
static inline const char *health_of(models_router *r, const char *model, char *out, size_t size) {
    char *health = models_router_health(r);
    char needle[128];
    snprintf(needle, sizeof needle, "\"model\":\"%s\"", model);
    out[0] = '\0';
    const char *p = strstr(health, needle);
    if (p) {
        while (p > health && *p != '{') p--;
        const char *end = strchr(p, '}');
        size_t n = end ? (size_t)(end - p + 1) : strlen(p);
        if (n >= size) n = size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    } else {
        fprintf(stderr, "  %s not in health %s\n", model, health);
    }
    models_free(health);
    return out;
}

/* The i-th recorded request (0-based) as its own string (malloc'd); empty when
 * there are fewer. The server writes compact JSON, each request starting with {"method":. */
static inline char *nth_request(int i) {
    char *all = ts_get("requests");
    const char *mark = "{\"method\":";
    const char *p = all;
    for (int k = 0; p && k <= i; k++) p = strstr(k == 0 ? p : p + 1, mark);
    char *out;
    if (!p) {
        out = calloc(1, 1);
    } else {
        const char *end = strstr(p + 1, mark);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        out = malloc(n + 1);
        memcpy(out, p, n);
        out[n] = '\0';
    }
    free(all);
    return out;
}

/* One chat; returns its code and copies the answer's "model" to `model`. */
static inline models_code chat_model(models_router *r, const char *request, char *model, size_t size, models_error **err) {
    char *response = NULL;
    models_code rc = models_chat(r, request, &response, err);
    model[0] = '\0';
    const char *p = response ? strstr(response, "\"model\":\"") : NULL;
    if (p) {
        p += strlen("\"model\":\"");
        size_t n = strcspn(p, "\"");
        if (n >= size) n = size - 1;
        memcpy(model, p, n);
        model[n] = '\0';
    }
    models_free(response);
    return rc;
}

#endif
