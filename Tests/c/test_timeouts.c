/* SPDX-License-Identifier: Apache-2.0 */
/* Timeouts through the C API: the whole request (timeout_ms), the wait for a
 * stream's response headers when fallbacks exist (stream_connect_timeout_ms),
 * and the stream body, which is bounded by silence (stream_idle_timeout_ms,
 * by default timeout_ms, without an event), not by its total length.
 * test_misbehaving_server covers keep-alive bytes and stream_timeout_ms.
 * Durations are short and configured. */
#define _GNU_SOURCE
#include "test_util.h"

static void test_request_timeout(void) {
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":300");
    const char *steps[] = {"[{\"delay_ms\":3000}]", "[{\"hang\":true}]"};
    for (int i = 0; i < 2; i++) {
        ts_reset();
        ts_script("m1", steps[i]);
        models_error *err = NULL;
        char *response = NULL;
        int64_t start = now_ms();
        models_code rc = models_chat(r, HELLO, &response, &err);
        int64_t elapsed = now_ms() - start;
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
        CHECK(models_error_is_transient(err) == 1);
        CHECK(models_error_status(err) == 0);
        CHECK(response == NULL);
        CHECK(elapsed >= 250 && elapsed < 1500);
        models_error_free(err);
    }
    models_router_free(r);
}

/* The body counts too: a plain answer that trickles in past timeout_ms fails. */
static void test_request_timeout_covers_body(void) {
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":300");
    ts_reset();
    /* Headers at once, then the body stalls for 2 s. */
    ts_script("m1", "[{\"stall_after\":1,\"stall_ms\":2000,\"sse\":[\"data: {}\\n\\n\",\"data: [DONE]\\n\\n\"]}]");
    models_error *err = NULL;
    char *response = NULL;
    int64_t start = now_ms();
    models_code rc = models_chat(r, HELLO, &response, &err);
    int64_t elapsed = now_ms() - start;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
    CHECK(elapsed < 1500);
    models_error_free(err);
    models_router_free(r);
}

/* With a fallback, the primary must send its stream's headers within
 * stream_connect_timeout_ms, or the router moves on. */
static void test_stream_connect_timeout_moves_to_fallback(void) {
    models_router *r = router_from("\"primary\":\"local/slow\",\"fallbacks\":[\"local/fast\"],\"max_retries\":0,"
                                   "\"timeout_ms\":5000,\"stream_connect_timeout_ms\":200");
    ts_reset();
    ts_script("slow", "[{\"hang\":true}]");
    models_error *err = NULL;
    int64_t start = now_ms();
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    int64_t elapsed = now_ms() - start;
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "  %s\n", models_error_message(err));
    CHECK(s && strcmp(models_stream_model(s), "local/fast") == 0);
    CHECK(elapsed >= 150 && elapsed < 1500);
    char *text = NULL;
    CHECK(s && models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    models_stream_close(s);
    models_error_free(err);
    char *requests = ts_get("requests");
    CHECK(count_of(requests, "\"model\":\"slow\",\"time\"") == 1);
    CHECK(count_of(requests, "\"model\":\"fast\",\"time\"") == 1);
    free(requests);
    models_router_free(r);
}

/* Without fallbacks there is nowhere to go: the headers may take longer than
 * stream_connect_timeout_ms (up to timeout_ms). */
static void test_stream_connect_timeout_only_with_fallbacks(void) {
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":3000,\"stream_connect_timeout_ms\":100");
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":400}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "  %s\n", models_error_message(err));
    models_error_free(err);
    char *text = NULL;
    CHECK(s && models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    models_stream_close(s);
    models_router_free(r);
}

/* Once connected, a stream is not bound by stream_connect_timeout_ms: a body
 * that stalls longer than it (but less than timeout_ms) completes. */
static void test_stream_body_not_bound_by_connect_timeout(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                                   "\"timeout_ms\":3000,\"stream_connect_timeout_ms\":100");
    ts_reset();
    ts_script("m1", "[{\"content\":\"slow but sure\",\"stall_after\":2,\"stall_ms\":500}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s && strcmp(models_stream_model(s), "local/m1") == 0);
    char *text = NULL;
    models_error *err = NULL;
    models_code rc = s ? models_stream_collect(s, &text, &err) : MODELS_ERR_INVALID_ARGUMENT;
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  %s\n", models_error_message(err));
    CHECK(text && strcmp(text, "slow but sure") == 0);
    models_free(text);
    models_error_free(err);
    models_stream_close(s);
    models_router_free(r);
}

/* A stream that goes silent for longer than timeout_ms (the default idle
 * limit) fails with a timeout;
 * one that keeps talking may last longer than timeout_ms in total. */
static void test_stream_idle_bound(void) {
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":300");
    ts_reset();
    ts_script("m1", "[{\"content\":\"a b c d\",\"stall_after\":2}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    const char *chunk;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    models_error *err = NULL;
    int64_t start = now_ms();
    models_code rc = models_stream_next(s, &chunk, NULL, &err);
    int64_t elapsed = now_ms() - start;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
    CHECK(elapsed >= 200 && elapsed < 1500);
    models_error_free(err);
    models_stream_close(s);

    /* 30 pieces 25 ms apart: ~750 ms in all, never 300 ms silent. */
    ts_script("m1", "[{\"chunks\":30,\"event_delay_ms\":25}]");
    s = models_stream_open(r, HELLO_STREAM, NULL);
    char *text = NULL;
    start = now_ms();
    err = NULL;
    rc = s ? models_stream_collect(s, &text, &err) : MODELS_ERR_INVALID_ARGUMENT;
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  %s\n", models_error_message(err));
    CHECK(now_ms() - start > 300);
    CHECK(text && strncmp(text, "w0 w1 ", 6) == 0);
    models_free(text);
    models_error_free(err);
    models_stream_close(s);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_request_timeout();
    test_request_timeout_covers_body();
    test_stream_connect_timeout_moves_to_fallback();
    test_stream_connect_timeout_only_with_fallbacks();
    test_stream_body_not_bound_by_connect_timeout();
    test_stream_idle_bound();
    return check_report("test_timeouts");
}
