/* SPDX-License-Identifier: Apache-2.0 */
/* One router, 8 threads of requests (chat, push streams, pull streams) while
 * another thread calls models_router_set_models in a loop and reads health:
 * every request succeeds and is answered by a model from one of the lists it
 * could have started with. scripts/tsan runs it under ThreadSanitizer too. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 8
#define REQUESTS_PER_THREAD 12

static models_router *router;
static atomic_int stop_reloading;
static atomic_int failures;
static atomic_int reloads;

static int answered_by_known_model(const char *text) {
    return strstr(text, "\"model\":\"local/m1\"") || strstr(text, "\"model\":\"local/m2\"") ||
           strstr(text, "\"model\":\"local/m3\"");
}

static int count_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    (*(int *)user)++;
    return 0;
}

static void *requester(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
        models_error *err = NULL;
        int ok = 0;
        switch ((id + i) % 3) {
        case 0: {
            char *response = NULL;
            ok = models_chat(router, HELLO, &response, &err) == MODELS_OK && answered_by_known_model(response);
            models_free(response);
            break;
        }
        case 1: {
            int chunks = 0;
            ok = models_chat_stream(router, HELLO, count_chunk, NULL, &chunks, &err) == MODELS_OK && chunks > 0;
            break;
        }
        default: {
            models_stream *s = models_stream_open(router, HELLO, &err);
            char *text = NULL;
            const char *model = s ? models_stream_model(s) : NULL;
            ok = s && model && strncmp(model, "local/m", 7) == 0 &&
                 models_stream_collect(s, &text, &err) == MODELS_OK && strcmp(text, "echo: hi") == 0;
            models_free(text);
            models_stream_close(s);
        }
        }
        if (!ok) {
            atomic_fetch_add(&failures, 1);
            fprintf(stderr, "thread %d request %d failed: %s\n", id, i, err ? models_error_message(err) : "(wrong answer)");
        }
        models_error_free(err);
    }
    return NULL;
}

static void *reloader(void *arg) {
    (void)arg;
    const char *lists[3][3] = {{"local/m1", "local/m2", "local/m3"},
                               {"local/m2", "local/m3", "local/m1"},
                               {"local/m3", "local/m1", "local/m2"}};
    for (int i = 0; !atomic_load(&stop_reloading); i++) {
        const char *const *list = lists[i % 3];
        if (models_router_set_models(router, list[0], list + 1, 2, NULL) != MODELS_OK) atomic_fetch_add(&failures, 1);
        char *health = models_router_health(router);
        if (!health || !strstr(health, "\"available\":true")) atomic_fetch_add(&failures, 1);
        models_free(health);
        atomic_fetch_add(&reloads, 1);
    }
    return NULL;
}

int main(void) {
    ts_reset();
    /* Some transient failures on every model keep retries and fallbacks busy. */
    ts_script("*", "[{\"status\":503},{\"status\":429},{\"status\":503},{\"status\":502},{\"status\":503}]");
    char config[2048];
    ts_config(config, sizeof config,
              "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\",\"local/m3\"],\"retry_base_ms\":1,"
              "\"retry_max_ms\":5,\"cooldown\":{\"base_ms\":1,\"max_ms\":2}",
              "local", NULL);
    router = models_router_new(config, NULL);
    if (!router) return 2;

    pthread_t reload, workers[THREADS];
    pthread_create(&reload, NULL, reloader, NULL);
    for (int i = 0; i < THREADS; i++) pthread_create(&workers[i], NULL, requester, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++) pthread_join(workers[i], NULL);
    atomic_store(&stop_reloading, 1);
    pthread_join(reload, NULL);

    CHECK(atomic_load(&failures) == 0);
    CHECK(atomic_load(&reloads) > 10);
    CHECK(ts_stat("requests") >= THREADS * REQUESTS_PER_THREAD);
    models_router_free(router);
    return check_report("test_router_threads");
}
