/* SPDX-License-Identifier: Apache-2.0 */
/* Fallbacks against the loopback server: the primary, then each fallback in
 * order; a hanging primary gives way within stream_connect_timeout_ms (streams)
 * or timeout_ms (chat); a stream is the primary's once it answered 200; a
 * request naming another model goes to it alone; unregistered providers are
 * skipped; ALL_FAILED lists every model and keeps the last status and
 * Retry-After; and the answer names the model that gave it. */
#define _GNU_SOURCE
#include "test_util.h"

/* Requests the server received for model id `id` since the last reset. */
static const char *two_models = "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,\"retry_max_ms\":10";

static void test_transient_primary_falls_back_after_retries(void) {
    models_router *r = router_from(two_models);
    ts_reset();
    script_n("m1", "{\"status\":503}", 3);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(err == NULL);
    CHECK(requests_for("m1") == 3);
    CHECK(requests_for("m2") == 1);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);

    /* The same for both kinds of stream. */
    ts_reset();
    script_n("m1", "{\"status\":502}", 3);
    models_stream *s = models_stream_open(r, HELLO, &err);
    CHECK(s != NULL && strcmp(models_stream_model(s), "local/m2") == 0);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(text != NULL && strcmp(text, "echo: hi") == 0);
    models_free(text);
    models_stream_close(s);
    CHECK(requests_for("m1") == 3 && requests_for("m2") == 1);

    ts_reset();
    s = models_stream_open(r, HELLO, &err);
    CHECK(s != NULL && strcmp(models_stream_model(s), "local/m1") == 0); /* the primary, when it answers */
    models_stream_close(s);
    models_router_free(r);
}

static void test_permanent_primary_falls_back_at_once(void) {
    models_router *r = router_from(two_models);
    ts_reset();
    script_n("m1", "{\"status\":401}", 3);
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK(requests_for("m1") == 1);
    CHECK(requests_for("m2") == 1);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);
    models_router_free(r);
}

static int count_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    (*(int *)user)++;
    return 0;
}

/* A hanging primary, with its retries, gives way to the fallback within the
 * stream connect timeout (300 ms), not after 3 x 300 ms. */
static void test_hanging_stream_primary(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":10,\"stream_connect_timeout_ms\":300");
    ts_reset();
    script_n("m1", "{\"hang\":true}", 3);
    models_error *err = NULL;
    int64_t start = now_ms();
    models_stream *s = models_stream_open(r, HELLO, &err);
    int64_t elapsed = now_ms() - start;
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "  stream_open: %s\n", models_error_message(err));
    CHECK(s && strcmp(models_stream_model(s), "local/m2") == 0);
    CHECK(elapsed >= 250);
    CHECK(elapsed < 800);
    CHECK(requests_for("m1") == 1); /* the connect timeout covers the retries too */
    models_stream_close(s);
    models_error_free(err);

    ts_reset();
    script_n("m1", "{\"hang\":true}", 3);
    int chunks = 0;
    start = now_ms();
    CHECK(models_chat_stream(r, HELLO, count_chunk, NULL, &chunks, NULL) == MODELS_OK);
    elapsed = now_ms() - start;
    CHECK(chunks > 0);
    CHECK(elapsed < 800);
    CHECK(requests_for("m1") == 1);
    CHECK(requests_for("m2") == 1);
    models_router_free(r);
}

/* For chat, timeout_ms bounds the primary (all its attempts). */
static void test_hanging_chat_primary(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":10,\"timeout_ms\":300");
    ts_reset();
    script_n("m1", "{\"hang\":true}", 3);
    char *response = NULL;
    models_error *err = NULL;
    int64_t start = now_ms();
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    int64_t elapsed = now_ms() - start;
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    CHECK(elapsed >= 250);
    CHECK(elapsed < 1000);
    CHECK(requests_for("m1") == 1);
    models_free(response);
    models_error_free(err);
    models_router_free(r);
}

/* Once the primary answered 200, the connect timeout is met: a first word
 * that comes later than it (within the idle limit) is still the primary's.
 * models_stream_open returns with that first word. */
static void test_stream_is_open_at_200(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"retry_base_ms\":1,"
                                   "\"retry_max_ms\":10,\"stream_connect_timeout_ms\":200");
    ts_reset();
    ts_script("m1", "[{\"stall_after\":0,\"stall_ms\":500}]");
    models_error *err = NULL;
    int64_t start = now_ms();
    models_stream *s = models_stream_open(r, HELLO, &err);
    CHECK(s != NULL);
    CHECK(now_ms() - start >= 450);
    CHECK(s && strcmp(models_stream_model(s), "local/m1") == 0);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(text != NULL && strcmp(text, "echo: hi") == 0);
    models_free(text);
    models_stream_close(s);
    CHECK(requests_for("m1") == 1);
    CHECK(requests_for("m2") == 0);
    models_router_free(r);
}

static void test_override_model(void) {
    models_router *r = router_from(two_models);
    /* Another model: that one alone, its own error, no fallback. */
    ts_reset();
    script_n("m3", "{\"status\":503}", 3);
    char *response = NULL;
    models_error *err = NULL;
    const char *to_m3 = "{\"model\":\"local/m3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    CHECK(models_chat(r, to_m3, &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 503);
    CHECK(requests_for("m3") == 3);
    CHECK(requests_for("m1") == 0 && requests_for("m2") == 0);
    models_error_free(err);

    ts_reset();
    CHECK(models_chat(r, to_m3, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m3\"");
    models_free(response);
    models_stream *s = models_stream_open(r, to_m3, NULL);
    CHECK(s && strcmp(models_stream_model(s), "local/m3") == 0);
    models_stream_close(s);
    CHECK(requests_for("m3") == 2 && requests_for("m1") == 0);

    /* The primary by name: the usual order, fallbacks included. */
    ts_reset();
    script_n("m1", "{\"status\":403}", 1);
    CHECK(models_chat(r, "{\"model\":\"local/m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                      &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);
    models_router_free(r);
}

static void test_all_failed_contents(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"nope/x\",\"local/m2\"],"
                                   "\"retry_base_ms\":1,\"retry_max_ms\":10");
    ts_reset();
    script_n("m1", "{\"status\":503}", 3);
    script_n("m2", "{\"status\":429,\"headers\":{\"Retry-After\":\"2\"}}", 3);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_FAILED);
    const char *m = models_error_message(err);
    CHECK_STR_CONTAINS(m, "local/m1");
    CHECK_STR_CONTAINS(m, "503");
    CHECK_STR_CONTAINS(m, "nope/x");
    CHECK_STR_CONTAINS(m, "not registered");
    CHECK_STR_CONTAINS(m, "local/m2");
    CHECK_STR_CONTAINS(m, "429");
    CHECK(strstr(m, "local/m1") < strstr(m, "local/m2"));
    CHECK(strstr(m, "sk-test") == NULL);
    CHECK(models_error_status(err) == 429);
    CHECK(models_error_retry_after_ms(err) == 2000);
    CHECK(models_error_is_transient(err) == 1);
    CHECK(requests_for("m1") == 3 && requests_for("m2") == 3);
    models_error_free(err);

    /* A stream reports the same, and the last failure decides: a 400 last. */
    ts_reset();
    script_n("m1", "{\"status\":503,\"headers\":{\"Retry-After\":\"3\"}}", 3);
    script_n("m2", "{\"status\":400}", 1);
    CHECK(models_stream_open(r, HELLO, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_ALL_FAILED);
    CHECK(models_error_status(err) == 400);
    CHECK(models_error_retry_after_ms(err) == 0);
    CHECK(models_error_is_transient(err) == 0);
    models_error_free(err);
    models_router_free(r);
}

static void test_unregistered_providers(void) {
    /* Skipped with its reason kept; the next model answers. */
    models_router *r = router_from("\"primary\":\"nope/m1\",\"fallbacks\":[\"local/m2\"]");
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);

    /* Alone: MODELS_ERR_NO_PROVIDER naming the provider and how to add it. */
    models_code rc = models_chat(r, "{\"model\":\"nope/x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                                 &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_NO_PROVIDER);
    CHECK_STR_CONTAINS(models_error_message(err), "\"nope\"");
    CHECK_STR_CONTAINS(models_error_message(err), "providers");
    CHECK_STR_CONTAINS(models_error_message(err), "NOPE_API_KEY");
    models_error_free(err);
    CHECK(models_stream_open(r, "{\"model\":\"nope/x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_NO_PROVIDER);
    models_error_free(err);
    CHECK(ts_stat("requests") == 1);
    models_router_free(r);

    /* An unprefixed name belongs to github-copilot. */
    r = router_from("\"primary\":\"gpt-4.1\",\"fallbacks\":[\"nope/y\"]");
    rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_NO_PROVIDER);
    CHECK_STR_CONTAINS(models_error_message(err), "github-copilot");
    CHECK_STR_CONTAINS(models_error_message(err), "nope");
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    test_transient_primary_falls_back_after_retries();
    test_permanent_primary_falls_back_at_once();
    test_hanging_stream_primary();
    test_hanging_chat_primary();
    test_stream_is_open_at_200();
    test_override_model();
    test_all_failed_contents();
    test_unregistered_providers();
    return check_report("test_router_fallback");
}
