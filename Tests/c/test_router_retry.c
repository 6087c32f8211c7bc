/* SPDX-License-Identifier: Apache-2.0 */
/* Retries on the same model, against the loopback server: attempts counted at
 * the server (3 by default, max_retries honoured), transient statuses and
 * resets retried, 400/401/403/404/422 never, Retry-After honoured but capped
 * at retry_max_ms, the backoff cancellable, and the model's timeout_ms
 * bounding its retries. Backoffs are milliseconds from the config. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>

static void test_default_three_attempts(void) {
    models_router *r = local_router("\"retry_base_ms\":1,\"retry_max_ms\":10");
    ts_reset();
    script_n("m1", "{\"status\":503}", 5);
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API); /* one model: its own error */
    CHECK(models_error_status(err) == 503);
    CHECK(response == NULL);
    CHECK(ts_stat("requests") == 3);
    models_error_free(err);

    /* Two failures, then an answer: the caller sees only the answer. */
    ts_reset();
    script_n("m1", "{\"status\":503}", 2);
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(err == NULL);
    CHECK_STR_CONTAINS(response, "echo: hi");
    CHECK(ts_stat("requests") == 3);
    models_free(response);
    models_router_free(r);
}

static void test_max_retries_honoured(void) {
    int retries[] = {0, 1, 4};
    for (int i = 0; i < 3; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "\"max_retries\":%d,\"retry_base_ms\":1,\"retry_max_ms\":5", retries[i]);
        models_router *r = local_router(extra);
        ts_reset();
        script_n("m1", "{\"status\":500}", 10);
        char *response = NULL;
        CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_ERR_API);
        CHECK(ts_stat("requests") == retries[i] + 1);
        /* Streams count the same way. */
        ts_reset();
        script_n("m1", "{\"status\":500}", 10);
        CHECK(models_stream_open(r, HELLO, NULL) == NULL);
        CHECK(ts_stat("requests") == retries[i] + 1);
        models_router_free(r);
    }
}

static void test_transient_statuses_are_retried(void) {
    const char *steps[] = {"{\"status\":408}", "{\"status\":429}", "{\"status\":500}", "{\"status\":502}",
                           "{\"status\":503}", "{\"status\":504}", "{\"status\":529}", "{\"reset\":true}"};
    models_router *r = local_router("\"retry_base_ms\":1,\"retry_max_ms\":5");
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ts_reset();
        script_n("m1", steps[i], 1);
        char *response = NULL;
        models_error *err = NULL;
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK(rc == MODELS_OK);
        if (rc != MODELS_OK) fprintf(stderr, "  step %s: %s\n", steps[i], models_error_message(err));
        CHECK(ts_stat("requests") == 2);
        models_free(response);
        models_error_free(err);
    }
    models_router_free(r);
}

static void test_permanent_statuses_are_not_retried(void) {
    int statuses[] = {400, 401, 403, 404, 422};
    models_router *r = local_router("\"retry_base_ms\":1,\"retry_max_ms\":5");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char step[64];
        snprintf(step, sizeof step, "{\"status\":%d}", statuses[i]);
        ts_reset();
        script_n("m1", step, 3);
        char *response = NULL;
        models_error *err = NULL;
        CHECK(models_chat(r, HELLO, &response, &err) == MODELS_ERR_API);
        CHECK(models_error_status(err) == statuses[i]);
        CHECK(models_error_is_transient(err) == 0);
        CHECK(ts_stat("requests") == 1);
        models_error_free(err);
        /* And for a stream. */
        ts_reset();
        script_n("m1", step, 3);
        CHECK(models_stream_open(r, HELLO, &err) == NULL);
        CHECK(models_error_status(err) == statuses[i]);
        CHECK(ts_stat("requests") == 1);
        models_error_free(err);
    }
    models_router_free(r);
}

/* A Retry-After longer than the backoff is honoured, but never beyond retry_max_ms. */
static void test_retry_after_honoured_and_capped(void) {
    models_router *r = local_router("\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":300");
    ts_reset();
    ts_script("m1", "[{\"status\":429,\"headers\":{\"Retry-After\":\"1\"}}]");
    char *response = NULL;
    int64_t start = now_ms();
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    int64_t elapsed = now_ms() - start;
    CHECK(elapsed >= 280);  /* the Retry-After, not the 1 ms backoff ... */
    CHECK(elapsed < 900);   /* ... cut to retry_max_ms, not the full second */
    CHECK(ts_stat("requests") == 2);
    models_free(response);

    /* The last failure's status and Retry-After reach the caller. */
    ts_reset();
    script_n("m1", "{\"status\":429,\"headers\":{\"Retry-After\":\"7\"}}", 2);
    models_error *err = NULL;
    start = now_ms();
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_ERR_API);
    elapsed = now_ms() - start;
    CHECK(models_error_status(err) == 429);
    CHECK(models_error_retry_after_ms(err) == 7000);
    CHECK(elapsed >= 280 && elapsed < 900);
    models_error_free(err);
    models_router_free(r);
}

/* Backoff grows as base x 2^n: with base 100 ms, two retries wait about 100 + 200 ms (+-25 %). */
static void test_backoff_grows(void) {
    models_router *r = local_router("\"retry_base_ms\":100,\"retry_max_ms\":10000");
    ts_reset();
    script_n("m1", "{\"status\":503}", 2);
    char *response = NULL;
    int64_t start = now_ms();
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    int64_t elapsed = now_ms() - start;
    CHECK(elapsed >= 225); /* 75 + 150 at the least */
    CHECK(elapsed < 1500);
    models_free(response);
    models_router_free(r);
}

static void *cancel_after_100ms(void *call) {
    sleep_ms(100);
    models_call_cancel(call);
    return NULL;
}

static void test_backoff_is_cancellable(void) {
    models_router *r = local_router("\"retry_base_ms\":5000,\"retry_max_ms\":5000");
    ts_reset();
    script_n("m1", "{\"status\":503}", 3);
    models_call *call = models_call_new();
    pthread_t t;
    pthread_create(&t, NULL, cancel_after_100ms, call);
    char *response = NULL;
    models_error *err = NULL;
    int64_t start = now_ms();
    models_code rc = models_chat_ex(r, HELLO, NULL, call, &response, &err);
    int64_t elapsed = now_ms() - start;
    pthread_join(t, NULL);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(elapsed < 1000);
    CHECK(ts_stat("requests") == 1);
    models_error_free(err);
    models_call_free(call);
    models_router_free(r);
}

/* timeout_ms bounds a model's attempts together: a backoff that would end past
 * it is not taken. */
static void test_timeout_bounds_retries(void) {
    models_router *r = local_router("\"timeout_ms\":400,\"retry_base_ms\":300,\"retry_max_ms\":300");
    ts_reset();
    script_n("m1", "{\"status\":503,\"delay_ms\":200}", 3);
    char *response = NULL;
    models_error *err = NULL;
    int64_t start = now_ms();
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_ERR_API);
    int64_t elapsed = now_ms() - start;
    /* 200 ms answer, then a 225..300 ms backoff would pass the 400 ms deadline. */
    CHECK(ts_stat("requests") == 1);
    CHECK(elapsed < 350);
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    test_default_three_attempts();
    test_max_retries_honoured();
    test_transient_statuses_are_retried();
    test_permanent_statuses_are_not_retried();
    test_retry_after_honoured_and_capped();
    test_backoff_grows();
    test_backoff_is_cancellable();
    test_timeout_bounds_retries();
    return check_report("test_router_retry");
}
