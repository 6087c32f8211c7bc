/* SPDX-License-Identifier: Apache-2.0 */
/* provider.c: a provider written in C.
 *
 * "shout" answers with the last user message in capitals: a stand-in for a
 * local model, an in-house service or a test double. Registered on a router
 * under the name "local", it is routed, retried, cooled down and streamed
 * exactly like a built-in provider. To show retries, its first call fails
 * with a 503, which the router classifies as transient and retries.
 *
 *   ./provider "hello from c"
 *
 * Needs no network and no API key.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <ctype.h>
#include <jansson.h>
#include <models.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shout {
    atomic_int calls; /* callbacks may run on several threads at once */
};

/* The last user message of an OpenAI-shaped request, in capitals (malloc'd). */
static char *shout_text(const char *request_json) {
    json_t *request = json_loads(request_json, 0, NULL);
    const char *text = "";
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(request, "messages"), i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        const char *content = json_string_value(json_object_get(m, "content"));
        if (role && content && strcmp(role, "user") == 0) text = content;
    }
    char *loud = strdup(text);
    for (char *p = loud; *p; p++) *p = (char)toupper((unsigned char)*p);
    json_decref(request);
    return loud;
}

/* chat: answer with a "chat.completion" object, allocated with malloc(). */
static int shout_chat(void *user, const char *model_id, const char *request_json,
                      char **response_json, models_error **err) {
    struct shout *s = user;
    if (atomic_fetch_add(&s->calls, 1) == 0) {
        /* A transient failure: the router will retry. A 400 would not be retried. */
        *err = models_error_new(MODELS_ERR_API, "shout is warming up", 503, 0);
        return MODELS_ERR_API;
    }
    char *text = shout_text(request_json);
    json_t *response = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}",
                                 "id", "shout-1", "object", "chat.completion", "created", 0, "model", model_id,
                                 "choices", "index", 0, "message", "role", "assistant", "content", text,
                                 "finish_reason", "stop",
                                 "usage", "prompt_tokens", 1, "completion_tokens", 1, "total_tokens", 2);
    *response_json = json_dumps(response, 0); /* jansson allocates with malloc() */
    json_decref(response);
    free(text);
    return MODELS_OK;
}

/* A stream hands out one word per chunk, then a final chunk with the usage. */
struct shout_stream {
    char *text, *next_word;
    char *chunk; /* the chunk lent to the library until the next call */
    int words;
};

static int shout_stream_open(void *user, const char *model_id, const char *request_json,
                             void **stream, models_error **err) {
    (void)user;
    (void)model_id;
    (void)err;
    struct shout_stream *st = calloc(1, sizeof *st);
    st->text = st->next_word = shout_text(request_json);
    *stream = st;
    return MODELS_OK;
}

static int shout_stream_next(void *user, void *stream, const char **chunk_json, size_t *len,
                             models_error **err) {
    (void)user;
    (void)err;
    struct shout_stream *st = stream;
    free(st->chunk);
    st->chunk = NULL;
    json_t *chunk;
    if (st->next_word && *st->next_word) {
        char *end = strchr(st->next_word, ' ');
        size_t n = end ? (size_t)(end - st->next_word) + 1 : strlen(st->next_word);
        chunk = json_pack("{s:s, s:[{s:i, s:{s:s%}, s:n}]}", "object", "chat.completion.chunk", "choices",
                          "index", 0, "delta", "content", st->next_word, n, "finish_reason");
        st->next_word += n;
        st->words++;
    } else if (st->next_word) {
        chunk = json_pack("{s:s, s:[{s:i, s:{}, s:s}], s:{s:i, s:i, s:i}}", "object", "chat.completion.chunk",
                          "choices", "index", 0, "delta", "finish_reason", "stop", "usage", "prompt_tokens",
                          st->words, "completion_tokens", st->words, "total_tokens", 2 * st->words);
        st->next_word = NULL; /* the next call ends the stream */
    } else {
        return MODELS_DONE;
    }
    st->chunk = json_dumps(chunk, 0);
    json_decref(chunk);
    *chunk_json = st->chunk;
    *len = strlen(st->chunk);
    return MODELS_OK;
}

static void shout_stream_close(void *user, void *stream) {
    (void)user;
    struct shout_stream *st = stream;
    free(st->chunk);
    free(st->text);
    free(st);
}

static void shout_destroy(void *user) {
    printf("(the router released the provider after %d calls)\n", atomic_load(&((struct shout *)user)->calls));
}

static int print_chunk(void *user, const char *chunk_json, size_t len) {
    (void)user;
    json_t *chunk = json_loadb(chunk_json, len, 0, NULL);
    json_t *delta = json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "delta");
    const char *text = json_string_value(json_object_get(delta, "content"));
    if (text) printf("[%s]", text);
    json_decref(chunk);
    return 0;
}

static void log_line(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    fprintf(stderr, "  [libmodels] %s\n", message);
}

int main(int argc, char **argv) {
    const char *prompt = argc > 1 ? argv[1] : "hello from a provider written in c";
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines and the log lines in order in a pipe */
    models_set_log_handler(log_line, NULL, MODELS_LOG_INFO);

    models_error *err = NULL;
    models_router *router = models_router_new(
        "{\"primary\": \"local/shout\", \"max_retries\": 2, \"retry_base_ms\": 50}", &err);
    struct shout state = {0};
    const models_provider_callbacks callbacks = {
        .size = sizeof callbacks, /* lets a later library know which struct this is */
        .chat = shout_chat,
        .stream_open = shout_stream_open,
        .stream_next = shout_stream_next,
        .stream_close = shout_stream_close,
        .destroy = shout_destroy,
    };
    if (!router || models_router_add_provider(router, "local", &callbacks, &state, &err) != MODELS_OK) {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        models_router_free(router);
        return 1;
    }

    json_t *request = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content", prompt);
    char *request_text = json_dumps(request, 0);
    json_decref(request);

    char *reply = NULL;
    int failed = 0;
    if (models_chat(router, request_text, &reply, &err) == MODELS_OK) {
        json_t *response = json_loads(reply, 0, NULL);
        json_t *message = json_object_get(json_array_get(json_object_get(response, "choices"), 0), "message");
        printf("chat:   %s (from %s)\n", json_string_value(json_object_get(message, "content")),
               json_string_value(json_object_get(response, "model")));
        json_decref(response);
        models_free(reply);
    } else {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        failed = 1;
    }

    printf("stream: ");
    if (models_chat_stream(router, request_text, print_chunk, NULL, NULL, &err) != MODELS_OK) {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        failed = 1;
    }
    printf("\n");

    free(request_text);
    models_router_free(router); /* calls shout_destroy */
    models_set_log_handler(NULL, NULL, 0);
    return failed;
}
