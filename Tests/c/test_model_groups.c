/* SPDX-License-Identifier: Apache-2.0 */
/* Model groups through the C API: one name for several deployments (here two
 * providers on the test server with keys of their own), balanced by weight or
 * by calls in flight, each held to its rpm and tpm, cooled down on its own,
 * and shown by models_router_health. A group stands wherever a model name
 * does: primary, fallbacks, a request's "model", models_router_set_models. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>

#define KEY1 "Bearer sk-test-k1-0123456789"
#define KEY2 "Bearer sk-test-k2-0123456789"

/* A router whose providers "k1" and "k2" are on the test server, with the
 * top-level members `members` (model_groups, primary, ...). */
static models_router *two_key_router(const char *members) {
    char config[8192];
    ts_config(config, sizeof config, members, "k1", "k2", NULL);
    return router_or_exit(config);
}

/* The group "g" of deployments k1/a and k2/b with the given deployment
 * members (e.g. "\"weight\":3") and strategy, as a "model_groups" member. */
static char *group_g(char *buf, size_t size, const char *strategy, const char *a, const char *b) {
    snprintf(buf, size,
             "\"model_groups\":{\"g\":{\"strategy\":\"%s\",\"deployments\":["
             "{\"model\":\"k1/a\"%s%s},{\"model\":\"k2/b\"%s%s}]}}",
             strategy, *a ? "," : "", a, *b ? "," : "", b);
    return buf;
}

/* A chat that must answer; returns the model that did ("" on failure). */
static const char *chat_ok(models_router *r, const char *request) {
    static char model[64];
    models_error *err = NULL;
    models_code rc = chat_model(r, request, model, sizeof model, &err);
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  chat failed: %s\n", models_error_message(err));
    models_error_free(err);
    return model;
}


/* Weights 3:1 over 400 calls: each deployment gets its share within four
 * standard deviations, and each request carries its own deployment's key. */
static void test_weights(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "\"weight\":3", "\"weight\":1");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\"", group);
    models_router *r = two_key_router(members);
    ts_reset();
    const int n = 400;
    int answered_a = 0, answered_b = 0;
    for (int i = 0; i < n; i++) {
        const char *model = chat_ok(r, HELLO);
        if (strcmp(model, "k1/a") == 0) answered_a++;
        else if (strcmp(model, "k2/b") == 0) answered_b++;
    }
    CHECK(answered_a + answered_b == n);

    /* Per recorded request: model id a with key k1, b with k2, nothing else. */
    char *requests = ts_get("requests");
    int a_k1 = 0, b_k2 = 0, other = 0;
    const char *p = strstr(requests, "{\"method\"");
    while (p) {
        const char *next = strstr(p + 1, "{\"method\"");
        size_t len = next ? (size_t)(next - p) : strlen(p);
        char *one = strndup(p, len);
        int is_a = strstr(one, "\"model\":\"a\",\"time\"") != NULL, is_b = strstr(one, "\"model\":\"b\",\"time\"") != NULL;
        if (is_a && strstr(one, KEY1) && !strstr(one, KEY2)) a_k1++;
        else if (is_b && strstr(one, KEY2) && !strstr(one, KEY1)) b_k2++;
        else other++;
        free(one);
        p = next;
    }
    free(requests);
    CHECK(other == 0);
    CHECK(a_k1 == answered_a && b_k2 == answered_b);
    /* k1/a's count is binomial(400, 3/4): mean 300, variance 75. Within four
     * standard deviations: (count - 300)^2 <= 16 * 75. */
    int off = a_k1 - n * 3 / 4;
    CHECK(off * off <= 16 * (n * 3 / 16));
    printf("weights 3:1 over %d calls: k1/a %d, k2/b %d (expected 300 +- 35 for k1/a)\n", n, a_k1, b_k2);
    models_router_free(r);
}

/* A deployment failing with 503 is cooled down on its own while the other
 * serves; the group is skipped only when both are cooling: then the fallback
 * answers, and without one the call fails with MODELS_ERR_ALL_COOLDOWN and
 * the time until the first comes back. */
static void test_cooldown_per_deployment(void) {
    char group[512], members[1024];
    /* k1/a almost always first: its weight is a million times k2/b's. */
    group_g(group, sizeof group, "weighted", "\"weight\":1000000", "\"weight\":1");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"fallbacks\":[\"k1/c\"],\"max_retries\":0,"
             "\"cooldown\":{\"base_ms\":60000,\"max_ms\":60000}", group);
    models_router *r = two_key_router(members);
    ts_reset();
    script_n("a", "{\"status\":503}", 3);
    CHECK(strcmp(chat_ok(r, HELLO), "k2/b") == 0); /* k1/a failed, k2/b answered */
    for (int i = 0; i < 5; i++) CHECK(strcmp(chat_ok(r, HELLO), "k2/b") == 0);
    CHECK(requests_for("a") == 1 && requests_for("b") == 6 && requests_for("c") == 0);

    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"available\":false");
    CHECK_STR_CONTAINS(h, "\"reason\":\"cooldown (");
    CHECK_STR_CONTAINS(h, "\"group\":\"g\"");
    health_of(r, "k2/b", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"available\":true");
    CHECK(strstr(h, "\"reason\"") == NULL);

    /* k2/b fails too: the group is done, the fallback answers; then the group is skipped. */
    script_n("b", "{\"status\":503}", 3);
    CHECK(strcmp(chat_ok(r, HELLO), "k1/c") == 0);
    CHECK(strcmp(chat_ok(r, HELLO), "k1/c") == 0);
    CHECK(requests_for("a") == 1 && requests_for("b") == 7 && requests_for("c") == 2);

    /* The group alone: every deployment cooling. */
    models_error *err = NULL;
    CHECK(models_router_set_models(r, "g", NULL, 0, &err) == MODELS_OK);
    models_error_free(err);
    err = NULL;
    char model[64];
    models_code rc = chat_model(r, HELLO, model, sizeof model, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_COOLDOWN);
    CHECK(models_error_retry_after_ms(err) > 0 && models_error_retry_after_ms(err) <= 60000);
    CHECK_STR_CONTAINS(models_error_message(err), "g: every deployment is in cooldown");
    models_error_free(err);
    CHECK(requests_for("a") == 1 && requests_for("b") == 7);
    models_router_free(r);
}

/* rpm: after that many requests in the minute a deployment is skipped; with
 * both at their limit the group falls to the fallback, and alone it fails
 * with MODELS_ERR_ALL_COOLDOWN naming the limit. timeout_ms keeps the call
 * from waiting the minute for the window to move. */
static void test_rpm(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "\"rpm\":2", "\"rpm\":3");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"fallbacks\":[\"k1/c\"],\"timeout_ms\":2000", group);
    models_router *r = two_key_router(members);
    ts_reset();
    for (int i = 0; i < 5; i++) {
        const char *model = chat_ok(r, HELLO);
        CHECK(strcmp(model, "k1/a") == 0 || strcmp(model, "k2/b") == 0);
    }
    CHECK(requests_for("a") == 2 && requests_for("b") == 3);
    CHECK(strcmp(chat_ok(r, HELLO), "k1/c") == 0);
    CHECK(requests_for("a") == 2 && requests_for("b") == 3 && requests_for("c") == 1);

    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"rpm\":2");
    CHECK_STR_CONTAINS(h, "\"requests_this_minute\":2");
    CHECK_STR_CONTAINS(h, "\"available\":false");
    CHECK_STR_CONTAINS(h, "\"reason\":\"at its rpm limit of 2 requests a minute\"");
    CHECK(strstr(h, "\"tpm\"") == NULL);
    health_of(r, "k2/b", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"rpm\":3");
    CHECK_STR_CONTAINS(h, "\"requests_this_minute\":3");

    models_error *err = NULL;
    CHECK(models_router_set_models(r, "g", NULL, 0, &err) == MODELS_OK);
    models_error_free(err);
    err = NULL;
    char model[64];
    int64_t t0 = now_ms();
    models_code rc = chat_model(r, HELLO, model, sizeof model, &err);
    int64_t took = now_ms() - t0;
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_COOLDOWN);
    CHECK(took < 30000); /* did not wait out the minute */
    CHECK(models_error_retry_after_ms(err) > 0 && models_error_retry_after_ms(err) <= 60000);
    CHECK_STR_CONTAINS(models_error_message(err), "k1/a at its rpm limit of 2 requests a minute");
    CHECK_STR_CONTAINS(models_error_message(err), "k2/b at its rpm limit of 3 requests a minute");
    models_error_free(err);
    CHECK(requests_for("a") == 2 && requests_for("b") == 3);
    models_router_free(r);
}

struct racer {
    models_router *r;
    pthread_barrier_t *start;
    models_code rc;
};

static void *race_one_chat(void *arg) {
    struct racer *x = arg;
    pthread_barrier_wait(x->start);
    char *response = NULL;
    models_error *err = NULL;
    x->rc = models_chat(x->r, HELLO, &response, &err);
    models_free(response);
    models_error_free(err);
    return NULL;
}

/* rpm holds when calls decide at the same moment: 16 threads released
 * together against rpm 2 + 2 send exactly 4 requests, round after round
 * (the decision and the count were two steps: about one round in three sent
 * 5). Afterwards nothing is left in flight. */
static void test_rpm_under_concurrent_calls(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "least_busy", "\"rpm\":2", "\"rpm\":2");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"timeout_ms\":2000", group);
    enum { THREADS = 16, ROUNDS = 20 };
    for (int round = 0; round < ROUNDS; round++) {
        models_router *r = two_key_router(members);
        ts_reset();
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        struct racer racers[THREADS];
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++) {
            racers[i] = (struct racer){r, &start, MODELS_OK};
            pthread_create(&threads[i], NULL, race_one_chat, &racers[i]);
        }
        int answered = 0, refused = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(threads[i], NULL);
            if (racers[i].rc == MODELS_OK) answered++;
            else if (racers[i].rc == MODELS_ERR_ALL_COOLDOWN) refused++;
        }
        pthread_barrier_destroy(&start);
        long sent = ts_stat("requests");
        CHECK(sent == 4 && answered == 4 && refused == THREADS - 4);
        if (sent != 4) fprintf(stderr, "  round %d: %ld requests for rpm 2 + 2\n", round, sent);
        char h[1024];
        CHECK_STR_CONTAINS(health_of(r, "k1/a", h, sizeof h), "\"in_flight\":0,");
        CHECK_STR_CONTAINS(health_of(r, "k2/b", h, sizeof h), "\"in_flight\":0,");
        models_router_free(r);
        if (check_failures) break;
    }
}

/* tpm: the usage of one answer (60 + 60 tokens) uses up a tpm of 100, and a
 * streamed answer's usage counts too. */
static void test_tpm(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "\"tpm\":100", "\"tpm\":100");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"fallbacks\":[\"k1/c\"],\"timeout_ms\":2000", group);
    models_router *r = two_key_router(members);
    ts_reset();
    const char *usage = "{\"usage\":{\"prompt_tokens\":60,\"completion_tokens\":60}}";
    script_n("a", usage, 1);
    script_n("b", usage, 1);
    const char *first = chat_ok(r, HELLO);
    char first_model[64];
    snprintf(first_model, sizeof first_model, "%s", first);
    const char *second = chat_ok(r, HELLO);
    CHECK(strcmp(first_model, second) != 0); /* the first is at its tpm */
    CHECK(strcmp(chat_ok(r, HELLO), "k1/c") == 0);
    CHECK(requests_for("a") == 1 && requests_for("b") == 1);

    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"tpm\":100");
    CHECK_STR_CONTAINS(h, "\"tokens_this_minute\":120");
    CHECK_STR_CONTAINS(h, "\"reason\":\"at its tpm limit of 100 tokens a minute\"");
    CHECK(strstr(h, "\"rpm\"") == NULL);
    /* A plain model's usage is not read: tokens count for deployments only. */
    health_of(r, "k1/c", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"tokens_this_minute\":0");
    CHECK_STR_CONTAINS(h, "\"requests_this_minute\":1");

    models_error *err = NULL;
    CHECK(models_router_set_models(r, "g", NULL, 0, &err) == MODELS_OK);
    models_error_free(err);
    err = NULL;
    char model[64];
    models_code rc = chat_model(r, HELLO, model, sizeof model, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_COOLDOWN);
    CHECK(models_error_retry_after_ms(err) > 0);
    CHECK_STR_CONTAINS(models_error_message(err), "at its tpm limit of 100 tokens a minute");
    models_error_free(err);
    models_router_free(r);

    /* A stream's usage, reported at its end, counts against tpm. */
    group_g(group, sizeof group, "weighted", "\"tpm\":100", "\"weight\":0.000001");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"timeout_ms\":2000", group);
    r = two_key_router(members);
    ts_reset();
    script_n("a", usage, 1);
    err = NULL;
    models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(st != NULL);
    if (st) {
        CHECK(strcmp(models_stream_model(st), "k1/a") == 0);
        char *text = NULL;
        CHECK(models_stream_collect(st, &text, &err) == MODELS_OK);
        models_free(text);
        models_stream_close(st);
    }
    models_error_free(err);
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"tokens_this_minute\":120");
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    CHECK(strcmp(chat_ok(r, HELLO), "k2/b") == 0);
    models_router_free(r);
}

/* least_busy: while k1/a holds an open stream, chats go to k2/b (1 call in
 * flight against 0); once it is closed, k1/a is idle again. */
static void test_least_busy(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "least_busy", "", "");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\"", group);
    models_router *r = two_key_router(members);
    ts_reset();
    ts_script("a", "[{\"content\":\"one two three\",\"stall_after\":2}]");
    models_error *err = NULL;
    /* The deployment by its own name: the stream counts for k1/a all the same. */
    models_stream *st = models_stream_open(r, "{\"model\":\"k1/a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                              "\"stream\":true}", &err);
    CHECK(st != NULL);
    if (!st) fprintf(stderr, "  stream: %s\n", models_error_message(err));
    models_error_free(err);
    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"in_flight\":1");
    CHECK_STR_CONTAINS(h, "\"group\":\"g\"");
    for (int i = 0; i < 8; i++) CHECK(strcmp(chat_ok(r, HELLO), "k2/b") == 0);
    CHECK(requests_for("a") == 1 && requests_for("b") == 8);
    health_of(r, "k2/b", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    CHECK_STR_CONTAINS(h, "\"requests_this_minute\":8");
    CHECK_STR_CONTAINS(h, "\"latency_ms\":");
    models_stream_close(st);
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    models_router_free(r);
}

/* cooldown_wait_ms: with every deployment cooling for 200 ms, a wait of up
 * to 1000 ms ends in an answer; with 0 (the default) the call fails at once
 * with MODELS_ERR_ALL_COOLDOWN and no request is sent (there the cooldown is
 * a minute, so that a slow machine cannot see it end before the call). */
static void test_cooldown_wait(void) {
    for (int wait = 0; wait < 2; wait++) {
        char group[512], members[1024];
        group_g(group, sizeof group, "weighted", "", "");
        snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"max_retries\":0,"
                 "\"cooldown\":{\"base_ms\":%d,\"max_ms\":%d},\"cooldown_wait_ms\":%d", group,
                 wait ? 200 : 60000, wait ? 200 : 60000, wait ? 1000 : 0);
        models_router *r = two_key_router(members);
        ts_reset();
        script_n("a", "{\"status\":503}", 1);
        script_n("b", "{\"status\":503}", 1);
        models_error *err = NULL;
        char model[64];
        models_code rc = chat_model(r, HELLO, model, sizeof model, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_FAILED);
        models_error_free(err);
        CHECK(requests_for("a") == 1 && requests_for("b") == 1);

        err = NULL;
        rc = chat_model(r, HELLO, model, sizeof model, &err);
        if (wait) {
            CHECK(rc == MODELS_OK);
            if (rc != MODELS_OK) fprintf(stderr, "  after the wait: %s\n", models_error_message(err));
            CHECK(strcmp(model, "k1/a") == 0 || strcmp(model, "k2/b") == 0);
            CHECK(requests_for("a") + requests_for("b") == 3);
        } else {
            CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_COOLDOWN);
            int64_t after = models_error_retry_after_ms(err);
            CHECK(after > 0 && after <= 60000);
            CHECK(requests_for("a") + requests_for("b") == 2);
        }
        models_error_free(err);
        models_router_free(r);
    }

    /* A cooldown longer than the wait: no wait, the same error. */
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "", "");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"max_retries\":0,"
             "\"cooldown\":{\"base_ms\":60000,\"max_ms\":60000},\"cooldown_wait_ms\":200", group);
    models_router *r = two_key_router(members);
    ts_reset();
    script_n("a", "{\"status\":503}", 1);
    script_n("b", "{\"status\":503}", 1);
    models_error *err = NULL;
    char model[64];
    models_code rc = chat_model(r, HELLO, model, sizeof model, &err);
    models_error_free(err);
    err = NULL;
    rc = chat_model(r, HELLO, model, sizeof model, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_COOLDOWN);
    CHECK(models_error_retry_after_ms(err) > 200);
    models_error_free(err);
    models_router_free(r);
}

/* Health lists every deployment of every group, with its group, limits and
 * load; a group the models do not name is listed after them. */
static void test_health(void) {
    char members[1024];
    snprintf(members, sizeof members,
             "\"model_groups\":{\"g\":{\"deployments\":[{\"model\":\"k1/a\",\"rpm\":10,\"tpm\":1000},{\"model\":\"k2/b\"}]},"
             "\"spare\":{\"strategy\":\"usage\",\"deployments\":[{\"model\":\"k2/d\",\"tpm\":5000}]}},"
             "\"primary\":\"g\",\"fallbacks\":[\"k1/c\"]");
    models_router *r = two_key_router(members);
    char *health = models_router_health(r);
    /* In routing order: g's deployments, the fallback, then the unnamed group. */
    const char *a = strstr(health, "\"model\":\"k1/a\""), *b = strstr(health, "\"model\":\"k2/b\"");
    const char *c = strstr(health, "\"model\":\"k1/c\""), *d = strstr(health, "\"model\":\"k2/d\"");
    CHECK(a && b && c && d && a < b && b < c && c < d);
    CHECK(count_of(health, "\"model\":") == 4);
    CHECK(count_of(health, "\"group\":\"g\"") == 2 && count_of(health, "\"group\":\"spare\"") == 1);
    CHECK(count_of(health, "\"in_flight\":0") == 4);
    CHECK(count_of(health, "\"requests_this_minute\":0") == 4);
    CHECK(count_of(health, "\"tokens_this_minute\":0") == 4);
    models_free(health);
    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"provider\":\"k1\"");
    CHECK_STR_CONTAINS(h, "\"rpm\":10");
    CHECK_STR_CONTAINS(h, "\"tpm\":1000");
    CHECK(strstr(h, "\"latency_ms\"") == NULL); /* not measured yet */
    health_of(r, "k2/b", h, sizeof h);
    CHECK(strstr(h, "\"rpm\"") == NULL && strstr(h, "\"tpm\"") == NULL);
    health_of(r, "k1/c", h, sizeof h);
    CHECK(strstr(h, "\"group\"") == NULL);
    health_of(r, "k2/d", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"tpm\":5000");
    CHECK_STR_CONTAINS(h, "\"available\":true");
    models_router_free(r);
}

/* A group name works as a request's "model" and in models_router_set_models,
 * as primary and as fallback. */
static void test_group_names(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "", "");
    snprintf(members, sizeof members, "%s,\"primary\":\"k1/c\",\"max_retries\":0", group);
    models_router *r = two_key_router(members);
    ts_reset();
    const char *by_group = "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < 4; i++) {
        const char *model = chat_ok(r, by_group);
        CHECK(strcmp(model, "k1/a") == 0 || strcmp(model, "k2/b") == 0);
    }
    CHECK(requests_for("c") == 0 && requests_for("a") + requests_for("b") == 4);
    CHECK(strcmp(chat_ok(r, HELLO), "k1/c") == 0);

    models_error *err = NULL;
    CHECK(models_router_set_models(r, "g", (const char *[]){"k1/c"}, 1, &err) == MODELS_OK);
    models_error_free(err);
    const char *model = chat_ok(r, HELLO);
    CHECK(strcmp(model, "k1/a") == 0 || strcmp(model, "k2/b") == 0);

    /* The group as a fallback, after a primary that fails. */
    err = NULL;
    CHECK(models_router_set_models(r, "k1/c", (const char *[]){"g"}, 1, &err) == MODELS_OK);
    models_error_free(err);
    ts_reset();
    script_n("c", "{\"status\":500}", 1);
    model = chat_ok(r, HELLO);
    CHECK(strcmp(model, "k1/a") == 0 || strcmp(model, "k2/b") == 0);
    CHECK(requests_for("c") == 1);
    models_router_free(r);
}

/* Streams through a group, push and pull; a deployment that resets before its
 * first word is answered by the other, the caller seeing one clean stream. */
static void test_streams(void) {
    char group[512], members[1024];
    group_g(group, sizeof group, "weighted", "\"weight\":1000000", "\"weight\":1");
    snprintf(members, sizeof members, "%s,\"primary\":\"g\",\"max_retries\":0", group);
    models_router *r = two_key_router(members);

    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: k1/a answers; pass 1: k1/a resets after its role chunk, k2/b answers. */
        ts_reset();
        if (pass) ts_script("a", "[{\"drop_after\":1}]");
        struct stream_text s;
        memset(&s, 0, sizeof s);
        models_error *err = NULL;
        models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
        CHECK(st != NULL);
        if (st) {
            CHECK(strcmp(models_stream_model(st), pass ? "k2/b" : "k1/a") == 0);
            const char *chunk;
            models_code rc;
            while ((rc = models_stream_next(st, &chunk, NULL, &err)) == MODELS_OK) stream_text_add(&s, chunk);
            CHECK(rc == MODELS_DONE);
            models_stream_close(st);
        } else {
            fprintf(stderr, "  pull pass %d: %s\n", pass, models_error_message(err));
        }
        models_error_free(err);
        CHECK(strcmp(s.text, "echo: hi") == 0);
        CHECK(s.role_chunks == 1);
        CHECK(requests_for("a") == 1 && requests_for("b") == pass);

        ts_reset();
        if (pass) ts_script("a", "[{\"drop_after\":1}]");
        memset(&s, 0, sizeof s);
        err = NULL;
        models_code rc = models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &s, &err);
        CHECK(rc == MODELS_OK);
        if (rc != MODELS_OK) fprintf(stderr, "  push pass %d: %s\n", pass, models_error_message(err));
        models_error_free(err);
        CHECK(strcmp(s.text, "echo: hi") == 0);
        CHECK(s.role_chunks == 1);
        CHECK(requests_for("a") == 1 && requests_for("b") == pass);
    }
    /* Every stream ended: nothing left in flight. */
    char h[1024];
    health_of(r, "k1/a", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    health_of(r, "k2/b", h, sizeof h);
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    models_router_free(r);
}

int main(void) {
    test_weights();
    test_cooldown_per_deployment();
    test_rpm();
    test_rpm_under_concurrent_calls();
    test_tpm();
    test_least_busy();
    test_cooldown_wait();
    test_health();
    test_group_names();
    test_streams();
    return check_report("test_model_groups");
}
