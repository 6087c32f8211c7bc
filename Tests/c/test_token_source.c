/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources for any provider (models_router_set_token_source), against the
 * loopback test server: where the token goes for each provider type and
 * send_as, caching by expiry, a refresh after a 401, one call of the function
 * for eight threads, failing functions and bad tokens (CR/LF), the engine
 * calling the function on a worker thread, bad arguments and destroy, and that
 * no token reaches a log line or an error message. */
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
#include "test_util.h"

/* Every token of this test contains this: none may reach a log line or an error. */
#define SECRET "tok-secret-"

/* ---- Every log line, at DEBUG, from every thread ---------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_leaks;
static int log_lines;

static void record_log(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (strstr(message, SECRET)) {
        log_leaks++;
        fprintf(stderr, "log line leaks a token: %s\n", message);
    }
    pthread_mutex_unlock(&log_lock);
}

static void check_no_secret(const char *text) {
    CHECK(text == NULL || strstr(text, SECRET) == NULL);
    if (text && strstr(text, SECRET)) fprintf(stderr, "  leaks a token: %s\n", text);
}

/* ---- A token source written in C ------------------------------------------- */

struct source {
    pthread_mutex_t lock;
    const char *prefix;     /* the token is "<prefix><n>" for the n-th call */
    const char *fixed;      /* or always this token, when set */
    int64_t lifetime_s;     /* expires_at = now + lifetime_s; 0: unknown */
    int use_expiry;         /* expires_at = expiry instead */
    int64_t expiry;
    int fail;               /* return MODELS_ERR_API with a message instead */
    int fail_after;         /* fail from this call on (0: as `fail` says) */
    int delay_ms;           /* sleep in the function (to let threads pile up) */
    int calls;
    int destroyed;
    pthread_t last_thread;
};

static void source_init(struct source *s, const char *prefix, int64_t lifetime_s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->prefix = prefix;
    s->lifetime_s = lifetime_s;
}

static int get_token(void *user, char **token, int64_t *expires_at, models_error **err) {
    struct source *s = user;
    if (s->delay_ms) sleep_ms(s->delay_ms);
    pthread_mutex_lock(&s->lock);
    int n = ++s->calls;
    s->last_thread = pthread_self();
    pthread_mutex_unlock(&s->lock);
    if (s->fail || (s->fail_after && n >= s->fail_after)) {
        /* A careless message quoting the token it gave before: the library redacts it. */
        char message[256];
        if (s->fail) snprintf(message, sizeof message, "identity provider down");
        else snprintf(message, sizeof message, "identity provider down (last token %s%d)", s->prefix, n - 1);
        *err = models_error_new(MODELS_ERR_API, message, 0, 0);
        return MODELS_ERR_API;
    }
    char text[256];
    if (s->fixed) snprintf(text, sizeof text, "%s", s->fixed);
    else snprintf(text, sizeof text, "%s%d", s->prefix, n);
    *token = strdup(text);
    if (s->use_expiry) *expires_at = s->expiry;
    else if (s->lifetime_s) *expires_at = (int64_t)time(NULL) + s->lifetime_s;
    return MODELS_OK;
}

static void destroy_source(void *user) {
    struct source *s = user;
    pthread_mutex_lock(&s->lock);
    s->destroyed++;
    pthread_mutex_unlock(&s->lock);
}

static models_code set_source(models_router *r, const char *provider, struct source *s, int send_as, models_error **err) {
    models_token_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.get_token = get_token;
    cb.destroy = destroy_source;
    cb.send_as = send_as;
    return models_router_set_token_source(r, provider, &cb, s, err);
}

static int calls_of(struct source *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->calls;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- Routers ---------------------------------------------------------------- */

/* Providers of every type on the test server, none with a usable key of its
 * own: "oai" (openai), "ant" (anthropic), "az" (azure, with a configured
 * api_key and api-key header that a token source must replace) and "cop"
 * (github-copilot, no /v1). `members` are more top-level members. */
static models_router *typed_router(const char *members) {
    char config[4096];
    snprintf(config, sizeof config,
             "{%s%s\"max_retries\":0,\"providers\":{"
             "\"oai\":{\"type\":\"openai\",\"base_url\":\"%s/v1\"},"
             "\"ant\":{\"type\":\"anthropic\",\"base_url\":\"%s/v1\",\"api_key\":\"sk-ant-config-0123456789\"},"
             "\"az\":{\"type\":\"azure\",\"base_url\":\"%s\",\"api_version\":\"2024-10-21\","
             "\"api_key\":\"az-config-key-0123456789\",\"headers\":{\"api-key\":\"az-header-key-0123456789\"}},"
             "\"cop\":{\"type\":\"github-copilot\",\"base_url\":\"%s\",\"api_key\":\"cop-config-token-0123456789\"},"
             "\"spare\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-spare-0123456789\"}}}",
             members, *members ? "," : "", ts_url(), ts_url(), ts_url(), ts_url(), ts_url());
    return router_or_exit(config);
}

/* One chat with `model`; the error (when it fails) is checked for tokens and
 * handed back through *errp (or freed). */
static models_code chat_with(models_router *r, const char *model, models_error **errp) {
    char request[256];
    snprintf(request, sizeof request, "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", model);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, request, &response, &err);
    if (rc == MODELS_OK) CHECK_STR_CONTAINS(response, "echo: hi");
    else check_no_secret(models_error_message(err));
    models_free(response);
    if (errp) *errp = err; else models_error_free(err);
    return rc;
}

/* The last request the server recorded (malloc'd). */
static char *last_request(void) {
    char *all = ts_get("requests");
    int n = count_of(all, "{\"method\":");
    free(all);
    return nth_request(n - 1);
}

/* ---- Where the token goes ---------------------------------------------------- */

static void test_token_on_each_provider_type(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source oai, ant, az, cop;
    source_init(&oai, SECRET "oai-", 3600);
    source_init(&ant, SECRET "ant-", 3600);
    source_init(&az, SECRET "az-", 3600);
    source_init(&cop, SECRET "cop-", 3600);
    CHECK(set_source(r, "oai", &oai, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(set_source(r, "ant", &ant, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(set_source(r, "az", &az, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(set_source(r, "cop", &cop, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);

    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/v1/chat/completions\"");
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "oai-1\"");
    free(req);

    CHECK(chat_with(r, "ant/claude-x", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/v1/messages\"");
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "ant-1\"");
    CHECK(strstr(req, "x-api-key") == NULL); /* an OAuth-style token: no key */
    CHECK(strstr(req, "sk-ant-config") == NULL);
    free(req);

    /* Azure with an Entra ID token: Bearer, and no api-key at all. */
    CHECK(chat_with(r, "az/dep-1", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/openai/deployments/dep-1/chat/completions?api-version=2024-10-21\"");
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "az-1\"");
    CHECK(strstr(req, "\"api-key\":") == NULL);
    CHECK(strstr(req, "az-config-key") == NULL && strstr(req, "az-header-key") == NULL);
    free(req);

    CHECK(chat_with(r, "cop/gpt-4.1", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/chat/completions\"");
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "cop-1\"");
    CHECK_STR_CONTAINS(req, "\"copilot-integration-id\":\"vscode-chat\"");
    free(req);

    /* Streams carry the same (cached) token. */
    models_error *err = NULL;
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, "{\"model\":\"ant/claude-x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                             stream_text_on_chunk, NULL, &text, &err) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    models_error_free(err);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "ant-1\"");
    free(req);
    CHECK(calls_of(&oai) == 1 && calls_of(&ant) == 1 && calls_of(&az) == 1 && calls_of(&cop) == 1);

    /* send_as MODELS_TOKEN_API_KEY: where the type sends its key. */
    struct source ant_key, az_key, oai_key;
    source_init(&ant_key, SECRET "antkey-", 3600);
    source_init(&az_key, SECRET "azkey-", 3600);
    source_init(&oai_key, SECRET "oaikey-", 3600);
    CHECK(set_source(r, "ant", &ant_key, MODELS_TOKEN_API_KEY, NULL) == MODELS_OK);
    CHECK(set_source(r, "az", &az_key, MODELS_TOKEN_API_KEY, NULL) == MODELS_OK);
    CHECK(set_source(r, "oai", &oai_key, MODELS_TOKEN_API_KEY, NULL) == MODELS_OK);
    /* The sources they replaced are released (no request uses them). */
    CHECK(ant.destroyed == 1 && az.destroyed == 1 && oai.destroyed == 1);

    CHECK(chat_with(r, "ant/claude-x", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"x-api-key\":\"" SECRET "antkey-1\"");
    CHECK(strstr(req, "authorization") == NULL);
    free(req);
    CHECK(chat_with(r, "az/dep-1", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"api-key\":\"" SECRET "azkey-1\"");
    CHECK(count_of(req, "api-key") == 1);
    CHECK(strstr(req, "authorization") == NULL);
    free(req);
    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "oaikey-1\"");
    free(req);

    models_router_free(r);
    CHECK(ant_key.destroyed == 1 && az_key.destroyed == 1 && oai_key.destroyed == 1 && cop.destroyed == 1);
}

/* A provider the config does not name but the library knows ("openai") can
 * get a token source too; its URL is the known one, so only registration is
 * checked here. */
static void test_known_provider_not_in_config(void) {
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "openai-", 3600);
    CHECK(set_source(r, "openai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    char *providers = models_router_providers(r);
    CHECK_STR_CONTAINS(providers, "\"openai\"");
    models_free(providers);
    models_router_free(r);
    CHECK(s.destroyed == 1 && s.calls == 0);
}

/* ---- Caching by expiry --------------------------------------------------------- */

static void test_refresh_on_expiry(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");

    /* Expiring within the 60 s margin: a new token for every request. */
    struct source near;
    source_init(&near, SECRET "near-", 30);
    CHECK(set_source(r, "oai", &near, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    for (int i = 0; i < 3; i++) CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&near) == 3);
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "near-3\"");
    free(req);

    /* No expiry given: not kept either (the function is asked every time). */
    struct source unknown;
    source_init(&unknown, SECRET "unknown-", 0);
    CHECK(set_source(r, "oai", &unknown, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    for (int i = 0; i < 3; i++) CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&unknown) == 3);

    /* An hour left: one call serves every request. */
    struct source hour;
    source_init(&hour, SECRET "hour-", 3600);
    CHECK(set_source(r, "oai", &hour, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    for (int i = 0; i < 3; i++) CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&hour) == 1);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "hour-1\"");
    free(req);
    models_router_free(r);
}

/* Hostile expiries (INT64_MIN, INT64_MAX, negative, past 9999) count as unknown:
 * the token serves its request, nothing overflows. */
static void test_hostile_expiry(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    const int64_t expiries[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, -1, 253402300800LL};
    enum { N = sizeof expiries / sizeof expiries[0] };
    struct source sources[N]; /* each lives until the router lets it go */
    for (size_t i = 0; i < N; i++) {
        struct source *s = &sources[i];
        source_init(s, SECRET "odd-", 0);
        s->use_expiry = 1;
        s->expiry = expiries[i];
        CHECK(set_source(r, "oai", s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
        CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
        CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
        CHECK(calls_of(s) == 2);
    }
    models_router_free(r);
    for (size_t i = 0; i < N; i++) CHECK(sources[i].destroyed == 1);
}

/* ---- A 401 refreshes ------------------------------------------------------------ */

static void test_refresh_after_401(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "r-", 3600);
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&s) == 1);

    /* The server refuses the cached token, quoting it back. */
    ts_script("m1", "[{\"status\":401,\"body\":{\"error\":{\"message\":\"bad token " SECRET "r-1\",\"type\":\"auth\"}}}]");
    models_error *err = NULL;
    CHECK(chat_with(r, "oai/m1", &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    CHECK(err && strcmp(models_error_kind(err), "auth") == 0);
    models_error_free(err);
    CHECK(calls_of(&s) == 1); /* a 401 is not retried on the same model */

    /* The refused token is dropped: the next request asks for a new one. */
    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&s) == 2);
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "r-2\"");
    free(req);
    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(calls_of(&s) == 2);

    /* The same on Anthropic, streaming. */
    struct source a;
    source_init(&a, SECRET "ra-", 3600);
    CHECK(set_source(r, "ant", &a, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    ts_script("claude-x", "[{\"status\":401}]");
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, "{\"model\":\"ant/claude-x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                             stream_text_on_chunk, NULL, &text, &err) == MODELS_ERR_API);
    models_error_free(err);
    CHECK(chat_with(r, "ant/claude-x", NULL) == MODELS_OK);
    CHECK(calls_of(&a) == 2);
    models_router_free(r);
}

/* ---- One call for eight threads -------------------------------------------------- */

struct worker {
    models_router *r;
    models_code rc;
    int echoed;
};

/* No CHECK here: the checks' counters belong to the main thread. */
static void *chat_thread(void *arg) {
    struct worker *w = arg;
    char *response = NULL;
    w->rc = models_chat(w->r, HELLO, &response, NULL);
    w->echoed = response && strstr(response, "echo: hi") != NULL;
    models_free(response);
    return NULL;
}

static void test_single_flight(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "sf-", 3600);
    s.delay_ms = 50; /* the threads arrive while the first call runs */
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    pthread_t threads[8];
    struct worker workers[8];
    for (int i = 0; i < 8; i++) {
        workers[i].r = r;
        pthread_create(&threads[i], NULL, chat_thread, &workers[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].rc == MODELS_OK && workers[i].echoed);
    }
    CHECK(calls_of(&s) == 1);
    char *all = ts_get("requests");
    CHECK(count_of(all, "Bearer " SECRET "sf-1\"") == 8);
    free(all);
    models_router_free(r);
}

/* ---- Failures ---------------------------------------------------------------------- */

static void test_failing_source(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "f-", 3600);
    s.fail = 1;
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    models_error *err = NULL;
    CHECK(chat_with(r, "oai/m1", &err) == MODELS_ERR_API);
    CHECK(err && strcmp(models_error_kind(err), "auth") == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "oai: the token source failed: identity provider down");
    CHECK(!models_error_is_transient(err));
    models_error_free(err);
    CHECK(calls_of(&s) == 1); /* not retried */
    CHECK(ts_stat("requests") == 0);

    /* A source that worked, then fails quoting the token it gave: redacted. */
    struct source later;
    source_init(&later, SECRET "later-", 30);
    later.fail_after = 2;
    CHECK(set_source(r, "oai", &later, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(chat_with(r, "oai/m1", NULL) == MODELS_OK);
    CHECK(chat_with(r, "oai/m1", &err) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "identity provider down");
    models_error_free(err);

    /* With a fallback, the router moves on. */
    models_router_free(r);
    r = typed_router("\"primary\":\"oai/m1\",\"fallbacks\":[\"spare/m2\"]");
    source_init(&s, SECRET "f-", 3600);
    s.fail = 1;
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"spare/m2\"");
    models_free(response);
    models_error_free(err);
    models_router_free(r);
}

static void test_bad_tokens_are_refused(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    const char *bad[] = {SECRET "a\r\nX-Evil: 1", SECRET "b\n", SECRET "c d", "", SECRET "\xc3\xa9"};
    enum { N = sizeof bad / sizeof bad[0] };
    struct source sources[N]; /* each lives until the router lets it go */
    for (size_t i = 0; i < N; i++) {
        struct source *s = &sources[i];
        source_init(s, NULL, 3600);
        s->fixed = bad[i];
        CHECK(set_source(r, "oai", s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
        models_error *err = NULL;
        CHECK(chat_with(r, "oai/m1", &err) == MODELS_ERR_PROTOCOL);
        CHECK(err && strcmp(models_error_kind(err), "auth") == 0);
        CHECK_STR_CONTAINS(models_error_message(err), "oai: the token source gave");
        models_error_free(err);
    }
    CHECK(ts_stat("requests") == 0);
    models_router_free(r);
}

/* ---- The engine calls the function on a worker thread --------------------------------- */

struct done {
    struct stream_text text; /* first: the chunk callback gets the same `user` */
    int calls;
    models_code rc;
    char kind[32];
};

static void on_done(void *user, models_code code, const char *response, const models_error *err) {
    struct done *d = user;
    d->calls++;
    d->rc = code;
    if (code == MODELS_OK) CHECK(response == NULL || strstr(response, "echo: hi") != NULL);
    else {
        snprintf(d->kind, sizeof d->kind, "%s", models_error_kind(err));
        check_no_secret(models_error_message(err));
    }
}

static void run_async(models_engine *e, const char *request, int stream, struct done *d) {
    memset(d, 0, sizeof *d);
    models_code rc = stream ? models_stream_async(e, request, NULL, NULL, stream_text_on_chunk, NULL, on_done, d, NULL)
                            : models_chat_async(e, request, NULL, NULL, on_done, d, NULL);
    CHECK(rc == MODELS_OK);
    int64_t until = now_ms() + 20000;
    while (d->calls == 0 && now_ms() < until) models_engine_process(e, 100);
    CHECK(d->calls == 1);
}

static void test_engine_fetches_on_a_worker_thread(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\",\"fallbacks\":[\"spare/m2\"]");
    struct source s, a;
    source_init(&s, SECRET "e-", 3600);
    source_init(&a, SECRET "ea-", 3600);
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    CHECK(set_source(r, "az", &a, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    models_engine *e = models_engine_new(r, NULL);
    CHECK(e != NULL);
    struct done d;
    run_async(e, HELLO, 0, &d);
    CHECK(d.rc == MODELS_OK);
    CHECK(calls_of(&s) == 1);
    CHECK(!pthread_equal(s.last_thread, pthread_self())); /* never on the engine's thread */
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "e-1\"");
    free(req);

    /* The cached token serves the next calls, chat and stream, without a fetch. */
    run_async(e, HELLO, 0, &d);
    run_async(e, HELLO_STREAM, 1, &d);
    CHECK(d.rc == MODELS_OK);
    CHECK(calls_of(&s) == 1);

    /* Azure on the engine: Bearer, no api-key. */
    run_async(e, "{\"model\":\"az/dep-1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 0, &d);
    CHECK(d.rc == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "ea-1\"");
    CHECK(strstr(req, "\"api-key\":") == NULL);
    free(req);

    /* A 401 drops the token (the call falls back to spare/m2); the next call
     * fetches a new one, on a worker thread again. */
    ts_script("m1", "[{\"status\":401}]");
    run_async(e, HELLO, 0, &d);
    CHECK(d.rc == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"model\":\"m2\"");
    free(req);
    CHECK(calls_of(&s) == 1);
    run_async(e, HELLO, 0, &d);
    CHECK(d.rc == MODELS_OK);
    CHECK(calls_of(&s) == 2);

    /* A failing function falls back to the next model. */
    struct source f;
    source_init(&f, SECRET "ef-", 3600);
    f.fail = 1;
    CHECK(set_source(r, "oai", &f, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    run_async(e, HELLO, 0, &d);
    CHECK(d.rc == MODELS_OK);
    CHECK(calls_of(&f) == 1);
    run_async(e, HELLO_STREAM, 1, &d);
    CHECK(d.rc == MODELS_OK && strcmp(d.text.text, "echo: hi") == 0);
    CHECK(calls_of(&f) == 2);
    models_engine_free(e);
    models_router_free(r);
}

/* ---- Embeddings take the token too, blocking and on the engine -------------------------- */

static void on_embedded(void *user, models_code code, const char *response, const models_error *err) {
    (void)err;
    struct done *d = user;
    d->calls++;
    d->rc = code;
    CHECK(code != MODELS_OK || strstr(response, "\"embedding\"") != NULL);
}

static void test_embeddings_use_the_token(void) {
    ts_reset();
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "emb-", 3600);
    CHECK(set_source(r, "oai", &s, MODELS_TOKEN_BEARER, NULL) == MODELS_OK);
    const char *request = "{\"model\":\"oai/text-embedding-3-small\",\"input\":\"hi\"}";
    char *out = NULL;
    models_error *err = NULL;
    CHECK(models_embed(r, request, &out, &err) == MODELS_OK);
    CHECK(out != NULL && strstr(out, "\"embedding\"") != NULL);
    models_free(out);
    models_error_free(err);
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "emb-1\"");
    free(req);

    /* On the engine, after the token is dropped by a 401: fetched on a worker thread. */
    ts_script("text-embedding-3-small", "[{\"status\":401}]");
    CHECK(models_embed(r, request, &out, NULL) == MODELS_ERR_API);
    models_engine *e = models_engine_new(r, NULL);
    struct done d;
    memset(&d, 0, sizeof d);
    CHECK(models_embed_async(e, request, NULL, NULL, on_embedded, &d, NULL) == MODELS_OK);
    int64_t until = now_ms() + 20000;
    while (d.calls == 0 && now_ms() < until) models_engine_process(e, 100);
    CHECK(d.calls == 1 && d.rc == MODELS_OK);
    CHECK(calls_of(&s) == 2);
    CHECK(!pthread_equal(s.last_thread, pthread_self()));
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer " SECRET "emb-2\"");
    free(req);
    models_engine_free(e);
    models_router_free(r);
}

/* ---- Bad arguments ---------------------------------------------------------------------- */

static void test_bad_arguments(void) {
    models_router *r = typed_router("\"primary\":\"oai/m1\"");
    struct source s;
    source_init(&s, SECRET "x-", 3600);
    models_token_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.get_token = get_token;
    cb.destroy = destroy_source;
    models_error *err = NULL;
    CHECK(models_router_set_token_source(NULL, "oai", &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_set_token_source(r, NULL, &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_set_token_source(r, "oai", NULL, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_set_token_source(r, "nowhere", &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "\"nowhere\"");
    models_error_free(err);
    cb.size = sizeof cb - 1;
    CHECK(models_router_set_token_source(r, "oai", &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "sizeof(models_token_callbacks)");
    models_error_free(err);
    cb.size = sizeof cb;
    cb.send_as = 7;
    CHECK(models_router_set_token_source(r, "oai", &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "send_as");
    models_error_free(err);
    cb.send_as = MODELS_TOKEN_BEARER;
    cb.get_token = NULL;
    CHECK(models_router_set_token_source(r, "oai", &cb, &s, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    models_router_free(r);
    CHECK(s.destroyed == 0 && s.calls == 0); /* refused: never kept, never destroyed */
}

int main(void) {
    models_set_log_handler(record_log, NULL, MODELS_LOG_DEBUG);
    test_token_on_each_provider_type();
    test_known_provider_not_in_config();
    test_refresh_on_expiry();
    test_hostile_expiry();
    test_refresh_after_401();
    test_single_flight();
    test_failing_source();
    test_bad_tokens_are_refused();
    test_engine_fetches_on_a_worker_thread();
    test_embeddings_use_the_token();
    test_bad_arguments();
    models_set_log_handler(NULL, NULL, 0);
    CHECK(log_lines > 0);
    CHECK(log_leaks == 0);
    return check_report("test_token_source");
}
