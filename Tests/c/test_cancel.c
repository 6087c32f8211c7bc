/* SPDX-License-Identifier: Apache-2.0 */
/* Cancellation from another thread through the C API: a pull stream waiting
 * on a stalled server, a blocking chat on a hung server, a stream waiting for
 * its headers, a push stream, and a call sleeping in a retry backoff all
 * return MODELS_ERR_CANCELLED promptly. The latencies are printed (the goal
 * is 100 ms; the assertion is a generous 1 s so a loaded machine passes). */
#define _GNU_SOURCE
#include <pthread.h>

#include "test_util.h"

#define LATENCY_BOUND_US 1000000

/* Cancels a stream or a call after `delay_ms`, noting when. */
struct canceller {
    models_stream *stream;
    models_call *call;
    int delay_ms;
    int64_t cancelled_at; /* microseconds */
    pthread_t thread;
};

static void *cancel_later(void *arg) {
    struct canceller *c = arg;
    sleep_ms(c->delay_ms);
    c->cancelled_at = now_us();
    if (c->stream) models_stream_cancel(c->stream);
    if (c->call) models_call_cancel(c->call);
    return NULL;
}

static void start_canceller(struct canceller *c) { pthread_create(&c->thread, NULL, cancel_later, c); }

/* Joins the canceller and returns the time from its cancel to `returned_at`,
 * in microseconds. */
static int64_t latency(struct canceller *c, int64_t returned_at) {
    pthread_join(c->thread, NULL);
    return returned_at - c->cancelled_at;
}

static void report(const char *what, int64_t us) {
    printf("cancel latency, %s: %.3f ms\n", what, us / 1000.0);
    CHECK(us >= 0 && us < LATENCY_BOUND_US);
}

static void test_stream_cancel_while_next_waits(void) {
    models_router *r = local_router("\"max_retries\":0");
    int64_t worst = 0;
    for (int i = 0; i < 5; i++) {
        ts_reset();
        ts_script("m1", "[{\"content\":\"a b c d\",\"stall_after\":2}]");
        models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
        CHECK(s != NULL);
        if (!s) break;
        const char *chunk;
        CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
        CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
        struct canceller c = {.stream = s, .delay_ms = 100};
        start_canceller(&c);
        models_error *err = NULL;
        models_code rc = models_stream_next(s, &chunk, NULL, &err);
        int64_t us = latency(&c, now_us());
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
        CHECK(models_error_is_transient(err) == 0);
        models_error_free(err);
        if (us > worst) worst = us;
        /* Sticky, and a second cancel is harmless. */
        models_stream_cancel(s);
        CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_ERR_CANCELLED);
        models_stream_close(s);
    }
    report("models_stream_next on a stalled stream (worst of 5)", worst);
    models_router_free(r);
}

static void test_call_cancel_chat_on_hung_server(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"hang\":true}]");
    models_call *call = models_call_new();
    CHECK(call != NULL);
    CHECK(models_call_is_cancelled(call) == 0);
    struct canceller c = {.call = call, .delay_ms = 150};
    start_canceller(&c);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat_ex(r, HELLO, NULL, call, &response, &err);
    int64_t us = latency(&c, now_us());
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(response == NULL);
    CHECK(models_call_is_cancelled(call) == 1);
    models_error_free(err);
    report("models_chat_ex on a hung server", us);

    /* A call made with a cancelled token fails at once, without a request. */
    ts_reset();
    int64_t start = now_ms();
    CHECK(models_chat_ex(r, HELLO, NULL, call, &response, NULL) == MODELS_ERR_CANCELLED);
    CHECK(now_ms() - start < 100);
    CHECK(ts_stat("requests") == 0);
    models_call_free(call);
    models_router_free(r);
}

/* The router sleeps before a retry (503, then a 5 s backoff): the cancel cuts
 * the sleep short, and no second request is made. */
static void test_call_cancel_during_backoff(void) {
    models_router *r = local_router("\"max_retries\":2,\"retry_base_ms\":5000,\"retry_max_ms\":10000");
    ts_reset();
    ts_script("m1", "[{\"status\":503},{\"status\":503},{\"status\":503}]");
    models_call *call = models_call_new();
    struct canceller c = {.call = call, .delay_ms = 200};
    start_canceller(&c);
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_chat_ex(r, HELLO, NULL, call, &response, &err);
    int64_t us = latency(&c, now_us());
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    models_error_free(err);
    CHECK(ts_stat("requests") == 1);
    report("models_chat_ex in a retry backoff", us);
    models_call_free(call);
    models_router_free(r);
}

/* models_stream_open_ex waiting for headers that never come. */
static void test_call_cancel_stream_open(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"hang\":true}]");
    models_call *call = models_call_new();
    struct canceller c = {.call = call, .delay_ms = 150};
    start_canceller(&c);
    models_error *err = NULL;
    models_stream *s = models_stream_open_ex(r, HELLO_STREAM, NULL, call, &err);
    int64_t us = latency(&c, now_us());
    CHECK(s == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_CANCELLED);
    models_error_free(err);
    report("models_stream_open_ex waiting for headers", us);
    models_call_free(call);

    /* The call token also cancels the stream it opened. */
    ts_script("m1", "[{\"stall_after\":2}]");  /* the role chunk and the first word */
    call = models_call_new();
    s = models_stream_open_ex(r, HELLO_STREAM, NULL, call, NULL);
    CHECK(s != NULL);
    const char *chunk;
    CHECK(s && models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    CHECK(s && models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    struct canceller c2 = {.call = call, .delay_ms = 100};
    start_canceller(&c2);
    models_code rc = s ? models_stream_next(s, &chunk, NULL, NULL) : MODELS_OK;
    us = latency(&c2, now_us());
    CHECK(rc == MODELS_ERR_CANCELLED);
    report("models_stream_next cancelled through its models_call", us);
    models_stream_close(s);
    models_call_free(call);
    models_router_free(r);
}

static int count_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    ++*(int *)user;
    return 0;
}

/* models_chat_stream_ex on a stream that stalls after two events. */
static void test_call_cancel_push_stream(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"a b c\",\"stall_after\":2}]");
    models_call *call = models_call_new();
    struct canceller c = {.call = call, .delay_ms = 200};
    start_canceller(&c);
    int chunks = 0;
    models_error *err = NULL;
    models_code rc = models_chat_stream_ex(r, HELLO, NULL, call, count_chunk, NULL, &chunks, &err);
    int64_t us = latency(&c, now_us());
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(chunks == 2);
    models_error_free(err);
    report("models_chat_stream_ex on a stalled stream", us);
    models_call_free(call);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_stream_cancel_while_next_waits();
    test_call_cancel_chat_on_hung_server();
    test_call_cancel_during_backoff();
    test_call_cancel_stream_open();
    test_call_cancel_push_stream();
    models_call_cancel(NULL);
    CHECK(models_call_is_cancelled(NULL) == 0);
    models_call_free(NULL);
    return check_report("test_cancel");
}
