/* SPDX-License-Identifier: Apache-2.0 */
/* Hedged first tokens (issue 18, "hedge_after_ms"): when the first model has
 * sent no first word within hedge_after_ms, the same request also goes to the
 * next candidate; the first to answer wins and the other is cancelled (its
 * connection closed). Blocking chat, push and pull streams, the engine, a
 * model group, cancellation, events. The slow model answers after 2 s; every
 * hedged call must be done well before that (< 1.5 s, generous on a slow
 * machine) — no assertion waits on the slow answer itself. */
#define _GNU_SOURCE
#include <pthread.h>

#include "scripted_provider.h"
#include "test_util.h"

static const char *const SLOW = "[{\"delay_ms\":2000}]";

static models_router *hedged_router(const char *extra) {
    char members[1024];
    snprintf(members, sizeof members, "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0%s%s",
             extra && *extra ? "," : "", extra ? extra : "");
    return router_from(members);
}

/* The server saw the client close the connection of model `id`'s request
 * (waits up to 3 s for it: the server notices within 50 ms). */
static int closed_by_client(const char *id) {
    char needle[128];
    snprintf(needle, sizeof needle, "\"model\":\"%s\",", id);
    for (int i = 0; i < 150; i++) {
        char *requests = ts_get("requests");
        const char *p = strstr(requests, needle);
        int gone = p && strstr(p, "\"client_gone\":true") != NULL;
        free(requests);
        if (gone) return 1;
        sleep_ms(20);
    }
    return 0;
}

static void test_slow_first_chat_is_hedged(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":300");
    ts_reset();
    ts_script("m1", SLOW);
    int64_t t0 = now_ms();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    int64_t ms = now_ms() - t0;
    CHECK(ms < 1500);
    CHECK(ms >= 250);
    CHECK(response && strstr(response, "\"model\":\"local/m2\""));
    CHECK(response && strstr(response, "echo: hi"));
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
    CHECK(closed_by_client("m1"));
    free(response);
    models_error_free(err);
    models_router_free(r);
}

static void test_fast_first_is_never_hedged(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":300");
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/m1\""));
    free(response);
    struct stream_text s;
    memset(&s, 0, sizeof s);
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &s, NULL) == MODELS_OK);
    CHECK(strcmp(s.text, "echo: hi") == 0);
    CHECK(ts_stat("requests") == 2);
    CHECK(requests_for("m2") == 0);
    models_router_free(r);
}

/* The per-call option turns hedging on for a push stream (the config has none). */
static void test_push_stream_hedged_by_option(void) {
    models_router *r = hedged_router("");
    ts_reset();
    ts_script("m1", SLOW);
    struct stream_text s;
    memset(&s, 0, sizeof s);
    int64_t t0 = now_ms();
    models_error *err = NULL;
    CHECK(models_chat_stream_ex(r, HELLO_STREAM, "{\"hedge_after_ms\":300}", NULL, stream_text_on_chunk, NULL, &s, &err) == MODELS_OK);
    CHECK(now_ms() - t0 < 1500);
    CHECK(strcmp(s.text, "echo: hi") == 0);
    CHECK(s.role_chunks == 1);
    CHECK(closed_by_client("m1"));
    models_error_free(err);
    models_router_free(r);
}

/* And 0 turns it off for a call although the config has it. */
static void test_option_zero_turns_hedging_off(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":100");
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":400}]");
    char *response = NULL;
    CHECK(models_chat_ex(r, HELLO, "{\"hedge_after_ms\":0}", NULL, &response, NULL) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/m1\""));
    CHECK(requests_for("m2") == 0);
    free(response);
    models_error *err = NULL;
    CHECK(models_chat_ex(r, HELLO, "{\"hedge_after_ms\":-1}", NULL, &response, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(err && strstr(models_error_message(err), "hedge_after_ms"));
    models_error_free(err);
    models_router_free(r);
}

static void test_pull_stream_is_hedged(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":300");
    ts_reset();
    ts_script("m1", SLOW);
    int64_t t0 = now_ms();
    models_error *err = NULL;
    models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(st != NULL);
    if (st) {
        CHECK(strcmp(models_stream_model(st), "local/m2") == 0);
        char *text = NULL;
        CHECK(models_stream_collect(st, &text, &err) == MODELS_OK);
        CHECK(text && strcmp(text, "echo: hi") == 0);
        int64_t in = -1, out = -1;
        models_stream_usage(st, &in, &out);
        CHECK(in >= 0 && out >= 0);
        models_free(text);
        models_stream_close(st);
    }
    CHECK(now_ms() - t0 < 1500);
    CHECK(closed_by_client("m1"));
    models_error_free(err);
    models_router_free(r);
}

struct outcome {
    int done;
    models_code code;
    struct stream_text s;
};

static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    (void)response_json;
    (void)err;
    struct outcome *o = user;
    o->done = 1;
    o->code = code;
}

static int on_chunk(void *user, const char *chunk, size_t len) {
    struct outcome *o = user;
    return stream_text_on_chunk(&o->s, chunk, len);
}

static void test_engine_stream_is_hedged(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":300");
    ts_reset();
    ts_script("m1", SLOW);
    models_engine *e = models_engine_new(r, NULL);
    struct outcome o;
    memset(&o, 0, sizeof o);
    int64_t t0 = now_ms();
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, on_chunk, NULL, on_done, &o, NULL) == MODELS_OK);
    while (!o.done && now_ms() - t0 < 5000) models_engine_process(e, 100);
    CHECK(o.done && o.code == MODELS_OK);
    CHECK(now_ms() - t0 < 1500);
    CHECK(strcmp(o.s.text, "echo: hi") == 0);
    CHECK(o.s.role_chunks == 1);
    CHECK(models_engine_calls(e) == 0);
    /* The lost transfer is closed by the engine's next turn. */
    for (int i = 0; i < 5; i++) models_engine_process(e, 10);
    CHECK(closed_by_client("m1"));
    models_engine_free(e);
    models_router_free(r);
}

/* A group: whichever deployment goes first, the fast one answers in time. */
static void test_group_deployment_is_hedged(void) {
    models_router *r = router_from("\"primary\":\"g\",\"max_retries\":0,\"hedge_after_ms\":300,"
                                   "\"model_groups\":{\"g\":{\"deployments\":[{\"model\":\"local/m1\"},{\"model\":\"local/m2\"}]}}");
    for (int i = 0; i < 4; i++) {
        ts_reset();
        ts_script("m1", SLOW);
        int64_t t0 = now_ms();
        char *response = NULL;
        CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
        CHECK(now_ms() - t0 < 1500);
        CHECK(response && strstr(response, "\"model\":\"local/m2\""));
        free(response);
    }
    models_router_free(r);
}

struct canceller {
    models_call *call;
    int after_ms;
};

static void *cancel_later(void *arg) {
    struct canceller *c = arg;
    sleep_ms(c->after_ms);
    models_call_cancel(c->call);
    return NULL;
}

/* Cancelling a call while both attempts run cancels both. */
static void test_cancel_during_hedge_cancels_both(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":200");
    ts_reset();
    ts_script("m1", SLOW);
    ts_script("m2", SLOW);
    models_call *call = models_call_new();
    struct canceller c = {call, 500};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    int64_t t0 = now_ms();
    struct stream_text s;
    memset(&s, 0, sizeof s);
    models_error *err = NULL;
    models_code rc = models_chat_stream_ex(r, HELLO_STREAM, NULL, call, stream_text_on_chunk, NULL, &s, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(now_ms() - t0 < 1500);
    pthread_join(t, NULL);
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
    CHECK(closed_by_client("m1"));
    CHECK(closed_by_client("m2"));
    CHECK(s.chunks == 0);
    models_error_free(err);
    models_call_free(call);
    models_router_free(r);
}

/* The first model answers after the hedge started: it wins, the hedge is
 * cancelled (its connection closed). */
static void test_first_wins_after_the_hedge_started(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":150");
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":500}]");
    ts_script("m2", SLOW);
    int64_t t0 = now_ms();
    struct stream_text s;
    memset(&s, 0, sizeof s);
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &s, NULL) == MODELS_OK);
    CHECK(now_ms() - t0 < 1500);
    CHECK(strcmp(s.text, "echo: hi") == 0);
    CHECK(requests_for("m2") == 1);
    CHECK(closed_by_client("m2"));
    models_router_free(r);
}

/* One attempt failing lets the other go on alone; the failed one is not retried meanwhile. */
static void test_one_failing_lets_the_other_answer(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":1,"
                                   "\"retry_base_ms\":1,\"retry_max_ms\":5,\"hedge_after_ms\":150");
    /* The first fails while the hedge runs: the hedge answers. */
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":300,\"status\":503}]");
    ts_script("m2", "[{\"delay_ms\":700}]");
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/m2\""));
    free(response);
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
    /* The hedge fails while the first runs: the first answers. */
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":500}]");
    ts_script("m2", "[{\"status\":503}]");
    response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK(response && strstr(response, "\"model\":\"local/m1\""));
    free(response);
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1);
    models_router_free(r);
}

/* Both fail: the call goes on through its fallbacks, not trying the hedge's model again. */
static void test_both_failing_moves_on(void) {
    models_router *r = router_from("\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\",\"local/m3\"],\"max_retries\":0,"
                                   "\"hedge_after_ms\":150");
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":300,\"status\":503}]");
    ts_script("m2", "[{\"delay_ms\":400,\"status\":500}]");
    models_error *err = NULL;
    struct stream_text s;
    memset(&s, 0, sizeof s);
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &s, &err) == MODELS_OK);
    CHECK(strcmp(s.text, "echo: hi") == 0);
    CHECK(requests_for("m1") == 1 && requests_for("m2") == 1 && requests_for("m3") == 1);
    models_error_free(err);
    /* And when nothing is left, the error names both failures. */
    ts_reset();
    ts_script("m1", "[{\"delay_ms\":300,\"status\":503}]");
    ts_script("m2", "[{\"delay_ms\":400,\"status\":500}]");
    ts_script("m3", "[{\"status\":502}]");
    char *response = NULL;
    err = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_ALL_FAILED);
    CHECK(err && strstr(models_error_message(err), "local/m1") && strstr(models_error_message(err), "local/m2"));
    CHECK(requests_for("m2") == 1);
    models_error_free(err);
    models_router_free(r);
}

static int stop_at_once(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    ++*(int *)user;
    return 1;
}

/* A hedged stream stopped by its chunk callback, or closed after one chunk, ends cleanly. */
static void test_hedged_stream_stopped_early(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":200");
    ts_reset();
    ts_script("m1", SLOW);
    int seen = 0;
    models_error *err = NULL;
    models_code rc = models_chat_stream(r, HELLO_STREAM, stop_at_once, NULL, &seen, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_CANCELLED);
    CHECK(seen == 1);
    models_error_free(err);

    ts_reset();
    ts_script("m1", SLOW);
    ts_script("m2", "[{\"chunks\":50,\"event_delay_ms\":20}]");
    err = NULL;
    models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(st != NULL);
    if (st) {
        const char *chunk;
        CHECK(models_stream_next(st, &chunk, NULL, &err) == MODELS_OK);
        int64_t t0 = now_ms();
        models_stream_close(st);
        CHECK(now_ms() - t0 < 1000);
    }
    CHECK(closed_by_client("m1"));
    CHECK(closed_by_client("m2"));
    models_error_free(err);
    models_router_free(r);
}

/* A provider written in C (run on a worker thread) is hedged like any other:
 * the gated provider holds neither the call nor, later, the router. */
static void test_a_blocking_c_provider_is_hedged(void) {
    models_router *r = router_from("\"primary\":\"cp/a\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,\"hedge_after_ms\":200");
    static sp_provider p;
    sp_init(&p);
    snprintf(p.gate_model, sizeof p.gate_model, "a");
    sp_register(r, "cp", &p);
    ts_reset();
    int64_t t0 = now_ms();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK(now_ms() - t0 < 1500);
    CHECK(response && strstr(response, "\"model\":\"local/m2\""));
    free(response);
    models_error_free(err);
    sp_open_gate(&p);
    models_router_free(r);
}

struct events {
    pthread_mutex_t lock;
    char text[16384];
};

static void on_event(void *user, const char *event_json, size_t len) {
    struct events *ev = user;
    pthread_mutex_lock(&ev->lock);
    size_t used = strlen(ev->text);
    if (used + len + 2 < sizeof ev->text) {
        memcpy(ev->text + used, event_json, len);
        ev->text[used + len] = '\n';
        ev->text[used + len + 1] = '\0';
    }
    pthread_mutex_unlock(&ev->lock);
}

static void test_events_say_who_won(void) {
    models_router *r = hedged_router("\"hedge_after_ms\":300");
    static struct events ev = {PTHREAD_MUTEX_INITIALIZER, ""};
    models_router_set_event_handler(r, on_event, &ev);
    ts_reset();
    ts_script("m1", SLOW);
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    free(response);
    models_router_set_event_handler(r, NULL, NULL);
    CHECK(count_of(ev.text, "\"hedge.start\"") == 1);
    CHECK(count_of(ev.text, "\"hedge.end\"") == 1);
    CHECK(strstr(ev.text, "\"libmodels.hedge.winner\":\"hedge\"") != NULL);
    CHECK(strstr(ev.text, "\"libmodels.hedge.other_model\":\"local/m1\"") != NULL);
    CHECK(count_of(ev.text, "\"call.end\"") == 1);
    if (count_of(ev.text, "\"hedge.end\"") != 1) fprintf(stderr, "%s", ev.text);
    models_router_free(r);
}

static void log_line(void *user, int level, const char *message) {
    (void)user;
    if (getenv("HEDGE_LOG")) fprintf(stderr, "[%d] %s\n", level, message);
}

int main(void) {
    models_set_log_handler(log_line, NULL, MODELS_LOG_INFO);
    test_slow_first_chat_is_hedged();
    test_fast_first_is_never_hedged();
    test_push_stream_hedged_by_option();
    test_option_zero_turns_hedging_off();
    test_pull_stream_is_hedged();
    test_engine_stream_is_hedged();
    test_group_deployment_is_hedged();
    test_cancel_during_hedge_cancels_both();
    test_first_wins_after_the_hedge_started();
    test_one_failing_lets_the_other_answer();
    test_both_failing_moves_on();
    test_hedged_stream_stopped_early();
    test_a_blocking_c_provider_is_hedged();
    test_events_say_who_won();
    return check_report("test_hedge");
}
