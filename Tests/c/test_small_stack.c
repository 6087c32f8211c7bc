/* SPDX-License-Identifier: Apache-2.0 */
/* The whole library on a 64 KiB thread stack (issue 12, crash 3): chat, push
 * and pull streams, a fallback, Anthropic's translations and a C provider, each
 * run on a thread made with pthread_attr_setstacksize(64 KiB), against the
 * loopback test server. Then input nested deeper than the library reads (a
 * request, a config, a server's answer, error body, stream chunk, Anthropic
 * event, Copilot token answer, a C provider's answer): each is an ordinary
 * error (MODELS_ERR_INVALID_ARGUMENT for the caller's own input,
 * MODELS_ERR_PROTOCOL for a server's), never a stack overflow; and input
 * nested as deep as the library allows still works on that stack. */
#define _GNU_SOURCE
#include "test_util.h"

#include <limits.h>
#include <pthread.h>

#define SMALL_STACK (64 * 1024)
/* Nesting the library must accept (JSON Schemas of tools nest) and refuse. */
#define ALLOWED_DEPTH 250
#define SERVER_DEPTH 2000
#define CALLER_DEPTH 100000

static void (*small_stack_body)(void);
static void *small_stack_main(void *arg) {
    (void)arg;
    small_stack_body();
    return NULL;
}

/* Runs fn on a new thread with a 64 KiB stack and waits for it. */
static void on_small_stack(void (*fn)(void)) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    CHECK(pthread_attr_setstacksize(&attr, SMALL_STACK) == 0);
    pthread_t t;
    small_stack_body = fn;
    CHECK(pthread_create(&t, &attr, small_stack_main, NULL) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
}

/* `prefix` + depth × "[" + "0" + depth × "]" + `suffix`, malloc'd. */
static char *nested(const char *prefix, int depth, const char *suffix) {
    size_t n = strlen(prefix) + (size_t)depth * 2 + strlen(suffix) + 2;
    char *s = malloc(n), *o = s;
    o += sprintf(o, "%s", prefix);
    memset(o, '[', (size_t)depth);
    o += depth;
    *o++ = '0';
    memset(o, ']', (size_t)depth);
    o += depth;
    sprintf(o, "%s", suffix);
    return s;
}

/* A request whose tool has a parameter schema `depth` objects deep. */
static char *deep_tool_request(int depth, int stream) {
    size_t n = (size_t)depth * 40 + 512;
    char *s = malloc(n), *o = s;
    o += sprintf(o, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],%s"
                    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":",
                 stream ? "\"stream\":true," : "");
    /* Each level: {"type":"object","properties":{"a": ... }} is two objects deep;
     * the outermost has no "type", so Anthropic's translation adds one to a copy. */
    int levels = (depth - 5) / 2;
    for (int i = 0; i < levels; i++) o += sprintf(o, i ? "{\"type\":\"object\",\"properties\":{\"a\":" : "{\"properties\":{\"a\":");
    o += sprintf(o, "{\"type\":\"string\"}");
    for (int i = 0; i < levels; i++) o += sprintf(o, "}}");
    sprintf(o, "}}]}");
    return s;
}

static void script_body(const char *model, int status, const char *body) {
    char *quoted = json_quote(body);
    size_t n = strlen(quoted) + 64;
    char *step = malloc(n);
    snprintf(step, n, "[{\"status\":%d,\"body\":%s}]", status, quoted);
    ts_script(model, step);
    free(step);
    free(quoted);
}

static void script_sse_data(const char *model, const char *data) {
    size_t n = strlen(data) + 16;
    char *item = malloc(n);
    snprintf(item, n, "data: %s\n\n", data);
    const char *items[] = {item, "data: [DONE]\n\n"};
    ts_script_sse(model, items, 2, "");
    free(item);
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk; (void)len;
    (*(int *)user)++;
    return 0;
}

static models_router *anthropic_router(const char *extra) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-x\",\"max_retries\":0%s%s,\"providers\":{\"anthropic\":"
             "{\"base_url\":\"%s/v1\",\"api_key\":\"k-0123456789\"},\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"k-0123456789\"}}}",
             extra ? "," : "", extra ? extra : "", ts_url(), ts_url());
    return router_or_exit(config);
}

/* ---- Ordinary use on a small stack ----------------------------------------- */

static void ordinary_use(void) {
    models_router *r = local_router("\"fallbacks\":[\"local/m2\"],\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":1");
    char *response = NULL;
    models_error *err = NULL;
    ts_reset();
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);

    int chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    CHECK(chunks > 0);

    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    const char *chunk = NULL;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    models_stream_close(s);

    /* A retry, then the fallback. */
    ts_reset();
    script_n("m1", "{\"status\":503}", 2);
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);
    ts_reset();
    script_n("m1", "{\"status\":503}", 2);
    chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    CHECK(chunks > 0);

    /* A deep but allowed tool schema passes through. */
    ts_reset();
    char *deep = deep_tool_request(ALLOWED_DEPTH, 0);
    response = NULL;
    CHECK(models_chat(r, deep, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  deep tool schema: %s\n", models_error_message(err));
    models_error_free(err);
    err = NULL;
    models_free(response);
    free(deep);
    models_router_free(r);

    /* Anthropic translates both ways, also a deep allowed schema and a stream. */
    r = anthropic_router(NULL);
    ts_reset();
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);
    chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    CHECK(chunks > 0);
    deep = deep_tool_request(ALLOWED_DEPTH, 0);
    response = NULL;
    CHECK(models_chat(r, deep, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  anthropic deep tool schema: %s\n", models_error_message(err));
    models_error_free(err);
    models_free(response);
    free(deep);
    deep = deep_tool_request(ALLOWED_DEPTH, 1);
    chunks = 0;
    CHECK(models_chat_stream(r, deep, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    free(deep);

    /* Tool-call input nested as deep as allowed, in an answer and a stream. */
    char *args = nested("{\"a\":", ALLOWED_DEPTH - 1, "}");
    char *quoted = json_quote(args);
    size_t n = strlen(quoted) + 128;
    char *step = malloc(n);
    snprintf(step, n, "[{\"tool_calls\":[{\"id\":\"t1\",\"name\":\"f\",\"arguments\":%s}]}]", quoted);
    ts_reset();
    ts_script("claude-x", step);
    response = NULL;
    err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  anthropic deep tool input: %s\n", models_error_message(err));
    CHECK_STR_CONTAINS(response, "[[[[[[[[[[");
    models_error_free(err);
    models_free(response);
    ts_script("claude-x", step);
    chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    models_router_free(r);

    /* An OpenAI answer and chunk nested as deep as allowed. */
    r = local_router("");
    char *answer = nested("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"x\"},"
                          "\"finish_reason\":\"stop\"}],\"x\":", ALLOWED_DEPTH - 1, "}");
    script_body("m1", 200, answer);
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    char *chunk_text = nested("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"x\":", ALLOWED_DEPTH - 1, "}");
    script_sse_data("m1", chunk_text);
    s = models_stream_open(r, HELLO_STREAM, NULL);
    text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    models_stream_close(s);
    models_router_free(r);
    free(chunk_text);
    free(answer);
    free(step);
    free(quoted);
    free(args);
}

/* ---- Input nested too deep -------------------------------------------------- */

static void deep_caller_input(void) {
    /* A config. */
    char *config = nested("{\"primary\":\"local/m1\",\"x\":", CALLER_DEPTH, "}");
    models_error *err = NULL;
    CHECK(models_router_new(config, &err) == NULL);
    CHECK(err && models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "nested deeper than");
    models_error_free(err);
    free(config);

    /* A request, deep in a member the library does not read and deep in a message. */
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    const char *prefixes[] = {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x\":",
                              "{\"messages\":[{\"role\":\"user\",\"content\":"};
    const char *suffixes[] = {"}", "}]}"};
    int depths[] = {SERVER_DEPTH, CALLER_DEPTH};
    for (int p = 0; p < 2; p++) {
        for (int d = 0; d < 2; d++) {
            char *request = nested(prefixes[p], depths[d], suffixes[p]);
            char *response = NULL;
            err = NULL;
            models_code rc = models_chat(r, request, &response, &err);
            CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
            CHECK_STR_CONTAINS(models_error_message(err), "nested deeper than");
            models_error_free(err);
            err = NULL;
            int chunks = 0;
            rc = models_chat_stream(r, request, on_chunk, NULL, &chunks, &err);
            CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
            models_error_free(err);
            err = NULL;
            CHECK(models_stream_open(r, request, &err) == NULL);
            CHECK(err && models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
            models_error_free(err);
            free(request);
        }
    }
    CHECK(ts_stat("requests") == 0);
    models_router_free(r);

    /* Anthropic: a deep tool schema, and deep tool-call arguments given as text. */
    r = anthropic_router(NULL);
    char *request = deep_tool_request(CALLER_DEPTH, 0);
    err = NULL;
    char *response = NULL;
    { models_code rc_ = models_chat(r, request, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_INVALID_ARGUMENT); }
    models_error_free(err);
    free(request);
    char *args = nested("", SERVER_DEPTH, "");
    char *quoted = json_quote(args);
    size_t n = strlen(quoted) + 512;
    request = malloc(n);
    snprintf(request, n, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"tool_calls\":"
                         "[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":%s}}]},"
                         "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"ok\"}]}", quoted);
    err = NULL;
    { models_code rc_ = models_chat(r, request, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_INVALID_ARGUMENT); }
    models_error_free(err);
    free(request);
    free(quoted);
    free(args);
    models_router_free(r);
}

static void deep_server_answers(void) {
    models_router *r = local_router("\"max_retries\":0");
    models_router *fb = local_router("\"fallbacks\":[\"local/m2\"],\"max_retries\":0");
    char *answer = nested("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"x\"},"
                          "\"finish_reason\":\"stop\"}],\"x\":", SERVER_DEPTH, "}");
    char *chunk = nested("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"x\":", SERVER_DEPTH, "}");

    /* A 200 answer: a protocol error, and the fallback answers. */
    ts_reset();
    script_body("m1", 200, answer);
    char *response = NULL;
    models_error *err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    models_error_free(err);
    script_body("m1", 200, answer);
    CHECK(models_chat(fb, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);

    /* An error body: still the HTTP error, with the status. */
    ts_reset();
    script_body("m1", 500, answer);
    err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_API); }
    CHECK(models_error_status(err) == 500);
    models_error_free(err);

    /* A stream chunk, pushed and pulled. */
    ts_reset();
    script_sse_data("m1", chunk);
    int chunks = 0;
    err = NULL;
    { models_code rc_ = models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    CHECK(chunks == 0);
    models_error_free(err);
    /* Pulled: a failure before the first word is the open's. */
    script_sse_data("m1", chunk);
    err = NULL;
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s == NULL);
    CHECK(err != NULL && models_error_code(err) == MODELS_ERR_PROTOCOL);
    models_error_free(err);
    models_router_free(r);
    models_router_free(fb);

    /* Anthropic: an answer, an error body and a stream event. */
    r = anthropic_router(NULL);
    ts_reset();
    script_body("claude-x", 200, answer);
    err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    models_error_free(err);
    script_body("claude-x", 529, answer);
    err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_API); }
    models_error_free(err);
    char *event = nested("{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"x\":", SERVER_DEPTH, "}}");
    size_t n = strlen(event) + 64;
    char *item = malloc(n);
    snprintf(item, n, "event: message_start\ndata: %s\n\n", event);
    const char *items[] = {item};
    ts_script_sse("claude-x", items, 1, "");
    chunks = 0;
    err = NULL;
    { models_code rc_ = models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    models_error_free(err);
    free(item);
    free(event);
    models_router_free(r);

    /* A Copilot token answer. */
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"gpt-4.1\",\"max_retries\":0,\"providers\":{\"github-copilot\":"
             "{\"github_token\":\"ghu_0123456789abcdef\",\"token_url\":\"%s/copilot_internal/v2/token\"}}}", ts_url());
    r = router_or_exit(config);
    char *token = nested("{\"token\":\"t\",\"expires_at\":2000000000,\"x\":", SERVER_DEPTH, "}");
    ts_reset();
    script_body("token", 200, token);
    err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    models_error_free(err);
    free(token);
    models_router_free(r);
    free(answer);
    free(chunk);
}

/* A C provider whose answers and chunks are nested too deep. */
static int deep_chat(void *user, const char *model_id, const char *request_json, char **response_json, models_error **err) {
    (void)user; (void)model_id; (void)request_json; (void)err;
    *response_json = nested("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"x\"}}],\"x\":",
                            SERVER_DEPTH, "}");
    return MODELS_OK;
}

static char *deep_chunk_text;
static int deep_open(void *user, const char *model_id, const char *request_json, void **stream, models_error **err) {
    (void)user; (void)model_id; (void)request_json; (void)err;
    *stream = &deep_chunk_text;
    return MODELS_OK;
}
static int deep_next(void *user, void *stream, const char **chunk_json, size_t *len, models_error **err) {
    (void)user; (void)stream; (void)err;
    *chunk_json = deep_chunk_text;
    *len = strlen(deep_chunk_text);
    return MODELS_OK;
}

/* Bedrock on a small stack: SigV4, Converse both ways, event-stream frames read
 * byte by byte, a deep allowed tool schema and deep tool-call input. */
static void bedrock_use(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"aws/m-v1:0\",\"max_retries\":0,\"providers\":{\"aws\":{\"type\":\"bedrock\",\"base_url\":\"%s\","
             "\"region\":\"us-east-1\",\"aws_access_key_id\":\"AKIDLOOPBACK\",\"aws_secret_access_key\":\"loopback/secret+key\"}}}",
             ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);
    ts_script("m-v1:0", "[{\"byte_at_a_time\":true,\"thinking\":\"hmm\"}]");
    int chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    CHECK(chunks > 0);
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    CHECK(text && strcmp(text, "echo: hi") == 0);
    models_free(text);
    models_stream_close(s);

    char *deep = deep_tool_request(ALLOWED_DEPTH - 4, 0);
    response = NULL;
    CHECK(models_chat(r, deep, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  bedrock deep tool schema: %s\n", models_error_message(err));
    models_error_free(err);
    err = NULL;
    models_free(response);
    free(deep);

    char *args = nested("{\"a\":", ALLOWED_DEPTH - 8, "}");
    char *quoted = json_quote(args);
    size_t n = strlen(quoted) + 128;
    char *step = malloc(n);
    snprintf(step, n, "[{\"tool_calls\":[{\"id\":\"t1\",\"name\":\"f\",\"arguments\":%s}]}]", quoted);
    ts_script("m-v1:0", step);
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  bedrock deep tool input: %s\n", models_error_message(err));
    models_error_free(err);
    models_free(response);
    ts_script("m-v1:0", step);
    chunks = 0;
    CHECK(models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, NULL) == MODELS_OK);
    free(step);
    free(quoted);
    free(args);
    models_router_free(r);
}

static void deep_c_provider(void) {
    models_router *r = router_from("\"primary\":\"deep/m\",\"max_retries\":0");
    models_provider_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.chat = deep_chat;
    cb.stream_open = deep_open;
    cb.stream_next = deep_next;
    CHECK(models_router_add_provider(r, "deep", &cb, NULL, NULL) == MODELS_OK);
    char *response = NULL;
    models_error *err = NULL;
    { models_code rc_ = models_chat(r, HELLO, &response, &err); CHECK_FAILS_WITH(rc_, err, MODELS_ERR_PROTOCOL); }
    models_error_free(err);
    deep_chunk_text = nested("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"x\":", SERVER_DEPTH, "}");
    int chunks = 0;
    err = NULL;
    models_code rc = models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, &chunks, &err);
    CHECK(rc == MODELS_ERR_PROTOCOL);
    CHECK(chunks == 0);
    models_error_free(err);
    free(deep_chunk_text);
    models_router_free(r);
}

int main(void) {
    on_small_stack(ordinary_use);
    on_small_stack(deep_caller_input);
    on_small_stack(deep_server_answers);
    on_small_stack(deep_c_provider);
    on_small_stack(bedrock_use);
    return check_report("test_small_stack");
}
