/* SPDX-License-Identifier: Apache-2.0 */
/* many.c: thousands of streams at once on one thread, with the engine.
 *
 *   MODELS_TEST_SERVER=http://127.0.0.1:PORT ./many [STREAMS]   # the loopback test server
 *   OPENAI_API_KEY=sk-... ./many 20
 *
 * The engine runs every call from this thread: we watch its descriptor with
 * poll(), as an event loop would, and models_engine_process() calls us back
 * with chunks and completions. No thread per call, no thread at all.
 */
#include <models.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct totals {
    long chunks, ok, failed;
    char first_error[256];
};

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Called on this thread, inside models_engine_process(), for every chunk of every stream. */
static int on_chunk(void *user, const char *chunk_json, size_t len) {
    (void)chunk_json;
    (void)len;
    ((struct totals *)user)->chunks++;
    return 0; /* non-zero would stop this stream */
}

/* Called once per stream, when it is over. `err` is lent: copy what you keep. */
static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    (void)response_json;
    struct totals *t = user;
    if (code == MODELS_OK) {
        t->ok++;
    } else if (t->failed++ == 0) {
        snprintf(t->first_error, sizeof t->first_error, "%s: %s", models_code_name(code), models_error_message(err));
    }
}

int main(int argc, char **argv) {
    int streams = argc > 1 ? atoi(argv[1]) : 2000;
    if (streams < 1) streams = 1;
    char config[512];
    const char *server = getenv("MODELS_TEST_SERVER");
    if (server)
        snprintf(config, sizeof config, "{\"primary\": \"local/m1\", \"providers\": {\"local\": "
                 "{\"base_url\": \"%s/v1\", \"api_key\": \"test-key\"}}}", server);
    else
        snprintf(config, sizeof config, "{\"primary\": \"openai/gpt-4o-mini\"}");

    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (!router) {
        fprintf(stderr, "config rejected: %s\n", models_error_message(err));
        models_error_free(err);
        return 1;
    }
    models_engine *engine = models_engine_new(router, &err);
    models_router_free(router); /* the engine keeps it */
    if (!engine) {
        fprintf(stderr, "no engine: %s\n", models_error_message(err));
        models_error_free(err);
        return 1;
    }

    struct totals totals = {0, 0, 0, ""};
    long long start = now_ms();
    for (int i = 0; i < streams; i++) {
        char request[256];
        snprintf(request, sizeof request,
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"count to ten, stream %d\"}], \"stream\": true}", i);
        if (models_stream_async(engine, request, NULL, NULL, on_chunk, NULL, on_done, &totals, &err) != MODELS_OK) {
            fprintf(stderr, "not started: %s\n", models_error_message(err));
            models_error_free(err);
            models_engine_free(engine);
            return 1;
        }
    }
    printf("%d streams started\n", streams);

    /* The event loop: wait for the engine's descriptor, then let it work. */
    long long last = start;
    while (models_engine_calls(engine) > 0) {
        struct pollfd p = {models_engine_fd(engine), POLLIN, 0};
        if (poll(&p, 1, 1000) > 0) models_engine_process(engine, 0);
        if (now_ms() - last >= 500) {
            last = now_ms();
            printf("  %5lld ms: %d in flight, %ld done, %ld chunks\n", last - start, models_engine_calls(engine),
                   totals.ok + totals.failed, totals.chunks);
            fflush(stdout);
        }
    }
    printf("%d streams in %lld ms: %ld answered, %ld failed, %ld chunks\n", streams, now_ms() - start, totals.ok,
           totals.failed, totals.chunks);
    if (totals.failed) printf("first error: %s\n", totals.first_error);
    models_engine_free(engine);
    return totals.failed ? 1 : 0;
}
