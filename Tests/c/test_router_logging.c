/* SPDX-License-Identifier: Apache-2.0 */
/* What the router tells the log handler: each failed attempt, each retry and
 * its wait, each cooldown and each fallback, at sensible levels, and never an
 * API key, even when the provider's error message quotes it. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>

#define MAX_LINES 256

typedef struct {
    pthread_mutex_t lock;
    int n;
    int level[MAX_LINES];
    char line[MAX_LINES][512];
} log_record;

static void record_line(void *user, int level, const char *message) {
    log_record *log = user;
    pthread_mutex_lock(&log->lock);
    if (log->n < MAX_LINES) {
        log->level[log->n] = level;
        snprintf(log->line[log->n], sizeof log->line[0], "%s", message);
        log->n++;
    }
    pthread_mutex_unlock(&log->lock);
}

/* The level of the first line containing every needle given (NULL-terminated), or -1. */
static int level_of(log_record *log, const char *a, const char *b) {
    for (int i = 0; i < log->n; i++)
        if (strstr(log->line[i], a) && (!b || strstr(log->line[i], b))) return log->level[i];
    return -1;
}

static int any_line_contains(log_record *log, const char *needle) {
    for (int i = 0; i < log->n; i++)
        if (strstr(log->line[i], needle)) return 1;
    return 0;
}

static void dump(log_record *log) {
    for (int i = 0; i < log->n; i++) fprintf(stderr, "  log %d: %s\n", log->level[i], log->line[i]);
}

static void test_decisions_are_logged(void) {
    static log_record log = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}};
    models_set_log_handler(record_line, &log, MODELS_LOG_DEBUG);
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":20,"
                                   "\"retry_max_ms\":20,\"cooldown\":{\"base_ms\":5000}");
    ts_reset();
    /* Retry-After 1 s, capped at retry_max_ms: every wait is exactly 20 ms, whatever the jitter. */
    ts_script("m1", "[{\"status\":503,\"headers\":{\"Retry-After\":\"1\"}},{\"status\":503,\"headers\":{\"Retry-After\":\"1\"}},{\"status\":503}]");
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);

    int failed = level_of(&log, "local/m1", "attempt 1 failed");
    CHECK(failed >= MODELS_LOG_INFO);
    CHECK(level_of(&log, "local/m1", "attempt 3 failed") >= MODELS_LOG_INFO);
    CHECK(level_of(&log, "local/m1", "503") >= MODELS_LOG_INFO);
    int retrying = level_of(&log, "retrying in 20 ms", NULL);
    CHECK(retrying >= MODELS_LOG_INFO);
    int cooling = level_of(&log, "cooling local/m1", "5s");
    CHECK(cooling >= MODELS_LOG_WARN);
    int fallback = level_of(&log, "falling back to local/m2", NULL);
    CHECK(fallback >= MODELS_LOG_INFO);
    CHECK(!any_line_contains(&log, "sk-test"));
    if (failed < 0 || retrying < 0 || cooling < 0 || fallback < 0) dump(&log);

    /* The next request skips the cooling model, at DEBUG. */
    log.n = 0;
    models_set_log_handler(record_line, &log, MODELS_LOG_DEBUG);
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(level_of(&log, "skipping local/m1", "cooldown") == MODELS_LOG_DEBUG);
    models_router_free(r);
}

/* A provider that quotes the key in its error: neither the error nor the log carries it. */
static void test_keys_never_appear(void) {
    static log_record log = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}};
    models_set_log_handler(record_line, &log, MODELS_LOG_DEBUG);
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":5");
    ts_reset();
    const char *quoting =
        "{\"status\":%d,\"body\":{\"error\":{\"message\":\"Incorrect API key provided: sk-test-local-0123456789\"}}}";
    char steps[1024];
    char s1[256], s2[256];
    snprintf(s1, sizeof s1, quoting, 503);
    snprintf(s2, sizeof s2, quoting, 401);
    snprintf(steps, sizeof steps, "[%s,%s]", s1, s2);
    ts_script("m1", steps);
    snprintf(steps, sizeof steps, "[%s]", s2);
    ts_script("m2", steps);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_ERR_ALL_FAILED);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(strstr(models_error_message(err), "sk-test") == NULL);
    CHECK(strstr(models_error_message(err), "0123456789") == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "Incorrect API key provided");
    CHECK(log.n > 0);
    CHECK(!any_line_contains(&log, "sk-test"));
    CHECK(!any_line_contains(&log, "0123456789"));
    models_error_free(err);
    models_router_free(r);
}

/* min_level filters: a WARN handler sees the cooldown but not the retries. */
static void test_min_level(void) {
    static log_record log = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}};
    models_set_log_handler(record_line, &log, MODELS_LOG_WARN);
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":5,\"cooldown\":{\"base_ms\":5000}");
    ts_reset();
    ts_script("m1", "[{\"status\":500},{\"status\":500},{\"status\":500}]");
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    for (int i = 0; i < log.n; i++) CHECK(log.level[i] >= MODELS_LOG_WARN);
    CHECK(level_of(&log, "cooling local/m1", NULL) >= MODELS_LOG_WARN);
    CHECK(level_of(&log, "retrying in", NULL) == -1);
    models_router_free(r);
}

int main(void) {
    test_decisions_are_logged();
    test_keys_never_appear();
    test_min_level();
    return check_report("test_router_logging");
}
