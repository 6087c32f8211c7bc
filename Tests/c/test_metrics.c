/* SPDX-License-Identifier: Apache-2.0 */
/* models_router_metrics against the loopback server: after a call with a
 * retry, an error, a stream with usage and a call that falls back (cooling
 * its primary down), the Prometheus text counts each of them per model. */
#define _GNU_SOURCE
#include "test_util.h"

/* The value of the sample line starting with `series` (name and labels), or -1. */
static double sample(const char *text, const char *series) {
    size_t len = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, series, len) == 0 && p[len] == ' ') return strtod(p + len + 1, NULL);
    }
    return -1;
}

int main(void) {
    CHECK(models_router_metrics(NULL) == NULL);
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":10,\"cooldown\":{\"base_ms\":60000}");
    char *text = models_router_metrics(r);
    CHECK(text != NULL && strcmp(text, "") == 0); /* nothing counted yet */
    models_free(text);
    ts_reset();

    /* A retry: 503, then the answer. */
    ts_script("m1", "[{\"status\":503}]");
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);

    /* An error: a model named alone answers 400. */
    ts_script("m3", "[{\"status\":400}]");
    response = NULL;
    CHECK(models_chat(r, "{\"model\":\"local/m3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL)
          != MODELS_OK);
    CHECK(response == NULL);

    /* A stream whose usage is counted at its end. */
    ts_script("m1", "[{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL);
    char *collected = NULL;
    CHECK(s && models_stream_collect(s, &collected, &err) == MODELS_OK);
    models_free(collected);
    models_stream_close(s);

    /* A fallback: m1 fails its three attempts and cools down, m2 answers. */
    script_n("m1", "{\"status\":503}", 3);
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);

    text = models_router_metrics(r);
    CHECK(text != NULL);
    CHECK_STR_CONTAINS(text, "# TYPE libmodels_requests_total counter\n");
    CHECK_STR_CONTAINS(text, "# TYPE libmodels_call_duration_seconds histogram\n");
    CHECK(sample(text, "libmodels_requests_total{model=\"local/m1\"}") == 3);
    CHECK(sample(text, "libmodels_requests_total{model=\"local/m3\"}") == 1);
    CHECK(sample(text, "libmodels_attempts_total{model=\"local/m1\"}") == 6);
    CHECK(sample(text, "libmodels_attempts_total{model=\"local/m2\"}") == 1);
    CHECK(sample(text, "libmodels_retries_total{model=\"local/m1\"}") == 3);
    CHECK(sample(text, "libmodels_errors_total{model=\"local/m1\",kind=\"server\"}") == 4);
    CHECK(sample(text, "libmodels_errors_total{model=\"local/m3\",kind=\"bad_request\"}") == 1);
    CHECK(sample(text, "libmodels_fallbacks_total{model=\"local/m1\"}") == 1);
    CHECK(sample(text, "libmodels_cooldowns_total{model=\"local/m1\"}") == 1);
    CHECK(sample(text, "libmodels_prompt_tokens_total{model=\"local/m1\"}") == 7);
    CHECK(sample(text, "libmodels_completion_tokens_total{model=\"local/m1\"}") == 3);
    CHECK(sample(text, "libmodels_call_duration_seconds_count{model=\"local/m1\"}") == 3);
    CHECK(sample(text, "libmodels_call_duration_seconds_bucket{model=\"local/m1\",le=\"+Inf\"}") == 3);
    CHECK(sample(text, "libmodels_attempt_duration_seconds_count{model=\"local/m1\"}") == 6);
    if (check_failures || getenv("SHOW_METRICS")) fprintf(stderr, "%s", text ? text : "(null)");
    models_free(text);
    models_router_free(r);
    return check_report("test_metrics");
}
