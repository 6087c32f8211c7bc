/* SPDX-License-Identifier: Apache-2.0 */
/* A server that misbehaves without breaking the protocol outright: a header
 * line too long for libcurl, an error event in an OpenAI-compatible stream,
 * streams that trickle bytes, comments or pings but never an answer, streams
 * longer than the caller allows, and answers larger than the caller's cap.
 * Each must end in a clear error (or a fallback), never a hang or an
 * out-of-memory report. Durations are short and configured. */
#define _GNU_SOURCE
#include "test_util.h"

/* A stream's outcome: the chunks it delivered and the code it ended with. */
struct outcome {
    int chunks;
    models_code code;
    char message[512];
};

static int count_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    (*(int *)user)++;
    return 0;
}

static struct outcome drain(models_router *r, const char *request) {
    struct outcome o = {0, MODELS_OK, ""};
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, request, &err);
    if (!s) {
        o.code = models_error_code(err);
        snprintf(o.message, sizeof o.message, "%s", models_error_message(err));
        models_error_free(err);
        return o;
    }
    const char *chunk;
    size_t len;
    models_code rc;
    while ((rc = models_stream_next(s, &chunk, &len, &err)) == MODELS_OK) o.chunks++;
    o.code = rc;
    if (err) snprintf(o.message, sizeof o.message, "%s", models_error_message(err));
    models_error_free(err);
    models_stream_close(s);
    return o;
}

/* Case 5: a response header line over libcurl's limit (100 KiB) is the
 * provider's protocol error, not the library running out of memory: the
 * router falls back, and without a fallback the caller gets PROTOCOL. */
static void test_huge_header_line_is_a_protocol_error(void) {
    size_t n = 150000;
    char *steps = malloc(n + 64);
    int used = sprintf(steps, "[{\"headers\":{\"X-Big\":\"");
    memset(steps + used, 'a', n);
    strcpy(steps + used + n, "\"}}]");

    models_router *alone = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", steps);
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_chat(alone, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(response == NULL);
    CHECK(err && strstr(models_error_message(err), "header") != NULL);
    models_error_free(err);
    err = NULL;
    /* The next request on the same router is answered normally. */
    CHECK(models_chat(alone, HELLO, &response, &err) == MODELS_OK);
    models_free(response);
    models_error_free(err);
    models_router_free(alone);

    models_router *r = router_from("\"primary\":\"local/big\",\"fallbacks\":[\"local/ok\"],\"max_retries\":0");
    ts_reset();
    ts_script("big", steps);
    err = NULL;
    response = NULL;
    rc = models_chat(r, HELLO, &response, &err);
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  got %s: %s\n", models_code_name(rc), models_error_message(err));
    CHECK(response && strstr(response, "\"model\":\"local/ok\""));
    models_free(response);
    models_error_free(err);

    /* The same for a stream's headers. */
    ts_reset();
    ts_script("big", steps);
    struct outcome o = drain(r, HELLO_STREAM);
    CHECK(o.code == MODELS_DONE && o.chunks > 0);
    models_router_free(r);
    free(steps);
}

/* Case 6: `event: error` in an OpenAI-compatible stream is the provider's
 * error, with its message, not a chunk. Before the first chunk and after. */
static void test_openai_error_event_is_an_api_error(void) {
    models_router *r = local_router("\"max_retries\":0");
    const char *first[] = {
        "event: error\ndata: {\"error\":{\"message\":\"the engine is overloaded\",\"type\":\"server_error\"}}\n\n",
    };
    ts_reset();
    ts_script_sse("m1", first, 1, "");
    struct outcome o = drain(r, HELLO_STREAM);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(o.chunks == 0);
    CHECK(strstr(o.message, "the engine is overloaded") != NULL);
    if (o.code != MODELS_ERR_API) fprintf(stderr, "  got %s: %s\n", models_code_name(o.code), o.message);

    const char *later[] = {
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
        "event: error\ndata: {\"message\":\"stream aborted upstream\"}\n\n",
        "data: [DONE]\n\n",
    };
    ts_reset();
    ts_script_sse("m1", later, 3, "");
    o = drain(r, HELLO_STREAM);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(o.chunks == 1);
    CHECK(strstr(o.message, "stream aborted upstream") != NULL);

    /* Push mode sees the same error. */
    ts_reset();
    ts_script_sse("m1", first, 1, "");
    models_error *err = NULL;
    int calls = 0;
    models_code rc = models_chat_stream(r, HELLO_STREAM, count_chunk, NULL, &calls, &err);
    CHECK(calls == 0);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    models_error_free(err);
    models_router_free(r);
}

/* `n` copies of `item`, then `last`, as a scripted raw stream with `extra`. */
static void script_repeated(const char *model, const char *item, int n, const char *last, const char *extra) {
    const char **items = malloc(((size_t)n + 1) * sizeof *items);
    for (int i = 0; i < n; i++) items[i] = item;
    items[n] = last;
    ts_script_sse(model, items, (size_t)n + 1, extra);
    free(items);
}

/* Case 7: the idle limit counts events, not bytes. A server that sends
 * comment lines, pings, or one byte at a time keeps a stream busy without an
 * answer; the stream ends with a timeout instead of waiting for it. */
static void test_trickling_streams_time_out(void) {
    /* Comments every 100 ms for 6 s; timeout_ms bounds the wait for an event. */
    models_router *r = local_router("\"max_retries\":0,\"timeout_ms\":400");
    ts_reset();
    script_repeated("m1", ": keep-alive\n\n", 60, "data: [DONE]\n\n", "\"event_delay_ms\":100");
    int64_t start = now_ms();
    struct outcome o = drain(r, HELLO_STREAM);
    int64_t elapsed = now_ms() - start;
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK(elapsed < 5000);
    if (o.code != MODELS_ERR_TIMEOUT) fprintf(stderr, "  comments: got %s after %lld ms\n", models_code_name(o.code), (long long)elapsed);
    models_router_free(r);

    /* stream_idle_timeout_ms sets the limit on its own; a data event split
     * into single bytes 100 ms apart never completes within it. */
    r = local_router("\"max_retries\":0,\"timeout_ms\":60000,\"stream_idle_timeout_ms\":400");
    const char *chunk = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    size_t n = strlen(chunk);
    char (*bytes)[2] = malloc(n * sizeof *bytes);
    const char **items = malloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        bytes[i][0] = chunk[i];
        bytes[i][1] = '\0';
        items[i] = bytes[i];
    }
    ts_reset();
    ts_script_sse("m1", items, n, "\"event_delay_ms\":100");
    start = now_ms();
    o = drain(r, HELLO_STREAM);
    elapsed = now_ms() - start;
    CHECK(o.code == MODELS_ERR_TIMEOUT && o.chunks == 0);
    CHECK(elapsed < 5000);
    CHECK(strstr(o.message, "400 ms") != NULL);
    free(items);
    free(bytes);

    /* Events that arrive in time keep the stream going past the idle limit. */
    ts_reset();
    ts_script("m1", "[{\"chunks\":12,\"event_delay_ms\":100}]");
    o = drain(r, HELLO_STREAM);
    CHECK(o.code == MODELS_DONE && o.chunks >= 12);
    models_router_free(r);
}

/* Anthropic's pings are not events that count. */
static void test_anthropic_pings_do_not_keep_a_stream_alive(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-test\",\"max_retries\":0,\"stream_idle_timeout_ms\":400,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key-4242\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    const char *start_event =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
        "\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n";
    const char *ping = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
    const char **items = malloc(41 * sizeof *items);
    items[0] = start_event;
    for (int i = 1; i < 41; i++) items[i] = ping;
    ts_reset();
    ts_script_sse("claude-test", items, 41, "\"event_delay_ms\":100");
    free(items);
    int64_t start = now_ms();
    struct outcome o = drain(r, HELLO_STREAM);
    int64_t elapsed = now_ms() - start;
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK(elapsed < 3500);
    if (o.code != MODELS_ERR_TIMEOUT) fprintf(stderr, "  pings: got %s after %lld ms: %s\n", models_code_name(o.code), (long long)elapsed, o.message);
    models_router_free(r);
}

/* stream_timeout_ms bounds a whole stream, however lively. */
static void test_stream_total_deadline(void) {
    models_router *r = local_router("\"max_retries\":0,\"stream_timeout_ms\":500");
    ts_reset();
    ts_script("m1", "[{\"chunks\":60,\"event_delay_ms\":50}]");
    int64_t start = now_ms();
    struct outcome o = drain(r, HELLO_STREAM);
    int64_t elapsed = now_ms() - start;
    CHECK(o.code == MODELS_ERR_TIMEOUT);
    CHECK(o.chunks > 0 && o.chunks < 60);
    CHECK(elapsed < 2500);
    CHECK(strstr(o.message, "500 ms") != NULL);
    if (o.code != MODELS_ERR_TIMEOUT) fprintf(stderr, "  total: got %s after %lld ms\n", models_code_name(o.code), (long long)elapsed);

    /* A short stream well within it ends normally. */
    ts_reset();
    o = drain(r, HELLO_STREAM);
    CHECK(o.code == MODELS_DONE);
    models_router_free(r);
}

/* Case 8: models_stream_collect stops at max_response_bytes, like models_chat. */
static void test_collect_is_bounded(void) {
    models_router *r = local_router("\"max_retries\":0,\"max_response_bytes\":4096");
    char steps[256];
    /* 3,000 words: about 16 KB of text. */
    snprintf(steps, sizeof steps, "[{\"chunks\":3000}]");
    ts_reset();
    ts_script("m1", steps);
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "  open: %s\n", models_error_message(err));
    models_error_free(err);
    err = NULL;
    char *text = (char *)"untouched";
    models_code rc = models_stream_collect(s, &text, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(text == NULL);
    CHECK(err && strstr(models_error_message(err), "4096") != NULL);
    models_error_free(err);
    models_stream_close(s);

    /* Within the cap, the text is whole. */
    ts_reset();
    ts_script("m1", "[{\"chunks\":100}]");
    err = NULL;
    s = models_stream_open(r, HELLO_STREAM, &err);
    text = NULL;
    rc = s ? models_stream_collect(s, &text, &err) : MODELS_ERR_INVALID_ARGUMENT;
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  collect: %s\n", err ? models_error_message(err) : "?");
    models_error_free(err);
    CHECK(text && strncmp(text, "w0 w1 w2", 8) == 0 && strstr(text, "w99"));
    models_free(text);
    models_stream_close(s);

    /* models_chat's body limit is the same setting. */
    ts_reset();
    ts_script("m1", "[{\"body_size\":8192}]");
    char *response = NULL;
    err = NULL;
    rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(err && strstr(models_error_message(err), "4096") != NULL);
    models_error_free(err);
    models_router_free(r);

    /* Out of range: a clear config error. */
    err = NULL;
    char config[512];
    ts_config(config, sizeof config, "\"primary\":\"local/m1\",\"max_response_bytes\":10", "local", NULL);
    CHECK(models_router_new(config, &err) == NULL);
    CHECK(err && strstr(models_error_message(err), "max_response_bytes") != NULL);
    models_error_free(err);
}

int main(void) {
    test_huge_header_line_is_a_protocol_error();
    test_openai_error_event_is_an_api_error();
    test_trickling_streams_time_out();
    test_anthropic_pings_do_not_keep_a_stream_alive();
    test_stream_total_deadline();
    test_collect_is_bounded();
    return check_report("test_misbehaving_server");
}
