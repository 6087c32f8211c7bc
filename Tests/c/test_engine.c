/* SPDX-License-Identifier: Apache-2.0 */
/* The engine (models_engine_*, models_chat_async, models_stream_async): the
 * router's scenarios through the asynchronous API, driven from this thread
 * (models_engine_process, or poll() on models_engine_fd) and from the engine's
 * own thread; cancellation, freeing with calls in flight, and bad input. */
#define _GNU_SOURCE
#include "test_util.h"
#include "scripted_provider.h"

#include <poll.h>
#include <pthread.h>

struct outcome {
    int done;            /* times on_done was called */
    models_code code;
    int status;
    char message[512];
    char response[8192];
    struct stream_text stream;
    char thinking[512];
    models_engine *engine; /* for the callback that tries to re-enter */
    int reentry;          /* what models_engine_process returned from inside on_done */
};

static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    struct outcome *o = user;
    o->done++;
    o->code = code;
    o->status = err ? models_error_status(err) : 0;
    snprintf(o->message, sizeof o->message, "%s", err ? models_error_message(err) : "");
    snprintf(o->response, sizeof o->response, "%s", response_json ? response_json : "");
    if (o->engine) o->reentry = models_engine_process(o->engine, 0);
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    struct outcome *o = user;
    return stream_text_on_chunk(&o->stream, chunk, len);
}

static void on_thinking(void *user, const char *text, size_t len) {
    struct outcome *o = user;
    size_t used = strlen(o->thinking);
    if (used + len < sizeof o->thinking) {
        memcpy(o->thinking + used, text, len);
        o->thinking[used + len] = '\0';
    }
}

/* Processes until `o` is done (at most 20 s, then the test fails). */
static void run(models_engine *e, struct outcome *o) {
    int64_t until = now_ms() + 20000;
    while (!o->done && now_ms() < until) CHECK(models_engine_process(e, 100) >= 0);
    CHECK(o->done == 1);
}

static models_engine *engine_for(models_router *r) {
    models_error *err = NULL;
    models_engine *e = models_engine_new(r, &err);
    CHECK(e != NULL);
    CHECK(err == NULL);
    CHECK(models_engine_fd(e) >= 0);
    return e;
}

static void chat(models_engine *e, const char *request, const char *options, models_call *call, struct outcome *o) {
    memset(o, 0, sizeof *o);
    models_error *err = NULL;
    CHECK(models_chat_async(e, request, options, call, on_done, o, &err) == MODELS_OK);
    CHECK(err == NULL);
}

static void stream(models_engine *e, const char *request, const char *options, models_call *call, struct outcome *o) {
    memset(o, 0, sizeof *o);
    models_error *err = NULL;
    CHECK(models_stream_async(e, request, options, call, on_chunk, NULL, on_done, o, &err) == MODELS_OK);
    CHECK(err == NULL);
}

static void test_chat_and_stream_answer(void) {
    models_router *r = local_router("");
    models_engine *e = engine_for(r);
    models_router_free(r); /* the engine keeps the router */
    ts_reset();
    struct outcome o;
    chat(e, HELLO, NULL, NULL, &o);
    CHECK(models_engine_calls(e) == 1);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "echo: hi");
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/m1\"");
    CHECK(models_engine_calls(e) == 0);

    stream(e, HELLO_STREAM, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(o.response[0] == '\0');
    CHECK(strcmp(o.stream.text, "echo: hi") == 0);
    CHECK(o.stream.role_chunks == 1);
    /* Both over one kept-alive connection. */
    CHECK(ts_stat("connections") == 1);
    models_engine_free(e);
}

/* Bytes after an answer that belong to no request never reach the next call:
 * the kept-alive connection holding them is closed, not reused. */
static void test_stray_bytes_are_not_read_as_an_answer(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"content\":\"one\",\"trailing\":\"HTTP/1.1 404 Not Found\\r\\nContent-Length: 5\\r\\n\\r\\nbogus\"}]");
    struct outcome o;
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK_STR_CONTAINS(o.response, "\"one\"");
    sleep_ms(300); /* the stray bytes have come before the next request */
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "echo: hi");
    CHECK(ts_stat("connections") == 2);
    models_engine_free(e);
    models_router_free(r);
}

static void test_retry_honours_retry_after(void) {
    models_router *r = local_router("\"retry_base_ms\":1,\"retry_max_ms\":300");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"status\":503,\"headers\":{\"Retry-After\":\"1\"}}]");
    struct outcome o;
    int64_t start = now_ms();
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(now_ms() - start >= 250); /* Retry-After, capped at retry_max_ms: a timer, not a sleep */
    CHECK(ts_stat("requests") == 2);
    /* Retries used up: the model's own error, with its status. */
    ts_reset();
    script_n("m1", "{\"status\":500}", 3);
    chat(e, HELLO, "{\"max_retries\":2}", NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(o.status == 500);
    CHECK(ts_stat("requests") == 3);
    models_engine_free(e);
    models_router_free(r);
}

static void test_fallback_and_cooldown(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                                   "\"cooldown\":{\"base_ms\":60000}");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"status\":503}]");
    struct outcome o;
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/m2\"");
    CHECK(ts_stat("requests") == 2);
    /* m1 cools down: the next call goes to m2 alone. */
    ts_reset();
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/m2\"");
    CHECK(ts_stat("requests") == 1);
    char *requests = ts_get("requests");
    CHECK(strstr(requests, "\"model\":\"m1\"") == NULL);
    free(requests);
    /* A permanent error does not fall back past the policy: every model fails, the error names both. */
    ts_reset();
    ts_script("m2", "[{\"status\":500}]");
    chat(e, HELLO, "{\"fallbacks\":[\"local/m2\"]}", NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_ALL_COOLDOWN || o.code == MODELS_ERR_API || o.code == MODELS_ERR_ALL_FAILED);
    models_engine_free(e);
    models_router_free(r);
}

static void test_stream_falls_back_before_its_first_word(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                                   "\"stream_idle_timeout_ms\":300");
    models_engine *e = engine_for(r);
    const char *failures[] = {"[{\"drop_after\":1}]", "[{\"error_after\":1}]", "[{\"stall_after\":1}]", "[{\"status\":502}]"};
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        ts_reset();
        ts_script("m1", failures[i]);
        struct outcome o;
        stream(e, HELLO_STREAM, NULL, NULL, &o);
        run(e, &o);
        CHECK(o.code == MODELS_OK);
        if (o.code != MODELS_OK) fprintf(stderr, "  %s: %s\n", failures[i], o.message);
        CHECK(strcmp(o.stream.text, "echo: hi") == 0);
        CHECK(o.stream.role_chunks == 1); /* the failed stream's role chunk never reached us */
        CHECK(ts_stat("requests") == 2);
    }
    /* After the first word, an error is the caller's: no fallback. */
    ts_reset();
    ts_script("m1", "[{\"content\":\"one two three\",\"chunks\":3,\"drop_after\":3}]");
    struct outcome o;
    stream(e, HELLO_STREAM, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_TRANSPORT || o.code == MODELS_ERR_PROTOCOL);
    CHECK(strncmp(o.stream.text, "one", 3) == 0);
    CHECK(ts_stat("requests") == 1);
    models_engine_free(e);
    models_router_free(r);
}

static void test_idle_timeout_and_deadlines(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"stall_after\":2}]");
    struct outcome o;
    int64_t start = now_ms();
    stream(e, HELLO_STREAM, "{\"stream_idle_timeout_ms\":200}", NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(o.message, "sent no event for 200 ms");
    CHECK(now_ms() - start >= 200);
    /* A chat whose answer does not come within timeout_ms. */
    ts_reset();
    ts_script("m1", "[{\"hang\":true}]");
    chat(e, HELLO, "{\"timeout_ms\":200}", NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(o.message, "no response from");
    /* A whole stream bounded by stream_timeout_ms. */
    ts_reset();
    ts_script("m1", "[{\"chunks\":50,\"event_delay_ms\":20}]");
    stream(e, HELLO_STREAM, "{\"stream_timeout_ms\":250}", NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(o.message, "did not end within 250 ms");
    models_engine_free(e);
    models_router_free(r);
}

static int stop_at_first_word(void *user, const char *chunk, size_t len) {
    struct outcome *o = user;
    stream_text_on_chunk(&o->stream, chunk, len);
    return o->stream.text[0] != '\0';
}

struct canceller { models_call *call; int after_ms; };

static void *cancel_later(void *arg) {
    struct canceller *c = arg;
    sleep_ms(c->after_ms);
    models_call_cancel(c->call);
    return NULL;
}

static void test_cancel(void) {
    models_router *r = local_router("\"retry_base_ms\":60000,\"retry_max_ms\":60000");
    models_engine *e = engine_for(r);
    /* A call waiting for its answer, cancelled from another thread. */
    ts_reset();
    ts_script("m1", "[{\"hang\":true}]");
    models_call *call = models_call_new();
    struct outcome o;
    chat(e, HELLO, NULL, call, &o);
    struct canceller c = {call, 100};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    int64_t start = now_ms();
    run(e, &o);
    pthread_join(t, NULL);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    CHECK(now_ms() - start < 10000);
    /* Cancelling after the end changes nothing; a cancelled token ends a new call at once. */
    models_call_cancel(call);
    chat(e, HELLO, NULL, call, &o);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    models_call_free(call);

    /* A call in a backoff of a minute, cancelled from this thread. */
    ts_reset();
    ts_script("m1", "[{\"status\":503}]");
    call = models_call_new();
    chat(e, HELLO, NULL, call, &o);
    for (int i = 0; i < 20 && ts_stat("requests") < 1; i++) models_engine_process(e, 20);
    models_engine_process(e, 20);
    CHECK(!o.done);
    models_call_cancel(call);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    models_call_free(call);

    /* A stream stopped by its chunk callback. */
    ts_reset();
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, stop_at_first_word, NULL, on_done, &o, NULL) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    CHECK(strncmp(o.stream.text, "echo:", 5) == 0);
    CHECK(strcmp(o.stream.text, "echo: hi") != 0);
    models_engine_free(e);
    models_router_free(r);
}

static void test_free_ends_calls_in_flight(void) {
    models_router *r = local_router("");
    models_engine *e = engine_for(r);
    ts_reset();
    script_n("m1", "{\"hang\":true}", 3);
    struct outcome o[3];
    for (int i = 0; i < 3; i++) chat(e, HELLO, NULL, NULL, &o[i]);
    for (int i = 0; i < 5; i++) models_engine_process(e, 10);
    CHECK(models_engine_calls(e) == 3);
    models_engine_free(e);
    for (int i = 0; i < 3; i++) {
        CHECK(o[i].done == 1);
        CHECK(o[i].code == MODELS_ERR_CANCELLED);
    }
    models_router_free(r);
}

static void test_driven_by_poll_on_its_descriptor(void) {
    models_router *r = local_router("\"retry_base_ms\":50,\"retry_max_ms\":50");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"status\":503},{\"delay_ms\":50}]");
    struct outcome o;
    chat(e, HELLO, NULL, NULL, &o);
    int64_t until = now_ms() + 20000;
    int wakeups = 0;
    while (!o.done && now_ms() < until) {
        struct pollfd p = {models_engine_fd(e), POLLIN, 0};
        if (poll(&p, 1, 1000) > 0) {
            wakeups++;
            CHECK(models_engine_process(e, 0) >= 0);
        }
    }
    CHECK(o.code == MODELS_OK);
    CHECK(wakeups >= 2);
    models_engine_free(e);
    models_router_free(r);
}

struct counter { pthread_mutex_t lock; int done; int ok; };

static void count_done(void *user, models_code code, const char *response_json, const models_error *err) {
    (void)err;
    struct counter *c = user;
    pthread_mutex_lock(&c->lock);
    c->done++;
    if (code == MODELS_OK && response_json && strstr(response_json, "echo: hi")) c->ok++;
    pthread_mutex_unlock(&c->lock);
}

static void test_own_thread(void) {
    models_router *r = local_router("");
    models_engine *e = engine_for(r);
    ts_reset();
    int threads = thread_count();
    CHECK(models_engine_start_thread(e, NULL) == MODELS_OK);
    models_error *err = NULL;
    CHECK(models_engine_start_thread(e, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(thread_count() == threads + 1);
    CHECK(models_engine_process(e, 0) == MODELS_ERR_INVALID_ARGUMENT); /* the engine's thread processes */
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    for (int i = 0; i < 50; i++) CHECK(models_chat_async(e, HELLO, NULL, NULL, count_done, &c, NULL) == MODELS_OK);
    int64_t until = now_ms() + 20000;
    while (models_engine_calls(e) > 0 && now_ms() < until) sleep_ms(5);
    pthread_mutex_lock(&c.lock);
    CHECK(c.done == 50);
    CHECK(c.ok == 50);
    pthread_mutex_unlock(&c.lock);
    CHECK(thread_count() == threads + 1);
    models_engine_free(e);
    models_router_free(r);
}

static void test_bad_input(void) {
    models_error *err = NULL;
    CHECK(models_engine_new(NULL, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    models_engine_free(NULL);
    CHECK(models_engine_fd(NULL) == -1);
    CHECK(models_engine_process(NULL, 0) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_engine_calls(NULL) == 0);
    CHECK(models_engine_start_thread(NULL, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    struct outcome o;
    memset(&o, 0, sizeof o);
    CHECK(models_chat_async(NULL, HELLO, NULL, NULL, on_done, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);

    models_router *r = local_router("");
    models_engine *e = engine_for(r);
    CHECK(models_chat_async(e, NULL, NULL, NULL, on_done, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_chat_async(e, HELLO, NULL, NULL, NULL, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_chat_async(e, "{not json", NULL, NULL, on_done, &o, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_chat_async(e, HELLO, "{\"timeout_ms\":\"x\"}", NULL, on_done, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_chat_async(e, "{\"model\":\"local/\",\"messages\":[]}", NULL, NULL, on_done, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, on_chunk, NULL, NULL, &o, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(o.done == 0); /* refused calls never complete */
    CHECK(models_engine_calls(e) == 0);
    /* models_engine_process from inside a callback is refused, not run re-entrantly. */
    ts_reset();
    chat(e, HELLO, NULL, NULL, &o);
    o.engine = e;
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(o.reentry == MODELS_ERR_INVALID_ARGUMENT);
    models_engine_free(e);
    models_router_free(r);
}

/* Anthropic's Messages API on the engine: a chat translated both ways, a
 * stream with thinking, and the one retry without thinking after a 400 that
 * rejects it. */
static void test_anthropic(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-test\",\"max_retries\":0,"
             "\"thinking\":{\"level\":\"enabled\",\"budget_tokens\":2048},"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key-4242\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("claude-test", "[{\"content\":\"hello from claude\"}]");
    struct outcome o;
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "hello from claude");
    CHECK_STR_CONTAINS(o.response, "\"model\":\"anthropic/claude-test\"");
    char *requests = ts_get("requests");
    CHECK_STR_CONTAINS(requests, "/v1/messages");
    CHECK_STR_CONTAINS(requests, "\"x-api-key\":\"anthropic-test-key-4242\"");
    free(requests);

    ts_reset();
    ts_script("claude-test", "[{\"thinking\":\"let me see\",\"content\":\"streamed words here\"}]");
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, on_chunk, on_thinking, on_done, &o, NULL) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(strcmp(o.stream.text, "streamed words here") == 0);
    CHECK(strcmp(o.thinking, "let me see") == 0);

    /* A 400 that rejects thinking: sent again once without it. */
    ts_reset();
    ts_script("claude-test", "[{\"status\": 400, \"body\": {\"type\": \"error\", \"error\": {\"type\": \"invalid_request_error\","
                             " \"message\": \"thinking: extended thinking is not supported by this model\"}}},"
                             " {\"content\": \"fine without\"}]");
    chat(e, HELLO, NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "fine without");
    CHECK(ts_stat("requests") == 2);
    requests = ts_get("requests");
    CHECK(strstr(strstr(requests, "\"budget_tokens\":2048") ? strstr(requests, "\"budget_tokens\":2048") + 1 : requests,
                 "\"budget_tokens\"") == NULL); /* the second request has no thinking */
    free(requests);
    models_engine_free(e);
    models_router_free(r);
}

/* A provider's rate limit paces calls with timers: 5 calls at 20 per second
 * with a burst of 1 take at least 4 intervals. */
static void test_rate_limit(void) {
    models_router *r = local_router("\"rate_limits\":{\"local\":{\"requests_per_second\":20,\"burst\":1}}");
    models_engine *e = engine_for(r);
    ts_reset();
    struct outcome o[5];
    int64_t start = now_ms();
    for (int i = 0; i < 5; i++) chat(e, HELLO, NULL, NULL, &o[i]);
    for (int i = 0; i < 5; i++) run(e, &o[i]);
    CHECK(now_ms() - start >= 180);
    for (int i = 0; i < 5; i++) CHECK(o[i].code == MODELS_OK);
    /* A wait past the call's timeout is an error at once, not a wait. */
    ts_reset();
    models_router *slow = local_router("\"max_retries\":0,\"rate_limits\":{\"local\":{\"requests_per_second\":0.01,\"burst\":1}}");
    models_engine *e2 = engine_for(slow);
    chat(e2, HELLO, NULL, NULL, &o[0]);
    chat(e2, HELLO, "{\"timeout_ms\":1000}", NULL, &o[1]);
    run(e2, &o[0]);
    run(e2, &o[1]);
    CHECK(o[0].code == MODELS_OK);
    CHECK(o[1].code == MODELS_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(o[1].message, "rate limit");
    models_engine_free(e2);
    models_router_free(slow);
    models_engine_free(e);
    models_router_free(r);
}

/* A stream cancelled from another thread after its first words: the call ends
 * with MODELS_ERR_CANCELLED and no chunk comes after. */
static void test_cancel_mid_stream(void) {
    models_router *r = local_router("");
    models_engine *e = engine_for(r);
    ts_reset();
    ts_script("m1", "[{\"chunks\":100,\"event_delay_ms\":20}]");
    models_call *call = models_call_new();
    struct outcome o;
    stream(e, HELLO_STREAM, NULL, call, &o);
    int64_t until = now_ms() + 20000;
    while (o.stream.chunks < 5 && now_ms() < until) models_engine_process(e, 50);
    struct canceller c = {call, 0};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    pthread_join(t, NULL);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    CHECK(o.stream.chunks >= 5 && o.stream.chunks < 100);
    int chunks = o.stream.chunks;
    for (int i = 0; i < 5; i++) models_engine_process(e, 20);
    CHECK(o.stream.chunks == chunks);
    models_call_free(call);
    models_engine_free(e);
    models_router_free(r);
}

/* A provider added from C runs on the engine's worker threads: its answers,
 * streams, retries and fallbacks route as over HTTP, and one that blocks holds
 * neither the engine's thread nor a cancelled call. */
static void test_provider_from_c_runs_on_worker_threads(void) {
    models_router *r = router_from("\"primary\":\"cp/x\",\"fallbacks\":[\"local/m1\"],\"max_retries\":1,"
                                   "\"retry_base_ms\":1,\"retry_max_ms\":2");
    sp_provider p;
    sp_init(&p);
    sp_register(r, "cp", &p);
    models_engine *e = engine_for(r);
    ts_reset();
    struct outcome o;

    chat(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "hello from x");
    CHECK_STR_CONTAINS(o.response, "\"model\":\"cp/x\"");

    stream(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(strcmp(o.stream.text, "hello from x") == 0);

    /* A 503 is retried; two fall back to the HTTP provider. */
    sp_script(&p, "x", sp_fail(MODELS_ERR_API, 503, 0));
    chat(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "hello from x");
    sp_script(&p, "x", sp_fail(MODELS_ERR_API, 503, 0));
    sp_script(&p, "x", sp_fail(MODELS_ERR_API, 503, 0));
    stream(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"ho\"}],\"stream\":true}", NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(strcmp(o.stream.text, "echo: ho") == 0);

    /* A call held in the provider (gated) holds neither the engine nor its own cancel. */
    snprintf(p.gate_model, sizeof p.gate_model, "%s", "x");
    models_call *call = models_call_new();
    struct outcome held, quick;
    chat(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"held\"}]}", NULL, call, &held);
    int64_t until = now_ms() + 20000;
    while (!sp_counter(&p, &p.gate_reached) && now_ms() < until) models_engine_process(e, 10);
    CHECK(sp_counter(&p, &p.gate_reached) == 1);
    chat(e, "{\"model\":\"local/m1\",\"messages\":[{\"role\":\"user\",\"content\":\"meanwhile\"}]}", NULL, NULL, &quick);
    run(e, &quick);
    CHECK(quick.code == MODELS_OK);
    CHECK(held.done == 0);
    models_call_cancel(call);
    run(e, &held);
    CHECK(held.code == MODELS_ERR_CANCELLED);
    sp_open_gate(&p);

    /* The gated call's late answer is dropped; the next one routes normally. */
    chat(e, "{\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}", NULL, NULL, &o);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "hello from x");
    CHECK(held.done == 1);

    models_call_free(call);
    models_engine_free(e);
    models_router_free(r);
}

int main(void) {
    test_bad_input();
    test_chat_and_stream_answer();
    test_stray_bytes_are_not_read_as_an_answer();
    test_retry_honours_retry_after();
    test_fallback_and_cooldown();
    test_stream_falls_back_before_its_first_word();
    test_idle_timeout_and_deadlines();
    test_cancel();
    test_free_ends_calls_in_flight();
    test_driven_by_poll_on_its_descriptor();
    test_own_thread();
    test_anthropic();
    test_rate_limit();
    test_cancel_mid_stream();
    test_provider_from_c_runs_on_worker_threads();
    return check_report("test_engine");
}
