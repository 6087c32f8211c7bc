/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenAI-compatible provider through the C API: where requests go, how
 * they authenticate, that the request JSON reaches the server as written
 * (only "model" and "stream" change), streaming usage, and how error answers
 * become models_error objects a caller and the router can act on. */
#define _GNU_SOURCE
#include "test_util.h"

static models_code chat(models_router *r, const char *request, models_error **err) {
    char *response = NULL;
    models_code rc = models_chat(r, request, &response, err);
    models_free(response);
    return rc;
}

/* Every request the server recorded since the last ts_reset(), as compact
 * JSON (header names in lower case); free() it. */
static char *last_requests(void) { return ts_get("requests"); }

static void test_post_to_chat_completions_with_api_key(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    /* The answer names the model that answered, by its full name. */
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m1\"");
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"method\":\"POST\"");
    CHECK_STR_CONTAINS(requests, "\"path\":\"/v1/chat/completions\"");
    CHECK_STR_CONTAINS(requests, "\"authorization\":\"Bearer sk-test-local-0123456789\"");
    CHECK_STR_CONTAINS(requests, "\"content-type\":\"application/json\"");
    free(requests);
    models_router_free(r);
}

static void test_api_key_env(void) {
    char config[1024];
    setenv("MODELS_TEST_KEY_VAR", "sk-from-env-0123456789", 1);
    snprintf(config, sizeof config,
             "{\"primary\":\"local/m1\",\"max_retries\":0,\"providers\":{\"local\":"
             "{\"base_url\":\"%s/v1\",\"api_key_env\":\"MODELS_TEST_KEY_VAR\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    unsetenv("MODELS_TEST_KEY_VAR"); /* read when the router is built */
    ts_reset();
    CHECK(chat(r, HELLO, NULL) == MODELS_OK);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"authorization\":\"Bearer sk-from-env-0123456789\"");
    free(requests);
    models_router_free(r);
}

/* Provider "openai" with no key in the config takes OPENAI_API_KEY. */
static void test_openai_api_key_variable(void) {
    char config[1024];
    setenv("OPENAI_API_KEY", "sk-openai-env-0123456789", 1);
    snprintf(config, sizeof config,
             "{\"primary\":\"openai/gpt-test\",\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"%s/v1\"}}}",
             ts_url());
    models_router *r = router_or_exit(config);
    unsetenv("OPENAI_API_KEY");
    ts_reset();
    CHECK(chat(r, HELLO, NULL) == MODELS_OK);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"authorization\":\"Bearer sk-openai-env-0123456789\"");
    CHECK_STR_CONTAINS(requests, "\"model\":\"gpt-test\"");
    free(requests);
    models_router_free(r);
}

static void test_no_key_no_authorization(void) {
    char config[1024];
    unsetenv("LOCAL_API_KEY");
    snprintf(config, sizeof config,
             "{\"primary\":\"local/m1\",\"max_retries\":0,\"providers\":{\"local\":{\"base_url\":\"%s/v1\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    CHECK(chat(r, HELLO, NULL) == MODELS_OK);
    char *requests = last_requests();
    CHECK(strstr(requests, "\"authorization\"") == NULL);
    CHECK(ts_stat("requests") == 1);
    free(requests);
    models_router_free(r);
}

/* Fields the library does not know reach the provider unchanged; "model"
 * loses its provider prefix; "stream" is dropped from a plain request. */
static void test_request_passes_through(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    const char *request =
        "{\"model\":\"local/org/m1\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"h\\u00e9llo\"}]}],"
        "\"temperature\":0.25,\"seed\":42,\"response_format\":{\"type\":\"json_object\"},"
        "\"x_vendor\":{\"flags\":[1,2,3],\"nested\":{\"on\":true,\"none\":null}},"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, request, &response, &err);
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  %s\n", models_error_message(err));
    models_error_free(err);
    CHECK_STR_CONTAINS(response, "\"object\":\"chat.completion\"");
    CHECK_STR_CONTAINS(response, "\"model\":\"local/org/m1\"");
    models_free(response);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"model\":\"org/m1\"");
    CHECK(strstr(requests, "local/org/m1") == NULL);
    CHECK_STR_CONTAINS(requests, "\"temperature\":0.25");
    CHECK_STR_CONTAINS(requests, "\"seed\":42");
    CHECK_STR_CONTAINS(requests, "\"response_format\":{\"type\":\"json_object\"}");
    CHECK_STR_CONTAINS(requests, "\"x_vendor\":{\"flags\":[1,2,3],\"nested\":{\"on\":true,\"none\":null}}");
    CHECK_STR_CONTAINS(requests, "{\"role\":\"system\",\"content\":\"be brief\"}");
    CHECK_STR_CONTAINS(requests, "\"content\":[{\"type\":\"text\",\"text\":\"h\xc3\xa9llo\"}]");
    CHECK(strstr(requests, "\"stream\"") == NULL);
    CHECK(strstr(requests, "\"stream_options\"") == NULL);
    free(requests);
    models_router_free(r);
}

/* The caller's bytes reach the provider as written: spacing, escapes and the
 * spelling of numbers kept, "model" added, a plain request's "stream" taken
 * out with its comma. (The server's record is JSON: body_text appears escaped.) */
static void test_request_bytes_pass_through(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    const char *request = "{ \"stream\" : false,\n  \"messages\" : [ {\"role\":\"user\",\"content\":\"h\\u00e9\"} ] ,"
                          " \"temperature\" : 2E-1 }";
    CHECK(models_chat(r, request, NULL, NULL) == MODELS_ERR_INVALID_ARGUMENT); /* NULL response_json */
    char *response = NULL;
    CHECK(models_chat(r, request, &response, NULL) == MODELS_OK);
    models_free(response);
    char *requests = last_requests();
    /* Sent: "{ " newline "  \"messages\" : [ ... ] , \"temperature\" : 2E-1 ,\"model\":\"m1\"}": the
     * first member went with the comma after it; the line break after that comma stays. */
    CHECK_STR_CONTAINS(requests, "\"body_text\":\"{ \\n  \\\"messages\\\" : [ {\\\"role\\\":\\\"user\\\",\\\"content\\\":"
                                 "\\\"h\\\\u00e9\\\"} ] , \\\"temperature\\\" : 2E-1 ,\\\"model\\\":\\\"m1\\\"}\"");
    free(requests);
    models_router_free(r);
}

/* A stream asks for usage and reports the server's figures. */
static void test_stream_asks_for_and_reports_usage(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"one two three\",\"usage\":{\"prompt_tokens\":17,\"completion_tokens\":23}}]");
    models_stream *s = models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5}", NULL);
    CHECK(s != NULL);
    CHECK(s && strcmp(models_stream_model(s), "local/m1") == 0);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    CHECK(text && strcmp(text, "one two three") == 0);
    models_free(text);
    int64_t in = -1, out = -1;
    models_stream_usage(s, &in, &out);
    CHECK(in == 17);
    CHECK(out == 23);
    models_stream_usage(s, NULL, NULL);
    models_stream_close(s);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"stream\":true");
    CHECK_STR_CONTAINS(requests, "\"stream_options\":{\"include_usage\":true}");
    CHECK_STR_CONTAINS(requests, "\"temperature\":0.5");
    CHECK_STR_CONTAINS(requests, "\"accept\":\"text/event-stream\"");
    free(requests);
    models_router_free(r);
}

/* The caller's own stream_options survive; include_usage is added. */
static void test_stream_keeps_caller_stream_options(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                          "\"stream_options\":{\"x_extra\":\"kept\",\"include_usage\":false}}";
    models_stream *s = models_stream_open(r, request, NULL);
    char *text = NULL;
    CHECK(s && models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    int64_t in = 0;
    models_stream_usage(s, &in, NULL);
    CHECK(in > 0);
    models_stream_close(s);
    char *requests = last_requests();
    CHECK_STR_CONTAINS(requests, "\"x_extra\":\"kept\"");
    CHECK_STR_CONTAINS(requests, "\"include_usage\":true");
    free(requests);
    models_router_free(r);
}

/* ---- error answers ------------------------------------------------------- */

static models_error *failed_chat(models_router *r, const char *steps, models_code expected) {
    ts_reset();
    ts_script("m1", steps);
    models_error *err = NULL;
    char *response = (char *)"not touched";
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, expected);
    CHECK(response == NULL);
    return err;
}

static void test_error_message_from_error_object(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_error *err = failed_chat(
        r, "[{\"status\":400,\"body\":{\"error\":{\"message\":\"max_tokens is too large\",\"type\":\"invalid_request_error\"}}}]",
        MODELS_ERR_API);
    CHECK(models_error_status(err) == 400);
    CHECK_STR_CONTAINS(models_error_message(err), "max_tokens is too large");
    CHECK(models_error_retry_after_ms(err) == 0);
    models_error_free(err);
    models_router_free(r);
}

static void test_error_message_from_plain_body(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_error *err = failed_chat(r, "[{\"status\":502,\"body\":\"upstream exploded\\n<html>gateway</html>\"}]",
                                    MODELS_ERR_API);
    CHECK(models_error_status(err) == 502);
    CHECK_STR_CONTAINS(models_error_message(err), "upstream exploded");
    models_error_free(err);
    models_router_free(r);
}

/* A provider that quotes the key back: the key never reaches the message. */
static void test_error_message_hides_key(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_error *err = failed_chat(
        r, "[{\"status\":401,\"body\":{\"error\":{\"message\":\"Incorrect API key provided: sk-test-local-0123456789\"}}}]",
        MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    CHECK_STR_CONTAINS(models_error_message(err), "Incorrect API key provided");
    CHECK(strstr(models_error_message(err), "0123456789") == NULL);
    models_error_free(err);
    models_router_free(r);
}

static void test_retry_after_seconds_and_date(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_error *err = failed_chat(r, "[{\"status\":429,\"headers\":{\"Retry-After\":\"7\"}}]", MODELS_ERR_API);
    CHECK(models_error_status(err) == 429);
    CHECK(models_error_retry_after_ms(err) == 7000);
    CHECK(models_error_is_transient(err) == 1);
    models_error_free(err);

    char date[64], steps[256];
    time_t when = time(NULL) + 30;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(steps, sizeof steps, "[{\"status\":503,\"headers\":{\"Retry-After\":\"%s\"}}]", date);
    err = failed_chat(r, steps, MODELS_ERR_API);
    CHECK(models_error_status(err) == 503);
    int64_t ms = models_error_retry_after_ms(err);
    CHECK(ms >= 28000 && ms <= 30000);
    if (ms < 28000 || ms > 30000) fprintf(stderr, "  Retry-After %s gave %lld ms\n", date, (long long)ms);
    models_error_free(err);
    models_router_free(r);
}

/* Which statuses may pass on a second try. max_retries 0: one request each. */
static void test_transient_statuses(void) {
    models_router *r = local_router("\"max_retries\":0");
    const int transient[] = {408, 429, 500, 502, 503, 504, 529};
    const int permanent[] = {400, 401, 403, 404, 422};
    char steps[64];
    for (size_t i = 0; i < sizeof transient / sizeof *transient; i++) {
        snprintf(steps, sizeof steps, "[{\"status\":%d}]", transient[i]);
        models_error *err = failed_chat(r, steps, MODELS_ERR_API);
        CHECK(models_error_status(err) == transient[i]);
        CHECK(models_error_is_transient(err) == 1);
        CHECK_STR_CONTAINS(models_error_message(err), "scripted error");
        models_error_free(err);
        CHECK(ts_stat("requests") == 1);
    }
    for (size_t i = 0; i < sizeof permanent / sizeof *permanent; i++) {
        snprintf(steps, sizeof steps, "[{\"status\":%d}]", permanent[i]);
        models_error *err = failed_chat(r, steps, MODELS_ERR_API);
        CHECK(models_error_status(err) == permanent[i]);
        CHECK(models_error_is_transient(err) == 0);
        models_error_free(err);
    }
    models_router_free(r);
}

/* A 200 whose body is not a chat completion is a protocol error, not a success. */
static void test_malformed_answers(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_error *err = failed_chat(r, "[{\"body\":\"{not json\"}]", MODELS_ERR_PROTOCOL);
    models_error_free(err);
    err = failed_chat(r, "[{\"body\":[1,2]}]", MODELS_ERR_PROTOCOL);
    models_error_free(err);
    err = failed_chat(r, "[{\"body\":{\"id\":\"x\"}}]", MODELS_ERR_PROTOCOL);
    models_error_free(err);
    models_router_free(r);
}

/* A stream request answered with a non-2xx status fails at open, with the
 * status, so the router can still retry or fall back. */
static void test_stream_open_error_status(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"status\":429,\"headers\":{\"Retry-After\":\"3\"}}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO, &err);
    CHECK(s == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 429);
    CHECK(models_error_retry_after_ms(err) == 3000);
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_post_to_chat_completions_with_api_key();
    test_api_key_env();
    test_openai_api_key_variable();
    test_no_key_no_authorization();
    test_request_passes_through();
    test_request_bytes_pass_through();
    test_stream_asks_for_and_reports_usage();
    test_stream_keeps_caller_stream_options();
    test_error_message_from_error_object();
    test_error_message_from_plain_body();
    test_error_message_hides_key();
    test_retry_after_seconds_and_date();
    test_transient_statuses();
    test_malformed_answers();
    test_stream_open_error_status();
    return check_report("test_openai");
}
