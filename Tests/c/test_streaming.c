/* SPDX-License-Identifier: Apache-2.0 */
/* Streams over SSE through the C API, push and pull: how a stream ends (and
 * how a truncated, malformed or failing one is reported), that chunks reach
 * the caller byte for byte as the server sent them (their "model" aside)
 * however the bytes are split, that a push callback stops the transfer at
 * once, and the text and thinking helpers. */
#define _GNU_SOURCE
#include "test_util.h"

/* Chunks as a provider might format them: spacing, key order, escapes and
 * non-ASCII text are the provider's and must reach the caller untouched, bar
 * the top-level "model", which becomes the routed name (NAMED_*): replaced in
 * place, or put first when the chunk has none. */
static const char *const CHUNK_A =
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}";
static const char *const CHUNK_B =
    "{ \"choices\" : [ {\"delta\": {\"content\": \"h\xc3\xa9llo \\u2603 \\\"q\\\"\\n\"}, \"index\": 0} ], \"model\" : \"m1\" , \"object\": \"chat.completion.chunk\", \"id\": \"c1\" }";
static const char *const CHUNK_C =
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_vendor\":[1.50,true]}";
static const char *const NAMED_A =
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"local/m1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}";
static const char *const NAMED_B =
    "{ \"choices\" : [ {\"delta\": {\"content\": \"h\xc3\xa9llo \\u2603 \\\"q\\\"\\n\"}, \"index\": 0} ], \"model\" : \"local/m1\" , \"object\": \"chat.completion.chunk\", \"id\": \"c1\" }";
static const char *const NAMED_C =
    "{\"model\":\"local/m1\",\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_vendor\":[1.50,true]}";

#define MAX_CHUNKS 16
struct received {
    char *chunks[MAX_CHUNKS];
    size_t lens[MAX_CHUNKS];
    int count;
    int stop_at;        /* the callback returns non-zero on this chunk (1-based); 0: never */
    char thinking[256];
};

static void received_free(struct received *r) {
    for (int i = 0; i < r->count && i < MAX_CHUNKS; i++) free(r->chunks[i]);
}

static void keep(struct received *r, const char *chunk, size_t len) {
    if (r->count < MAX_CHUNKS) {
        r->chunks[r->count] = malloc(len + 1);
        memcpy(r->chunks[r->count], chunk, len + 1); /* the NUL is promised too */
        r->lens[r->count] = len;
    }
    r->count++;
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    struct received *r = user;
    keep(r, chunk, len);
    return r->stop_at && r->count >= r->stop_at;
}

static void on_thinking(void *user, const char *text, size_t len) {
    struct received *r = user;
    size_t used = strlen(r->thinking);
    if (used + len < sizeof r->thinking) {
        memcpy(r->thinking + used, text, len);
        r->thinking[used + len] = '\0';
    }
}

/* Reads a pull stream to its end into `r`; returns the final code. */
static models_code pull_all(models_stream *s, struct received *r, models_error **err) {
    const char *chunk;
    size_t len;
    models_code rc;
    while ((rc = models_stream_next(s, &chunk, &len, err)) == MODELS_OK) {
        CHECK(chunk != NULL && strlen(chunk) == len);
        keep(r, chunk, len);
    }
    return rc;
}

static void check_same_chunks(const struct received *r, const char *const *expected, int n) {
    CHECK(r->count == n);
    for (int i = 0; i < n && i < r->count; i++) {
        CHECK(r->lens[i] == strlen(expected[i]));
        CHECK(strcmp(r->chunks[i], expected[i]) == 0);
        if (strcmp(r->chunks[i], expected[i]) != 0) fprintf(stderr, "  chunk %d: %s\n  expected: %s\n", i, r->chunks[i], expected[i]);
    }
}

/* The SSE items "data: <chunk>\n\n" for three chunks and the terminator. */
static void script_three_chunks(const char *extra) {
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "data: %s\n\n", CHUNK_A);
    snprintf(b, sizeof b, "data: %s\n\n", CHUNK_B);
    snprintf(c, sizeof c, "data: %s\n\n", CHUNK_C);
    const char *items[] = {a, b, c, "data: [DONE]\n\n"};
    ts_script_sse("m1", items, 4, extra);
}

static void test_chunks_byte_identical_pull(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    script_three_chunks("");
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL && err == NULL);
    struct received got = {0};
    CHECK(pull_all(s, &got, &err) == MODELS_DONE);
    CHECK(err == NULL);
    const char *expected[] = {NAMED_A, NAMED_B, NAMED_C};
    check_same_chunks(&got, expected, 3);
    /* The end is sticky. */
    const char *chunk = "x";
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_DONE);
    CHECK(chunk == NULL);
    models_stream_close(s);
    received_free(&got);
    models_router_free(r);
}

static void test_chunks_byte_identical_push(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    script_three_chunks("");
    struct received got = {0};
    models_error *err = (models_error *)0x1;
    CHECK(models_chat_stream(r, HELLO, on_chunk, NULL, &got, &err) == MODELS_OK);
    CHECK(err == NULL);
    const char *expected[] = {NAMED_A, NAMED_B, NAMED_C};
    check_same_chunks(&got, expected, 3);
    received_free(&got);
    models_router_free(r);
}

/* One byte per send() and per HTTP chunk: events split at every byte,
 * including inside UTF-8 sequences, give the same chunks. */
static void test_byte_at_a_time(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    script_three_chunks("\"byte_at_a_time\":true");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    struct received got = {0};
    CHECK(pull_all(s, &got, NULL) == MODELS_DONE);
    const char *expected[] = {NAMED_A, NAMED_B, NAMED_C};
    check_same_chunks(&got, expected, 3);
    models_stream_close(s);
    received_free(&got);

    /* A generated stream and a plain answer, byte by byte. */
    ts_script("m1", "[{\"content\":\"caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e\",\"byte_at_a_time\":true},"
                    "{\"content\":\"plain \xe2\x98\x83\",\"byte_at_a_time\":true}]");
    s = models_stream_open(r, HELLO_STREAM, NULL);
    char *text = NULL;
    CHECK(s && models_stream_collect(s, &text, NULL) == MODELS_OK);
    CHECK(text && strcmp(text, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e") == 0);
    models_free(text);
    models_stream_close(s);
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "plain \xe2\x98\x83");
    models_free(response);
    models_router_free(r);
}

/* [DONE] ends the stream: what follows it is never delivered. */
static void test_done_ends_stream(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    char a[512], c[512];
    snprintf(a, sizeof a, "data: %s\n\n", CHUNK_A);
    snprintf(c, sizeof c, "data: %s\n\n", CHUNK_C);
    const char *items[] = {a, "data: [DONE]\n\n", c, "data: {broken\n\n"};
    ts_script_sse("m1", items, 4, "");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_error *err = NULL;
    CHECK(s && pull_all(s, &got, &err) == MODELS_DONE);
    const char *expected[] = {NAMED_A};
    check_same_chunks(&got, expected, 1);
    models_stream_close(s);
    received_free(&got);
    models_router_free(r);
}

/* A stream whose body ends without [DONE] is an error, never a success; the
 * chunks before it were delivered, and the error repeats. */
static void test_missing_done_is_protocol_error(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"a b c\",\"omit_terminator\":true}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_error *err = NULL;
    models_code rc = s ? pull_all(s, &got, &err) : MODELS_OK;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "ended before completion");
    CHECK(got.count >= 4); /* role, a, b, c, finish */
    models_error_free(err);
    err = NULL;
    const char *chunk;
    CHECK(models_stream_next(s, &chunk, NULL, &err) == MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "ended before completion");
    models_error_free(err);
    models_stream_close(s);
    received_free(&got);

    /* Push mode says the same. */
    ts_script("m1", "[{\"content\":\"a b c\",\"omit_terminator\":true}]");
    struct received pushed = {0};
    err = NULL;
    rc = models_chat_stream(r, HELLO, on_chunk, NULL, &pushed, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "ended before completion");
    models_error_free(err);
    received_free(&pushed);
    models_router_free(r);
}

static void test_malformed_chunk(void) {
    models_router *r = local_router("\"max_retries\":0");
    const char *bad[] = {"data: {\"choices\": [\n\n", "data: [1,2]\n\n", "data: \"text\"\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ts_reset();
        char a[512];
        /* After the first word: earlier failures are the open's (test_first_word). */
        snprintf(a, sizeof a, "data: %s\n\n", CHUNK_B);
        const char *items[] = {a, bad[i], "data: [DONE]\n\n"};
        ts_script_sse("m1", items, 3, "");
        models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
        struct received got = {0};
        models_error *err = NULL;
        models_code rc = s ? pull_all(s, &got, &err) : MODELS_OK;
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
        CHECK(got.count == 1);
        models_error_free(err);
        models_stream_close(s);
        received_free(&got);
    }
    models_router_free(r);
}

/* {"error": ...} inside the stream is the provider's error, with its message. */
static void test_error_event_mid_stream(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"a b c d\",\"error_after\":2,"
                    "\"error\":{\"message\":\"the model fell over\",\"type\":\"server_error\",\"code\":null}}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_error *err = NULL;
    models_code rc = s ? pull_all(s, &got, &err) : MODELS_OK;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "the model fell over");
    CHECK(got.count == 2);
    models_error_free(err);
    models_stream_close(s);
    received_free(&got);

    ts_script("m1", "[{\"content\":\"a b\",\"error_after\":2,\"error\":{\"message\":\"rate limited mid-stream\",\"code\":429}}]");
    struct received pushed = {0};
    err = NULL;
    rc = models_chat_stream(r, HELLO, on_chunk, NULL, &pushed, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "rate limited mid-stream");
    CHECK(pushed.count == 2);
    models_error_free(err);
    received_free(&pushed);
    models_router_free(r);
}

/* The server resets the connection mid-stream. */
static void test_connection_dropped_mid_stream(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"a b c d e\",\"drop_after\":3}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_error *err = NULL;
    models_code rc = s ? pull_all(s, &got, &err) : MODELS_OK;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    CHECK(got.count == 3);
    models_error_free(err);
    models_stream_close(s);
    received_free(&got);
    /* The next request gets a working connection. */
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    models_router_free(r);
}

/* A callback that returns non-zero stops the stream at once: no further
 * chunk, MODELS_ERR_CANCELLED, and no waiting for the (slow) rest. */
static void test_push_callback_stops(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    /* 5000 chunks 2 ms apart: about 10 s if the library read on. */
    ts_script("m1", "[{\"chunks\":5000,\"event_delay_ms\":2}]");
    struct received got = {0};
    got.stop_at = 2;
    models_error *err = NULL;
    int64_t start = now_ms();
    models_code rc = models_chat_stream(r, HELLO, on_chunk, NULL, &got, &err);
    int64_t elapsed = now_ms() - start;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(models_error_is_transient(err) == 0);
    CHECK(got.count == 2);
    CHECK(elapsed < 1000);
    models_error_free(err);
    received_free(&got);

    /* Batched chunks (many per read) stop at the same place. */
    ts_script("m1", "[{\"chunks\":5000}]");
    struct received batched = {0};
    batched.stop_at = 2;
    CHECK(models_chat_stream(r, HELLO, on_chunk, NULL, &batched, NULL) == MODELS_ERR_CANCELLED);
    CHECK(batched.count == 2);
    received_free(&batched);
    models_router_free(r);
}

/* CRLF and CR line ends, comments, event/id/retry fields and multi-line data. */
static void test_line_ends_comments_fields(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, ": keep-alive comment\r\ndata: %s\r\n\r\n", CHUNK_A);
    snprintf(b, sizeof b, "event: message\r\nid: 7\r\nretry: 1000\r\n:another comment\r\ndata: %s\r\n\r\n", CHUNK_B);
    snprintf(c, sizeof c, "data: %s\r\r", CHUNK_C);
    const char *items[] = {
        ":\n\n", a, b, c,
        "data: {\"object\":\"chat.completion.chunk\",\ndata: \"choices\":[]}\n\n",
        "data:[DONE]\r\n\r\n",
    };
    ts_script_sse("m1", items, 6, "");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_error *err = NULL;
    models_code rc = s ? pull_all(s, &got, &err) : MODELS_OK;
    CHECK(rc == MODELS_DONE);
    if (rc != MODELS_DONE) fprintf(stderr, "  %s\n", models_error_message(err));
    models_error_free(err);
    const char *expected[] = {NAMED_A, NAMED_B, NAMED_C, "{\"model\":\"local/m1\",\"object\":\"chat.completion.chunk\",\n\"choices\":[]}"};
    check_same_chunks(&got, expected, 4);
    models_stream_close(s);
    received_free(&got);
    models_router_free(r);
}

static void test_collect_joins_text(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"content\":\"Hello there, streaming world.\",\"chunks\":7}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    char *text = NULL;
    models_error *err = (models_error *)0x1;
    CHECK(s && models_stream_collect(s, &text, &err) == MODELS_OK);
    CHECK(err == NULL);
    CHECK(text && strcmp(text, "Hello there, streaming world.") == 0);
    models_free(text);
    /* Nothing is left: the next read is the end. */
    const char *chunk;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_DONE);
    models_stream_close(s);

    /* collect after some chunks were read returns the rest. */
    ts_script("m1", "[{\"content\":\"one two three\"}]");
    s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK); /* role */
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK); /* "one " */
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    CHECK(text && strcmp(text, "two three") == 0);
    models_free(text);
    models_stream_close(s);

    /* A failing stream: collect fails, *text stays NULL. */
    ts_script("m1", "[{\"content\":\"a b\",\"omit_terminator\":true}]");
    s = models_stream_open(r, HELLO_STREAM, NULL);
    text = (char *)"untouched";
    err = NULL;
    models_code rc = models_stream_collect(s, &text, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(text == NULL);
    models_error_free(err);
    models_stream_close(s);
    models_router_free(r);
}

/* reasoning_content from an OpenAI-compatible server reaches the thinking
 * callback, in pull and push mode; the chunks still reach the caller. */
static void test_thinking_from_reasoning_content(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"thinking\":\"let me think about it\",\"content\":\"answer\"},"
                    "{\"thinking\":\"pushed thoughts here\",\"content\":\"answer\"}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    struct received got = {0};
    models_stream_on_thinking(s, on_thinking, &got);
    CHECK(s && pull_all(s, &got, NULL) == MODELS_DONE);
    CHECK(strcmp(got.thinking, "let me think about it") == 0);
    CHECK(got.count >= 6); /* role, 5 reasoning pieces, answer, finish */
    models_stream_close(s);
    received_free(&got);

    struct received pushed = {0};
    CHECK(models_chat_stream(r, HELLO, on_chunk, on_thinking, &pushed, NULL) == MODELS_OK);
    CHECK(strcmp(pushed.thinking, "pushed thoughts here") == 0);
    received_free(&pushed);
    models_router_free(r);
}

/* A 200 answer that is not an event stream (some servers send a JSON error
 * with status 200) is an error at open, with the server's message. */
static void test_non_event_stream_answer(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"body\":{\"error\":{\"message\":\"streaming is disabled for this key\"}}}]");
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s == NULL);
    CHECK(err != NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "streaming is disabled for this key");
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_chunks_byte_identical_pull();
    test_chunks_byte_identical_push();
    test_byte_at_a_time();
    test_done_ends_stream();
    test_missing_done_is_protocol_error();
    test_malformed_chunk();
    test_error_event_mid_stream();
    test_connection_dropped_mid_stream();
    test_push_callback_stops();
    test_line_ends_comments_fields();
    test_collect_joins_text();
    test_thinking_from_reasoning_content();
    test_non_event_stream_answer();
    return check_report("test_streaming");
}
