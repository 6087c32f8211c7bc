/* SPDX-License-Identifier: Apache-2.0 */
/* Streams fall back until their first word: a stream that fails after the
 * provider accepted it but before any text, tool call or reasoning reached the
 * caller is retried and falls back like a failed request, and the caller sees
 * one clean stream. After the first word, the error is the caller's. */
#define _GNU_SOURCE
#include "test_util.h"

/* Pulls a whole stream; returns its last code (MODELS_DONE when it ended well). */
static models_code pull(models_router *r, struct stream_text *s, char *model, size_t model_size, models_error **err) {
    memset(s, 0, sizeof *s);
    models_stream *st = models_stream_open(r, HELLO_STREAM, err);
    if (!st) return models_error_code(*err);
    snprintf(model, model_size, "%s", models_stream_model(st));
    const char *chunk;
    models_code rc;
    while ((rc = models_stream_next(st, &chunk, NULL, err)) == MODELS_OK) stream_text_add(s, chunk);
    models_stream_close(st);
    return rc;
}

/* Each way a stream can fail before its first word, answered by the fallback;
 * the caller sees the fallback's stream alone, in pull and push mode. */
static void test_failures_before_the_first_word_fall_back(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                                   "\"stream_idle_timeout_ms\":300");
    const char *failures[] = {
        "[{\"drop_after\":1}]",                                        /* reset after the role chunk */
        "[{\"sse\":[\"data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"role\\\":\\\"assistant\\\"}}]}\\n\\n\"]}]", /* truncated */
        "[{\"error_after\":1}]",                                       /* an error event */
        "[{\"sse\":[\"data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"\\\"}}]}\\n\\n\",\"data: {oops\\n\\n\"]}]", /* malformed */
        "[{\"stall_after\":1,\"stall_ms\":3000}]",                     /* silent past the idle limit */
    };
    for (size_t i = 0; i < sizeof failures / sizeof *failures; i++) {
        ts_reset();
        ts_script("m1", failures[i]);
        struct stream_text s;
        char model[64] = "";
        models_error *err = NULL;
        models_code rc = pull(r, &s, model, sizeof model, &err);
        CHECK(rc == MODELS_DONE);
        if (rc != MODELS_DONE) fprintf(stderr, "  failure %zu: %s\n", i, models_error_message(err));
        CHECK(strcmp(model, "local/m2") == 0);
        CHECK(strcmp(s.text, "echo: hi") == 0);
        CHECK(s.role_chunks == 1);
        CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
        models_error_free(err);

        ts_reset();
        ts_script("m1", failures[i]);
        struct stream_text pushed;
        memset(&pushed, 0, sizeof pushed);
        err = NULL;
        rc = models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &pushed, &err);
        CHECK(rc == MODELS_OK);
        CHECK(strcmp(pushed.text, "echo: hi") == 0);
        CHECK(pushed.role_chunks == 1);
        models_error_free(err);
    }
    models_router_free(r);
}

/* A transient failure before the first word is retried on the same model. */
static void test_retried_on_the_same_model(void) {
    models_router *r = local_router("\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":5");
    ts_reset();
    ts_script("m1", "[{\"drop_after\":1},{\"content\":\"second try\"}]");
    struct stream_text s;
    char model[64];
    models_error *err = NULL;
    CHECK(pull(r, &s, model, sizeof model, &err) == MODELS_DONE);
    CHECK(strcmp(s.text, "second try") == 0);
    CHECK(s.role_chunks == 1);
    CHECK(requests_for("m1") == 2);
    models_error_free(err);
    models_router_free(r);
}

/* After the first word, the stream is the provider's: the error reaches the
 * caller after what was delivered, and the fallback is not asked. */
static void test_after_the_first_word_the_error_is_the_callers(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"one two three\",\"drop_after\":2}]");
    struct stream_text s;
    char model[64];
    models_error *err = NULL;
    models_code rc = pull(r, &s, model, sizeof model, &err);
    CHECK(rc == MODELS_ERR_TRANSPORT || rc == MODELS_ERR_PROTOCOL);
    CHECK(strcmp(model, "local/m1") == 0);
    CHECK(strcmp(s.text, "one ") == 0); /* the first piece, then the reset */
    if (strcmp(s.text, "one ") != 0) fprintf(stderr, "  text: [%s] rc %s\n", s.text, models_code_name(rc));
    CHECK(requests_for("m2") == 0);
    models_error_free(err);
    models_router_free(r);
}

/* Anthropic: an overloaded error event before the first word is retried. */
static void test_anthropic_error_before_the_first_word(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-test\",\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":5,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key-4242\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    ts_script("claude-test", "[{\"error_after\":1},{\"content\":\"fine now\"}]");
    struct stream_text s;
    char model[64];
    models_error *err = NULL;
    models_code rc = pull(r, &s, model, sizeof model, &err);
    CHECK(rc == MODELS_DONE);
    if (rc != MODELS_DONE) fprintf(stderr, "  anthropic: %s\n", models_error_message(err));
    CHECK(strcmp(s.text, "fine now") == 0);
    CHECK(requests_for("claude-test") == 2);
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    test_failures_before_the_first_word_fall_back();
    test_retried_on_the_same_model();
    test_after_the_first_word_the_error_is_the_callers();
    test_anthropic_error_before_the_first_word();
    return check_report("test_first_word");
}
