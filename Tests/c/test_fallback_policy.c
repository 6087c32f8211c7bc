/* SPDX-License-Identifier: Apache-2.0 */
/* Kinds of error and the fallback policy through the C API: every error
 * names its kind (models_error_kind); fallback_on decides which kinds move on
 * to the next model; context_window_fallbacks and content_policy_fallbacks
 * replace the ordinary fallbacks after an error of their kind. */
#define _GNU_SOURCE
#include "test_util.h"

#define CONTEXT_BODY "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens.\"," \
    "\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}"
#define FILTER_BODY "{\"error\":{\"message\":\"The response was filtered due to the prompt triggering Azure OpenAI's " \
    "content management policy.\",\"code\":\"content_filter\",\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\"}}}"

/* The error of one chat on `r`; the caller frees it. */
static models_error *chat_error(models_router *r) {
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK(rc != MODELS_OK && response == NULL);
    models_free(response);
    return err;
}

static void test_kinds(void) {
    CHECK(models_error_kind(NULL) == NULL);
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":300");
    struct { const char *step; const char *kind; } cases[] = {
        {"{\"status\":429}", "rate_limit"},
        {"{\"status\":401}", "auth"},
        {"{\"status\":403}", "auth"},
        {"{\"status\":404}", "not_found"},
        {"{\"status\":400}", "bad_request"},
        {"{\"status\":422}", "bad_request"},
        {"{\"status\":500}", "server"},
        {"{\"status\":529}", "server"},
        {"{\"status\":400,\"body\":" CONTEXT_BODY "}", "context_window"},
        {"{\"status\":400,\"body\":" FILTER_BODY "}", "content_policy"},
        {"{\"hang\":true}", "timeout"},
        {"{\"body\":\"{not json\"}", "protocol"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_reset();
        char steps[1024];
        snprintf(steps, sizeof steps, "[%s]", cases[i].step);
        ts_script("m1", steps);
        models_error *err = chat_error(r);
        const char *kind = models_error_kind(err);
        CHECK(kind && strcmp(kind, cases[i].kind) == 0);
        if (!kind || strcmp(kind, cases[i].kind) != 0) fprintf(stderr, "  %s: got %s\n", cases[i].step, kind ? kind : "NULL");
        models_error_free(err);
    }
    /* The router's own failures have kinds too. */
    models_error *err = NULL;
    CHECK(models_chat(r, "{not json", NULL, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(err && strcmp(models_error_kind(err), "invalid_argument") == 0);
    models_error_free(err);
    models_router_free(r);

    /* Anthropic says "prompt is too long" in words only. */
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-test\",\"max_retries\":0,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key-4242\"}}}", ts_url());
    r = router_or_exit(config);
    ts_reset();
    ts_script("claude-test", "[{\"status\":400,\"body\":{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                             "\"message\":\"prompt is too long: 210000 tokens > 200000 maximum\"}}}]");
    err = chat_error(r);
    CHECK(err && strcmp(models_error_kind(err), "context_window") == 0);
    CHECK(err && models_error_status(err) == 400);
    models_error_free(err);
    models_router_free(r);
}

/* Without fallback_on every kind falls back, as before; a 401 does not when
 * fallback_on leaves "auth" out, and the fallback is never asked. */
static void test_fallback_on(void) {
    models_router *r = router_from("\"primary\":\"local/a\",\"fallbacks\":[\"local/b\"],\"max_retries\":0");
    ts_reset();
    ts_script("a", "[{\"status\":401}]");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/b\""));
    models_free(response);
    models_error_free(err);
    models_router_free(r);

    r = router_from("\"primary\":\"local/a\",\"fallbacks\":[\"local/b\"],\"max_retries\":0,"
                    "\"fallback_on\":[\"rate_limit\",\"server\",\"timeout\",\"transport\"]");
    ts_reset();
    ts_script("a", "[{\"status\":401}]");
    err = chat_error(r);
    CHECK(err && models_error_code(err) == MODELS_ERR_API && models_error_status(err) == 401);
    CHECK(err && strcmp(models_error_kind(err), "auth") == 0);
    CHECK(requests_for("b") == 0);
    models_error_free(err);

    /* A kind it lists still falls back. */
    ts_reset();
    ts_script("a", "[{\"status\":503}]");
    response = NULL;
    err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/b\""));
    models_free(response);
    models_error_free(err);
    models_router_free(r);
}

/* A context-window error goes to context_window_fallbacks, not to the
 * ordinary fallbacks; a content-policy refusal to content_policy_fallbacks. */
static void test_per_kind_fallbacks(void) {
    models_router *r = router_from("\"primary\":\"local/small\",\"fallbacks\":[\"local/ordinary\"],\"max_retries\":0,"
                                   "\"context_window_fallbacks\":[\"local/long\"],"
                                   "\"content_policy_fallbacks\":[\"local/lenient\"]");
    ts_reset();
    ts_script("small", "[{\"status\":400,\"body\":" CONTEXT_BODY "}]");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/long\""));
    CHECK(requests_for("ordinary") == 0);
    models_free(response);
    models_error_free(err);

    ts_reset();
    ts_script("small", "[{\"status\":400,\"body\":" FILTER_BODY "}]");
    response = NULL;
    err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/lenient\""));
    CHECK(requests_for("ordinary") == 0 && requests_for("long") == 0);
    models_free(response);
    models_error_free(err);

    /* Any other error takes the ordinary fallbacks. */
    ts_reset();
    ts_script("small", "[{\"status\":500}]");
    response = NULL;
    err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/ordinary\""));
    models_free(response);
    models_error_free(err);

    /* When the long model is too short as well, the call fails naming both. */
    ts_reset();
    ts_script("small", "[{\"status\":400,\"body\":" CONTEXT_BODY "}]");
    ts_script("long", "[{\"status\":400,\"body\":" CONTEXT_BODY "}]");
    err = chat_error(r);
    CHECK(err && models_error_code(err) == MODELS_ERR_ALL_FAILED);
    CHECK(err && strstr(models_error_message(err), "local/small") && strstr(models_error_message(err), "local/long"));
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    test_kinds();
    test_fallback_on();
    test_per_kind_fallbacks();
    return check_report("test_fallback_policy");
}
