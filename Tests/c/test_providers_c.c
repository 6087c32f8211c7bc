/* SPDX-License-Identifier: Apache-2.0 */
/* Providers written in C (models_router_add_provider): the router retries,
 * falls back and reports for them exactly as for built-in providers, using
 * the code, status and Retry-After of the errors they report. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>
#include <stdlib.h>

static const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5,\"x_vendor\":7}";

/* Two providers: cp serves the primary cp/a, cq the fallback cq/b. */
static models_router *two_model_router(sp_provider *cp, sp_provider *cq, const char *extra) {
    char config[512];
    snprintf(config, sizeof config,
             "{\"primary\":\"cp/a\",\"fallbacks\":[\"cq/b\"],\"retry_base_ms\":1,\"retry_max_ms\":10%s}", extra);
    models_router *r = sp_router(config);
    sp_register(r, "cp", cp);
    sp_register(r, "cq", cq);
    return r;
}

static void test_transient_failure_is_retried_then_falls_back(void) {
    sp_provider cp, cq;
    sp_init(&cp);
    sp_init(&cq);
    sp_fail_always(&cp, "a", sp_fail(MODELS_ERR_API, 503, 0));
    models_router *r = two_model_router(&cp, &cq, "");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_OK);
    CHECK(err == NULL);
    CHECK(sp_calls(&cp, "a") == 3); /* max_retries 2 by default: three attempts */
    CHECK(sp_calls(&cq, "b") == 1);
    CHECK_STR_CONTAINS(response, "\"model\":\"cq/b\"");
    CHECK_STR_CONTAINS(response, "hello from b");
    models_free(response);
    models_router_free(r);
}

static void test_permanent_failure_is_not_retried(void) {
    int statuses[] = {400, 401, 403, 404, 422};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        sp_provider cp, cq;
        sp_init(&cp);
        sp_init(&cq);
        sp_fail_always(&cp, "a", sp_fail(MODELS_ERR_API, statuses[i], 0));
        models_router *r = two_model_router(&cp, &cq, "");
        char *response = NULL;
        CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
        CHECK(sp_calls(&cp, "a") == 1);
        CHECK(sp_calls(&cq, "b") == 1);
        models_free(response);
        models_router_free(r);
    }
}

/* A bare code (no error object): transport and timeout failures are transient, an API error without status is not. */
static void test_bare_codes_are_classified(void) {
    sp_provider cp, cq;
    sp_init(&cp);
    sp_init(&cq);
    sp_script(&cp, "a", sp_fail_bare(MODELS_ERR_TRANSPORT));
    sp_script(&cp, "a", sp_fail_bare(MODELS_ERR_TIMEOUT));
    models_router *r = two_model_router(&cp, &cq, "");
    char *response = NULL;
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    CHECK(sp_calls(&cp, "a") == 3);
    CHECK(sp_calls(&cq, "b") == 0);
    CHECK_STR_CONTAINS(response, "\"model\":\"cp/a\"");
    models_free(response);

    sp_script(&cp, "a", sp_fail_bare(MODELS_ERR_API));
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    CHECK(sp_calls(&cp, "a") == 4);
    CHECK(sp_calls(&cq, "b") == 1);
    models_free(response);
    models_router_free(r);
}

/* Status and Retry-After of the provider's error reach the caller, and the Retry-After paces the retry. */
static void test_status_and_retry_after_are_honoured(void) {
    sp_provider cp;
    sp_init(&cp);
    sp_fail_always(&cp, "a", sp_fail(MODELS_ERR_API, 429, 150));
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":1000}");
    sp_register(r, "cp", &cp);
    char *response = NULL;
    models_error *err = NULL;
    int64_t start = sp_now_ms();
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_API);
    int64_t elapsed = sp_now_ms() - start;
    CHECK(response == NULL);
    CHECK(sp_calls(&cp, "a") == 2);
    CHECK(elapsed >= 140); /* the 150 ms Retry-After, not the 1 ms backoff */
    CHECK(elapsed < 1000);
    CHECK(models_error_status(err) == 429);
    CHECK(models_error_retry_after_ms(err) == 150);
    CHECK(models_error_is_transient(err) == 1);
    CHECK_STR_CONTAINS(models_error_message(err), "scripted chat failure");
    models_error_free(err);
    models_router_free(r);
}

static void test_request_reaches_provider_with_model_id(void) {
    sp_provider cp;
    sp_init(&cp);
    models_router *r = sp_router("{\"primary\":\"cp/org/a\"}");
    sp_register(r, "cp", &cp);
    char *response = NULL;
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    CHECK(sp_calls(&cp, "org/a") == 1);
    CHECK_STR_CONTAINS(cp.last_request, "\"model\":\"org/a\"");
    CHECK_STR_CONTAINS(cp.last_request, "\"x_vendor\":7");
    CHECK_STR_CONTAINS(cp.last_request, "\"temperature\":0.5");
    CHECK_STR_CONTAINS(response, "\"model\":\"cp/org/a\"");
    models_free(response);
    models_router_free(r);
}

static int count_chunks(void *user, const char *chunk, size_t len) {
    int *n = user;
    if (chunk && strlen(chunk) == len) (*n)++;
    return 0;
}

static void test_streams_go_through_open_next_close(void) {
    sp_provider cp, cq;
    sp_init(&cp);
    sp_init(&cq);
    sp_script(&cp, "a", sp_fail(MODELS_ERR_API, 503, 0));
    sp_script(&cp, "a", sp_fail(MODELS_ERR_API, 503, 0));
    sp_script(&cp, "a", sp_fail(MODELS_ERR_API, 503, 0));
    models_router *r = two_model_router(&cp, &cq, "");

    models_error *err = NULL;
    models_stream *s = models_stream_open(r, request, &err);
    CHECK(s != NULL);
    CHECK(err == NULL);
    CHECK(sp_calls(&cp, "a") == 3);
    CHECK(sp_counter(&cp, &cp.stream_opens) == 0);
    CHECK(models_stream_model(s) != NULL && strcmp(models_stream_model(s), "cq/b") == 0);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(text != NULL && strcmp(text, "hello from b") == 0);
    int64_t in = 0, out = 0;
    models_stream_usage(s, &in, &out);
    CHECK(in == 7 && out == 3);
    models_free(text);
    models_stream_close(s);
    CHECK(sp_counter(&cq, &cq.stream_opens) == 1);
    CHECK(sp_counter(&cq, &cq.stream_closes) == 1);

    /* Push mode: the primary answers now. */
    int chunks = 0;
    CHECK(models_chat_stream(r, request, count_chunks, NULL, &chunks, &err) == MODELS_OK);
    CHECK(chunks == 4);
    CHECK(sp_counter(&cp, &cp.stream_opens) == 1);
    CHECK(sp_counter(&cp, &cp.stream_closes) == 1);

    /* A stream closed before its end is closed once too. */
    s = models_stream_open(r, request, NULL);
    const char *chunk = NULL;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(chunk, "hello ");
    models_stream_close(s);
    CHECK(sp_counter(&cp, &cp.stream_opens) == 2);
    CHECK(sp_counter(&cp, &cp.stream_closes) == 2);
    models_router_free(r);
}

/* A provider without stream callbacks is passed over for streams: the router
 * falls back to one that streams, and says why when there is none. */
static void test_chat_only_provider_falls_back_for_streams(void) {
    sp_provider cp, cq;
    sp_init(&cp);
    sp_init(&cq);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"cq/b\"],\"retry_base_ms\":1}");
    const models_provider_callbacks chat_only = {sizeof chat_only, sp_chat, NULL, NULL, NULL, sp_destroy};
    models_error *err = NULL;
    CHECK(models_router_add_provider(r, "cp", &chat_only, &cp, &err) == MODELS_OK);
    sp_register(r, "cq", &cq);

    models_stream *s = models_stream_open(r, request, &err);
    CHECK(s != NULL);
    CHECK(s && strcmp(models_stream_model(s), "cq/b") == 0);
    models_stream_close(s);
    CHECK(sp_calls(&cp, "a") == 0);

    /* Alone, the stream fails with the reason, and chat still works. */
    CHECK(models_router_set_models(r, "cp/a", NULL, 0, NULL) == MODELS_OK);
    s = models_stream_open(r, request, &err);
    CHECK(s == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_NO_PROVIDER);
    CHECK_STR_CONTAINS(models_error_message(err), "does not stream");
    models_error_free(err);
    char *response = NULL;
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "hello from a");
    models_free(response);
    models_router_free(r);
}

static void test_destroy_runs_once(void) {
    sp_provider cp, replaced;
    sp_init(&cp);
    sp_init(&replaced);
    models_router *r = sp_router("{\"primary\":\"cp/a\"}");
    sp_register(r, "cp", &replaced);
    sp_register(r, "cp", &cp); /* the name registered again drops the first */
    CHECK(sp_counter(&replaced, &replaced.destroyed) == 1);
    char *response = NULL;
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    models_free(response);
    CHECK(sp_calls(&cp, "a") == 1);
    CHECK(sp_calls(&replaced, "a") == 0);
    CHECK(sp_counter(&cp, &cp.destroyed) == 0);
    models_router_free(r);
    CHECK(sp_counter(&cp, &cp.destroyed) == 1);
    CHECK(sp_counter(&replaced, &replaced.destroyed) == 1);

    /* A stream still open when its router is freed keeps the provider: its
     * stream_close runs first, destroy after it. */
    sp_provider held;
    sp_init(&held);
    r = sp_router("{\"primary\":\"cp/a\"}");
    sp_register(r, "cp", &held);
    models_stream *s = models_stream_open(r, request, NULL);
    CHECK(s != NULL);
    models_router_free(r);
    CHECK(sp_counter(&held, &held.destroyed) == 0);
    const char *chunk = NULL;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    models_stream_close(s);
    CHECK(sp_counter(&held, &held.stream_closes) == 1);
    CHECK(sp_counter(&held, &held.destroyed) == 1);
}

static void test_providers_are_listed_sorted(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"zeta/a\",\"providers\":{\"mid\":{\"base_url\":\"http://127.0.0.1:9/v1\"}}}");
    sp_register(r, "zeta", &p);
    sp_register(r, "alpha", &p);
    char *names = models_router_providers(r);
    CHECK(names != NULL && strcmp(names, "[\"alpha\",\"mid\",\"zeta\"]") == 0);
    models_free(names);
    CHECK(models_router_providers(NULL) == NULL);
    models_router_free(r);
}

static void test_bad_registrations_are_refused(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\"}");
    models_error *err = NULL;
    models_provider_callbacks no_chat = sp_callbacks;
    no_chat.chat = NULL;
    CHECK(models_router_add_provider(r, "cp", &no_chat, &p, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "chat");
    models_error_free(err);
    models_provider_callbacks half_stream = sp_callbacks;
    half_stream.stream_next = NULL;
    CHECK(models_router_add_provider(r, "cp", &half_stream, &p, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_add_provider(r, "c/p", &sp_callbacks, &p, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_add_provider(r, NULL, &sp_callbacks, &p, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_router_add_provider(r, "cp", NULL, &p, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_router_add_provider(NULL, "cp", &sp_callbacks, &p, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    /* A size that is not sizeof(models_provider_callbacks): unset (0), an older
    ** or shorter struct, or a newer header's larger one. */
    struct { models_provider_callbacks cb; void *newer_member; } larger = {sp_callbacks, NULL};
    const size_t wrong_sizes[] = {0, sizeof sp_callbacks - sizeof(void *), sizeof larger, (size_t)-1};
    for (size_t i = 0; i < sizeof wrong_sizes / sizeof wrong_sizes[0]; i++) {
        larger.cb.size = wrong_sizes[i];
        CHECK(models_router_add_provider(r, "cp", &larger.cb, &p, &err) == MODELS_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(models_error_message(err), "callbacks->size");
        CHECK_STR_CONTAINS(models_error_message(err), "sizeof(models_provider_callbacks)");
        models_error_free(err);
    }
    models_router_free(r);
    CHECK(p.destroyed == 0); /* refused tables are never called */
}

int main(void) {
    test_chat_only_provider_falls_back_for_streams();
    unsetenv("ANTHROPIC_API_KEY");
    test_transient_failure_is_retried_then_falls_back();
    test_permanent_failure_is_not_retried();
    test_bare_codes_are_classified();
    test_status_and_retry_after_are_honoured();
    test_request_reaches_provider_with_model_id();
    test_streams_go_through_open_next_close();
    test_destroy_runs_once();
    test_providers_are_listed_sorted();
    test_bad_registrations_are_refused();
    return check_report("test_providers_c");
}
