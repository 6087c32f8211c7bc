/* SPDX-License-Identifier: Apache-2.0 */
/* Bad input to the chat and stream functions: NULL handles, NULL or invalid
 * request JSON, requests of the wrong shape and NULL out-parameters give
 * MODELS_ERR_INVALID_ARGUMENT (never a crash, never a request to the
 * provider), and every models_stream_* function accepts a NULL stream. */
#define _GNU_SOURCE
#include "test_util.h"

static const char *const BAD_REQUESTS[] = {
    "",
    "not json",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]",                 /* truncated */
    "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe bad utf-8\"}]}", /* invalid UTF-8 */
    "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\"}]}",              /* cut UTF-8 sequence */
    "[]",
    "\"a string\"",
    "42",
    "null",
    "{}",
    "{\"messages\":\"hello\"}",
    "{\"messages\":{\"role\":\"user\"}}",
    "{\"messages\":null}",
    "{\"messages\":[1]}",
    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},\"second\"]}",
    "{\"messages\":[[]]}",
    "{\"messages\":[],\"model\":42}",
};
#define N_BAD (sizeof BAD_REQUESTS / sizeof *BAD_REQUESTS)

static int never_called(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    ++*(int *)user;
    return 0;
}

/* Takes `errp` rather than the error so that the call in the first argument
 * has set it by the time it is read (argument order is unspecified). */
static void check_invalid(models_code rc, models_error **errp, const char *what) {
    models_error *err = *errp;
    CHECK(rc == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(err != NULL && models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(err != NULL && strlen(models_error_message(err)) > 0);
    CHECK(models_error_status(err) == 0);
    CHECK(models_error_is_transient(err) == 0);
    if (rc != MODELS_ERR_INVALID_ARGUMENT) fprintf(stderr, "  %s gave %s\n", what, models_code_name(rc));
    models_error_free(err);
}

static void test_null_router(void) {
    models_error *err = NULL;
    char *response = (char *)"untouched";
    check_invalid(models_chat(NULL, HELLO, &response, &err), &err, "models_chat(NULL router)");
    CHECK(response == NULL);
    CHECK(models_chat(NULL, HELLO, &response, NULL) == MODELS_ERR_INVALID_ARGUMENT);

    err = NULL;
    int calls = 0;
    check_invalid(models_chat_stream(NULL, HELLO, never_called, NULL, &calls, &err), &err, "models_chat_stream(NULL router)");
    err = NULL;
    CHECK(models_stream_open(NULL, HELLO, &err) == NULL);
    check_invalid(models_error_code(err), &err, "models_stream_open(NULL router)");
    err = NULL;
    check_invalid(models_chat_ex(NULL, HELLO, NULL, NULL, &response, &err), &err, "models_chat_ex(NULL router)");
    CHECK(calls == 0);
}

static void test_bad_requests(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    int calls = 0;
    for (size_t i = 0; i < N_BAD; i++) {
        models_error *err = NULL;
        char *response = (char *)"untouched";
        check_invalid(models_chat(r, BAD_REQUESTS[i], &response, &err), &err, BAD_REQUESTS[i]);
        CHECK(response == NULL);

        err = NULL;
        check_invalid(models_chat_stream(r, BAD_REQUESTS[i], never_called, NULL, &calls, &err), &err, BAD_REQUESTS[i]);

        err = NULL;
        CHECK(models_stream_open(r, BAD_REQUESTS[i], &err) == NULL);
        check_invalid(models_error_code(err), &err, BAD_REQUESTS[i]);
    }
    /* NULL request text. */
    models_error *err = NULL;
    char *response = NULL;
    check_invalid(models_chat(r, NULL, &response, &err), &err, "NULL request");
    err = NULL;
    check_invalid(models_chat_stream(r, NULL, never_called, NULL, &calls, &err), &err, "NULL request (stream)");
    err = NULL;
    CHECK(models_stream_open(r, NULL, &err) == NULL);
    check_invalid(models_error_code(err), &err, "NULL request (open)");
    CHECK(calls == 0);
    CHECK(ts_stat("requests") == 0);

    /* The messages say which element is wrong. */
    err = NULL;
    models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},\"second\"]}", &response, &err);
    CHECK_STR_CONTAINS(models_error_message(err), "messages[1]");
    models_error_free(err);
    models_router_free(r);
}

static void test_null_out_params(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    models_error *err = NULL;
    check_invalid(models_chat(r, HELLO, NULL, &err), &err, "models_chat(response_json NULL)");
    err = NULL;
    check_invalid(models_chat_stream(r, HELLO, NULL, NULL, NULL, &err), &err, "models_chat_stream(on_chunk NULL)");
    CHECK(ts_stat("requests") == 0);

    /* On a live stream: NULL chunk and text out-parameters. */
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    err = NULL;
    check_invalid(models_stream_next(s, NULL, NULL, &err), &err, "models_stream_next(chunk_json NULL)");
    err = NULL;
    check_invalid(models_stream_collect(s, NULL, &err), &err, "models_stream_collect(text NULL)");
    /* The stream is still usable; len may be NULL. */
    const char *chunk = NULL;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    CHECK(chunk != NULL);
    models_stream_close(s);
    models_router_free(r);
}

static void test_null_stream(void) {
    const char *chunk = "x";
    size_t len = 7;
    models_error *err = NULL;
    check_invalid(models_stream_next(NULL, &chunk, &len, &err), &err, "models_stream_next(NULL)");
    CHECK(chunk == NULL);
    CHECK(len == 0);
    CHECK(models_stream_next(NULL, NULL, NULL, NULL) == MODELS_ERR_INVALID_ARGUMENT);

    char *text = (char *)"untouched";
    err = NULL;
    check_invalid(models_stream_collect(NULL, &text, &err), &err, "models_stream_collect(NULL)");
    CHECK(text == NULL);

    int64_t in = 5, out = 5;
    models_stream_usage(NULL, &in, &out);
    CHECK(in == 0 && out == 0);
    models_stream_usage(NULL, NULL, NULL);
    CHECK(models_stream_model(NULL) == NULL);
    models_stream_on_thinking(NULL, NULL, NULL);
    models_stream_cancel(NULL);
    models_stream_close(NULL);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_null_router();
    test_bad_requests();
    test_null_out_params();
    test_null_stream();
    return check_report("test_bad_input");
}
