/* SPDX-License-Identifier: Apache-2.0 */
/* A base_url with a query (a gateway's "https://gw.example/v1?key=..."), on the
 * openai and anthropic provider types, blocking and on the engine: the path is
 * kept, the query goes with every request as written (percent-encoding
 * untouched), merged with the call's extra_query (which replaces a parameter
 * of the same name), and its values never reach an error message or a log
 * line. */
#define _POSIX_C_SOURCE 200809L
#include <models.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_server.h"
#include "test_util.h"

/* The query's secret value: never in a log line or an error message. */
#define QSECRET "qsecret-Zq9aLm3XcV7bN1"

static int log_leaks;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void record_log(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    if (!strstr(message, "qsecret")) return;
    pthread_mutex_lock(&log_lock);
    log_leaks++;
    fprintf(stderr, "log line leaks the query: %s\n", message);
    pthread_mutex_unlock(&log_lock);
}

/* "oai" (openai type) and "ant" (anthropic type), both at the test server under
 * /gw/v1 with the query `?key=QSECRET&x=%2Fy%20z`; "ant2" with a '/' before the
 * query. */
static models_router *query_router(const char *primary) {
    char config[4096];
    snprintf(config, sizeof config,
             "{\"primary\":\"%s\",\"max_retries\":0,\"providers\":{"
             "\"oai\":{\"type\":\"openai\",\"base_url\":\"%s/gw/v1?key=" QSECRET "&x=%%2Fy%%20z\",\"api_key\":\"sk-test-0123456789\"},"
             "\"ant\":{\"type\":\"anthropic\",\"base_url\":\"%s/gw/v1?key=" QSECRET "&x=%%2Fy%%20z\",\"api_key\":\"sk-ant-0123456789\"},"
             "\"ant2\":{\"type\":\"anthropic\",\"base_url\":\"%s/gw/v1/?key=" QSECRET "\",\"api_key\":\"sk-ant-0123456789\"}}}",
             primary, ts_url(), ts_url(), ts_url());
    return router_or_exit(config);
}

static char *last_request(void) {
    char *all = ts_get("requests");
    int n = count_of(all, "{\"method\":");
    free(all);
    return nth_request(n - 1);
}

static const char *request_for(const char *model, int stream) {
    static char text[256];
    snprintf(text, sizeof text, "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]%s}", model,
             stream ? ",\"stream\":true" : "");
    return text;
}

/* One call (chat or stream) with `options`; returns the code, checks the error. */
static models_code call(models_router *r, const char *model, int stream, const char *options, models_error **errp) {
    models_error *err = NULL;
    models_code rc;
    if (stream) {
        struct stream_text text = {0};
        rc = models_chat_stream_ex(r, request_for(model, 1), options, NULL, stream_text_on_chunk, NULL, &text, &err);
        if (rc == MODELS_OK) CHECK(strcmp(text.text, "echo: hi") == 0);
    } else {
        char *response = NULL;
        rc = models_chat_ex(r, request_for(model, 0), options, NULL, &response, &err);
        if (rc == MODELS_OK) CHECK_STR_CONTAINS(response, "echo: hi");
        models_free(response);
    }
    if (err) {
        CHECK(strstr(models_error_message(err), "qsecret") == NULL);
        if (strstr(models_error_message(err), "qsecret")) fprintf(stderr, "  error leaks the query: %s\n", models_error_message(err));
    }
    if (errp) *errp = err; else models_error_free(err);
    return rc;
}

static void test_path_and_query_kept(void) {
    models_router *r = query_router("oai/m1");
    struct { const char *model, *path; } cases[] = {
        {"oai/m1", "\"path\":\"/gw/v1/chat/completions?key=" QSECRET "&x=%2Fy%20z\""},
        {"ant/claude-x", "\"path\":\"/gw/v1/messages?key=" QSECRET "&x=%2Fy%20z\""},
        {"ant2/claude-x", "\"path\":\"/gw/v1/messages?key=" QSECRET "\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int stream = 0; stream <= 1; stream++) {
            ts_reset();
            CHECK(call(r, cases[i].model, stream, NULL, NULL) == MODELS_OK);
            char *req = last_request();
            CHECK_STR_CONTAINS(req, cases[i].path);
            free(req);
        }
    }
    models_router_free(r);
}

static void test_merged_with_extra_query(void) {
    models_router *r = query_router("oai/m1");
    ts_reset();
    CHECK(call(r, "oai/m1", 0, "{\"extra_query\":{\"a\":\"b c\"}}", NULL) == MODELS_OK);
    char *req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/gw/v1/chat/completions?key=" QSECRET "&x=%2Fy%20z&a=b%20c\"");
    free(req);

    /* The call's parameter replaces the base_url's of the same name. */
    CHECK(call(r, "ant/claude-x", 1, "{\"extra_query\":{\"key\":\"other\"}}", NULL) == MODELS_OK);
    req = last_request();
    CHECK_STR_CONTAINS(req, "\"path\":\"/gw/v1/messages?x=%2Fy%20z&key=other\"");
    CHECK(strstr(req, "qsecret") == NULL);
    free(req);
    models_router_free(r);
}

/* The provider quotes the query's key back in its error: redacted. */
static void test_query_values_redacted(void) {
    models_router *r = query_router("oai/m1");
    ts_reset();
    ts_script("m1", "[{\"status\":400,\"body\":{\"error\":{\"message\":\"key " QSECRET " is not valid\",\"type\":\"invalid\"}}}]");
    models_error *err = NULL;
    CHECK(call(r, "oai/m1", 0, NULL, &err) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "is not valid");
    models_error_free(err);
    ts_script("claude-x", "[{\"status\":401,\"body\":{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
                          "\"message\":\"key " QSECRET " refused\"}}}]");
    CHECK(call(r, "ant/claude-x", 1, NULL, &err) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "refused");
    models_error_free(err);
    models_router_free(r);
}

struct done {
    struct stream_text text; /* first: the chunk callback gets the same `user` */
    int calls;
    models_code rc;
};

static void on_done(void *user, models_code code, const char *response, const models_error *err) {
    (void)response;
    struct done *d = user;
    d->calls++;
    d->rc = code;
    if (err) CHECK(strstr(models_error_message(err), "qsecret") == NULL);
}

static void test_on_the_engine(void) {
    models_router *r = query_router("oai/m1");
    models_engine *e = models_engine_new(r, NULL);
    const char *models[] = {"oai/m1", "ant/claude-x"};
    const char *paths[] = {"\"path\":\"/gw/v1/chat/completions?key=" QSECRET "&x=%2Fy%20z&a=1\"",
                           "\"path\":\"/gw/v1/messages?key=" QSECRET "&x=%2Fy%20z&a=1\""};
    for (int i = 0; i < 2; i++) {
        for (int stream = 0; stream <= 1; stream++) {
            ts_reset();
            struct done d = {0};
            models_code rc = stream
                ? models_stream_async(e, request_for(models[i], 1), "{\"extra_query\":{\"a\":1}}", NULL, stream_text_on_chunk, NULL, on_done, &d, NULL)
                : models_chat_async(e, request_for(models[i], 0), "{\"extra_query\":{\"a\":1}}", NULL, on_done, &d, NULL);
            CHECK(rc == MODELS_OK);
            int64_t until = now_ms() + 20000;
            while (d.calls == 0 && now_ms() < until) models_engine_process(e, 100);
            CHECK(d.calls == 1 && d.rc == MODELS_OK);
            char *req = last_request();
            CHECK_STR_CONTAINS(req, paths[i]);
            free(req);
        }
    }
    models_engine_free(e);
    models_router_free(r);
}

/* A fragment has no meaning in a request URL: refused, naming the key only. */
static void test_fragment_refused(void) {
    char config[1024];
    snprintf(config, sizeof config, "{\"primary\":\"oai/m1\",\"providers\":{\"oai\":{\"base_url\":\"%s/v1?key=" QSECRET "#frag\"}}}",
             ts_url());
    models_error *err = NULL;
    CHECK(models_router_new(config, &err) == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "providers.oai.base_url");
    CHECK(strstr(models_error_message(err), "qsecret") == NULL);
    models_error_free(err);
}

int main(void) {
    models_set_log_handler(record_log, NULL, MODELS_LOG_DEBUG);
    test_path_and_query_kept();
    test_merged_with_extra_query();
    test_query_values_redacted();
    test_on_the_engine();
    test_fragment_refused();
    models_set_log_handler(NULL, NULL, 0);
    CHECK(log_leaks == 0);
    return check_report("test_base_url_query");
}
