/* SPDX-License-Identifier: Apache-2.0 */
/* 2,000 calls at once on one engine, on this thread: chats and streams, each
 * with its own script at the loopback server (an answer, a retry after a 503,
 * a stream that drops before its first word and is retried, a permanent 400,
 * a stream that drops after its first word), every outcome checked; half of
 * them cancelled from another thread at random moments, which must end them
 * with MODELS_ERR_CANCELLED or with their own outcome, never anything else. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>

#define CALLS 2000

enum kind { ANSWER, RETRIED, STREAM, STREAM_RETRIED, REFUSED, STREAM_BROKEN, KINDS };

struct call {
    int index;
    enum kind kind;
    models_call *token;
    int cancel;           /* chosen for cancelling */
    int done;
    models_code code;
    int status;
    char answer[256];
    struct stream_text text;
};

static struct call calls[CALLS];

static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    struct call *c = user;
    c->done++;
    c->code = code;
    c->status = err ? models_error_status(err) : 0;
    if (response_json) {
        const char *p = strstr(response_json, "\"content\":\"");
        if (p) snprintf(c->answer, sizeof c->answer, "%.*s", (int)strcspn(p + 11, "\""), p + 11);
    }
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    struct call *c = user;
    return stream_text_on_chunk(&c->text, chunk, len);
}

static unsigned rnd_state = 12345;
static unsigned rnd(void) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) & 0xffffff;
}

static void *canceller(void *arg) {
    (void)arg;
    unsigned seed = 777;
    for (int i = 0; i < CALLS; i++) {
        if (!calls[i].cancel) continue;
        seed = seed * 1103515245u + 12345u;
        sleep_ms((int)((seed >> 8) % 5)); /* spread over the run: some end first, some mid-way */
        models_call_cancel(calls[i].token);
    }
    return NULL;
}

/* Whether `c` ended as its kind must, or (when cancelled) with MODELS_ERR_CANCELLED. */
static int outcome_ok(const struct call *c) {
    char expected[64];
    snprintf(expected, sizeof expected, "echo: call %d", c->index);
    if (c->done != 1) return 0;
    if (c->cancel && c->code == MODELS_ERR_CANCELLED) {
        /* A stream cancelled mid-way delivered a start of its text, nothing else. */
        return strncmp(expected, c->text.text, strlen(c->text.text)) == 0 || c->kind == STREAM_BROKEN;
    }
    switch (c->kind) {
    case ANSWER:
    case RETRIED: return c->code == MODELS_OK && strcmp(c->answer, expected) == 0;
    case STREAM:
    case STREAM_RETRIED: return c->code == MODELS_OK && strcmp(c->text.text, expected) == 0 && c->text.role_chunks == 1;
    case REFUSED: return c->code == MODELS_ERR_API && c->status == 400;
    case STREAM_BROKEN: return (c->code == MODELS_ERR_TRANSPORT || c->code == MODELS_ERR_PROTOCOL) && c->text.text[0] != '\0';
    default: return 0;
    }
}

int main(void) {
    models_router *r = router_from("\"primary\":\"local/m\",\"retry_base_ms\":1,\"retry_max_ms\":5,\"timeout_ms\":60000");
    models_engine *e = models_engine_new(r, NULL);
    CHECK(e != NULL);
    ts_reset();
    int threads = thread_count();
    for (int i = 0; i < CALLS; i++) {
        struct call *c = &calls[i];
        c->index = i;
        c->kind = (enum kind)(rnd() % KINDS);
        c->cancel = rnd() % 2;
        c->token = models_call_new();
        char id[32];
        snprintf(id, sizeof id, "c%d", i);
        switch (c->kind) {
        case RETRIED: ts_script(id, "[{\"status\":503}]"); break;
        case STREAM_RETRIED: ts_script(id, "[{\"drop_after\":1}]"); break;
        case REFUSED: ts_script(id, "[{\"status\":400}]"); break;
        case STREAM_BROKEN: ts_script(id, "[{\"drop_after\":3}]"); break;
        default: break;
        }
    }
    int64_t start = now_ms();
    for (int i = 0; i < CALLS; i++) {
        struct call *c = &calls[i];
        int stream = c->kind == STREAM || c->kind == STREAM_RETRIED || c->kind == STREAM_BROKEN;
        char request[256];
        snprintf(request, sizeof request,
                 "{\"model\":\"local/c%d\",\"messages\":[{\"role\":\"user\",\"content\":\"call %d\"}]%s}", i, i,
                 stream ? ",\"stream\":true" : "");
        models_code rc = stream ? models_stream_async(e, request, NULL, c->token, on_chunk, NULL, on_done, c, NULL)
                                : models_chat_async(e, request, NULL, c->token, on_done, c, NULL);
        CHECK(rc == MODELS_OK);
    }
    pthread_t t;
    pthread_create(&t, NULL, canceller, NULL);
    while (models_engine_calls(e) > 0 && now_ms() - start < 120000) CHECK(models_engine_process(e, 200) >= 0);
    pthread_join(t, NULL);
    CHECK(models_engine_calls(e) == 0);
    /* No thread per call: none at all (ThreadSanitizer may start one of its own). */
    CHECK(thread_count() <= threads + 1);

    int bad = 0, cancelled = 0, per_kind[KINDS] = {0};
    for (int i = 0; i < CALLS; i++) {
        struct call *c = &calls[i];
        if (c->code == MODELS_ERR_CANCELLED) cancelled++;
        if (!c->cancel && c->done == 1 && c->code == (c->kind == REFUSED ? MODELS_ERR_API : c->kind == STREAM_BROKEN ? c->code : MODELS_OK))
            per_kind[c->kind]++;
        if (!outcome_ok(c)) {
            if (bad++ < 10)
                fprintf(stderr, "  call %d (kind %d, cancel %d): done %d code %d status %d answer \"%s\" text \"%s\"\n", i, c->kind,
                        c->cancel, c->done, c->code, c->status, c->answer, c->text.text);
        }
        models_call_free(c->token);
    }
    CHECK(bad == 0);
    CHECK(cancelled > 0);
    for (int k = 0; k < KINDS; k++) CHECK(per_kind[k] > 0);
    fprintf(stderr, "test_engine_many: %d calls in %lld ms, %d cancelled\n", CALLS, (long long)(now_ms() - start), cancelled);
    models_engine_free(e);
    models_router_free(r);
    return check_report("test_engine_many");
}
