/* SPDX-License-Identifier: Apache-2.0 */
/* GitHub Copilot through the C API, against the loopback test server acting as
 * both the token exchange (…/copilot_internal/v2/token) and the Copilot API:
 * the request's path and headers, the API host taken from each token, caching
 * and refresh by expiry, one exchange for many threads, token sources written
 * in C (also failing ones), a refused GitHub token, and that no token ever
 * reaches a log line or an error message. */
#define _POSIX_C_SOURCE 200809L
#include <models.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "test_server.h"

#define GITHUB_TOKEN "ghu_GitHubSecret0123456789abcdefXYZ"
#define REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"

/* Every secret of this test: none may appear in a log line or error message. */
static const char *const secrets[] = {GITHUB_TOKEN, "copilot-secret", "cop-tok-", "c-source-secret"};

static void check_no_secret(const char *text, const char *where) {
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        check_count++;
        if (text && strstr(text, secrets[i])) {
            check_failures++;
            fprintf(stderr, "%s leaks \"%s\": %s\n", where, secrets[i], text);
        }
    }
}

/* ---- Every log line, at DEBUG, from every thread ---------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;
static int log_lines;

static void record_log(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    size_t n = strlen(message);
    pthread_mutex_lock(&log_lock);
    char *grown = realloc(log_text, log_len + n + 2);
    if (grown) {
        log_text = grown;
        memcpy(log_text + log_len, message, n);
        log_len += n;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
        log_lines++;
    }
    pthread_mutex_unlock(&log_lock);
}

/* ---- Recorded requests ---------------------------------------------------- */

/* Occurrences of `needle` in `text`. */
static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* The i-th recorded request (0-based) of a /_control/requests answer, as its own
 * string (malloc'd), or an empty string when there are fewer. The server writes
 * compact JSON, each request starting with {"method":. */
static char *nth_request(const char *all, int i) {
    const char *mark = "{\"method\":";
    const char *p = all;
    for (int k = 0; p && k <= i; k++) {
        p = strstr(k == 0 ? p : p + 1, mark);
    }
    if (!p) return calloc(1, 1);
    const char *end = strstr(p + 1, mark);
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int token_requests(void) {
    char *all = ts_get("requests");
    int n = count_of(all, "/copilot_internal/v2/token");
    free(all);
    return n;
}

/* ---- Routers and requests ------------------------------------------------- */

/* A router whose only model is the Copilot model "gpt-4.1", exchanging
 * GITHUB_TOKEN at the test server. `extra` adds top-level members. */
static models_router *copilot_router(const char *extra, const char *token_url) {
    char config[4096], url[512];
    if (!token_url) {
        snprintf(url, sizeof url, "%s/copilot_internal/v2/token", ts_url());
        token_url = url;
    }
    snprintf(config, sizeof config,
             "{\"primary\":\"gpt-4.1\",\"max_retries\":0%s%s,\"providers\":{\"github-copilot\":"
             "{\"github_token\":\"" GITHUB_TOKEN "\",\"token_url\":\"%s\"}}}",
             extra ? "," : "", extra ? extra : "", token_url);
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    CHECK(r != NULL);
    if (!r) fprintf(stderr, "models_router_new: %s\n", models_error_message(err));
    models_error_free(err);
    return r;
}

/* One chat; checks the echo on success, checks the error for secrets on failure
 * and hands it back through *errp (or frees it when errp is NULL). */
static models_code chat(models_router *r, models_error **errp) {
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, REQUEST, &response, &err);
    if (rc == MODELS_OK) {
        CHECK_STR_CONTAINS(response, "echo: hi");
        check_no_secret(response, "response");
    } else {
        check_no_secret(models_error_message(err), "error message");
    }
    models_free(response);
    if (errp) *errp = err; else models_error_free(err);
    return rc;
}

/* Queues one answer of the token endpoint. */
static void script_token(const char *token, long long expires_at, const char *api_url, int delay_ms) {
    char step[1024];
    snprintf(step, sizeof step,
             "[{\"delay_ms\":%d,\"body\":{\"token\":\"%s\",\"expires_at\":%lld,\"endpoints\":{\"api\":\"%s\"}}}]",
             delay_ms, token, expires_at, api_url);
    ts_script("token", step);
}

/* expires_at values that are no time (INT64_MIN once crashed the process in
 * `expires_at - now`): a protocol error naming the exchange's host, never the token. */
static void test_implausible_expiry_is_refused(void) {
    const long long values[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, -1, 0, 253402300800LL};
    models_router *r = copilot_router(NULL, NULL);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        ts_reset();
        script_token("tid=copilot-secret-odd", values[i], ts_url(), 0);
        models_error *err = NULL;
        models_code rc = chat(r, &err);
        CHECK(rc == MODELS_ERR_PROTOCOL);
        CHECK_STR_CONTAINS(models_error_message(err), "127.0.0.1");
        CHECK_STR_CONTAINS(models_error_message(err), "expires_at");
        if (rc != MODELS_ERR_PROTOCOL) fprintf(stderr, "  expires_at %lld: %s\n", values[i], models_error_message(err));
        models_error_free(err);
    }
    /* The next sensible answer is used. */
    ts_reset();
    script_token("tid=copilot-secret-fine", (long long)time(NULL) + 1800, ts_url(), 0);
    CHECK(chat(r, NULL) == MODELS_OK);
    models_router_free(r);
}

/* ---- The built-in exchange -------------------------------------------------- */

static void test_request_path_and_headers(void) {
    ts_reset();
    models_router *r = copilot_router(NULL, NULL);
    CHECK(chat(r, NULL) == MODELS_OK);

    char *all = ts_get("requests");
    CHECK(count_of(all, "{\"method\":") == 2);
    char *exchange = nth_request(all, 0);
    CHECK_STR_CONTAINS(exchange, "\"method\":\"GET\",\"path\":\"/copilot_internal/v2/token\"");
    CHECK_STR_CONTAINS(exchange, "\"authorization\":\"Bearer " GITHUB_TOKEN "\"");
    CHECK_STR_CONTAINS(exchange, "\"accept\":\"application/json\"");
    CHECK_STR_CONTAINS(exchange, "\"editor-version\":\"vscode/");
    CHECK_STR_CONTAINS(exchange, "\"editor-plugin-version\":\"copilot-chat/");

    char *api = nth_request(all, 1);
    /* No /v1: the path goes straight on the API URL the token named. */
    CHECK_STR_CONTAINS(api, "\"method\":\"POST\",\"path\":\"/chat/completions\"");
    CHECK_STR_CONTAINS(api, "\"authorization\":\"Bearer cop-tok-1\"");
    CHECK_STR_CONTAINS(api, "\"editor-version\":\"vscode/");
    CHECK_STR_CONTAINS(api, "\"editor-plugin-version\":\"copilot-chat/");
    CHECK_STR_CONTAINS(api, "\"openai-intent\":\"conversation-edits\"");
    CHECK_STR_CONTAINS(api, "\"copilot-integration-id\":\"vscode-chat\"");
    CHECK_STR_CONTAINS(api, "\"model\":\"gpt-4.1\"");
    CHECK(strstr(api, GITHUB_TOKEN) == NULL); /* the GitHub token stays with the exchange */
    free(exchange);
    free(api);
    free(all);

    /* A stream uses the cached token: same path and headers, no new exchange. */
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, REQUEST, &err);
    CHECK(s != NULL);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(text && strcmp(text, "echo: hi") == 0);
    models_free(text);
    models_stream_close(s);
    models_error_free(err);

    all = ts_get("requests");
    CHECK(count_of(all, "/copilot_internal/v2/token") == 1);
    char *stream = nth_request(all, 2);
    CHECK_STR_CONTAINS(stream, "\"path\":\"/chat/completions\"");
    CHECK_STR_CONTAINS(stream, "\"accept\":\"text/event-stream\"");
    CHECK_STR_CONTAINS(stream, "\"authorization\":\"Bearer cop-tok-1\"");
    CHECK_STR_CONTAINS(stream, "\"copilot-integration-id\":\"vscode-chat\"");
    free(stream);
    free(all);
    models_router_free(r);
}

/* Each token names its API URL; each request goes where its token says. */
static void test_api_host_follows_the_token(void) {
    ts_reset();
    char api_a[256], api_b[256];
    snprintf(api_a, sizeof api_a, "%s/apiA", ts_url());
    const char *port = strrchr(ts_url(), ':');
    snprintf(api_b, sizeof api_b, "http://localhost%s/apiB/", port);
    /* Both expired on arrival, so the second request exchanges again. */
    script_token("tid=copilot-secret-A", 1000, api_a, 0);
    script_token("tid=copilot-secret-B", 1000, api_b, 0);

    models_router *r = copilot_router(NULL, NULL);
    CHECK(chat(r, NULL) == MODELS_OK);
    CHECK(chat(r, NULL) == MODELS_OK);

    char *all = ts_get("requests");
    CHECK(count_of(all, "{\"method\":") == 4);
    char *first = nth_request(all, 1), *second = nth_request(all, 3);
    CHECK_STR_CONTAINS(first, "\"path\":\"/apiA/chat/completions\"");
    CHECK_STR_CONTAINS(first, "\"host\":\"127.0.0.1:");
    CHECK_STR_CONTAINS(first, "\"authorization\":\"Bearer tid=copilot-secret-A\"");
    CHECK_STR_CONTAINS(second, "\"path\":\"/apiB/chat/completions\"");
    CHECK_STR_CONTAINS(second, "\"host\":\"localhost:");
    CHECK_STR_CONTAINS(second, "\"authorization\":\"Bearer tid=copilot-secret-B\"");
    free(first);
    free(second);
    free(all);
    models_router_free(r);
}

/* A token is used until 60 s before it expires, then exchanged again. */
static void test_refresh_after_expiry(void) {
    ts_reset();
    long long now = (long long)time(NULL);
    script_token("tid=copilot-secret-near", now + 30, ts_url(), 0);   /* inside the 60 s margin */
    script_token("tid=copilot-secret-fresh", now + 120, ts_url(), 0); /* outside it */

    models_router *r = copilot_router(NULL, NULL);
    for (int i = 0; i < 3; i++) CHECK(chat(r, NULL) == MODELS_OK);

    char *all = ts_get("requests");
    CHECK(count_of(all, "/copilot_internal/v2/token") == 2);
    CHECK(count_of(all, "\"authorization\":\"Bearer tid=copilot-secret-near\"") == 1);
    CHECK(count_of(all, "\"authorization\":\"Bearer tid=copilot-secret-fresh\"") == 2);
    free(all);
    models_router_free(r);
}

typedef struct {
    models_router *router;
    pthread_barrier_t *start;
    models_code rc;
} chat_thread;

static void *chat_in_thread(void *arg) {
    chat_thread *t = arg;
    pthread_barrier_wait(t->start);
    t->rc = chat(t->router, NULL);
    return NULL;
}

/* Runs `n` chats at once on `r`; returns how many succeeded. */
static int chats_at_once(models_router *r, int n) {
    pthread_t threads[16];
    chat_thread args[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        args[i].router = r;
        args[i].start = &start;
        args[i].rc = MODELS_ERR_API;
        pthread_create(&threads[i], NULL, chat_in_thread, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].rc == MODELS_OK;
    }
    pthread_barrier_destroy(&start);
    return ok;
}

/* 8 requests finding the token expired at the same moment: one exchange, whose
 * token all 8 use. The exchange answers after 300 ms, so without the single
 * flight every thread would be exchanging at once. */
static void test_single_flight_refresh(void) {
    ts_reset();
    script_token("tid=copilot-secret-old", 1000, ts_url(), 0);
    script_token("tid=copilot-secret-new", (long long)time(NULL) + 1800, ts_url(), 300);

    models_router *r = copilot_router(NULL, NULL);
    CHECK(chat(r, NULL) == MODELS_OK); /* caches the expired token */
    CHECK(chats_at_once(r, 8) == 8);

    char *all = ts_get("requests");
    CHECK(count_of(all, "/copilot_internal/v2/token") == 2);
    CHECK(count_of(all, "\"authorization\":\"Bearer tid=copilot-secret-new\"") == 8);
    free(all);
    models_router_free(r);
}

/* The Copilot API refusing a cached token (HTTP 401) drops it: that request
 * fails (a 401 is not retried), the next one exchanges again. */
static void test_api_401_drops_the_token(void) {
    ts_reset();
    models_router *r = copilot_router(NULL, NULL);
    CHECK(chat(r, NULL) == MODELS_OK);
    CHECK(token_requests() == 1);
    ts_script("gpt-4.1", "[{\"status\":401}]");
    models_error *err = NULL;
    CHECK(chat(r, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    models_error_free(err);
    CHECK(token_requests() == 1);
    CHECK(chat(r, NULL) == MODELS_OK);
    CHECK(token_requests() == 2);
    char *all = ts_get("requests");
    char *last = nth_request(all, count_of(all, "{\"method\":") - 1);
    CHECK_STR_CONTAINS(last, "\"authorization\":\"Bearer cop-tok-2\"");
    free(last);
    free(all);
    models_router_free(r);
}

static void test_refused_github_token(void) {
    int statuses[] = {401, 403};
    for (int i = 0; i < 2; i++) {
        ts_reset();
        char step[512];
        /* GitHub's answer quotes the token back: it must not get through. */
        snprintf(step, sizeof step, "[{\"status\":%d,\"body\":{\"message\":\"Bad credentials: " GITHUB_TOKEN "\"}}]",
                 statuses[i]);
        ts_script("token", step);
        models_router *r = copilot_router("\"max_retries\":2,\"retry_base_ms\":1", NULL);

        models_error *err = NULL;
        CHECK(chat(r, &err) == MODELS_ERR_API);
        CHECK(models_error_status(err) == statuses[i]);
        CHECK(models_error_is_transient(err) == 0);
        CHECK_STR_CONTAINS(models_error_message(err), "the GitHub token was refused");
        CHECK_STR_CONTAINS(models_error_message(err), "Bad credentials");
        CHECK(token_requests() == 1); /* not retried */
        char *all = ts_get("requests");
        CHECK(count_of(all, "/chat/completions") == 0);
        free(all);
        models_error_free(err);
        models_router_free(r);
    }
}

/* A token exchange that cannot connect is transient, as any transport failure. */
static void test_exchange_transport_failure_is_transient(void) {
    models_router *r = copilot_router(NULL, "http://127.0.0.1:1/copilot_internal/v2/token");
    models_error *err = NULL;
    CHECK(chat(r, &err) == MODELS_ERR_TRANSPORT);
    CHECK(models_error_is_transient(err) == 1);
    CHECK_STR_CONTAINS(models_error_message(err), "token exchange");
    models_error_free(err);
    models_router_free(r);
}

/* The API quoting the Copilot token back in an error: redacted. */
static void test_api_error_hides_the_copilot_token(void) {
    ts_reset();
    script_token("tid=copilot-secret-quoted;exp=1", (long long)time(NULL) + 1800, ts_url(), 0);
    ts_script("gpt-4.1", "[{\"status\":401,\"body\":{\"error\":{\"message\":\"bad token tid=copilot-secret-quoted;exp=1\"}}}]");
    models_router *r = copilot_router(NULL, NULL);
    models_error *err = NULL;
    CHECK(chat(r, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    CHECK_STR_CONTAINS(models_error_message(err), "bad token");
    models_error_free(err);
    models_router_free(r);
}

static void test_config_without_github_token(void) {
    models_error *err = NULL;
    CHECK(models_router_new("{\"primary\":\"gpt-4.1\",\"providers\":{\"github-copilot\":{}}}", &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "github_token");
    models_error_free(err);

    /* A variable that is not set: the router works, the model fails and says why. */
    models_router *r = models_router_new(
        "{\"primary\":\"gpt-4.1\",\"providers\":{\"github-copilot\":"
        "{\"github_token_env\":\"MODELS_TEST_UNSET_GITHUB_TOKEN\"}}}", &err);
    CHECK(r != NULL);
    CHECK(chat(r, &err) == MODELS_ERR_NO_PROVIDER);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "MODELS_TEST_UNSET_GITHUB_TOKEN");
    models_error_free(err);
    models_router_free(r);
}

/* ---- Token sources written in C --------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    int tokens, urls, destroyed;
    int fail_code;            /* get_token returns it when non-zero */
    const char *fail_message; /* with an error object when non-NULL */
    const char *fixed_token;  /* instead of c-source-secret-<n> */
} source_state;

static char *copy(const char *s) {
    char *p = malloc(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static int source_token(void *user, char **token, models_error **err) {
    source_state *st = user;
    pthread_mutex_lock(&st->lock);
    int n = ++st->tokens;
    pthread_mutex_unlock(&st->lock);
    if (st->fail_code) {
        if (st->fail_message) *err = models_error_new((models_code)st->fail_code, st->fail_message, 0, 0);
        return st->fail_code;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "c-source-secret-%d", n);
    *token = copy(st->fixed_token ? st->fixed_token : buf);
    return MODELS_OK;
}

static int source_api_url(void *user, char **api_url, models_error **err) {
    (void)err;
    source_state *st = user;
    pthread_mutex_lock(&st->lock);
    st->urls++;
    pthread_mutex_unlock(&st->lock);
    char buf[256];
    snprintf(buf, sizeof buf, "%s/", ts_url()); /* the trailing '/' is ignored */
    *api_url = copy(buf);
    return MODELS_OK;
}

static void source_destroy(void *user) {
    source_state *st = user;
    pthread_mutex_lock(&st->lock);
    st->destroyed++;
    pthread_mutex_unlock(&st->lock);
}

static const models_token_source c_source = {sizeof c_source, source_token, source_api_url, source_destroy};

static void init_state(source_state *st) {
    memset(st, 0, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
}

/* A router the program configured itself, plus a Copilot provider from C. */
static models_router *router_with_source(const char *config, source_state *st) {
    models_router *r = models_router_new(config, NULL);
    CHECK(r != NULL);
    models_error *err = (models_error *)0x1;
    CHECK(models_router_add_copilot(r, &c_source, st, &err) == MODELS_OK);
    CHECK(err == NULL);
    return r;
}

static void test_c_token_source(void) {
    ts_reset();
    source_state st;
    init_state(&st);
    models_router *r = router_with_source("{\"primary\":\"gpt-4.1\",\"max_retries\":0}", &st);
    char *names = models_router_providers(r);
    CHECK_STR_CONTAINS(names, "\"github-copilot\"");
    models_free(names);

    CHECK(chat(r, NULL) == MODELS_OK);
    CHECK(chat(r, NULL) == MODELS_OK);
    char *all = ts_get("requests");
    CHECK(count_of(all, "/copilot_internal/v2/token") == 0);
    char *first = nth_request(all, 0), *second = nth_request(all, 1);
    /* Asked for every request: each carries the token it was given. */
    CHECK_STR_CONTAINS(first, "\"path\":\"/chat/completions\"");
    CHECK_STR_CONTAINS(first, "\"authorization\":\"Bearer c-source-secret-1\"");
    CHECK_STR_CONTAINS(first, "\"openai-intent\":\"conversation-edits\"");
    CHECK_STR_CONTAINS(first, "\"copilot-integration-id\":\"vscode-chat\"");
    CHECK_STR_CONTAINS(first, "\"editor-version\":\"vscode/");
    CHECK_STR_CONTAINS(first, "\"editor-plugin-version\":\"copilot-chat/");
    CHECK_STR_CONTAINS(second, "\"authorization\":\"Bearer c-source-secret-2\"");
    free(first);
    free(second);
    free(all);

    /* From several threads at once: once per request, and every request answered. */
    CHECK(chats_at_once(r, 8) == 8);
    CHECK(st.tokens == 10);
    CHECK(st.urls == 10);
    CHECK(st.destroyed == 0);
    models_router_free(r);
    CHECK(st.destroyed == 1);
    pthread_mutex_destroy(&st.lock);
}

/* Registering again replaces the provider; the old source is destroyed. */
static void test_c_token_source_replaced(void) {
    source_state a, b;
    init_state(&a);
    init_state(&b);
    models_router *r = router_with_source("{\"primary\":\"gpt-4.1\"}", &a);
    CHECK(models_router_add_copilot(r, &c_source, &b, NULL) == MODELS_OK);
    CHECK(a.destroyed == 1);
    CHECK(b.destroyed == 0);
    models_router_free(r);
    CHECK(b.destroyed == 1);
}

static void test_failing_c_token_source(void) {
    ts_reset();
    source_state st;
    init_state(&st);
    /* With an error object: its code and message, made permanent. */
    st.fail_code = MODELS_ERR_TRANSPORT;
    st.fail_message = "vault unreachable";
    models_router *r = router_with_source("{\"primary\":\"gpt-4.1\",\"max_retries\":2,\"retry_base_ms\":1}", &st);
    models_error *err = NULL;
    CHECK(chat(r, &err) == MODELS_ERR_TRANSPORT);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "github-copilot: the token source failed");
    CHECK_STR_CONTAINS(models_error_message(err), "vault unreachable");
    CHECK(st.tokens == 1); /* not retried */
    models_error_free(err);

    /* With only a code. */
    st.fail_code = MODELS_ERR_API;
    st.fail_message = NULL;
    CHECK(chat(r, &err) == MODELS_ERR_API);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "the token source failed");
    models_error_free(err);

    /* A token that would inject a header line never reaches the wire. */
    st.fail_code = 0;
    st.fixed_token = "c-source-secret\r\nX-Injected: 1";
    CHECK(chat(r, &err) == MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "token source");
    models_error_free(err);

    char *all = ts_get("requests");
    CHECK(count_of(all, "{\"method\":") == 0);
    free(all);
    models_router_free(r);

    /* A failing token source does not stop the fallbacks. */
    char config[2048];
    ts_config(config, sizeof config, "\"primary\":\"gpt-4.1\",\"fallbacks\":[\"local/m1\"]", "local", NULL);
    init_state(&st);
    st.fail_code = MODELS_ERR_API;
    r = router_with_source(config, &st);
    CHECK(chat(r, NULL) == MODELS_OK);
    models_router_free(r);
}

static void test_add_copilot_bad_arguments(void) {
    source_state st;
    init_state(&st);
    models_router *r = models_router_new("{\"primary\":\"gpt-4.1\"}", NULL);
    models_error *err = NULL;
    CHECK(models_router_add_copilot(NULL, &c_source, &st, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "router is NULL");
    models_error_free(err);
    CHECK(models_router_add_copilot(r, NULL, &st, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    models_token_source no_token = {sizeof no_token, NULL, source_api_url, source_destroy};
    CHECK(models_router_add_copilot(r, &no_token, &st, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "get_token");
    models_error_free(err);
    /* A size that is not sizeof(models_token_source): unset (0), an older or
    ** shorter struct, or a newer header's larger one. */
    struct { models_token_source source; void *newer_member; } larger = {c_source, NULL};
    const size_t wrong_sizes[] = {0, sizeof c_source - sizeof(void *), sizeof larger};
    for (size_t i = 0; i < sizeof wrong_sizes / sizeof wrong_sizes[0]; i++) {
        larger.source.size = wrong_sizes[i];
        CHECK(models_router_add_copilot(r, &larger.source, &st, &err) == MODELS_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(models_error_message(err), "source->size");
        CHECK_STR_CONTAINS(models_error_message(err), "sizeof(models_token_source)");
        models_error_free(err);
    }
    char *names = models_router_providers(r);
    CHECK(names && strstr(names, "github-copilot") == NULL);
    models_free(names);
    models_router_free(r);
    CHECK(st.destroyed == 0);
}

int main(void) {
    models_set_log_handler(record_log, NULL, MODELS_LOG_DEBUG);

    test_request_path_and_headers();
    test_api_host_follows_the_token();
    test_refresh_after_expiry();
    test_single_flight_refresh();
    test_implausible_expiry_is_refused();
    test_api_401_drops_the_token();
    test_refused_github_token();
    test_exchange_transport_failure_is_transient();
    test_api_error_hides_the_copilot_token();
    test_config_without_github_token();
    test_c_token_source();
    test_c_token_source_replaced();
    test_failing_c_token_source();
    test_add_copilot_bad_arguments();

    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    /* The log saw the exchanges and the failures, and no secret. */
    CHECK(log_lines > 0);
    CHECK_STR_CONTAINS(log_text, "exchanging the GitHub token");
    check_no_secret(log_text, "the log");
    free(log_text);
    return check_report("test_copilot");
}
