/* SPDX-License-Identifier: Apache-2.0 */
/* stream_recovery "resume" (issue 18): a stream that breaks after its first
 * word (reset, truncation, malformed event, error event, stall) after any
 * event goes on with a continuation, and the caller gets the whole text
 * exactly once, through pull and push streams and through the engine; with
 * "off" the break is the caller's error, as before. */
#define _GNU_SOURCE
#include "test_util.h"

static const char *const TEXT = "alpha beta gamma delta epsilon";
static const char *const MODES[] = {"reset", "truncate", "malformed", "error", "stall"};

/* A wire format: the provider config and the model id the server sees. */
struct wire {
    const char *name;
    const char *model;   /* routed name */
    const char *id;      /* the id the server queues by */
    int events;          /* events of the scripted stream, terminator included */
};

static const struct wire WIRES[] = {
    {"openai (instruction)", "local/m1", "m1", 8},
    {"openai (prefix)", "pre/m1", "m1", 8},
    {"anthropic (prefill)", "anthropic/claude-test", "claude-test", 11},
};

static models_router *router_for(const char *recovery, const char *primary, const char *extra) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"%s\",\"stream_recovery\":\"%s\",\"max_retries\":2,\"retry_base_ms\":1,\"retry_max_ms\":5,"
             "\"stream_idle_timeout_ms\":150%s"
             "\"providers\":{\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\"},"
             "\"pre\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\",\"assistant_prefix\":true},"
             "\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"anthropic-test-key-4242\"}}}",
             primary, recovery, extra ? extra : ",", ts_url(), ts_url(), ts_url());
    return router_or_exit(config);
}

static void script_break(const char *id, int k, const char *mode) {
    char steps[512];
    snprintf(steps, sizeof steps,
             "[{\"content\":\"%s\",\"break_after\":%d,\"break_mode\":\"%s\"},{\"content\":\"%s\",\"continues\":true}]",
             TEXT, k, mode, TEXT);
    ts_script(id, steps);
}

/* Everything one stream delivered. */
struct got {
    struct stream_text s;
    char last[2048];
    char thinking[256];
    int done;
    models_code code;
};

static int on_chunk(void *user, const char *chunk, size_t len) {
    struct got *g = user;
    stream_text_add(&g->s, chunk);
    snprintf(g->last, sizeof g->last, "%.*s", (int)len, chunk);
    return 0;
}

static void on_done(void *user, models_code code, const char *response, const models_error *err) {
    (void)response;
    (void)err;
    struct got *g = user;
    g->done = 1;
    g->code = code;
}

static models_code pull(models_router *r, struct got *g, int *resumes) {
    memset(g, 0, sizeof *g);
    models_error *err = NULL;
    models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
    if (!st) {
        models_code rc = models_error_code(err);
        models_error_free(err);
        return rc;
    }
    const char *chunk;
    size_t len;
    models_code rc;
    while ((rc = models_stream_next(st, &chunk, &len, &err)) == MODELS_OK) on_chunk(g, chunk, len);
    *resumes = models_stream_resumes(st);
    char *summary = models_stream_resumed(st);
    CHECK((summary != NULL) == (*resumes > 0));
    if (summary) CHECK(strstr(summary, "\"parts\":[") != NULL);
    models_free(summary);
    models_error_free(err);
    models_stream_close(st);
    return rc;
}

static models_code push(models_router *r, struct got *g) {
    memset(g, 0, sizeof *g);
    models_error *err = NULL;
    models_code rc = models_chat_stream(r, HELLO_STREAM, on_chunk, NULL, g, &err);
    models_error_free(err);
    return rc;
}

static models_code engine(models_router *r, struct got *g) {
    memset(g, 0, sizeof *g);
    models_error *err = NULL;
    models_engine *e = models_engine_new(r, &err);
    CHECK(e != NULL);
    if (!e) return MODELS_ERR_NOMEM;
    models_code rc = models_stream_async(e, HELLO_STREAM, NULL, NULL, on_chunk, NULL, on_done, g, &err);
    CHECK(rc == MODELS_OK);
    while (models_engine_calls(e) > 0) models_engine_process(e, -1);
    models_engine_free(e);
    models_error_free(err);
    CHECK(g->done == 1);
    return g->code;
}

/* Every event index × every break × every wire format × pull, push and engine:
 * the whole text, once. A resumed stream ends with a chunk that says so. */
static void test_resume_after_every_event(void) {
    for (size_t w = 0; w < sizeof WIRES / sizeof *WIRES; w++) {
        models_router *r = router_for("resume", WIRES[w].model, NULL);
        for (size_t m = 0; m < sizeof MODES / sizeof *MODES; m++) {
            for (int k = 0; k <= WIRES[w].events; k++) {
                for (int how = 0; how < 3; how++) {
                    ts_reset();
                    script_break(WIRES[w].id, k, MODES[m]);
                    struct got g;
                    int resumes = -1;
                    models_code rc = how == 0 ? pull(r, &g, &resumes) : how == 1 ? push(r, &g) : engine(r, &g);
                    int ok = (how == 0 ? rc == MODELS_DONE : rc == MODELS_OK) && strcmp(g.s.text, TEXT) == 0
                             && g.s.role_chunks == 1;
                    CHECK(ok);
                    int resumed = strstr(g.last, "\"x_libmodels\":{\"resumed\"") != NULL;
                    if (how == 0) CHECK(resumed == (resumes > 0));
                    if (resumed) CHECK(strstr(g.last, "\"choices\":[]") != NULL && strstr(g.last, "\"usage\"") != NULL);
                    if (!ok)
                        fprintf(stderr, "  %s, %s after %d, %s: %s, text [%s], %d role chunks\n", WIRES[w].name, MODES[m], k,
                                how == 0 ? "pull" : how == 1 ? "push" : "engine", models_code_name(rc), g.s.text,
                                g.s.role_chunks);
                }
            }
        }
        models_router_free(r);
    }
}

/* A break in the middle of the text is resumed once, on the same model, and
 * the usage at the end is summed over both attempts. */
static void test_mid_text_break_is_one_resume(void) {
    for (size_t w = 0; w < sizeof WIRES / sizeof *WIRES; w++) {
        models_router *r = router_for("resume", WIRES[w].model, NULL);
        for (size_t m = 0; m < sizeof MODES / sizeof *MODES; m++) {
            ts_reset();
            script_break(WIRES[w].id, w == 2 ? 5 : 3, MODES[m]); /* after "alpha beta " */
            struct got g;
            int resumes = 0;
            CHECK(pull(r, &g, &resumes) == MODELS_DONE);
            CHECK(resumes == 1);
            CHECK(strcmp(g.s.text, TEXT) == 0);
            CHECK(requests_for(WIRES[w].id) == 2);
            CHECK(strstr(g.last, "\"count\":1") != NULL);
            if (resumes != 1) fprintf(stderr, "  %s, %s: %d resumes, last [%s]\n", WIRES[w].name, MODES[m], resumes, g.last);
        }
        models_router_free(r);
    }
}

/* The continuation request each form sends. */
static void test_continuation_requests(void) {
    for (size_t w = 0; w < sizeof WIRES / sizeof *WIRES; w++) {
        models_router *r = router_for("resume", WIRES[w].model, NULL);
        ts_reset();
        script_break(WIRES[w].id, w == 2 ? 5 : 3, "reset");
        struct got g;
        int resumes = 0;
        CHECK(pull(r, &g, &resumes) == MODELS_DONE);
        char *second = nth_request(1);
        CHECK(second != NULL);
        if (w == 0) CHECK(strstr(second, "{\"role\":\"assistant\",\"content\":\"alpha beta \"},{\"role\":\"user\",\"content\":\"Your previous answer was cut off") != NULL);
        if (w == 1) CHECK(strstr(second, "{\"role\":\"assistant\",\"content\":\"alpha beta \",\"prefix\":true}") != NULL);
        if (w == 2) CHECK(strstr(second, "{\"role\":\"assistant\",\"content\":\"alpha beta\"}") != NULL
                          || strstr(second, "\"text\":\"alpha beta\"") != NULL);
        if (w == 2 && !strstr(second, "alpha beta\"")) fprintf(stderr, "  anthropic continuation: %s\n", second);
        free(second);
        models_router_free(r);
    }
}

/* The fallback continues when the primary has no retries left. */
static void test_fallback_continues(void) {
    models_router *r = router_for("resume", "local/m1", ",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,");
    ts_reset();
    char steps[256];
    snprintf(steps, sizeof steps, "[{\"content\":\"%s\",\"break_after\":3,\"break_mode\":\"reset\"}]", TEXT);
    ts_script("m1", steps);
    snprintf(steps, sizeof steps, "[{\"content\":\"%s\",\"continues\":true}]", TEXT);
    ts_script("m2", steps);
    struct got g;
    int resumes = 0;
    CHECK(pull(r, &g, &resumes) == MODELS_DONE);
    CHECK(strcmp(g.s.text, TEXT) == 0);
    CHECK(resumes == 1);
    CHECK(strstr(g.last, "{\"model\":\"local/m1\",\"content_bytes\":11,\"ended_by\":\"transport\"},"
                         "{\"model\":\"local/m2\",\"content_bytes\":19}") != NULL);
    if (!strstr(g.last, "local/m2")) fprintf(stderr, "  last: %s\n", g.last);
    models_router_free(r);
}

/* Resumption is bounded by max_retries: with none left and no fallback, the
 * break ends the stream with its error after the delivered text. */
static void test_bounded_by_max_retries(void) {
    models_router *r = router_for("resume", "local/m1", NULL);
    ts_reset();
    char steps[512];
    snprintf(steps, sizeof steps,
             "[{\"content\":\"%s\",\"break_after\":3,\"break_mode\":\"reset\"},"
             "{\"content\":\"%s\",\"continues\":true,\"break_after\":4,\"break_mode\":\"reset\"},"
             "{\"content\":\"%s\",\"continues\":true}]",
             TEXT, TEXT, TEXT);
    ts_script("m1", steps);
    models_error *err = NULL;
    models_stream *st = models_stream_open_ex(r, HELLO_STREAM, "{\"max_retries\":1}", NULL, &err);
    CHECK(st != NULL);
    struct got g;
    memset(&g, 0, sizeof g);
    const char *chunk;
    size_t len;
    models_code rc;
    while ((rc = models_stream_next(st, &chunk, &len, &err)) == MODELS_OK) on_chunk(&g, chunk, len);
    CHECK(rc == MODELS_ERR_TRANSPORT || rc == MODELS_ERR_PROTOCOL);
    /* The first attempt gave "alpha beta ", the retry "gamma " (after its two repeated words). */
    CHECK(strcmp(g.s.text, "alpha beta gamma ") == 0);
    CHECK(requests_for("m1") == 2 && models_stream_resumes(st) == 1);
    if (strcmp(g.s.text, "alpha beta gamma ") != 0) fprintf(stderr, "  bounded: [%s] %s\n", g.s.text, models_code_name(rc));
    models_error_free(err);
    models_stream_close(st);
    models_router_free(r);
}

/* With "off" (the default), a break after the first word is the caller's error. */
static void test_off_keeps_the_errors(void) {
    const models_code expected[] = {MODELS_ERR_TRANSPORT, MODELS_ERR_PROTOCOL, MODELS_ERR_PROTOCOL, MODELS_ERR_API,
                                    MODELS_ERR_TIMEOUT};
    models_router *r = router_for("off", "local/m1", NULL);
    for (size_t m = 0; m < sizeof MODES / sizeof *MODES; m++) {
        ts_reset();
        script_break("m1", 3, MODES[m]);
        struct got g;
        int resumes = 0;
        models_code rc = pull(r, &g, &resumes);
        CHECK(rc == expected[m] || (m == 0 && rc == MODELS_ERR_PROTOCOL));
        CHECK(strcmp(g.s.text, "alpha beta ") == 0);
        CHECK(requests_for("m1") == 1 && resumes == 0);
        if (rc != expected[m]) fprintf(stderr, "  off, %s: %s\n", MODES[m], models_code_name(rc));
        ts_reset();
        script_break("m1", 3, MODES[m]);
        CHECK(engine(r, &g) < 0);
        CHECK(strcmp(g.s.text, "alpha beta ") == 0);
    }
    models_router_free(r);
}

/* A tool call cut after part of its arguments cannot be resumed: a clear
 * error. One cut before any argument byte restarts on the new attempt, under
 * the id and name the caller already has. */
static void test_tool_calls(void) {
    models_router *r = router_for("resume", "local/m1", NULL);
    const char *tool = "\"tool_calls\":[{\"id\":\"call_a\",\"name\":\"lookup\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]";
    char steps[512];
    /* Events: role, announce, 2 argument pieces, finish, [DONE]. */
    snprintf(steps, sizeof steps, "[{%s,\"break_after\":3,\"break_mode\":\"reset\"},{%s}]", tool, tool);
    ts_reset();
    ts_script("m1", steps);
    models_error *err = NULL;
    models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(st != NULL);
    const char *chunk;
    models_code rc;
    while ((rc = models_stream_next(st, &chunk, NULL, &err)) == MODELS_OK) {}
    CHECK(rc == MODELS_ERR_PROTOCOL);
    CHECK(err && strstr(models_error_message(err), "arguments of tool call 0") != NULL);
    if (err) fprintf(stderr, "  (expected) %s\n", models_error_message(err));
    models_error_free(err);
    models_stream_close(st);

    snprintf(steps, sizeof steps, "[{%s,\"break_after\":2,\"break_mode\":\"reset\"},"
                                  "{\"tool_calls\":[{\"id\":\"call_b\",\"name\":\"lookup\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]}]", tool);
    ts_reset();
    ts_script("m1", steps);
    err = NULL;
    st = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(st != NULL);
    char all[8192] = "";
    while ((rc = models_stream_next(st, &chunk, NULL, &err)) == MODELS_OK) strncat(all, chunk, sizeof all - strlen(all) - 1);
    CHECK(rc == MODELS_DONE);
    CHECK(count_of(all, "\"name\":\"lookup\"") == 1 && count_of(all, "\"id\":\"call_a\"") == 1 && !strstr(all, "call_b"));
    CHECK(models_stream_resumes(st) == 1);
    models_error_free(err);
    models_stream_close(st);
    models_router_free(r);
}

static void add_thinking(void *user, const char *text, size_t len) {
    struct got *g = user;
    size_t used = strlen(g->thinking);
    if (used + len < sizeof g->thinking) {
        memcpy(g->thinking + used, text, len);
        g->thinking[used + len] = '\0';
    }
}

/* Thinking is not delivered again: the caller's thinking callback gets the
 * first attempt's only (pull stream and engine). */
static void test_thinking_not_resent(void) {
    models_router *r = router_for("resume", "anthropic/claude-test", NULL);
    char steps[512];
    /* Events: message_start, thinking start, ping, 2 thinking deltas, signature, stop, text start, "alpha ", "beta ". */
    snprintf(steps, sizeof steps,
             "[{\"thinking\":\"hmm deep\",\"content\":\"%s\",\"break_after\":10,\"break_mode\":\"reset\"},"
             "{\"thinking\":\"again\",\"content\":\"%s\",\"continues\":true}]", TEXT, TEXT);
    for (int how = 0; how < 2; how++) {
        ts_reset();
        ts_script("claude-test", steps);
        struct got g;
        memset(&g, 0, sizeof g);
        models_error *err = NULL;
        if (how == 0) {
            models_stream *st = models_stream_open(r, HELLO_STREAM, &err);
            CHECK(st != NULL);
            models_stream_on_thinking(st, add_thinking, &g);
            const char *chunk;
            size_t len;
            while (models_stream_next(st, &chunk, &len, &err) == MODELS_OK) on_chunk(&g, chunk, len);
            CHECK(models_stream_resumes(st) == 1);
            models_stream_close(st);
        } else {
            models_engine *e = models_engine_new(r, &err);
            CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, on_chunk, add_thinking, on_done, &g, &err) == MODELS_OK);
            while (models_engine_calls(e) > 0) models_engine_process(e, -1);
            models_engine_free(e);
        }
        CHECK(strcmp(g.s.text, TEXT) == 0);
        CHECK(strcmp(g.thinking, "hmm deep") == 0);
        if (strcmp(g.thinking, "hmm deep") != 0) fprintf(stderr, "  thinking (%s): [%s]\n", how ? "engine" : "pull", g.thinking);
        models_error_free(err);
    }
    models_router_free(r);
}

/* The per-call option overrides the config, both ways. */
static void test_per_call_option(void) {
    models_router *r = router_for("off", "local/m1", NULL);
    ts_reset();
    script_break("m1", 3, "reset");
    models_error *err = NULL;
    models_stream *st = models_stream_open_ex(r, HELLO_STREAM, "{\"stream_recovery\":\"resume\"}", NULL, &err);
    CHECK(st != NULL);
    char *text = NULL;
    CHECK(models_stream_collect(st, &text, &err) == MODELS_OK);
    CHECK(text && strcmp(text, TEXT) == 0);
    models_free(text);
    models_stream_close(st);
    CHECK(models_stream_open_ex(r, HELLO_STREAM, "{\"stream_recovery\":\"maybe\"}", NULL, &err) == NULL);
    CHECK(err && strstr(models_error_message(err), "stream_recovery") != NULL);
    models_error_free(err);
    models_router_free(r);
}

static char events[16384];
static void on_event(void *user, const char *json, size_t len) {
    (void)user;
    size_t used = strlen(events);
    if (used + len + 2 < sizeof events) {
        memcpy(events + used, json, len);
        events[used + len] = '\n';
        events[used + len + 1] = '\0';
    }
}

static char logs[8192];
static void on_log(void *user, int level, const char *message) {
    (void)user;
    if (level == MODELS_LOG_INFO && strstr(message, "resuming")) strncat(logs, message, sizeof logs - strlen(logs) - 1);
}

/* Each resume is a log line and a "stream.resume" event, then the retry. */
static void test_log_line_and_event(void) {
    models_router *r = router_for("resume", "local/m1", NULL);
    events[0] = logs[0] = '\0';
    CHECK(models_router_set_event_handler(r, on_event, NULL) == MODELS_OK);
    models_set_log_handler(on_log, NULL, MODELS_LOG_DEBUG);
    ts_reset();
    script_break("m1", 3, "truncate");
    struct got g;
    int resumes = 0;
    CHECK(pull(r, &g, &resumes) == MODELS_DONE && resumes == 1);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    const char *e = strstr(events, "\"stream.resume\"");
    CHECK(e != NULL);
    if (e) {
        const char *line_end = strchr(e, '\n');
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(line_end ? line_end - e : 200), e);
        CHECK(strstr(line, "\"libmodels.resume\":1") != NULL);
        CHECK(strstr(line, "\"libmodels.delivered_bytes\":11") != NULL);
        CHECK(strstr(line, "\"error.type\":\"protocol\"") != NULL);
        CHECK(strstr(e, "\"retry\"") != NULL); /* the retry follows the resume */
    }
    CHECK(strstr(logs, "local/m1: the stream broke after 11 bytes of text") != NULL);
    if (!e) fprintf(stderr, "  events: %s\n", events);
    models_router_free(r);
}

int main(void) {
    test_log_line_and_event();
    test_resume_after_every_event();
    test_mid_text_break_is_one_resume();
    test_continuation_requests();
    test_fallback_continues();
    test_off_keeps_the_errors();
    test_bounded_by_max_retries();
    test_tool_calls();
    test_per_call_option();
    test_thinking_not_resent();
    return check_report("test_stream_resume");
}
