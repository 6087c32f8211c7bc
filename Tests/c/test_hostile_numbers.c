/* SPDX-License-Identifier: Apache-2.0 */
/* Numbers from outside that once trapped the process (issue 12, crashes 1 and
 * the rule behind it): Retry-After dates and delays far out of range on 429
 * and 503 answers, in chat and in streams, with and without a fallback; token
 * counts at INT64_MAX in OpenAI and Anthropic streams and answers; cooldown
 * trackers, C providers' errors and rate limits with extreme values. The process must survive each one and
 * report an ordinary error (or the fallback's answer). */
#define _GNU_SOURCE
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

/* One hour is more than any cap the router applies; a year is the most the
 * library ever reports for a server's Retry-After. */
#define YEAR_MS (365LL * 86400000LL)

static const char *const hostile_retry_after[] = {
    "Sun, 06 Nov 99999999999 08:49:37 GMT",
    "Sun, 06 Nov 1000000000 08:49:37 GMT",
    "Sun, 06 Nov 1994 -99999999999:49:37 GMT",
    "Sun, 06 Nov 1994 99999999999:49:37 GMT",
    "Sun, 06 Nov 1994 08:-99999999999:37 GMT",
    "Sun, -99999999999 Nov 1994 08:49:37 GMT",
    "Sun, 99999999999 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-99999999999 08:49:37 GMT",
    "Sunday, 06-Nov-94 -99999999999:49:37 GMT",
    "Sun Nov  6 08:49:37 99999999999",
    "Sun Nov  6 -99999999999:49:37 1994",
    "Sun Nov 99999999999 08:49:37 1994",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 0000 00:00:00 GMT",
    "99999999999999999999999999999",
    "9223372036854775807",
    "9223372036854775",
    "-1",
    "",
};
#define N_HOSTILE (sizeof hostile_retry_after / sizeof hostile_retry_after[0])

static void script_status_with_retry_after(const char *model, int status, const char *value) {
    char *quoted = json_quote(value);
    char step[512];
    snprintf(step, sizeof step, "[{\"status\":%d,\"headers\":{\"Retry-After\":%s}}]", status, quoted);
    ts_script(model, step);
    free(quoted);
}

static int count_chunks(void *user, const char *chunk, size_t len) {
    (void)chunk; (void)len;
    (*(int *)user)++;
    return 0;
}

static void check_api_error(models_code rc, models_error *err, int status, const char *value, const char *where) {
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(models_error_status(err) == status);
    int64_t ms = models_error_retry_after_ms(err);
    CHECK(ms >= 0 && ms <= YEAR_MS);
    if (rc != MODELS_ERR_API || !err || models_error_status(err) != status || ms < 0 || ms > YEAR_MS)
        fprintf(stderr, "  %s, Retry-After \"%s\": %s, retry_after_ms %lld\n", where, value, models_code_name(rc), (long long)ms);
}

/* Each value on a 429 and a 503, in chat, a push stream and a pull stream: an
 * ordinary MODELS_ERR_API with the status, and a Retry-After of 0 or one that
 * makes sense. Retries are on (with a 1 ms cap), so the delay is computed. */
static void test_retry_after_alone(void) {
    models_router *r = local_router("\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":1");
    int statuses[] = {429, 503};
    for (size_t i = 0; i < N_HOSTILE; i++) {
        for (int s = 0; s < 2; s++) {
            const char *value = hostile_retry_after[i];
            models_error *err = NULL;
            char *response = NULL;
            ts_reset();
            script_status_with_retry_after("m1", statuses[s], value);
            script_status_with_retry_after("m1", statuses[s], value);
            models_code rc = models_chat(r, HELLO, &response, &err);
            check_api_error(rc, err, statuses[s], value, "chat");
            CHECK(response == NULL);
            models_error_free(err);

            ts_reset();
            script_status_with_retry_after("m1", statuses[s], value);
            script_status_with_retry_after("m1", statuses[s], value);
            err = NULL;
            int chunks = 0;
            rc = models_chat_stream(r, HELLO_STREAM, count_chunks, NULL, &chunks, &err);
            check_api_error(rc, err, statuses[s], value, "push stream");
            CHECK(chunks == 0);
            models_error_free(err);

            ts_reset();
            script_status_with_retry_after("m1", statuses[s], value);
            script_status_with_retry_after("m1", statuses[s], value);
            err = NULL;
            models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
            CHECK(st == NULL);
            check_api_error(err ? models_error_code(err) : MODELS_OK, err, statuses[s], value, "pull stream");
            models_stream_close(st);
            models_error_free(err);
        }
    }
    models_router_free(r);
}

/* With a fallback, the 429 moves the call on and the fallback answers. */
static void test_retry_after_then_fallback(void) {
    models_router *r = local_router("\"fallbacks\":[\"local/m2\"],\"max_retries\":0,\"retry_max_ms\":1");
    for (size_t i = 0; i < N_HOSTILE; i++) {
        ts_reset();
        script_status_with_retry_after("m1", 429, hostile_retry_after[i]);
        char *response = NULL;
        models_error *err = NULL;
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK(rc == MODELS_OK);
        CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
        models_free(response);
        models_error_free(err);

        ts_reset();
        script_status_with_retry_after("m1", 503, hostile_retry_after[i]);
        int chunks = 0;
        err = NULL;
        rc = models_chat_stream(r, HELLO_STREAM, count_chunks, NULL, &chunks, &err);
        CHECK(rc == MODELS_OK);
        CHECK(chunks > 0);
        if (rc != MODELS_OK) fprintf(stderr, "  stream fallback: %s\n", models_error_message(err));
        models_error_free(err);
    }
    models_router_free(r);
}

/* Token counts at INT64_MAX: the usage stays INT64_MAX (saturated), never a trap. */
static void test_usage_at_int64_max(void) {
    models_router *r = local_router("");
    ts_reset();
    ts_script("m1", "[{\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":9223372036854775807,"
                    "\"total_tokens\":9223372036854775807}}]");
    models_stream *s = models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                             "\"stream\":true,\"stream_options\":{\"include_usage\":true}}", NULL);
    CHECK(s != NULL);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    int64_t in = 0, out = 0;
    models_stream_usage(s, &in, &out);
    CHECK(in == INT64_MAX && out == INT64_MAX);
    models_free(text);
    models_stream_close(s);
    models_router_free(r);

    /* Anthropic: input, cache reads and cache writes are summed, then the total. */
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-x\",\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"k-0123456789\"}}}",
             ts_url());
    r = router_or_exit(config);
    const char *usage = "{\"usage\":{\"input_tokens\":9223372036854775807,\"cache_read_input_tokens\":9223372036854775807,"
                        "\"cache_creation_input_tokens\":9223372036854775807,\"output_tokens\":9223372036854775807}}";
    char steps[512];
    snprintf(steps, sizeof steps, "[%s,%s]", usage, usage);
    ts_reset();
    ts_script("claude-x", steps);
    s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    in = out = 0;
    models_stream_usage(s, &in, &out);
    CHECK(in == INT64_MAX && out == INT64_MAX);
    models_free(text);
    models_stream_close(s);
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"total_tokens\":9223372036854775807");
    models_free(response);
    models_router_free(r);
}

/* Trackers made with extreme values work, and their delays stay within max. */
static void test_cooldown_extremes(void) {
    const int64_t values[] = {INT64_MAX, INT64_MIN, 0, 1, -1, INT64_MAX - 1};
    const double multipliers[] = {INFINITY, -INFINITY, NAN, 1e308, DBL_MAX, 0.0, -1.0, 1e-308, 5};
    for (size_t b = 0; b < sizeof values / sizeof values[0]; b++) {
        for (size_t m = 0; m < sizeof values / sizeof values[0]; m++) {
            for (size_t k = 0; k < sizeof multipliers / sizeof multipliers[0]; k++) {
                models_cooldown *c = models_cooldown_new(values[b], values[m], multipliers[k]);
                CHECK(c != NULL);
                for (int i = 0; i < 70; i++) models_cooldown_record_failure(c, "x/m");
                /* Availability first: a 1 ms cooldown may end between the two reads
                 * (under valgrind it does), and once over it stays over. */
                int available = models_cooldown_is_available(c, "x/m");
                int64_t left = models_cooldown_remaining_ms(c, "x/m");
                CHECK(left >= 0);
                CHECK(!available || left == 0);
                models_cooldown_record_success(c, "x/m");
                CHECK(models_cooldown_is_available(c, "x/m"));
                models_cooldown_free(c);
            }
        }
    }
}

/* A C provider failing with extreme numbers in its error. */
static int extreme_error_chat(void *user, const char *model_id, const char *request_json, char **response_json,
                              models_error **err) {
    (void)user; (void)model_id; (void)request_json; (void)response_json;
    static int calls = 0;
    const int statuses[] = {429, INT32_MAX, INT32_MIN, 503};
    const int64_t waits[] = {INT64_MAX, INT64_MIN, -1, INT64_MAX - 1};
    *err = models_error_new(MODELS_ERR_API, "busy", statuses[calls % 4], waits[calls % 4]);
    calls++;
    return MODELS_ERR_API;
}

static void test_c_provider_extremes(void) {
    models_router *r = router_from("\"primary\":\"cp/m\",\"max_retries\":3,\"retry_base_ms\":1,\"retry_max_ms\":1");
    models_provider_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.chat = extreme_error_chat;
    CHECK(models_router_add_provider(r, "cp", &cb, NULL, NULL) == MODELS_OK);
    for (int i = 0; i < 4; i++) {
        char *response = NULL;
        models_error *err = NULL;
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK(rc == MODELS_ERR_API);
        CHECK(models_error_retry_after_ms(err) >= 0);
        models_error_free(err);
    }
    models_router_free(r);
}

/* A rate limit so slow its wait is centuries: a timeout, not an overflow. */
static void test_rate_limit_extremes(void) {
    models_router *r = local_router("\"max_retries\":0,\"rate_limits\":{\"local\":{\"requests_per_second\":1e-300,\"burst\":1}}");
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    models_error *err = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    test_retry_after_alone();
    test_retry_after_then_fallback();
    test_usage_at_int64_max();
    test_cooldown_extremes();
    test_c_provider_extremes();
    test_rate_limit_extremes();
    return check_report("test_hostile_numbers");
}
