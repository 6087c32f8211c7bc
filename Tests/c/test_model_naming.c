/* SPDX-License-Identifier: Apache-2.0 */
/* The answer, every chunk and the stream handle name the model the same way:
 * the full routed name ("local/gpt-4o", a group's deployment "local/d1"), the
 * model that answered. Whatever the provider put in its chunks ("gpt-4o",
 * Anthropic's own id, null, nothing) is replaced; a chunk without "model" gets
 * one (the openai SDK's ChatCompletionChunk requires it). Checked for an
 * OpenAI-compatible server, Anthropic, a fallback, a group and a C provider,
 * through models_chat, models_chat_stream (push) and models_stream_next (pull). */
#define _GNU_SOURCE
#include "test_util.h"
#include "json_path.h"

#include <ctype.h>

/* ---- The top-level "model" of a JSON object, without a JSON library -------- */

/* Copies the raw text of the object's top-level "model" value (quotes kept)
 * to out and returns how many top-level "model" members it has (-1: not an object). */
static int top_model(const char *json, char *out, size_t size) {
    out[0] = '\0';
    const char *p = jp_ws(json);
    if (*p != '{') return -1;
    int n = 0;
    p = jp_ws(p + 1);
    while (*p == '"') {
        const char *key_end = jp_skip(p);
        if (!key_end) return -1;
        int is_model = key_end - p == 7 && memcmp(p, "\"model\"", 7) == 0;
        p = jp_ws(key_end);
        if (*p != ':') return -1;
        const char *value = jp_ws(p + 1), *end = jp_skip(value);
        if (!end) return -1;
        if (is_model) {
            n++;
            snprintf(out, size, "%.*s", (int)(end - value), value);
        }
        p = jp_ws(end);
        if (*p == ',') p = jp_ws(p + 1);
    }
    return n;
}

/* ---- What a stream delivered ------------------------------------------------ */

struct seen {
    const char *want;  /* the expected "model" value, quoted */
    int chunks, named, usage_chunks;
    char first_bad[512];
};

static void see(struct seen *s, const char *chunk, size_t len) {
    char model[256];
    s->chunks++;
    if (strlen(chunk) == len && top_model(chunk, model, sizeof model) == 1 && strcmp(model, s->want) == 0) {
        s->named++;
    } else if (!s->first_bad[0]) {
        snprintf(s->first_bad, sizeof s->first_bad, "%s", chunk);
    }
    if (strstr(chunk, "\"usage\"")) s->usage_chunks++;
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    see(user, chunk, len);
    return 0;
}

static void report(const char *what, const char *how, const struct seen *s) {
    if (s->named != s->chunks || s->chunks == 0)
        fprintf(stderr, "  %s (%s): %d of %d chunks named %s; first other: %s\n", what, how, s->named, s->chunks,
                s->want, s->first_bad);
}

/* Chat, push stream and pull stream with `request`, each after `script(n)`
 * (n = 0, 1, 2 in that order):
 * the answer's model, every chunk's and models_stream_model() must be `want`.
 * `usage`: the streams end with a usage chunk (named too). */
static void check_names(const char *what, models_router *r, const char *request, void (*script)(int),
                        const char *want, int usage) {
    char quoted[256], model[256];
    snprintf(quoted, sizeof quoted, "\"%s\"", want);
    models_error *err = NULL;

    if (script) script(0);
    char *answer = NULL;
    CHECK(models_chat(r, request, &answer, &err) == MODELS_OK);
    CHECK(answer && top_model(answer, model, sizeof model) == 1 && strcmp(model, quoted) == 0);
    if (!answer || strcmp(model, quoted) != 0)
        fprintf(stderr, "  %s (chat): %s\n", what, answer ? answer : models_error_message(err));
    models_free(answer);
    models_error_free(err);
    err = NULL;

    char stream_request[1024];
    snprintf(stream_request, sizeof stream_request, "%.*s,\"stream\":true}", (int)strlen(request) - 1, request);

    if (script) script(1);
    struct seen pushed = {quoted, 0, 0, 0, ""};
    CHECK(models_chat_stream(r, stream_request, on_chunk, NULL, &pushed, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  %s (push): %s\n", what, models_error_message(err));
    CHECK(pushed.chunks > 1 && pushed.named == pushed.chunks);
    CHECK(!usage || pushed.usage_chunks == 1);
    report(what, "push", &pushed);
    models_error_free(err);
    err = NULL;

    if (script) script(2);
    struct seen pulled = {quoted, 0, 0, 0, ""};
    models_stream *s = models_stream_open(r, stream_request, &err);
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "  %s (pull): %s\n", what, models_error_message(err));
    CHECK(s && strcmp(models_stream_model(s), want) == 0);
    const char *chunk;
    size_t len;
    models_code rc = MODELS_DONE;
    while (s && (rc = models_stream_next(s, &chunk, &len, &err)) == MODELS_OK) see(&pulled, chunk, len);
    CHECK(rc == MODELS_DONE);
    CHECK(pulled.chunks > 1 && pulled.named == pulled.chunks);
    CHECK(!usage || pulled.usage_chunks == 1);
    report(what, "pull", &pulled);
    models_stream_close(s);
    models_error_free(err);
}

/* ---- OpenAI-compatible ------------------------------------------------------- */

/* The server names its own model id in the answer and the chunks ("gpt-4o"). */
static void test_openai_compatible(void) {
    models_router *r = router_from("\"primary\":\"local/gpt-4o\"");
    ts_reset();
    check_names("openai-compatible", r, HELLO, NULL, "local/gpt-4o", 1);
    models_router_free(r);
}

/* Chunks with no "model", a null one, a number, spacing around it: all named;
 * and an answer without "model". */
static void script_odd_chunks(int call) {
    ts_reset();
    if (call == 0) {
        ts_script("m1", "[{\"body\":{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                        "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}}]");
        return;
    }
    ts_script("m1", "[{\"sse\":["
                    "\"data: {\\\"id\\\":\\\"c\\\",\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"role\\\":\\\"assistant\\\"}}]}\\n\\n\","
                    "\"data: {\\\"model\\\":null,\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"hi\\\"}}]}\\n\\n\","
                    "\"data: { \\\"model\\\" : 5 , \\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{},\\\"finish_reason\\\":\\\"stop\\\"}]}\\n\\n\","
                    "\"data: {}\\n\\n\","
                    "\"data: [DONE]\\n\\n\"]}]");
}

static void test_chunks_without_a_model_get_one(void) {
    models_router *r = local_router("");
    check_names("odd chunks", r, HELLO, script_odd_chunks, "local/m1", 0);
    models_router_free(r);
}

/* ---- Anthropic --------------------------------------------------------------- */

/* The server reports its own id ("claude-x") in the message and message_start. */
static void test_anthropic(void) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-x\",\"max_retries\":0,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    check_names("anthropic", r, HELLO, NULL, "anthropic/claude-x", 1);
    models_router_free(r);
}

/* ---- A fallback: the model that answered ------------------------------------- */

/* The primary fails: a 500 for the chat, an error event after its role chunk
 * for the streams (that chunk was held back, and is not the caller's). The
 * fallback's own held-back role chunk is named too. */
static void script_primary_fails(int call) {
    ts_reset();
    ts_script("m1", call == 0 ? "[{\"status\":500}]" : "[{\"error_after\":1}]");
}

static void test_fallback(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0");
    check_names("fallback", r, HELLO, script_primary_fails, "local/m2", 1);
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
    models_router_free(r);
}

/* ---- A group deployment ------------------------------------------------------ */

static void test_group_deployment(void) {
    models_router *r = router_from("\"primary\":\"g\",\"model_groups\":{\"g\":{\"deployments\":[{\"model\":\"local/d1\"}]}}");
    ts_reset();
    check_names("group", r, HELLO, NULL, "local/d1", 1);
    models_router_free(r);
}

/* ---- A C provider ------------------------------------------------------------ */

static const char *const c_chunks[] = {
    "{\"id\":\"p\",\"object\":\"chat.completion.chunk\",\"model\":\"whatever\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}",
    "{\"model\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
};

static int cp_chat(void *user, const char *model_id, const char *request_json, char **response_json, models_error **err) {
    (void)user, (void)model_id, (void)request_json, (void)err;
    *response_json = strdup("{\"id\":\"p\",\"object\":\"chat.completion\",\"model\":\"x\",\"choices\":[{\"index\":0,"
                            "\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}");
    return MODELS_OK;
}

static int cp_open(void *user, const char *model_id, const char *request_json, void **stream, models_error **err) {
    (void)user, (void)model_id, (void)request_json, (void)err;
    *stream = calloc(1, sizeof(size_t));
    return MODELS_OK;
}

static int cp_next(void *user, void *stream, const char **chunk_json, size_t *len, models_error **err) {
    (void)user, (void)err;
    size_t *next = stream;
    if (*next >= sizeof c_chunks / sizeof *c_chunks) return MODELS_DONE;
    *chunk_json = c_chunks[*next];
    *len = strlen(c_chunks[*next]);
    ++*next;
    return MODELS_OK;
}

static void cp_close(void *user, void *stream) {
    (void)user;
    free(stream);
}

static void test_c_provider(void) {
    models_router *r = router_or_exit("{\"primary\":\"cp/x\"}");
    models_provider_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.chat = cp_chat;
    cb.stream_open = cp_open;
    cb.stream_next = cp_next;
    cb.stream_close = cp_close;
    CHECK(models_router_add_provider(r, "cp", &cb, NULL, NULL) == MODELS_OK);
    check_names("C provider", r, HELLO, NULL, "cp/x", 1);
    models_router_free(r);
}

int main(void) {
    test_openai_compatible();
    test_chunks_without_a_model_get_one();
    test_anthropic();
    test_fallback();
    test_group_deployment();
    test_c_provider();
    return check_report("test_model_naming");
}
