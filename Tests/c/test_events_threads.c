/* SPDX-License-Identifier: Apache-2.0 */
/* Event handlers under concurrent calls: a slow handler on four threads at
 * once; removing or replacing it while calls run (once
 * models_router_set_event_handler returns, the old handler is neither
 * running nor called again, so its data may be freed); a handler that
 * removes itself from inside a call while other threads are in theirs. */
#define _GNU_SOURCE
#include <pthread.h>

#include "test_util.h"

#define THREADS 4
#define CALLS 40

typedef struct {
    int inside;  /* handler calls running now */
    int calls;   /* handler calls so far */
    int overlap; /* the most running at once */
} counts;

static models_router *router;
static int stop;
/* Failures seen on other threads (CHECK is for the main thread: its counters are not atomic). */
static int bad;

static void slow(void *user, const char *json, size_t len) {
    counts *c = user;
    if (json == NULL || len == 0 || json[len] != '\0') __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
    int now = __atomic_add_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
    int seen = __atomic_load_n(&c->overlap, __ATOMIC_SEQ_CST);
    while (now > seen && !__atomic_compare_exchange_n(&c->overlap, &seen, now, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    sleep_ms(1);
    __atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&c->inside, 1, __ATOMIC_SEQ_CST);
}

static void remove_self(void *user, const char *json, size_t len) {
    (void)json;
    (void)len;
    __atomic_add_fetch((int *)user, 1, __ATOMIC_SEQ_CST);
    if (models_router_set_event_handler(router, NULL, NULL) != MODELS_OK) __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
}

static void *caller(void *arg) {
    (void)arg;
    for (int i = 0; i < CALLS && !__atomic_load_n(&stop, __ATOMIC_SEQ_CST); i++) {
        char *response = NULL;
        models_error *err = NULL;
        if (models_chat(router, HELLO, &response, &err) != MODELS_OK) {
            fprintf(stderr, "models_chat: %s\n", models_error_message(err));
            __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
        }
        models_error_free(err);
        models_free(response);
    }
    return NULL;
}

/* Waits (bounded) until the handler has been called `n` times. */
static void wait_calls(const int *calls, int n) {
    for (int i = 0; i < 5000 && __atomic_load_n(calls, __ATOMIC_SEQ_CST) < n; i++) sleep_ms(1);
}

int main(void) {
    router = local_router("");
    ts_reset();
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, caller, NULL) == 0);

    /* Replaced twice, then removed, while the calls run. */
    counts *c = calloc(1, sizeof *c);
    CHECK(models_router_set_event_handler(router, slow, c) == MODELS_OK);
    for (int round = 0; round < 3; round++) {
        wait_calls(&c->calls, 20);
        counts *next = round < 2 ? calloc(1, sizeof *next) : NULL;
        /* When this returns, the old handler is done: not running, never called again. */
        CHECK(models_router_set_event_handler(router, next ? slow : NULL, next) == MODELS_OK);
        CHECK(__atomic_load_n(&c->inside, __ATOMIC_SEQ_CST) == 0);
        int calls = __atomic_load_n(&c->calls, __ATOMIC_SEQ_CST);
        CHECK(calls >= 1);
        sleep_ms(5);
        CHECK(__atomic_load_n(&c->calls, __ATOMIC_SEQ_CST) == calls);
        memset(c, 0xff, sizeof *c); /* as if freed: a late call would see garbage */
        free(c);
        c = next;
    }

    /* A handler that removes itself from inside a call, while other calls run. */
    int removals = 0;
    CHECK(models_router_set_event_handler(router, remove_self, &removals) == MODELS_OK);
    wait_calls(&removals, 1);
    int removed = __atomic_load_n(&removals, __ATOMIC_SEQ_CST);
    CHECK(removed >= 1 && removed <= THREADS);

    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    int after = __atomic_load_n(&removals, __ATOMIC_SEQ_CST);
    char *response = NULL;
    CHECK(models_chat(router, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    CHECK(__atomic_load_n(&removals, __ATOMIC_SEQ_CST) == after);

    /* The slow handler on every thread at once: each call gets all its events. */
    counts together = {0, 0, 0};
    CHECK(models_router_set_event_handler(router, slow, &together) == MODELS_OK);
    __atomic_store_n(&stop, 0, __ATOMIC_SEQ_CST);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, caller, NULL) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK(models_router_set_event_handler(router, NULL, NULL) == MODELS_OK);
    /* Five events a call (start, attempt start and end, call end... at least four). */
    CHECK(together.calls >= THREADS * CALLS * 4);
    CHECK(together.inside == 0);
    CHECK(__atomic_load_n(&bad, __ATOMIC_SEQ_CST) == 0);
    models_router_free(router);
    return check_report("test_events_threads");
}
