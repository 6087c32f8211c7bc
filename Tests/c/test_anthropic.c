/* SPDX-License-Identifier: Apache-2.0 */
/* The anthropic provider end to end, through the C API, against the loopback
 * test server in Anthropic mode: the caller sends and receives OpenAI-shaped
 * JSON, the server sees (and records) a Messages API request. Covers chat, a
 * stream with text, tool calls and thinking, an error event mid-stream, a
 * truncated stream, the retry without thinking, 529 with Retry-After, the
 * ANTHROPIC_API_KEY registration, and keys kept out of errors and logs. */
#include <models.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json_path.h"
#include "test_server.h"

/* The configured key deliberately does not look like an API key (no sk-
 * prefix), so only the library's knowledge of its own key can hide it. */
#define CONFIG_KEY "anthropic-test-key-4242"
#define ENV_KEY "anthropic-env-key-7373"

#define CHECK_JSON(json, path, expected) do { \
    char *v_ = jp_get((json), (path)); \
    check_count++; \
    if (!v_ || strcmp(v_, (expected)) != 0) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: %s is %s, expected %s\n", __FILE__, __LINE__, (path), v_ ? v_ : "(absent)", (expected)); \
    } \
    free(v_); \
} while (0)

#define CHECK_JSON_ABSENT(json, path) do { \
    char *v_ = jp_get((json), (path)); \
    check_count++; \
    if (v_) { check_failures++; fprintf(stderr, "%s:%d: %s is %s, expected it absent\n", __FILE__, __LINE__, (path), v_); } \
    free(v_); \
} while (0)

#define CHECK_NOT_CONTAINS(haystack, needle) do { \
    const char *h_ = (haystack); \
    check_count++; \
    if (h_ && strstr(h_, (needle))) { check_failures++; fprintf(stderr, "%s:%d: \"%s\" contains \"%s\"\n", __FILE__, __LINE__, h_, (needle)); } \
} while (0)

/* ---- Log capture: no line may ever carry a key --------------------------- */

static int log_lines = 0;
static int log_leaks = 0;

static void capture_log(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    log_lines++;
    if (strstr(message, CONFIG_KEY) || strstr(message, ENV_KEY)) {
        log_leaks++;
        fprintf(stderr, "log line leaks a key: %s\n", message);
    }
}

/* ---- Helpers --------------------------------------------------------------- */

/* A router whose one model is anthropic/<model> on the test server, with
 * max_retries 0 unless `extra` says otherwise. */
static models_router *anthropic_router(const char *model, const char *extra) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/%s\",\"timeout_ms\":10000,\"retry_base_ms\":1,%s"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"" CONFIG_KEY "\"}}}",
             model, extra ? extra : "\"max_retries\":0,", ts_url());
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) fprintf(stderr, "models_router_new: %s\n", models_error_message(err));
    CHECK(r != NULL);
    models_error_free(err);
    return r;
}

static int request_count(void) {
    char *requests = ts_get("requests");
    int n = jp_len(requests, "");
    free(requests);
    return n;
}

/* What a stream delivered, gathered from its chunks and thinking callback. */
typedef struct {
    int chunks;
    int wrong_shape;        /* chunks that are not chat.completion.chunk */
    int finish_chunks;      /* chunks with a non-null finish_reason */
    int tool_starts;        /* tool call chunks carrying an id */
    int argument_pieces;
    char content[512];
    char thinking[512];
    char finish_reason[32];
    char tool_id[2][64];
    char tool_name[2][64];
    char arguments[2][256]; /* escaped, as in the chunks */
    char last_usage[128];
} collected;

static void collect_chunk(collected *c, const char *chunk) {
    c->chunks++;
    char *object = jp_get(chunk, "object");
    if (!object || strcmp(object, "\"chat.completion.chunk\"") != 0) c->wrong_shape++;
    free(object);
    jp_append_string(c->content, sizeof c->content, chunk, "choices.0.delta.content");
    char *finish = jp_get(chunk, "choices.0.finish_reason");
    if (finish && strcmp(finish, "null") != 0) {
        c->finish_chunks++;
        snprintf(c->finish_reason, sizeof c->finish_reason, "%s", finish);
        char *usage = jp_get(chunk, "usage");
        snprintf(c->last_usage, sizeof c->last_usage, "%s", usage ? usage : "");
        free(usage);
    }
    free(finish);
    int calls = jp_len(chunk, "choices.0.delta.tool_calls");
    for (int i = 0; i < calls; i++) {
        char path[96];
        snprintf(path, sizeof path, "choices.0.delta.tool_calls.%d.index", i);
        char *index_text = jp_get(chunk, path);
        int index = index_text ? atoi(index_text) : -1;
        free(index_text);
        if (index < 0 || index > 1) { c->wrong_shape++; continue; }
        snprintf(path, sizeof path, "choices.0.delta.tool_calls.%d.id", i);
        char *id = jp_get(chunk, path);
        if (id) {
            c->tool_starts++;
            jp_append_string(c->tool_id[index], sizeof c->tool_id[index], chunk, path);
            snprintf(path, sizeof path, "choices.0.delta.tool_calls.%d.function.name", i);
            jp_append_string(c->tool_name[index], sizeof c->tool_name[index], chunk, path);
        }
        snprintf(path, sizeof path, "choices.0.delta.tool_calls.%d.function.arguments", i);
        char *args = jp_get(chunk, path);
        if (args && strcmp(args, "\"\"") != 0) {
            if (id) c->wrong_shape++; /* arguments come in their own chunks, after the start */
            c->argument_pieces++;
            jp_append_string(c->arguments[index], sizeof c->arguments[index], chunk, path);
        }
        free(args);
        free(id);
    }
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    collected *c = user;
    if (strlen(chunk) != len) c->wrong_shape++;
    collect_chunk(c, chunk);
    return 0;
}

static void on_thinking(void *user, const char *text, size_t len) {
    collected *c = user;
    size_t used = strlen(c->thinking);
    if (used + len < sizeof c->thinking) {
        memcpy(c->thinking + used, text, len);
        c->thinking[used + len] = '\0';
    }
}

/* Reads a pull stream to its end; returns the final code and sets *err on error. */
static models_code drain(models_stream *s, collected *c, models_error **err) {
    for (;;) {
        const char *chunk = NULL;
        size_t len = 0;
        models_code rc = models_stream_next(s, &chunk, &len, err);
        if (rc != MODELS_OK) return rc;
        on_chunk(c, chunk, len);
    }
}

static const char *const weather_tool =
    "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather for a city\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}";

/* ---- Tests -------------------------------------------------------------------- */

static void test_chat_translates_both_ways(void) {
    ts_reset();
    ts_script("claude-test", "[{\"content\": \"Hello there\", \"usage\": {\"input_tokens\": 12, \"output_tokens\": 3}}]");
    models_router *r = anthropic_router("claude-test", NULL);
    char request[2048];
    snprintf(request, sizeof request,
             "{\"messages\":["
             "{\"role\":\"system\",\"content\":\"Be brief.\"},"
             "{\"role\":\"system\",\"content\":\"Answer in English.\"},"
             "{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"},"
             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
             "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
             "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":\"rainy\"},"
             "{\"role\":\"user\",\"content\":\"Summarise.\"}],"
             "\"tools\":[%s,{\"type\":\"function\",\"function\":{\"name\":\"no_schema\"}}],"
             "\"tool_choice\":\"auto\",\"stop\":\"END\",\"temperature\":0.5,"
             "\"presence_penalty\":0.2,\"logprobs\":false,\"n\":1}",
             weather_tool);

    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, request, &response, &err);
    CHECK(rc == MODELS_OK);
    if (err) fprintf(stderr, "chat: %s\n", models_error_message(err));
    CHECK(err == NULL);

    /* The answer, in the chat.completion shape. */
    CHECK_JSON(response, "object", "\"chat.completion\"");
    CHECK_JSON(response, "id", "\"msg_1\"");
    CHECK_JSON(response, "model", "\"anthropic/claude-test\"");
    CHECK_JSON(response, "choices.0.message.role", "\"assistant\"");
    CHECK_JSON(response, "choices.0.message.content", "\"Hello there\"");
    CHECK_JSON(response, "choices.0.finish_reason", "\"stop\"");
    CHECK_JSON(response, "usage.prompt_tokens", "12");
    CHECK_JSON(response, "usage.completion_tokens", "3");
    CHECK_JSON(response, "usage.total_tokens", "15");
    models_free(response);

    /* What reached the wire. */
    char *requests = ts_get("requests");
    CHECK(jp_len(requests, "") == 1);
    CHECK_JSON(requests, "0.method", "\"POST\"");
    CHECK_JSON(requests, "0.path", "\"/v1/messages\"");
    CHECK_JSON(requests, "0.headers.x-api-key", "\"" CONFIG_KEY "\"");
    CHECK_JSON(requests, "0.headers.anthropic-version", "\"2023-06-01\"");
    CHECK_JSON(requests, "0.headers.content-type", "\"application/json\"");
    CHECK_JSON_ABSENT(requests, "0.headers.authorization");
    char *body = jp_get(requests, "0.body");
    CHECK_JSON(body, "model", "\"claude-test\"");
    CHECK_JSON(body, "max_tokens", "16384");
    CHECK_JSON(body, "stream", "false");
    CHECK(jp_len(body, "system") == 1);
    CHECK_JSON(body, "system.0.type", "\"text\"");
    CHECK_JSON(body, "system.0.text", "\"Be brief.\\n\\nAnswer in English.\"");
    CHECK_JSON(body, "system.0.cache_control.type", "\"ephemeral\"");
    /* user, assistant tool_use x2, user tool_result x2 (batched), user. */
    CHECK(jp_len(body, "messages") == 4);
    CHECK_JSON(body, "messages.0.role", "\"user\"");
    CHECK_JSON(body, "messages.0.content.0.text", "\"Weather in Paris and Rome?\"");
    CHECK_JSON(body, "messages.1.role", "\"assistant\"");
    CHECK_JSON(body, "messages.1.content.0.type", "\"tool_use\"");
    CHECK_JSON(body, "messages.1.content.0.id", "\"call_1\"");
    CHECK_JSON(body, "messages.1.content.0.input", "{\"city\":\"Paris\"}");
    CHECK_JSON(body, "messages.1.content.1.input", "{}");
    CHECK_JSON(body, "messages.2.role", "\"user\"");
    CHECK(jp_len(body, "messages.2.content") == 2);
    CHECK_JSON(body, "messages.2.content.0.type", "\"tool_result\"");
    CHECK_JSON(body, "messages.2.content.0.tool_use_id", "\"call_1\"");
    CHECK_JSON(body, "messages.2.content.1.tool_use_id", "\"call_2\"");
    CHECK_JSON(body, "messages.3.content.0.text", "\"Summarise.\"");
    CHECK(jp_len(body, "tools") == 2);
    CHECK_JSON(body, "tools.0.name", "\"get_weather\"");
    CHECK_JSON(body, "tools.0.description", "\"Weather for a city\"");
    CHECK_JSON(body, "tools.0.input_schema.properties.city.type", "\"string\"");
    CHECK_JSON(body, "tools.1.input_schema", "{\"type\":\"object\",\"properties\":{}}");
    CHECK_JSON(body, "tool_choice", "{\"type\":\"auto\"}");
    CHECK_JSON(body, "stop_sequences", "[\"END\"]");
    CHECK_JSON(body, "temperature", "0.5");
    CHECK_JSON_ABSENT(body, "thinking");
    CHECK_JSON_ABSENT(body, "presence_penalty");
    CHECK_JSON_ABSENT(body, "logprobs");
    CHECK_JSON_ABSENT(body, "n");
    CHECK_JSON_ABSENT(body, "tools.0.function");
    free(body);
    free(requests);
    models_router_free(r);
}

static void test_chat_tool_use_and_thinking_answer(void) {
    ts_reset();
    ts_script("claude-test",
              "[{\"thinking\": \"check the weather\", \"tool_calls\": ["
              "{\"id\": \"toolu_1\", \"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}]}]");
    models_router *r = anthropic_router("claude-test", NULL);
    char *response = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}", &response, NULL) == MODELS_OK);
    CHECK_JSON(response, "choices.0.finish_reason", "\"tool_calls\"");
    CHECK_JSON(response, "choices.0.message.content", "null");
    CHECK_JSON(response, "choices.0.message.reasoning_content", "\"check the weather\"");
    CHECK_JSON(response, "choices.0.message.tool_calls.0.id", "\"toolu_1\"");
    CHECK_JSON(response, "choices.0.message.tool_calls.0.type", "\"function\"");
    CHECK_JSON(response, "choices.0.message.tool_calls.0.function.name", "\"get_weather\"");
    CHECK_JSON(response, "choices.0.message.tool_calls.0.function.arguments", "\"{\\\"city\\\":\\\"Paris\\\"}\"");
    models_free(response);
    models_router_free(r);
}

static const char *const stream_script =
    "[{\"content\": \"Let me check the weather.\", \"thinking\": \"I should call the tool twice\","
    " \"tool_calls\": [{\"id\": \"toolu_1\", \"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"},"
    "                  {\"id\": \"toolu_2\", \"name\": \"get_time\", \"arguments\": \"{\\\"zone\\\": \\\"CET\\\"}\"}],"
    " \"usage\": {\"input_tokens\": 20, \"output_tokens\": 9}}]";

static void check_stream_collected(const collected *c) {
    CHECK(c->chunks >= 6);
    CHECK(c->wrong_shape == 0);
    CHECK(strcmp(c->content, "Let me check the weather.") == 0);
    CHECK(strcmp(c->thinking, "I should call the tool twice") == 0);
    /* Tool call indices count tool calls only (the thinking and text blocks come first). */
    CHECK(c->tool_starts == 2);
    CHECK(strcmp(c->tool_id[0], "toolu_1") == 0);
    CHECK(strcmp(c->tool_name[0], "get_weather") == 0);
    CHECK(strcmp(c->tool_id[1], "toolu_2") == 0);
    CHECK(strcmp(c->tool_name[1], "get_time") == 0);
    CHECK(strcmp(c->arguments[0], "{\\\"city\\\": \\\"Paris\\\"}") == 0);
    CHECK(strcmp(c->arguments[1], "{\\\"zone\\\": \\\"CET\\\"}") == 0);
    CHECK(c->argument_pieces >= 4); /* the server sends each in 2+ pieces */
    CHECK(c->finish_chunks == 1);
    CHECK(strcmp(c->finish_reason, "\"tool_calls\"") == 0);
    CHECK_STR_CONTAINS(c->last_usage, "\"prompt_tokens\":20");
    CHECK_STR_CONTAINS(c->last_usage, "\"completion_tokens\":9");
}

static void test_stream_push_text_tools_thinking(void) {
    ts_reset();
    ts_script("claude-test", stream_script);
    models_router *r = anthropic_router("claude-test", NULL);
    collected c;
    memset(&c, 0, sizeof c);
    models_error *err = NULL;
    models_code rc = models_chat_stream(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"weather and time?\"}]}",
                                        on_chunk, on_thinking, &c, &err);
    CHECK(rc == MODELS_OK);
    if (err) fprintf(stderr, "stream: %s\n", models_error_message(err));
    models_error_free(err);
    check_stream_collected(&c);

    char *requests = ts_get("requests");
    CHECK_JSON(requests, "0.path", "\"/v1/messages\"");
    CHECK_JSON(requests, "0.headers.accept", "\"text/event-stream\"");
    CHECK_JSON(requests, "0.headers.x-api-key", "\"" CONFIG_KEY "\"");
    CHECK_JSON(requests, "0.headers.anthropic-version", "\"2023-06-01\"");
    CHECK_JSON(requests, "0.body.stream", "true");
    free(requests);
    models_router_free(r);
}

static void test_stream_pull_text_tools_thinking(void) {
    ts_reset();
    ts_script("claude-test", stream_script);
    models_router *r = anthropic_router("claude-test", NULL);
    collected c;
    memset(&c, 0, sizeof c);
    models_error *err = NULL;
    models_stream *s = models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"weather and time?\"}]}", &err);
    CHECK(s != NULL);
    if (s) {
        models_stream_on_thinking(s, on_thinking, &c);
        CHECK(drain(s, &c, &err) == MODELS_DONE);
        check_stream_collected(&c);
        int64_t input = -1, output = -1;
        models_stream_usage(s, &input, &output);
        CHECK(input == 20);
        CHECK(output == 9);
        CHECK(models_stream_model(s) && strcmp(models_stream_model(s), "anthropic/claude-test") == 0);
        models_stream_close(s);
    }
    models_error_free(err);
    models_router_free(r);
}

static void test_stream_error_event(void) {
    /* After message_start, a text block start and a ping: overloaded, transient. */
    ts_reset();
    ts_script("claude-test", "[{\"content\": \"one two three\", \"error_after\": 4,"
                             " \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded right now\"}}]");
    models_router *r = anthropic_router("claude-test", NULL);
    collected c;
    memset(&c, 0, sizeof c);
    models_error *err = NULL;
    models_code rc = models_chat_stream(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", on_chunk, NULL, &c, &err);
    CHECK(rc == MODELS_ERR_API);
    CHECK(models_error_code(err) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "overloaded_error");
    CHECK_STR_CONTAINS(models_error_message(err), "Overloaded right now");
    CHECK(models_error_is_transient(err) == 1);
    CHECK(c.chunks >= 1);              /* what came before the error stays delivered */
    CHECK(c.finish_chunks == 0);
    CHECK(request_count() == 1);       /* the stream was the provider's: no retry */
    models_error_free(err);

    /* An invalid_request_error in the stream is not worth retrying; the pull
     * API reports it too, and keeps reporting it. */
    ts_script("claude-test", "[{\"content\": \"one two\", \"error_after\": 4,"
                             " \"error\": {\"type\": \"invalid_request_error\", \"message\": \"bad input\"}}]");
    err = NULL;
    models_stream *s = models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &err);
    CHECK(s != NULL);
    if (s) {
        memset(&c, 0, sizeof c);
        CHECK(drain(s, &c, &err) == MODELS_ERR_API);
        CHECK_STR_CONTAINS(models_error_message(err), "invalid_request_error: bad input");
        CHECK(models_error_is_transient(err) == 0);
        models_error_free(err);
        err = NULL;
        const char *chunk = NULL;
        CHECK(models_stream_next(s, &chunk, NULL, &err) == MODELS_ERR_API);
        CHECK(chunk == NULL);
        models_stream_close(s);
    }
    models_error_free(err);
    models_router_free(r);
}

static void test_truncated_stream(void) {
    ts_reset();
    ts_script("claude-test", "[{\"content\": \"cut short\", \"omit_terminator\": true}]");
    models_router *r = anthropic_router("claude-test", NULL);
    collected c;
    memset(&c, 0, sizeof c);
    models_error *err = NULL;
    models_code rc = models_chat_stream(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", on_chunk, NULL, &c, &err);
    CHECK(rc == MODELS_ERR_PROTOCOL);
    CHECK(models_error_code(err) == MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "message_stop");
    CHECK(strcmp(c.content, "cut short") == 0); /* delivered before the end was found missing */
    models_error_free(err);

    /* The same through the pull API, and models_stream_collect. */
    ts_script("claude-test", "[{\"content\": \"cut short\", \"omit_terminator\": true}]");
    err = NULL;
    models_stream *s = models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &err);
    CHECK(s != NULL);
    char *text = (char *)0x1;
    CHECK(models_stream_collect(s, &text, &err) == MODELS_ERR_PROTOCOL);
    CHECK(text == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_PROTOCOL);
    models_error_free(err);
    models_stream_close(s);

    /* A connection reset mid-stream is never a clean end: a transport error
     * (a body that ends properly without message_stop is the protocol error above). */
    ts_script("claude-test", "[{\"content\": \"a b c d e f\", \"drop_after\": 5}]");
    memset(&c, 0, sizeof c);
    err = NULL;
    rc = models_chat_stream(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", on_chunk, NULL, &c, &err);
    CHECK(rc == MODELS_ERR_TRANSPORT);
    CHECK(models_error_code(err) == rc);
    models_error_free(err);
    models_router_free(r);
}

static const char *const thinking_rejection =
    "{\"status\": 400, \"body\": {\"type\": \"error\", \"error\": {\"type\": \"invalid_request_error\","
    " \"message\": \"thinking: extended thinking is not supported by this model\"}}}";

static void test_thinking_rejection_retry(void) {
    const char *thinking_on = "\"max_retries\":0,\"thinking\":{\"level\":\"enabled\",\"budget_tokens\":2048},";
    models_router *r = anthropic_router("claude-test", thinking_on);
    const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1000}";

    /* chat: a 400 about thinking, then the same request without it succeeds. */
    ts_reset();
    char steps[1024];
    snprintf(steps, sizeof steps, "[%s, {\"content\": \"fine without\"}]", thinking_rejection);
    ts_script("claude-test", steps);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_OK);
    CHECK_JSON(response, "choices.0.message.content", "\"fine without\"");
    models_free(response);
    models_error_free(err);
    char *requests = ts_get("requests");
    CHECK(jp_len(requests, "") == 2);
    CHECK_JSON(requests, "0.body.thinking", "{\"type\":\"enabled\",\"budget_tokens\":2048}");
    CHECK_JSON_ABSENT(requests, "1.body.thinking");
    CHECK_JSON(requests, "1.body.messages.0.content.0.text", "\"hi\"");
    free(requests);

    /* The same for a stream. */
    ts_reset();
    ts_script("claude-test", steps);
    collected c;
    memset(&c, 0, sizeof c);
    err = NULL;
    CHECK(models_chat_stream(r, request, on_chunk, NULL, &c, &err) == MODELS_OK);
    CHECK(strcmp(c.content, "fine without") == 0);
    models_error_free(err);
    requests = ts_get("requests");
    CHECK(jp_len(requests, "") == 2);
    CHECK(jp_find(requests, "0.body.thinking") != NULL);
    CHECK_JSON_ABSENT(requests, "1.body.thinking");
    CHECK_JSON(requests, "1.body.stream", "true");
    free(requests);

    /* Only once: a second rejection is the caller's error. */
    ts_reset();
    snprintf(steps, sizeof steps, "[%s, %s]", thinking_rejection, thinking_rejection);
    ts_script("claude-test", steps);
    err = NULL;
    response = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 400);
    CHECK_STR_CONTAINS(models_error_message(err), "extended thinking is not supported");
    CHECK(request_count() == 2);
    models_error_free(err);

    /* A 400 about something else is not retried. */
    ts_reset();
    ts_script("claude-test", "[{\"status\": 400, \"body\": {\"type\": \"error\", \"error\": {\"type\": \"invalid_request_error\","
                             " \"message\": \"messages: too many\"}}}, {\"content\": \"unused\"}]");
    err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 400);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "invalid_request_error");
    CHECK(request_count() == 1);
    models_error_free(err);
    models_router_free(r);

    /* Nor is a 400 that mentions thinking when no thinking was sent. */
    r = anthropic_router("claude-test", NULL);
    ts_reset();
    snprintf(steps, sizeof steps, "[%s, {\"content\": \"unused\"}]", thinking_rejection);
    ts_script("claude-test", steps);
    err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_API);
    CHECK(request_count() == 1);
    models_error_free(err);
    models_router_free(r);
}

static void test_thinking_config_reaches_request(void) {
    /* level enabled with a budget: thinking is sent, max_tokens raised to budget + 4096
     * when it is not above the budget, temperature dropped (Anthropic refuses it). */
    models_router *r = anthropic_router("claude-test", "\"max_retries\":0,\"thinking\":{\"level\":\"enabled\",\"budget_tokens\":4096},");
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1000,\"temperature\":0.3}",
                      &response, NULL) == MODELS_OK);
    models_free(response);
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":20000}",
                      &response, NULL) == MODELS_OK);
    models_free(response);
    char *requests = ts_get("requests");
    CHECK_JSON(requests, "0.body.thinking", "{\"type\":\"enabled\",\"budget_tokens\":4096}");
    CHECK_JSON(requests, "0.body.max_tokens", "8192");
    CHECK_JSON_ABSENT(requests, "0.body.temperature");
    CHECK_JSON(requests, "1.body.max_tokens", "20000");
    free(requests);
    models_router_free(r);

    /* Claude 4.6 thinks by default (budget 8192); level off turns it off. */
    r = anthropic_router("claude-sonnet-4-6", NULL);
    ts_reset();
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL) == MODELS_OK);
    models_free(response);
    models_router_free(r);
    r = anthropic_router("claude-sonnet-4-6", "\"max_retries\":0,\"thinking\":{\"level\":\"off\"},");
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL) == MODELS_OK);
    models_free(response);
    models_router_free(r);
    requests = ts_get("requests");
    CHECK_JSON(requests, "0.body.thinking", "{\"type\":\"enabled\",\"budget_tokens\":8192}");
    CHECK_JSON(requests, "0.body.max_tokens", "16384");
    CHECK_JSON_ABSENT(requests, "1.body.thinking");
    free(requests);
}

static void test_overloaded_with_retry_after(void) {
    ts_reset();
    ts_script("claude-test", "[{\"status\": 529, \"headers\": {\"Retry-After\": \"3\"}}]");
    models_router *r = anthropic_router("claude-test", NULL);
    char *response = (char *)0x1;
    models_error *err = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, &err) == MODELS_ERR_API);
    CHECK(response == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 529);
    CHECK(models_error_retry_after_ms(err) == 3000);
    CHECK(models_error_is_transient(err) == 1);
    CHECK_STR_CONTAINS(models_error_message(err), "529");
    CHECK_STR_CONTAINS(models_error_message(err), "overloaded_error");
    CHECK_STR_CONTAINS(models_error_message(err), "scripted error 529");
    CHECK(request_count() == 1);
    models_error_free(err);

    /* The same when opening a stream. */
    ts_script("claude-test", "[{\"status\": 529, \"headers\": {\"Retry-After\": \"2\"}}]");
    err = NULL;
    CHECK(models_stream_open(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &err) == NULL);
    CHECK(models_error_status(err) == 529);
    CHECK(models_error_retry_after_ms(err) == 2000);
    CHECK(models_error_is_transient(err) == 1);
    models_error_free(err);

    /* A gateway's 200 with an Anthropic error body is that error, not a broken answer. */
    ts_script("claude-test", "[{\"body\": {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"busy\"}}}]");
    err = NULL;
    response = (char *)0x1;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, &err) == MODELS_ERR_API);
    CHECK(response == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "overloaded_error: busy");
    CHECK(models_error_is_transient(err) == 1);
    models_error_free(err);
    models_router_free(r);

    /* With retries allowed, the router tries the model again after a 529. */
    ts_reset();
    ts_script("claude-test", "[{\"status\": 529}, {\"content\": \"second time lucky\"}]");
    r = anthropic_router("claude-test", "\"max_retries\":1,");
    response = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL) == MODELS_OK);
    CHECK_JSON(response, "choices.0.message.content", "\"second time lucky\"");
    CHECK(request_count() == 2);
    models_free(response);
    models_router_free(r);
}

static void test_env_key_registers_provider(void) {
    char config[1024];

    unsetenv("ANTHROPIC_API_KEY");
    models_router *r = models_router_new("{\"primary\":\"anthropic/claude-test\"}", NULL);
    CHECK(r != NULL);
    char *providers = models_router_providers(r);
    CHECK_NOT_CONTAINS(providers, "\"anthropic\"");
    models_free(providers);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, &err) == MODELS_ERR_NO_PROVIDER);
    models_error_free(err);
    models_router_free(r);

    setenv("ANTHROPIC_API_KEY", ENV_KEY, 1);
    /* The config does not name anthropic (nor use it): the key alone registers it. */
    r = models_router_new("{\"primary\":\"openai/gpt-4o\"}", NULL);
    CHECK(r != NULL);
    providers = models_router_providers(r);
    CHECK_STR_CONTAINS(providers, "\"anthropic\"");
    models_free(providers);
    models_router_free(r);
    r = models_router_new("{\"primary\":\"anthropic/claude-test\"}", NULL);
    char *health = models_router_health(r);
    CHECK_JSON(health, "0.provider", "\"anthropic\"");
    CHECK_JSON(health, "0.available", "true");
    models_free(health);
    models_router_free(r);

    /* A config that names only the base URL sends the key from the environment. */
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-test\",\"max_retries\":0,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\"}}}", ts_url());
    r = models_router_new(config, NULL);
    CHECK(r != NULL);
    ts_reset();
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &response, NULL) == MODELS_OK);
    models_free(response);
    char *requests = ts_get("requests");
    CHECK_JSON(requests, "0.headers.x-api-key", "\"" ENV_KEY "\"");
    free(requests);
    models_router_free(r);
    unsetenv("ANTHROPIC_API_KEY");
}

static void test_key_never_in_errors(void) {
    const char *quoting_401 =
        "[{\"status\": 401, \"body\": {\"type\": \"error\", \"error\": {\"type\": \"authentication_error\","
        " \"message\": \"invalid x-api-key: " CONFIG_KEY "\"}}}]";
    models_router *r = anthropic_router("claude-test", NULL);
    const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    ts_reset();
    ts_script("claude-test", quoting_401);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "invalid x-api-key");
    CHECK_NOT_CONTAINS(models_error_message(err), CONFIG_KEY);
    models_error_free(err);

    ts_script("claude-test", quoting_401);
    err = NULL;
    CHECK(models_stream_open(r, request, &err) == NULL);
    CHECK(models_error_status(err) == 401);
    CHECK_NOT_CONTAINS(models_error_message(err), CONFIG_KEY);
    models_error_free(err);

    /* An error event inside a stream that quotes the key. */
    ts_script("claude-test", "[{\"content\": \"x\", \"error_after\": 1, \"error\": {\"type\": \"authentication_error\","
                             " \"message\": \"key " CONFIG_KEY " was revoked\"}}]");
    collected c;
    memset(&c, 0, sizeof c);
    err = NULL;
    CHECK(models_chat_stream(r, request, on_chunk, NULL, &c, &err) == MODELS_ERR_API);
    CHECK_STR_CONTAINS(models_error_message(err), "was revoked");
    CHECK_NOT_CONTAINS(models_error_message(err), CONFIG_KEY);
    models_error_free(err);
    models_router_free(r);
}

int main(void) {
    models_set_log_handler(capture_log, NULL, MODELS_LOG_DEBUG);
    test_chat_translates_both_ways();
    test_chat_tool_use_and_thinking_answer();
    test_stream_push_text_tools_thinking();
    test_stream_pull_text_tools_thinking();
    test_stream_error_event();
    test_truncated_stream();
    test_thinking_rejection_retry();
    test_thinking_config_reaches_request();
    test_overloaded_with_retry_after();
    test_env_key_registers_provider();
    test_key_never_in_errors();
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(log_lines > 0); /* the handler saw the retries and failures it had to vet */
    CHECK(log_leaks == 0);
    return check_report("test_anthropic");
}
