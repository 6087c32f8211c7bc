/* SPDX-License-Identifier: Apache-2.0 */
/* stream.c: push streaming. The library calls us back with every chunk as it
 * arrives; we print the answer's text on stdout as it comes and the model's
 * thinking (Anthropic extended thinking) on stderr.
 *
 *   ANTHROPIC_API_KEY=sk-ant-... ./stream "Explain TCP slow start briefly."
 *   MODELS_TEST_SERVER=http://127.0.0.1:PORT ./stream   # the loopback test server
 *
 * Chunks are "chat.completion.chunk" objects, the same shape for Anthropic as
 * for OpenAI: the library translates Anthropic's events.
 */
#include <jansson.h>
#include <models.h>
#include <stdio.h>
#include <stdlib.h>

struct progress {
    long long prompt_tokens, completion_tokens;
};

/* Called on this thread for each chunk; returning non-zero would stop the stream. */
static int on_chunk(void *user, const char *chunk_json, size_t len) {
    struct progress *p = user;
    json_t *chunk = json_loadb(chunk_json, len, 0, NULL);
    json_t *delta = json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "delta");
    const char *text = json_string_value(json_object_get(delta, "content"));
    if (text) {
        fputs(text, stdout);
        fflush(stdout); /* show each piece now, not when a buffer fills */
    }
    json_t *usage = json_object_get(chunk, "usage"); /* the last chunk carries the token counts */
    if (json_is_object(usage)) {
        p->prompt_tokens = json_integer_value(json_object_get(usage, "prompt_tokens"));
        p->completion_tokens = json_integer_value(json_object_get(usage, "completion_tokens"));
    }
    json_decref(chunk);
    return 0;
}

/* Thinking text is not NUL-terminated: print exactly `len` bytes. */
static void on_thinking(void *user, const char *text, size_t len) {
    (void)user;
    fprintf(stderr, "%.*s", (int)len, text);
}

int main(int argc, char **argv) {
    const char *prompt = argc > 1 ? argv[1] : "Write a haiku about streams.";

    /* Anthropic through its native Messages API, with extended thinking on.
     * MODELS_TEST_SERVER (ctest, ./scripts/demo) points it at the loopback
     * server, which speaks the same wire format; otherwise the key comes from
     * ANTHROPIC_API_KEY. */
    char config[1024];
    const char *server = getenv("MODELS_TEST_SERVER");
    char providers[512] = "";
    if (server)
        snprintf(providers, sizeof providers, ", \"providers\": {\"anthropic\": "
                 "{\"base_url\": \"%s/anthropic/v1\", \"api_key\": \"test-key\"}}", server);
    snprintf(config, sizeof config,
             "{\"primary\": \"anthropic/claude-sonnet-4-6\", "
             "\"thinking\": {\"level\": \"enabled\", \"budget_tokens\": 1024}%s}", providers);

    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (!router) {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        return 1;
    }

    json_t *request = json_pack("{s:[{s:s, s:s}], s:i}", "messages", "role", "user",
                                "content", prompt, "max_tokens", 2048);
    char *request_text = json_dumps(request, 0);
    json_decref(request);

    /* Blocks until the stream ends, calling on_chunk/on_thinking on this thread. */
    struct progress progress = {0, 0};
    models_code code = models_chat_stream(router, request_text, on_chunk, on_thinking, &progress, &err);
    free(request_text);
    printf("\n");
    if (code != MODELS_OK) {
        /* Chunks that arrived before a failure stay printed. */
        fprintf(stderr, "error: %s (%s)\n", models_error_message(err), models_code_name(code));
        models_error_free(err);
        models_router_free(router);
        return 1;
    }
    printf("-- %lld prompt + %lld completion tokens\n", progress.prompt_tokens, progress.completion_tokens);
    models_router_free(router);
    return 0;
}
