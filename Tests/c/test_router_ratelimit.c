/* SPDX-License-Identifier: Apache-2.0 */
/* Per-provider token buckets (config rate_limits): requests are paced before
 * each attempt, the wait counts against the model's timeout, a caller's
 * cancel cuts it short, and other providers are not slowed. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>
#include <pthread.h>

static const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static int chat_ok(models_router *r) {
    char *response = NULL;
    int ok = models_chat(r, request, &response, NULL) == MODELS_OK;
    models_free(response);
    return ok;
}

static void test_pacing(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"fast/b\"],"
                                 "\"rate_limits\":{\"cp\":{\"requests_per_second\":20,\"burst\":1}}}");
    sp_register(r, "cp", &p);
    sp_register(r, "fast", &p);

    /* Burst 1 at 20/s: the first goes at once, each next one 50 ms later. */
    int64_t start = sp_now_ms();
    int ok = 1;
    for (int i = 0; i < 5; i++) ok &= chat_ok(r);
    int64_t elapsed = sp_now_ms() - start;
    CHECK(ok);
    CHECK(sp_calls(&p, "a") == 5);
    CHECK(elapsed >= 190);
    CHECK(elapsed < 2000);

    /* Another provider has no limit: 5 requests to it go at once. */
    char *response = NULL;
    start = sp_now_ms();
    for (int i = 0; i < 5; i++) {
        CHECK(models_chat(r, "{\"model\":\"fast/b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                          &response, NULL) == MODELS_OK);
        models_free(response);
    }
    CHECK(sp_now_ms() - start < 100);
    CHECK(sp_calls(&p, "b") == 5);
    models_router_free(r);
}

/* Retries wait their turn too: 3 attempts at 20/s take >= 100 ms even with 1 ms backoffs. */
static void test_retries_are_paced(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"retry_base_ms\":1,\"retry_max_ms\":2,"
                                 "\"rate_limits\":{\"cp\":{\"requests_per_second\":20,\"burst\":1}}}");
    sp_register(r, "cp", &p);
    sp_script(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));
    sp_script(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));
    int64_t start = sp_now_ms();
    CHECK(chat_ok(r));
    int64_t elapsed = sp_now_ms() - start;
    CHECK(sp_calls(&p, "a") == 3);
    CHECK(elapsed >= 90);
    CHECK(elapsed < 2000);
    models_router_free(r);
}

/* A wait longer than the model's timeout fails at once (and moves on to the fallback). */
static void test_wait_counts_against_timeout(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"fast/b\"],\"timeout_ms\":200,"
                                 "\"max_retries\":0,\"rate_limits\":{\"cp\":{\"requests_per_second\":0.5,\"burst\":1}}}");
    sp_register(r, "cp", &p);
    sp_register(r, "fast", &p);
    CHECK(chat_ok(r)); /* takes the only token */
    CHECK(sp_calls(&p, "a") == 1);
    int64_t start = sp_now_ms();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_OK); /* a would wait 2 s: b answers */
    CHECK(sp_now_ms() - start < 150);
    CHECK(sp_calls(&p, "a") == 1);
    CHECK_STR_CONTAINS(response, "\"model\":\"fast/b\"");
    models_free(response);

    /* Alone, the request fails with a timeout that names the rate limit. */
    CHECK(models_chat(r, "{\"model\":\"cp/x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                      &response, &err) == MODELS_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(models_error_message(err), "rate limit");
    models_error_free(err);
    models_router_free(r);
}

static void *cancel_later(void *call) {
    sp_sleep_ms(100);
    models_call_cancel(call);
    return NULL;
}

static void test_wait_is_cancellable(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"rate_limits\":{\"cp\":{\"requests_per_second\":0.2,\"burst\":1}}}");
    sp_register(r, "cp", &p);
    CHECK(chat_ok(r));
    models_call *call = models_call_new();
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, call);
    int64_t start = sp_now_ms();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat_ex(r, request, NULL, call, &response, &err) == MODELS_ERR_CANCELLED); /* would wait 5 s */
    int64_t elapsed = sp_now_ms() - start;
    pthread_join(t, NULL);
    CHECK(elapsed >= 90);
    CHECK(elapsed < 1000);
    CHECK(sp_calls(&p, "a") == 1);
    models_error_free(err);
    models_call_free(call);
    models_router_free(r);
}

int main(void) {
    test_pacing();
    test_retries_are_paced();
    test_wait_counts_against_timeout();
    test_wait_is_cancellable();
    return check_report("test_router_ratelimit");
}
