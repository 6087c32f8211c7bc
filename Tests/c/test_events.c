/* SPDX-License-Identifier: Apache-2.0 */
/* models_router_set_event_handler against the loopback server: a call with a
 * retry, a cooldown and a fallback reports its events in order with the
 * OpenTelemetry names, the caller's metadata and the cost from the config's
 * price table; a stream reports its first word and its usage at the end; a
 * handler can remove itself; a call without a handler reports nothing. */
#define _GNU_SOURCE
#include "test_util.h"

#define MAX_EVENTS 64

static char *events[MAX_EVENTS];
static int n_events;

static void record(void *user, const char *json, size_t len) {
    int *calls = user;
    if (calls) (*calls)++;
    CHECK(json != NULL && strlen(json) == len);
    if (n_events < MAX_EVENTS) events[n_events++] = strdup(json);
}

static void clear(void) {
    for (int i = 0; i < n_events; i++) free(events[i]);
    n_events = 0;
}

/* The kinds of the events recorded, joined by spaces. */
static const char *kinds(void) {
    static char out[2048];
    out[0] = '\0';
    for (int i = 0; i < n_events; i++) {
        const char *p = strstr(events[i], "\"event\":\"");
        if (!p) continue;
        p += 9;
        size_t len = strcspn(p, "\"");
        if (out[0]) strcat(out, " ");
        strncat(out, p, len);
    }
    return out;
}

/* The first recorded event of this kind, or "" (so CHECK_STR_CONTAINS fails cleanly). */
static const char *event(const char *kind, int nth) {
    char key[64];
    snprintf(key, sizeof key, "\"event\":\"%s\"", kind);
    for (int i = 0; i < n_events; i++) {
        if (strstr(events[i], key) && nth-- == 0) return events[i];
    }
    return "";
}

static void remove_self(void *user, const char *json, size_t len) {
    record(NULL, json, len);
    CHECK(models_router_set_event_handler((models_router *)user, NULL, NULL) == MODELS_OK);
}

int main(void) {
    CHECK(models_router_set_event_handler(NULL, record, NULL) == MODELS_ERR_INVALID_ARGUMENT);
    models_router *r = router_from(
        "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,\"retry_max_ms\":5,"
        "\"max_retries\":1,\"cooldown\":{\"base_ms\":60000},"
        "\"prices\":{\"local/m2\":{\"input_per_million\":2.5,\"output_per_million\":10,\"cached_input_per_million\":1.25}}");
    ts_reset();
    int calls = 0;
    CHECK(models_router_set_event_handler(r, record, &calls) == MODELS_OK);

    /* m1 fails twice (a retry, then a cooldown); m2 answers with cached tokens. */
    ts_script("m1", "[{\"status\":503},{\"status\":503}]");
    ts_script("m2", "[{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,"
                    "\"prompt_tokens_details\":{\"cached_tokens\":400}}}]");
    char *response = NULL;
    CHECK(models_chat_ex(r, HELLO, "{\"metadata\":{\"trace\":\"t-1\",\"n\":[1,2]},\"x_libmodels\":true}", NULL,
                         &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start attempt.end retry attempt.start attempt.end cooldown.start "
                                "fallback attempt.start attempt.end call.end");
    CHECK(calls == n_events && n_events == 11);
    for (int i = 0; i < n_events; i++) {
        CHECK_STR_CONTAINS(events[i], "\"libmodels.metadata\":{\"trace\":\"t-1\",\"n\":[1,2]}");
        CHECK_STR_CONTAINS(events[i], "\"gen_ai.operation.name\":\"chat\"");
        CHECK_STR_CONTAINS(events[i], "\"libmodels.stream\":false");
        CHECK(json_int(events[i], "libmodels.call_id") == json_int(events[0], "libmodels.call_id"));
        CHECK(json_int(events[i], "libmodels.time_unix_nano") > 1700000000L * 1000000000L);
    }
    CHECK_STR_CONTAINS(event("call.start", 0), "\"gen_ai.request.model\":\"local/m1\"");
    const char *first = event("attempt.start", 0);
    CHECK_STR_CONTAINS(first, "\"gen_ai.request.model\":\"local/m1\"");
    CHECK_STR_CONTAINS(first, "\"gen_ai.provider.name\":\"local\"");
    CHECK(json_int(first, "libmodels.attempt") == 1 && json_int(first, "libmodels.retry") == 0);
    const char *failed = event("attempt.end", 0);
    CHECK_STR_CONTAINS(failed, "\"libmodels.status\":\"error\"");
    CHECK_STR_CONTAINS(failed, "\"error.type\":\"server\"");
    CHECK(json_int(failed, "http.response.status_code") == 503);
    CHECK(json_int(failed, "libmodels.latency_ms") >= 0);
    const char *retry = event("retry", 0);
    CHECK(json_int(retry, "libmodels.delay_ms") >= 0 && json_int(retry, "libmodels.delay_ms") <= 10);
    CHECK(json_int(event("attempt.start", 1), "libmodels.retry") == 1);
    CHECK(json_int(event("attempt.start", 1), "libmodels.attempt") == 2);
    CHECK(json_int(event("cooldown.start", 0), "libmodels.cooldown_ms") == 60000);
    const char *fallback = event("fallback", 0);
    CHECK_STR_CONTAINS(fallback, "\"libmodels.fallback.from\":\"local/m1\"");
    CHECK_STR_CONTAINS(fallback, "\"libmodels.fallback.to\":\"local/m2\"");
    CHECK_STR_CONTAINS(fallback, "\"error.type\":\"server\"");
    const char *answered = event("attempt.end", 2);
    CHECK_STR_CONTAINS(answered, "\"libmodels.status\":\"ok\"");
    CHECK_STR_CONTAINS(answered, "\"gen_ai.response.model\":\"local/m2\"");
    CHECK(json_int(answered, "libmodels.attempt") == 3);
    const char *end = event("call.end", 0);
    CHECK_STR_CONTAINS(end, "\"libmodels.status\":\"ok\"");
    CHECK_STR_CONTAINS(end, "\"gen_ai.request.model\":\"local/m1\"");
    CHECK_STR_CONTAINS(end, "\"gen_ai.response.model\":\"local/m2\"");
    CHECK(json_int(end, "libmodels.attempts") == 3);
    CHECK(json_int(end, "gen_ai.usage.input_tokens") == 1000);
    CHECK(json_int(end, "gen_ai.usage.output_tokens") == 500);
    CHECK(json_int(end, "gen_ai.usage.cache_read.input_tokens") == 400);
    /* 600 × 2.5 + 400 × 1.25 + 500 × 10 dollars per million tokens. */
    CHECK_STR_CONTAINS(end, "\"libmodels.cost_usd\":0.007");
    CHECK_STR_CONTAINS(answered, "\"libmodels.cost_usd\":0.007");
    CHECK(strstr(end, "error.type") == NULL);
    /* The answer says the same in x_libmodels. */
    CHECK_STR_CONTAINS(response, "\"x_libmodels\":");
    CHECK_STR_CONTAINS(response, "\"cost_usd\":0.007");
    CHECK(json_int(strstr(response ? response : "", "x_libmodels"), "attempts") == 3);
    models_free(response);
    clear();

    /* A call that fails: call.end names the error. */
    ts_script("m3", "[{\"status\":400}]");
    response = NULL;
    CHECK(models_chat(r, "{\"model\":\"local/m3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL)
          == MODELS_ERR_API);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start attempt.end call.end");
    CHECK_STR_CONTAINS(event("call.end", 0), "\"libmodels.status\":\"error\"");
    CHECK_STR_CONTAINS(event("call.end", 0), "\"error.type\":\"bad_request\"");
    CHECK(json_int(event("call.end", 0), "http.response.status_code") == 400);
    CHECK(strstr(event("call.end", 0), "libmodels.metadata") == NULL);
    clear();

    /* A stream: first_token when it opens, attempt.end and call.end with its usage when it ends. */
    ts_script("m2", "[{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open_ex(r, "{\"model\":\"local/m2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                                "\"stream\":true}", "{\"metadata\":{}}", NULL, &err);
    CHECK(s != NULL);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start first_token");
    CHECK(n_events == 3);
    CHECK_STR_CONTAINS(event("first_token", 0), "\"libmodels.stream\":true");
    CHECK_STR_CONTAINS(event("first_token", 0), "\"libmodels.metadata\":{}");
    CHECK(json_int(event("first_token", 0), "libmodels.time_to_first_token_ms") >= 0);
    char *collected = NULL;
    CHECK(s && models_stream_collect(s, &collected, &err) == MODELS_OK);
    models_free(collected);
    models_stream_close(s);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start first_token attempt.end call.end");
    CHECK(json_int(event("call.end", 0), "gen_ai.usage.input_tokens") == 7);
    CHECK(json_int(event("call.end", 0), "gen_ai.usage.output_tokens") == 3);
    CHECK(json_int(event("call.end", 0), "libmodels.time_to_first_token_ms") >= 0);
    CHECK(json_int(event("attempt.end", 0), "libmodels.time_to_first_token_ms") >= 0);
    /* 7 × 2.5 + 3 × 10 dollars per million tokens. */
    CHECK_STR_CONTAINS(event("call.end", 0), "\"libmodels.cost_usd\":4.75e-05");
    clear();

    /* The metrics count the same cost and tokens: 0.007 + 0.0000475 dollars. */
    char *text = models_router_metrics(r);
    CHECK_STR_CONTAINS(text, "libmodels_cost_usd_total{model=\"local/m2\"} 0.0070475");
    CHECK_STR_CONTAINS(text, "libmodels_cached_prompt_tokens_total{model=\"local/m2\"} 400");
    CHECK_STR_CONTAINS(text, "libmodels_time_to_first_token_seconds_count{model=\"local/m2\"} 1");
    if (check_failures || getenv("SHOW_EVENTS")) fprintf(stderr, "%s", text ? text : "(null)");
    models_free(text);

    /* Pulled chunk by chunk: the end comes after the last chunk, with MODELS_DONE,
     * also when the last chunks and the end of the stream arrive in one read (the
     * server pauses after two events, then sends the rest at once). */
    ts_script("m2", "[{\"stall_after\":2,\"stall_ms\":30}]");
    s = models_stream_open_ex(r, "{\"model\":\"local/m2\",\"messages\":[{\"role\":\"user\",\"content\":\"one two three four\"}],"
                                 "\"stream\":true}", NULL, NULL, &err);
    CHECK(s != NULL);
    const char *chunk = NULL;
    size_t len = 0;
    int chunks = 0;
    while (s && models_stream_next(s, &chunk, &len, &err) == MODELS_OK) {
        chunks++;
        CHECK(strstr(kinds(), "call.end") == NULL);
    }
    CHECK(chunks > 1);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start first_token attempt.end call.end");
    models_stream_close(s);
    CHECK(n_events == 5);
    clear();

    /* Removed: nothing more is reported. */
    CHECK(models_router_set_event_handler(r, NULL, NULL) == MODELS_OK);
    response = NULL;
    CHECK(models_chat(r, "{\"model\":\"local/m2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL)
          == MODELS_OK);
    CHECK(response && strstr(response, "x_libmodels") == NULL);
    models_free(response);
    CHECK(n_events == 0);

    /* A handler that removes itself sees one event, and the call goes on. */
    CHECK(models_router_set_event_handler(r, remove_self, r) == MODELS_OK);
    response = NULL;
    CHECK(models_chat(r, "{\"model\":\"local/m2\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL)
          == MODELS_OK);
    models_free(response);
    CHECK(n_events == 1);
    CHECK_STR_CONTAINS(kinds(), "call.start");
    clear();

    models_router_free(r);

    /* Waits: a provider's rate limit; a cooldown waited out, then ended by an answer. */
    r = router_from("\"primary\":\"local/m1\",\"max_retries\":0,\"cooldown\":{\"base_ms\":30},\"cooldown_wait_ms\":1000");
    CHECK(models_router_set_event_handler(r, record, NULL) == MODELS_OK);
    ts_script("m1", "[{\"status\":503}]");
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(kinds(), "call.start attempt.start attempt.end cooldown.start call.end");
    clear();
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    /* The answer clears the cooldown before its usage is read for attempt.end. */
    CHECK_STR_CONTAINS(kinds(), "call.start cooldown.wait attempt.start cooldown.end attempt.end call.end");
    CHECK(json_int(event("cooldown.wait", 0), "libmodels.wait_ms") > 0);
    CHECK(json_int(event("cooldown.wait", 0), "libmodels.wait_ms") <= 30);
    CHECK_STR_CONTAINS(event("cooldown.end", 0), "\"gen_ai.request.model\":\"local/m1\"");
    clear();
    models_router_free(r);

    r = router_from("\"primary\":\"local/m1\",\"rate_limits\":{\"local\":{\"requests_per_second\":5,\"burst\":1}}");
    CHECK(models_router_set_event_handler(r, record, NULL) == MODELS_OK);
    /* Back to back with a burst of 1: the second call waits for the bucket to refill
     * (up to 200 ms; unless the machine took that long between the two calls). */
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    clear();
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    if (n_events > 0 && strstr(kinds(), "rate_limit.wait")) {
        CHECK_STR_CONTAINS(kinds(), "call.start attempt.start rate_limit.wait attempt.end call.end");
        CHECK_STR_CONTAINS(event("rate_limit.wait", 0), "\"libmodels.limit\":\"provider\"");
        CHECK_STR_CONTAINS(event("rate_limit.wait", 0), "\"gen_ai.provider.name\":\"local\"");
        CHECK(json_int(event("rate_limit.wait", 0), "libmodels.wait_ms") > 0);
        CHECK(json_int(event("rate_limit.wait", 0), "libmodels.wait_ms") <= 200);
    } else {
        fprintf(stderr, "test_events: no rate-limit wait between two calls (a slow machine?); not checked\n");
    }
    clear();
    models_router_free(r);
    return check_report("test_events");
}
