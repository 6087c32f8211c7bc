/* SPDX-License-Identifier: Apache-2.0 */
/* Per-call options through models_chat_ex(), models_chat_stream_ex() and
 * models_stream_open_ex(): validated like the config (unknown keys suggest
 * the key meant, wrong types and ranges name the key, nothing is sent), and
 * honoured (timeout, retries, fallbacks, extra headers and query parameters),
 * never copied into the provider's request body. */
#define _GNU_SOURCE
#include "test_util.h"

/* Bad options: each is MODELS_ERR_INVALID_ARGUMENT whose message holds `words`. */
static const struct {
    const char *options;
    const char *words;
} BAD_OPTIONS[] = {
    {"{\"timeout\":5}", "unknown key \"timeout\""},
    {"{\"max_retry\":1}", "did you mean \"max_retries\"?"},
    {"{\"timeout-ms\":1}", "did you mean \"timeout_ms\"?"},
    {"{\"timeout_ms\":\"5\"}", "\"timeout_ms\" must be a whole number, not a string"},
    {"{\"timeout_ms\":0}", "\"timeout_ms\" must be between 1 and 86400000"},
    {"{\"max_retries\":101}", "\"max_retries\" must be between 0 and 100"},
    {"{\"max_retries\":-1}", "\"max_retries\""},
    {"{\"fallbacks\":\"local/m2\"}", "\"fallbacks\" must be an array of strings"},
    {"{\"fallbacks\":[\"local/m2\",7]}", "\"fallbacks[1]\" must be a string"},
    {"{\"fallbacks\":[\"\"]}", "\"fallbacks[0]\""},
    {"{\"extra_headers\":[\"X-A: 1\"]}", "\"extra_headers\" must be an object"},
    {"{\"extra_headers\":{\"X-A\":1}}", "\"extra_headers.X-A\" must be a string"},
    {"{\"extra_headers\":{\"X-A\":\"v\\r\\nX-Injected: 1\"}}", "\"extra_headers.X-A\" is not a valid HTTP header"},
    {"{\"extra_headers\":{\"X A\":\"v\"}}", "\"extra_headers.X\\x20A\" is not a valid HTTP header"},
    {"{\"extra_headers\":{\"content-length\":\"0\"}}", "cannot be replaced"},
    {"{\"extra_headers\":{\"Host\":\"evil.example\"}}", "cannot be replaced"},
    {"{\"extra_query\":{\"a\":[1]}}", "\"extra_query.a\" must be a string, number or boolean"},
    {"{\"extra_query\":{\"\":\"1\"}}", "empty parameter name"},
    {"{\"metadata\":[1]}", "\"metadata\" must be an object"},
    {"{\"stream_idle_timeout_ms\":true}", "\"stream_idle_timeout_ms\" must be a whole number"},
    {"[]", "the options must be an object"},
    {"{\"timeout_ms\":", "options: not valid JSON"},
    {"{\"metadata\":{\"a\":\"\xff\"}}", "options: not valid JSON"},
};
#define N_BAD (sizeof BAD_OPTIONS / sizeof BAD_OPTIONS[0])

static int never_called(void *user, const char *chunk, size_t len) {
    (void)chunk, (void)len;
    ++*(int *)user;
    return 0;
}

static void test_bad_options_are_refused_before_sending(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    int chunks = 0;
    for (size_t i = 0; i < N_BAD; i++) {
        models_error *err = NULL;
        char *response = (char *)"untouched";
        models_code rc = models_chat_ex(r, HELLO, BAD_OPTIONS[i].options, NULL, &response, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
        CHECK(response == NULL);
        CHECK_STR_CONTAINS(models_error_message(err), BAD_OPTIONS[i].words);
        CHECK_STR_CONTAINS(models_error_message(err), "models_chat_ex: options");
        CHECK(strstr(models_error_message(err), "Injected") == NULL); /* values are never echoed */
        models_error_free(err);

        err = NULL;
        rc = models_chat_stream_ex(r, HELLO, BAD_OPTIONS[i].options, NULL, never_called, NULL, &chunks, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
        models_error_free(err);

        err = NULL;
        CHECK(models_stream_open_ex(r, HELLO, BAD_OPTIONS[i].options, NULL, &err) == NULL);
        CHECK(err != NULL && models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
        models_error_free(err);
    }
    CHECK(chunks == 0);
    CHECK(ts_stat("requests") == 0);
    models_router_free(r);
}

static void test_huge_and_deep_options_are_refused(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    size_t size = (1u << 20) + 64;
    char *huge = malloc(size + 1);
    CHECK(huge != NULL);
    int n = snprintf(huge, size, "{\"metadata\":{\"a\":\"");
    memset(huge + n, 'x', size - (size_t)n);
    huge[size] = '\0';
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_chat_ex(r, HELLO, huge, NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "larger than");
    models_error_free(err);

    /* Metadata nested 100,000 levels deep: refused without recursing. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 32);
    CHECK(deep != NULL);
    n = sprintf(deep, "{\"metadata\":");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    strcpy(deep + n, "}");
    err = NULL;
    rc = models_chat_ex(r, HELLO, deep, NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    free(huge);
    free(deep);
    CHECK(ts_stat("requests") == 0);
    models_router_free(r);
}

/* NULL options are the router's settings; "{}" too. */
static void test_null_and_empty_options(void) {
    models_router *r = local_router("\"max_retries\":2,\"retry_base_ms\":1,\"retry_max_ms\":5");
    const char *each[] = {NULL, "{}"};
    for (int i = 0; i < 2; i++) {
        ts_reset();
        script_n("m1", "{\"status\":503}", 2);
        char *response = NULL;
        models_error *err = NULL;
        CHECK(models_chat_ex(r, HELLO, each[i], NULL, &response, &err) == MODELS_OK);
        CHECK_STR_CONTAINS(response, "echo: hi");
        CHECK(ts_stat("requests") == 3);
        models_free(response);
    }
    models_router_free(r);
}

static void test_max_retries_and_timeout_are_honoured(void) {
    models_router *r = local_router("\"max_retries\":3,\"retry_base_ms\":1,\"retry_max_ms\":5,\"timeout_ms\":20000");
    ts_reset();
    script_n("m1", "{\"status\":503}", 5);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat_ex(r, HELLO, "{\"max_retries\":0}", NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(ts_stat("requests") == 1);
    models_error_free(err);

    ts_reset();
    script_n("m1", "{\"status\":503}", 5);
    err = NULL;
    rc = models_chat_ex(r, HELLO, "{\"max_retries\":1}", NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(ts_stat("requests") == 2);
    models_error_free(err);

    /* The server answers after 3 s; the router would wait 20 s, the call 150 ms. */
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":3000}]");
    err = NULL;
    int64_t start = now_ms();
    rc = models_chat_ex(r, HELLO, "{\"timeout_ms\":150,\"max_retries\":0}", NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
    CHECK(now_ms() - start < 2900);
    models_error_free(err);
    models_router_free(r);
}

/* Extra headers and query parameters reach the server on every attempt; option
 * names never appear in the body. */
static void test_extra_headers_and_query_are_sent(void) {
    models_router *r = local_router("\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":5");
    ts_reset();
    ts_script("m1", "[{\"status\":503}]");
    const char *options = "{\"extra_headers\":{\"X-Trace\":\"t-1\",\"authorization\":\"Bearer per-call\"},"
                          "\"extra_query\":{\"api-version\":\"2024-10-21\",\"q\":\"a b&c\",\"n\":2,\"b\":true},"
                          "\"metadata\":{\"tenant\":\"acme\"},\"timeout_ms\":5000}";
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat_ex(r, HELLO, options, NULL, &response, &err) == MODELS_OK);
    models_free(response);
    char *requests = ts_get("requests");
    CHECK(count_of(requests, "\"x-trace\":\"t-1\"") == 2);
    CHECK(count_of(requests, "\"authorization\":\"Bearer per-call\"") == 2);
    CHECK(count_of(requests, "sk-test-local") == 0); /* the configured key was replaced */
    CHECK(count_of(requests, "/chat/completions?api-version=2024-10-21&q=a%20b%26c&n=2&b=true\"") == 2);
    CHECK(strstr(requests, "tenant") == NULL);
    CHECK(strstr(requests, "timeout_ms") == NULL);
    CHECK(strstr(requests, "extra_") == NULL);
    free(requests);

    /* The same on a push and a pull stream. */
    ts_reset();
    struct stream_text st = {0};
    CHECK(models_chat_stream_ex(r, HELLO, options, NULL, stream_text_on_chunk, NULL, &st, &err) == MODELS_OK);
    CHECK(strcmp(st.text, "echo: hi") == 0);
    models_stream *s = models_stream_open_ex(r, HELLO, options, NULL, &err);
    CHECK(s != NULL);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(text && strcmp(text, "echo: hi") == 0);
    models_free(text);
    models_stream_close(s);
    requests = ts_get("requests");
    CHECK(count_of(requests, "\"x-trace\":\"t-1\"") == 2);
    CHECK(count_of(requests, "?api-version=2024-10-21&") == 2);
    free(requests);
    models_router_free(r);
}

/* A configured header is replaced by an extra header of the same name,
 * whatever its case; the Anthropic provider gets them too. */
static void test_extra_headers_reach_anthropic(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-x\",\"max_retries\":0,\"providers\":{\"anthropic\":"
             "{\"api_key\":\"sk-ant-configured-0123456789\",\"base_url\":\"%s/v1\",\"headers\":{\"X-Team\":\"a\"}}}}",
             ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat_ex(r, HELLO, "{\"extra_headers\":{\"x-team\":\"b\",\"anthropic-beta\":\"f-1\"},"
                                   "\"extra_query\":{\"beta\":\"true\"}}", NULL, &response, &err) == MODELS_OK);
    models_free(response);
    char *requests = ts_get("requests");
    CHECK_STR_CONTAINS(requests, "\"x-team\":\"b\"");
    CHECK(strstr(requests, "\"x-team\":\"a\"") == NULL);
    CHECK_STR_CONTAINS(requests, "\"anthropic-beta\":\"f-1\"");
    CHECK_STR_CONTAINS(requests, "\"path\":\"/v1/messages?beta=true\"");
    free(requests);
    models_router_free(r);
}

/* Fallbacks for one call replace the configured ones; [] turns them off. */
static void test_fallbacks_replaced_or_off(void) {
    models_router *r = local_router("\"fallbacks\":[\"local/m2\"],\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"status\":503},{\"status\":503},{\"status\":503}]");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat_ex(r, HELLO, "{\"fallbacks\":[\"local/m3\"]}", NULL, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m3\"");
    models_free(response);
    CHECK(requests_for("m2") == 0);

    models_code rc = models_chat_ex(r, HELLO, "{\"fallbacks\":[]}", NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(models_error_status(err) == 503);
    models_error_free(err);
    CHECK(requests_for("m2") == 0);

    /* A request that names a model gets the call's fallbacks after it. */
    const char *named = "{\"model\":\"local/m4\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    ts_script("m4", "[{\"status\":503}]");
    CHECK(models_chat_ex(r, named, "{\"fallbacks\":[\"local/m5\"]}", NULL, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m5\"");
    models_free(response);
    models_router_free(r);
}

/* A call's stream idle limit replaces the router's. */
static void test_stream_idle_timeout_option(void) {
    models_router *r = local_router("\"max_retries\":0,\"stream_idle_timeout_ms\":20000");
    ts_reset();
    ts_script("m1", "[{\"content\":\"one two three\",\"stall_after\":3,\"stall_ms\":3000}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open_ex(r, HELLO, "{\"stream_idle_timeout_ms\":150}", NULL, &err);
    CHECK(s != NULL);
    char *text = NULL;
    int64_t start = now_ms();
    models_code rc = models_stream_collect(s, &text, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TIMEOUT);
    CHECK(now_ms() - start < 2900);
    models_error_free(err);
    models_stream_close(s);
    models_router_free(r);
}

/* One options string and one call object serve several threads' calls. */
static void test_cancel_through_ex(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    models_call *call = models_call_new();
    models_call_cancel(call);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat_ex(r, HELLO, "{\"timeout_ms\":1000}", call, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    models_error_free(err);
    models_call_free(call);
    models_router_free(r);
}

int main(void) {
    test_bad_options_are_refused_before_sending();
    test_huge_and_deep_options_are_refused();
    test_null_and_empty_options();
    test_max_retries_and_timeout_are_honoured();
    test_extra_headers_and_query_are_sent();
    test_extra_headers_reach_anthropic();
    test_fallbacks_replaced_or_off();
    test_stream_idle_timeout_option();
    test_cancel_through_ex();
    return check_report("test_call_options");
}
