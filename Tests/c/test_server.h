/* SPDX-License-Identifier: Apache-2.0 */
/* Talking to the loopback test server (Tests/server/llm_test_server.py) from a
 * C test: its URL comes from MODELS_TEST_SERVER (set by run_with_server.py),
 * and its control API scripts answers and reports what it received.
 *
 *   ts_reset();
 *   ts_script("m1", "[{\"status\": 503, \"headers\": {\"Retry-After\": \"1\"}}]");
 *   ... call the library ...
 *   char *requests = ts_get("requests");   // JSON array; free() it
 */
#ifndef MODELS_TEST_SERVER_H
#define MODELS_TEST_SERVER_H

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *ts_url(void) {
    const char *url = getenv("MODELS_TEST_SERVER");
    if (!url || !*url) {
        fprintf(stderr, "MODELS_TEST_SERVER is not set: run this test through Tests/server/run_with_server.py\n");
        exit(2);
    }
    return url;
}

typedef struct { char *data; size_t len; } ts_buffer;

static inline size_t ts_collect(char *p, size_t size, size_t n, void *user) {
    ts_buffer *b = user;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown) return 0;
    b->data = grown;
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

/* One control request; returns the body (malloc'd, caller frees) or exits on failure. */
static inline char *ts_control(const char *method, const char *path, const char *body) {
    char url[512];
    snprintf(url, sizeof url, "%s/_control/%s", ts_url(), path);
    CURL *h = curl_easy_init();
    ts_buffer b = {calloc(1, 1), 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ts_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "test server control %s %s failed: %s (HTTP %ld) %s\n", method, path,
                curl_easy_strerror(rc), status, b.data);
        exit(2);
    }
    return b.data;
}

/* Forgets scripts, recorded requests and counters. */
static inline void ts_reset(void) { free(ts_control("POST", "reset", NULL)); }

/* Queues steps (a JSON array text, see Tests/server/README.md) for requests whose
 * model id is `model` ("*" for any model, "token" for the Copilot token endpoint). */
static inline void ts_script(const char *model, const char *steps_json) {
    size_t n = strlen(model) + strlen(steps_json) + 64;
    char *body = malloc(n);
    snprintf(body, n, "{\"model\": \"%s\", \"steps\": %s}", model, steps_json);
    free(ts_control("POST", "script", body));
    free(body);
}

/* GET /_control/<what> ("requests" or "stats"): the JSON text, malloc'd. */
static inline char *ts_get(const char *what) { return ts_control("GET", what, NULL); }

/* A config JSON for a router whose providers all point at the test server:
 * `providers` is a list of "name" or "name=path" (default path /v1), e.g.
 * ts_config(buf, sizeof buf, "\"primary\":\"local/m1\"", "local", NULL). Extra
 * top-level members go in `extra` (without braces). Returns buf. */
/* inline: a test that does not use it still compiles with -Werror. */
static inline char *ts_config(char *buf, size_t size, const char *extra, ...);

#include <stdarg.h>
static inline char *ts_config(char *buf, size_t size, const char *extra, ...) {
    va_list ap;
    va_start(ap, extra);
    size_t used = (size_t)snprintf(buf, size, "{%s%s\"providers\":{", extra ? extra : "", extra && *extra ? "," : "");
    const char *p;
    int first = 1;
    while ((p = va_arg(ap, const char *)) != NULL && used < size) {
        char name[64];
        const char *path = "/v1";
        const char *eq = strchr(p, '=');
        size_t len = eq ? (size_t)(eq - p) : strlen(p);
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, p, len);
        name[len] = '\0';
        if (eq) path = eq + 1;
        used += (size_t)snprintf(buf + used, size - used, "%s\"%s\":{\"base_url\":\"%s%s\",\"api_key\":\"sk-test-%s-0123456789\"}",
                                 first ? "" : ",", name, ts_url(), path, name);
        first = 0;
    }
    va_end(ap);
    if (used < size) snprintf(buf + used, size - used, "}}");
    return buf;
}

#endif
