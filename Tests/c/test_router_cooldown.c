/* SPDX-License-Identifier: Apache-2.0 */
/* Cooldowns as the router applies them, with providers written in C that fail
 * on script: a model that still fails transiently after its retries is
 * skipped for base x multiplier^(n-1), an expired cooldown escalates, a success
 * clears it, permanent errors never cool, every model cooling gives
 * MODELS_ERR_ALL_COOLDOWN, and one tracker is shared by two routers. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>

static const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static const char *config =
    "{\"primary\":\"cp/a\",\"fallbacks\":[\"cp/b\"],\"retry_base_ms\":1,\"retry_max_ms\":5}";

/* remaining_ms just after a cooldown started: at most `expected`, and not much less. */
#define CHECK_REMAINING(c, model, expected) do { \
    int64_t r_ = models_cooldown_remaining_ms((c), (model)); \
    CHECK(r_ <= (expected)); \
    CHECK(r_ > (expected) - 60); \
} while (0)

static int chat_answered_by(models_router *r, const char *model) {
    char *response = NULL;
    char expected[128];
    snprintf(expected, sizeof expected, "\"model\":\"%s\"", model);
    int ok = models_chat(r, request, &response, NULL) == MODELS_OK && strstr(response, expected) != NULL;
    models_free(response);
    return ok;
}

static void test_skip_escalate_and_clear(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router(config);
    sp_register(r, "cp", &p);
    models_cooldown *c = models_cooldown_new(100, 10000, 3);
    CHECK(models_router_set_cooldown(r, c) == MODELS_OK);
    sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));

    /* Three attempts, then a cools for base and b answers. */
    CHECK(chat_answered_by(r, "cp/b"));
    CHECK(sp_calls(&p, "a") == 3);
    CHECK_REMAINING(c, "cp/a", 100);
    CHECK(models_cooldown_is_available(c, "cp/b") == 1);

    /* While cooling, a is not called at all. */
    CHECK(chat_answered_by(r, "cp/b"));
    CHECK(sp_calls(&p, "a") == 3);

    /* Expired, a is tried again; failing again escalates to base x 3. */
    sp_sleep_ms(120);
    CHECK(models_cooldown_is_available(c, "cp/a") == 1);
    CHECK(chat_answered_by(r, "cp/b"));
    CHECK(sp_calls(&p, "a") == 6);
    CHECK_REMAINING(c, "cp/a", 300);

    /* Expired again, a succeeds: that clears its count, so the next failure
     * cools for base again rather than base x 9. */
    sp_sleep_ms(320);
    sp_fail_always(&p, "a", sp_fail(0, 0, 0));
    CHECK(chat_answered_by(r, "cp/a"));
    CHECK(models_cooldown_remaining_ms(c, "cp/a") == 0);
    sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));
    CHECK(chat_answered_by(r, "cp/b"));
    CHECK_REMAINING(c, "cp/a", 100);

    models_cooldown_free(c);
    models_router_free(r);
}

/* The same rules for a stream: its open is the attempt. */
static void test_streams_cool_too(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router(config);
    sp_register(r, "cp", &p);
    models_cooldown *c = models_cooldown_new(5000, 0, 0);
    models_router_set_cooldown(r, c);
    sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, 529, 0));
    models_stream *s = models_stream_open(r, request, NULL);
    CHECK(s != NULL && strcmp(models_stream_model(s), "cp/b") == 0);
    models_stream_close(s);
    CHECK(sp_calls(&p, "a") == 3);
    CHECK(models_cooldown_is_available(c, "cp/a") == 0);
    s = models_stream_open(r, request, NULL);
    CHECK(s != NULL && strcmp(models_stream_model(s), "cp/b") == 0);
    models_stream_close(s);
    CHECK(sp_calls(&p, "a") == 3);
    models_cooldown_free(c);
    models_router_free(r);
}

static void test_permanent_errors_never_cool(void) {
    int statuses[] = {400, 401, 403, 404, 422};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        sp_provider p;
        sp_init(&p);
        models_router *r = sp_router(config);
        sp_register(r, "cp", &p);
        models_cooldown *c = models_cooldown_new(60000, 0, 0);
        models_router_set_cooldown(r, c);
        sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, statuses[i], 0));
        CHECK(chat_answered_by(r, "cp/b"));
        CHECK(chat_answered_by(r, "cp/b"));
        CHECK(sp_calls(&p, "a") == 2); /* once per request: no retry, no cooldown */
        CHECK(models_cooldown_is_available(c, "cp/a") == 1);
        models_cooldown_free(c);
        models_router_free(r);
    }
}

/* A transient failure that turns permanent on the last attempt does not cool either. */
static void test_last_failure_decides(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router(config);
    sp_register(r, "cp", &p);
    models_cooldown *c = models_cooldown_new(60000, 0, 0);
    models_router_set_cooldown(r, c);
    sp_script(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));
    sp_script(&p, "a", sp_fail(MODELS_ERR_API, 403, 0));
    CHECK(chat_answered_by(r, "cp/b"));
    CHECK(sp_calls(&p, "a") == 2);
    CHECK(models_cooldown_is_available(c, "cp/a") == 1);
    models_cooldown_free(c);
    models_router_free(r);
}

static void test_all_in_cooldown(void) {
    sp_provider p;
    sp_init(&p);
    /* The tracker from the config this time. */
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"cp/b\"],\"retry_base_ms\":1,"
                                 "\"retry_max_ms\":5,\"max_retries\":0,\"cooldown\":{\"base_ms\":60000}}");
    sp_register(r, "cp", &p);
    sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, 500, 0));
    sp_fail_always(&p, "b", sp_fail(MODELS_ERR_TRANSPORT, 0, 0));
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_ALL_FAILED);
    models_error_free(err);
    CHECK(sp_calls(&p, "a") == 1 && sp_calls(&p, "b") == 1);

    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_ALL_COOLDOWN);
    CHECK(response == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_ALL_COOLDOWN);
    CHECK_STR_CONTAINS(models_error_message(err), "all models in cooldown");
    models_error_free(err);
    CHECK(models_stream_open(r, request, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_ALL_COOLDOWN);
    models_error_free(err);
    CHECK(sp_calls(&p, "a") == 1 && sp_calls(&p, "b") == 1);

    /* Turned off: the models are tried again. */
    models_router_set_cooldown(r, NULL);
    sp_fail_always(&p, "b", sp_fail(0, 0, 0));
    CHECK(chat_answered_by(r, "cp/b"));
    models_router_free(r);
}

static void test_shared_across_routers(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r1 = sp_router(config);
    models_router *r2 = sp_router(config);
    sp_register(r1, "cp", &p);
    sp_register(r2, "cp", &p);
    models_cooldown *c = models_cooldown_new(60000, 0, 0);
    models_router_set_cooldown(r1, c);
    models_router_set_cooldown(r2, c);
    models_cooldown_free(c); /* the routers keep the tracker alive */

    sp_fail_always(&p, "a", sp_fail(MODELS_ERR_API, 502, 0));
    CHECK(chat_answered_by(r1, "cp/b"));
    CHECK(sp_calls(&p, "a") == 3);
    CHECK(chat_answered_by(r2, "cp/b")); /* r2 skips a: r1 cooled it */
    CHECK(sp_calls(&p, "a") == 3);
    char *health = models_router_health(r2);
    CHECK_STR_CONTAINS(health, "cooldown (");
    models_free(health);
    models_router_free(r1);
    CHECK(chat_answered_by(r2, "cp/b"));
    CHECK(sp_calls(&p, "a") == 3);
    models_router_free(r2);
}

int main(void) {
    test_skip_escalate_and_clear();
    test_streams_cool_too();
    test_permanent_errors_never_cool();
    test_last_failure_decides();
    test_all_in_cooldown();
    test_shared_across_routers();
    return check_report("test_router_cooldown");
}
