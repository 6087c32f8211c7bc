/* SPDX-License-Identifier: Apache-2.0 */
/* The cooldown tracker on its own (models_cooldown_*): escalation, cap,
 * success and reset, expired cooldowns that still escalate, stale ones that
 * start afresh, available_from, gc, defaults and NULL safety. Durations are
 * tens of milliseconds; bounds on remaining times leave room for a slow machine. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>

/* remaining_ms right after a failure: at most `expected`, and more than half
 * of it (the levels below grow threefold, so half tells them apart however
 * slow the machine is between the failure and the check). */
#define CHECK_REMAINING(c, model, expected) do { \
    int64_t r_ = models_cooldown_remaining_ms((c), (model)); \
    CHECK(r_ <= (expected)); \
    CHECK(r_ > (expected) / 2); \
} while (0)

static void test_escalation_and_cap(void) {
    models_cooldown *c = models_cooldown_new(1000, 10000, 3);
    CHECK(models_cooldown_is_available(c, "p/a") == 1);
    CHECK(models_cooldown_remaining_ms(c, "p/a") == 0);
    models_cooldown_record_failure(c, "p/a");
    CHECK(models_cooldown_is_available(c, "p/a") == 0);
    CHECK_REMAINING(c, "p/a", 1000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 3000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 9000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 10000); /* 27000 capped at max */
    CHECK(models_cooldown_is_available(c, "p/b") == 1); /* per model */

    models_cooldown_record_success(c, "p/a");
    CHECK(models_cooldown_is_available(c, "p/a") == 1);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 1000); /* a success forgets the count */

    models_cooldown_record_failure(c, "p/a");
    models_cooldown_reset(c, "p/a");
    CHECK(models_cooldown_is_available(c, "p/a") == 1);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 1000); /* so does a reset */
    models_cooldown_free(c);
}

static void test_expired_cooldown_escalates(void) {
    models_cooldown *c = models_cooldown_new(100, 10000, 3);
    models_cooldown_record_failure(c, "p/a");
    CHECK(models_cooldown_is_available(c, "p/a") == 0);
    sp_sleep_ms(150);
    CHECK(models_cooldown_is_available(c, "p/a") == 1);
    CHECK(models_cooldown_remaining_ms(c, "p/a") == 0);
    models_cooldown_gc(c); /* an expired entry that still escalates survives gc */
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 300);
    models_cooldown_free(c);
}

static void test_stale_cooldown_starts_afresh(void) {
    /* max 40 ms: once out of cooldown for 40 ms, the model starts again at base. */
    models_cooldown *c = models_cooldown_new(20, 40, 2);
    models_cooldown_record_failure(c, "p/a");
    sp_sleep_ms(20 + 40 + 30);
    models_cooldown_gc(c);
    models_cooldown_record_failure(c, "p/a");
    CHECK(models_cooldown_remaining_ms(c, "p/a") <= 20);
    models_cooldown_free(c);
}

static void test_available_from_and_reset_all(void) {
    models_cooldown *c = models_cooldown_new(60000, 0, 0);
    models_cooldown_record_failure(c, "p/b");
    models_cooldown_record_failure(c, "p/d");
    char *available = models_cooldown_available_from(c, "[\"p/a\",\"p/b\",\"p/c\",\"p/d\",\"p/a\"]");
    CHECK(available != NULL && strcmp(available, "[\"p/a\",\"p/c\",\"p/a\"]") == 0);
    models_free(available);
    available = models_cooldown_available_from(c, "[]");
    CHECK(available != NULL && strcmp(available, "[]") == 0);
    models_free(available);
    CHECK(models_cooldown_available_from(c, "{\"p/a\":1}") == NULL);
    CHECK(models_cooldown_available_from(c, "[\"p/a\",3]") == NULL);
    CHECK(models_cooldown_available_from(c, "[") == NULL);
    CHECK(models_cooldown_available_from(c, NULL) == NULL);
    CHECK(models_cooldown_available_from(NULL, "[\"p/a\"]") == NULL);

    models_cooldown_gc(c); /* cooling entries are kept */
    CHECK(models_cooldown_is_available(c, "p/b") == 0);
    models_cooldown_reset_all(c);
    CHECK(models_cooldown_is_available(c, "p/b") == 1);
    CHECK(models_cooldown_is_available(c, "p/d") == 1);
    models_cooldown_free(c);
}

static void test_defaults(void) {
    /* <= 0 takes the defaults: 1 min, x5, 1 h. */
    models_cooldown *c = models_cooldown_new(0, -1, 0);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 60000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 300000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 1500000);
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 3600000);
    models_cooldown_free(c);

    /* A multiplier below 1 counts as 1: no escalation, never shrinking. */
    c = models_cooldown_new(100, 1000, 0.5);
    models_cooldown_record_failure(c, "p/a");
    models_cooldown_record_failure(c, "p/a");
    CHECK_REMAINING(c, "p/a", 100);
    models_cooldown_free(c);
}

static void test_null_is_harmless(void) {
    models_cooldown *c = models_cooldown_new(100, 1000, 2);
    models_cooldown_record_failure(NULL, "p/a");
    models_cooldown_record_failure(c, NULL);
    models_cooldown_record_success(NULL, "p/a");
    models_cooldown_reset(NULL, "p/a");
    models_cooldown_reset(c, NULL);
    models_cooldown_reset_all(NULL);
    models_cooldown_gc(NULL);
    models_cooldown_free(NULL);
    CHECK(models_cooldown_is_available(NULL, "p/a") == 1);
    CHECK(models_cooldown_is_available(c, NULL) == 1);
    CHECK(models_cooldown_remaining_ms(NULL, "p/a") == 0);
    CHECK(models_router_set_cooldown(NULL, c) == MODELS_ERR_INVALID_ARGUMENT);
    models_cooldown_free(c);
}

int main(void) {
    test_escalation_and_cap();
    test_expired_cooldown_escalates();
    test_stale_cooldown_starts_afresh();
    test_available_from_and_reset_all();
    test_defaults();
    test_null_is_harmless();
    return check_report("test_cooldown");
}
