/* SPDX-License-Identifier: Apache-2.0 */
/* Embeddings (models_embed, models_embed_ex, models_embed_async) against the
 * loopback test server: one input and a batch (strings and tokens),
 * dimensions and a base64 answer passed through, routing as for chat (a retry
 * on 5xx, a fallback to a second model, a cooldown, a deployment's tpm limit
 * counting the input tokens, a provider's rate limit), events and metrics,
 * Azure's deployment and v1 paths, providers without embeddings (Anthropic, a
 * provider written in C) refused with a clear error, bad requests refused
 * before anything is sent, cancellation, and the engine. */
#define _GNU_SOURCE
#include "test_util.h"
#include "scripted_provider.h"

#include <pthread.h>

#define ONE "{\"model\":\"local/emb\",\"input\":\"hello big world\"}"

/* models_embed_ex; returns the code, the answer in *out (caller frees) and the
 * error's message in msg. */
static models_code embed(models_router *r, const char *request, const char *options, models_call *call,
                         char **out, char *msg, size_t size) {
    models_error *err = NULL;
    char *response = NULL;
    models_code rc = models_embed_ex(r, request, options, call, &response, &err);
    CHECK((rc == MODELS_OK) == (response != NULL));
    CHECK((rc == MODELS_OK) == (err == NULL));
    if (msg) snprintf(msg, size, "%s", err ? models_error_message(err) : "");
    if (err && rc != models_error_code(err)) CHECK(0);
    models_error_free(err);
    if (out) *out = response; else models_free(response);
    return rc;
}

/* The text of the first "embedding" value of an answer, up to its end. */
static void first_vector(const char *answer, char *out, size_t size) {
    out[0] = '\0';
    const char *p = answer ? strstr(answer, "\"embedding\":") : NULL;
    if (!p) return;
    p += strlen("\"embedding\":");
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p + 1, "\"") + 2;
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void test_one_input(void) {
    models_router *r = local_router("");
    ts_reset();
    char *answer = NULL, *again = NULL;
    CHECK(embed(r, ONE, NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"object\":\"list\"");
    CHECK_STR_CONTAINS(answer, "\"model\":\"local/emb\"");
    CHECK_STR_CONTAINS(answer, "\"prompt_tokens\":3");
    CHECK(count_of(answer, "\"object\":\"embedding\"") == 1);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"path\":\"/v1/embeddings\"");
    CHECK_STR_CONTAINS(req, "\"authorization\":\"Bearer sk-test-local-0123456789\"");
    CHECK_STR_CONTAINS(req, "\"model\":\"emb\"");
    CHECK_STR_CONTAINS(req, "\"input\":\"hello big world\"");
    free(req);
    /* The plain models_embed, and the same input gives the same vector. */
    models_error *err = NULL;
    CHECK(models_embed(r, ONE, &again, &err) == MODELS_OK);
    CHECK(err == NULL);
    char v1[4096], v2[4096];
    first_vector(answer, v1, sizeof v1);
    first_vector(again, v2, sizeof v2);
    CHECK(v1[0] == '[' && strcmp(v1, v2) == 0);
    CHECK(count_of(v1, ",") == 7); /* the server's default: 8 numbers */
    models_free(answer);
    models_free(again);
    models_router_free(r);
}

static void test_batch_tokens_dimensions_base64(void) {
    models_router *r = local_router("");
    ts_reset();
    char *answer = NULL;
    CHECK(embed(r, "{\"model\":\"local/emb\",\"input\":[\"a b\",\"c\",\"d e f\"],\"dimensions\":4,\"user\":\"u1\",\"x_vendor\":1}",
                NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK(count_of(answer, "\"object\":\"embedding\"") == 3);
    CHECK_STR_CONTAINS(answer, "\"index\":2");
    CHECK_STR_CONTAINS(answer, "\"prompt_tokens\":6");
    char v[4096];
    first_vector(answer, v, sizeof v);
    CHECK(count_of(v, ",") == 3); /* dimensions reached the provider */
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"dimensions\":4");
    CHECK_STR_CONTAINS(req, "\"user\":\"u1\"");
    CHECK_STR_CONTAINS(req, "\"x_vendor\":1"); /* unknown members pass through */
    free(req);
    models_free(answer);

    /* Tokens: one array of tokens is one input; an array of them is a batch. */
    CHECK(embed(r, "{\"model\":\"local/emb\",\"input\":[1,2,3]}", NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK(count_of(answer, "\"object\":\"embedding\"") == 1);
    CHECK_STR_CONTAINS(answer, "\"prompt_tokens\":3");
    models_free(answer);
    CHECK(embed(r, "{\"model\":\"local/emb\",\"input\":[[1,2,3],[4,5]]}", NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK(count_of(answer, "\"object\":\"embedding\"") == 2);
    CHECK_STR_CONTAINS(answer, "\"prompt_tokens\":5");
    models_free(answer);

    /* base64: the provider's string comes back as it sent it. */
    ts_reset();
    CHECK(embed(r, "{\"model\":\"local/emb\",\"input\":\"x\",\"encoding_format\":\"base64\"}", NULL, NULL, &answer, NULL, 0)
          == MODELS_OK);
    first_vector(answer, v, sizeof v);
    CHECK(v[0] == '"' && strlen(v) == 2 + 44); /* 8 float32 = 32 bytes = 44 base64 characters */
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"encoding_format\":\"base64\"");
    free(req);
    models_free(answer);
    models_router_free(r);
}

static void test_retry_fallback_cooldown(void) {
    models_router *r = local_router("\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":5");
    /* A 503 is retried on the same model. */
    ts_reset();
    ts_script("emb", "[{\"status\":503}]");
    char *answer = NULL;
    char msg[1024];
    CHECK(embed(r, ONE, NULL, NULL, &answer, msg, sizeof msg) == MODELS_OK);
    CHECK(requests_for("emb") == 2);
    models_free(answer);
    /* A 400 is not. */
    ts_reset();
    ts_script("emb", "[{\"status\":400}]");
    CHECK(embed(r, ONE, NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_API);
    CHECK(requests_for("emb") == 1);
    /* The call's fallbacks after the model it names. */
    ts_reset();
    ts_script("emb", "[{\"status\":500},{\"status\":500}]");
    CHECK(embed(r, ONE, "{\"fallbacks\":[\"local/emb2\"]}", NULL, &answer, msg, sizeof msg) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"local/emb2\"");
    CHECK(requests_for("emb") == 2 && requests_for("emb2") == 1);
    models_free(answer);
    /* Every model failed: the error lists them. */
    ts_reset();
    script_n("emb", "{\"status\":502}", 2);
    script_n("emb2", "{\"status\":502}", 2);
    CHECK(embed(r, ONE, "{\"fallbacks\":[\"local/emb2\"]}", NULL, NULL, msg, sizeof msg) == MODELS_ERR_ALL_FAILED);
    CHECK_STR_CONTAINS(msg, "local/emb2");
    models_router_free(r);

    /* The configured primary and fallbacks, with a cooldown: the failed primary is skipped next time. */
    r = router_from("\"primary\":\"local/e1\",\"fallbacks\":[\"local/e2\"],\"max_retries\":0,"
                    "\"cooldown\":{\"base_ms\":60000}");
    ts_reset();
    ts_script("e1", "[{\"status\":503}]");
    CHECK(embed(r, "{\"input\":\"one\"}", NULL, NULL, &answer, msg, sizeof msg) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"local/e2\"");
    models_free(answer);
    CHECK(embed(r, "{\"input\":\"two\"}", NULL, NULL, &answer, msg, sizeof msg) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"local/e2\"");
    CHECK(requests_for("e1") == 1 && requests_for("e2") == 2);
    char health[512];
    CHECK_STR_CONTAINS(health_of(r, "local/e1", health, sizeof health), "cooldown");
    models_free(answer);
    models_router_free(r);
}

struct events {
    pthread_mutex_t lock;
    char text[16384];
};

static void on_event(void *user, const char *event, size_t len) {
    struct events *e = user;
    pthread_mutex_lock(&e->lock);
    size_t used = strlen(e->text);
    if (used + len + 2 < sizeof e->text) {
        memcpy(e->text + used, event, len);
        e->text[used + len] = '\n';
        e->text[used + len + 1] = '\0';
    }
    pthread_mutex_unlock(&e->lock);
}

static void test_limits_events_metrics_cost(void) {
    /* A group deployment's tpm counts the answer's input tokens. */
    models_router *r = router_from("\"primary\":\"local/m1\",\"timeout_ms\":2000,"
                                   "\"model_groups\":{\"embed\":{\"deployments\":[{\"model\":\"local/e1\",\"tpm\":5}]}},"
                                   "\"prices\":{\"local/e1\":{\"input_per_million\":2,\"output_per_million\":8}}");
    struct events ev = {PTHREAD_MUTEX_INITIALIZER, ""};
    CHECK(models_router_set_event_handler(r, on_event, &ev) == MODELS_OK);
    ts_reset();
    char *answer = NULL;
    char msg[1024];
    CHECK(embed(r, "{\"model\":\"embed\",\"input\":\"one two three four five six\"}", "{\"x_libmodels\":true}", NULL,
                &answer, msg, sizeof msg) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"local/e1\"");
    CHECK_STR_CONTAINS(answer, "\"x_libmodels\":{");
    CHECK_STR_CONTAINS(answer, "\"cost_usd\":1.2e-05");
    models_free(answer);
    CHECK(embed(r, "{\"model\":\"embed\",\"input\":\"again\"}", NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_ALL_COOLDOWN);
    CHECK_STR_CONTAINS(msg, "tpm");
    CHECK(requests_for("e1") == 1);
    models_router_set_event_handler(r, NULL, NULL);
    CHECK_STR_CONTAINS(ev.text, "{\"event\":\"call.start\"");
    CHECK_STR_CONTAINS(ev.text, "\"gen_ai.operation.name\":\"embeddings\"");
    CHECK(strstr(ev.text, "\"gen_ai.operation.name\":\"chat\"") == NULL);
    CHECK_STR_CONTAINS(ev.text, "\"gen_ai.usage.input_tokens\":6,\"gen_ai.usage.output_tokens\":0");
    char *metrics = models_router_metrics(r);
    CHECK_STR_CONTAINS(metrics, "model=\"local/e1\"");
    models_free(metrics);
    models_router_free(r);

    /* A provider's rate limit: the second call waits for its token. */
    r = local_router("\"rate_limits\":{\"local\":{\"requests_per_second\":20,\"burst\":1}}");
    ev.text[0] = '\0';
    CHECK(models_router_set_event_handler(r, on_event, &ev) == MODELS_OK);
    ts_reset();
    CHECK(embed(r, ONE, NULL, NULL, NULL, msg, sizeof msg) == MODELS_OK);
    CHECK(embed(r, ONE, NULL, NULL, NULL, msg, sizeof msg) == MODELS_OK);
    models_router_set_event_handler(r, NULL, NULL);
    CHECK_STR_CONTAINS(ev.text, "\"event\":\"rate_limit.wait\"");
    models_router_free(r);
}

static void test_azure(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"az/dep-e\",\"providers\":{"
             "\"az\":{\"type\":\"azure\",\"base_url\":\"%s\",\"api_version\":\"2024-10-21\",\"api_key\":\"azure-key-0123456789\"},"
             "\"az1\":{\"type\":\"azure\",\"base_url\":\"%s/openai/v1\",\"api_key\":\"azure-key-0123456789\"}}}",
             ts_url(), ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    char *answer = NULL;
    CHECK(embed(r, "{\"input\":\"hi\"}", NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"az/dep-e\"");
    models_free(answer);
    CHECK(embed(r, "{\"model\":\"az1/text-embedding-3-small\",\"input\":\"hi\"}", NULL, NULL, &answer, NULL, 0) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "\"model\":\"az1/text-embedding-3-small\"");
    models_free(answer);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"path\":\"/openai/deployments/dep-e/embeddings?api-version=2024-10-21\"");
    CHECK_STR_CONTAINS(req, "\"api-key\":\"azure-key-0123456789\"");
    CHECK(strstr(req, "\"authorization\"") == NULL);
    free(req);
    req = nth_request(1);
    CHECK_STR_CONTAINS(req, "\"path\":\"/openai/v1/embeddings\"");
    CHECK_STR_CONTAINS(req, "\"model\":\"text-embedding-3-small\"");
    free(req);
    models_router_free(r);
}

static void test_providers_without_embeddings(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-x\",\"fallbacks\":[\"local/emb\"],\"providers\":{"
             "\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-ant-test-0123456789\"},"
             "\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\"}}}",
             ts_url(), ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    char msg[1024];
    CHECK(embed(r, "{\"input\":\"hi\"}", NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(msg, "provider \"anthropic\" has no embeddings API");
    CHECK(ts_stat("requests") == 0); /* neither Anthropic nor the fallback was called */

    /* A provider written in C has no embeddings either. */
    static sp_provider p;
    sp_init(&p);
    models_provider_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.chat = sp_chat;
    models_error *err = NULL;
    CHECK(models_router_add_provider(r, "mine", &cb, &p, &err) == MODELS_OK);
    CHECK(embed(r, "{\"model\":\"mine/m1\",\"input\":\"hi\"}", NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(msg, "provider \"mine\" has no embeddings API");
    CHECK(p.chat_calls == 0);
    models_router_free(r);
}

static void test_bad_requests(void) {
    models_router *r = local_router("");
    ts_reset();
    char *response = (char *)1;
    models_error *err = NULL;
    models_code rc;
    rc = models_embed(NULL, ONE, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    CHECK(response == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "router is NULL");
    models_error_free(err);
    err = NULL;
    rc = models_embed(r, NULL, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "request_json is NULL");
    models_error_free(err);
    err = NULL;
    rc = models_embed(r, ONE, NULL, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "response_json is NULL");
    models_error_free(err);
    CHECK(models_embed(r, ONE, NULL, NULL) == MODELS_ERR_INVALID_ARGUMENT); /* err may be NULL */

    static const struct { const char *request, *message; } bad[] = {
        {"{\"input\":", "not valid JSON"},
        {"[\"hi\"]", "must be a JSON object, not an array"},
        {"{\"model\":\"local/emb\"}", "has no \"input\""},
        {"{\"input\":null}", "has no \"input\""},
        {"{\"input\":5}", "\"input\" must be a string or an array"},
        {"{\"input\":\"\"}", "\"input\" must not be an empty string"},
        {"{\"input\":[]}", "\"input\" must not be an empty array"},
        {"{\"input\":[\"a\",\"\"]}", "\"input[1]\" must not be an empty string"},
        {"{\"input\":[\"a\",2]}", "\"input[1]\" must be a string like \"input[0]\", not a token"},
        {"{\"input\":[1,-2]}", "\"input[1]\" must be a token"},
        {"{\"input\":[1.5]}", "\"input[0]\" must be a string, a token (an integer) or an array of tokens, not a number"},
        {"{\"input\":[[1],[]]}", "\"input[1]\" must not be an empty array"},
        {"{\"input\":[[1],[\"a\"]]}", "\"input[1][0]\" must be a token"},
        {"{\"input\":[{}]}", "\"input[0]\" must be a string, a token (an integer) or an array of tokens, not an object"},
        {"{\"input\":\"a\",\"model\":5}", "\"model\" must be a string, not a number"},
        {"{\"input\":\"a\",\"encoding_format\":\"int8\"}", "\"encoding_format\" must be \"float\" or \"base64\", not \"int8\""},
        {"{\"input\":\"a\",\"encoding_format\":1}", "\"encoding_format\" must be a string"},
        {"{\"input\":\"a\",\"dimensions\":0}", "\"dimensions\" must be a positive integer"},
        {"{\"input\":\"a\",\"dimensions\":\"4\"}", "\"dimensions\" must be a positive integer"},
        {"{\"input\":\"a\",\"dimensions\":1e300}", "\"dimensions\" must be a positive integer"},
        {"{\"input\":\"a\",\"user\":[]}", "\"user\" must be a string, not an array"},
        {"{\"input\":\"a\",\"model\":\"bad model/\"}", "\"model\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[1024];
        models_code rc = embed(r, bad[i].request, NULL, NULL, NULL, msg, sizeof msg);
        CHECK(rc == MODELS_ERR_INVALID_ARGUMENT);
        if (!strstr(msg, bad[i].message)) {
            fprintf(stderr, "  %s: expected \"%s\" in \"%s\"\n", bad[i].request, bad[i].message, msg);
            CHECK(0);
        }
    }
    /* Bad options. */
    char msg[1024];
    CHECK(embed(r, ONE, "{\"timeout\":5}", NULL, NULL, msg, sizeof msg) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(msg, "models_embed_ex");
    /* Over 32 MiB. */
    size_t huge = (32u << 20) + 64;
    char *big = malloc(huge + 1);
    memset(big, 'a', huge);
    memcpy(big, "{\"input\":\"", 10);
    memcpy(big + huge - 2, "\"}", 2);
    big[huge] = '\0';
    CHECK(embed(r, big, NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(msg, "larger than");
    free(big);
    CHECK(ts_stat("requests") == 0);

    /* The provider's answer is not an embeddings answer. */
    ts_script("emb", "[{\"body\":{\"object\":\"list\"}}]");
    CHECK(embed(r, ONE, NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(msg, "without \"data\"");
    ts_script("emb", "[{\"body\":\"not json\"}]");
    CHECK(embed(r, ONE, NULL, NULL, NULL, msg, sizeof msg) == MODELS_ERR_PROTOCOL);
    models_router_free(r);
}

struct canceller {
    models_call *call;
    int delay_ms;
    pthread_t thread;
};

static void *cancel_later(void *arg) {
    struct canceller *c = arg;
    sleep_ms(c->delay_ms);
    models_call_cancel(c->call);
    return NULL;
}

static void test_cancel(void) {
    models_router *r = local_router("");
    ts_reset();
    char msg[1024];
    /* Cancelled before: nothing is sent. */
    models_call *call = models_call_new();
    models_call_cancel(call);
    CHECK(embed(r, ONE, NULL, call, NULL, msg, sizeof msg) == MODELS_ERR_CANCELLED);
    models_call_free(call);
    CHECK(ts_stat("requests") == 0);
    /* Cancelled while the server hangs. */
    ts_script("emb", "[{\"hang\":true}]");
    struct canceller c = {models_call_new(), 50, 0};
    pthread_create(&c.thread, NULL, cancel_later, &c);
    int64_t start = now_ms();
    CHECK(embed(r, ONE, NULL, c.call, NULL, msg, sizeof msg) == MODELS_ERR_CANCELLED);
    pthread_join(c.thread, NULL);
    printf("cancelled a hung embeddings call after %lld ms\n", (long long)(now_ms() - start));
    models_call_free(c.call);
    models_router_free(r);
}

/* ---- the engine ---------------------------------------------------------- */

struct outcome {
    int done;
    models_code code;
    char message[512];
    char response[4096];
};

static void on_done(void *user, models_code code, const char *response_json, const models_error *err) {
    struct outcome *o = user;
    o->done++;
    o->code = code;
    snprintf(o->message, sizeof o->message, "%s", err ? models_error_message(err) : "");
    snprintf(o->response, sizeof o->response, "%s", response_json ? response_json : "");
}

static void run(models_engine *e, struct outcome *o) {
    int64_t until = now_ms() + 20000;
    while (!o->done && now_ms() < until) CHECK(models_engine_process(e, 100) >= 0);
    CHECK(o->done == 1);
}

static void test_engine(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"local/emb\",\"max_retries\":1,\"retry_base_ms\":1,\"retry_max_ms\":5,\"providers\":{"
             "\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-ant-test-0123456789\"},"
             "\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\"}}}",
             ts_url(), ts_url());
    models_router *r = router_or_exit(config);
    models_error *err = NULL;
    models_code rc;
    models_engine *e = models_engine_new(r, &err);
    CHECK(e != NULL);
    ts_reset();
    ts_script("emb", "[{\"status\":503}]");
    struct outcome o = {0};
    CHECK(models_embed_async(e, "{\"input\":[\"a\",\"b c\"]}", NULL, NULL, on_done, &o, &err) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/emb\"");
    CHECK_STR_CONTAINS(o.response, "\"prompt_tokens\":3");
    CHECK(count_of(o.response, "\"object\":\"embedding\"") == 2);
    CHECK(requests_for("emb") == 2); /* retried */

    /* A fallback named in the options. */
    ts_reset();
    script_n("emb", "{\"status\":500}", 2);
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(e, ONE, "{\"fallbacks\":[\"local/emb2\"]}", NULL, on_done, &o, &err) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/emb2\"");

    /* Hedging is for first words: an embeddings call is never hedged, on the
     * engine as in the blocking call, even when a fallback could take it. */
    ts_reset();
    ts_script("emb", "[{\"delay_ms\":300}]");
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(e, ONE, "{\"fallbacks\":[\"local/emb2\"],\"hedge_after_ms\":20}", NULL, on_done, &o,
                             &err) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/emb\"");
    CHECK(requests_for("emb2") == 0);
    ts_reset();
    ts_script("emb", "[{\"delay_ms\":300}]");
    CHECK(embed(r, ONE, "{\"fallbacks\":[\"local/emb2\"],\"hedge_after_ms\":20}", NULL, NULL, NULL, 0) == MODELS_OK);
    CHECK(requests_for("emb2") == 0);

    /* Anthropic: the clear error, through on_done, nothing sent. */
    ts_reset();
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(e, "{\"model\":\"anthropic/claude-x\",\"input\":\"a\"}", NULL, NULL, on_done, &o, &err) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(o.message, "has no embeddings API");
    CHECK(ts_stat("requests") == 0);

    /* A provider written in C: refused on a worker thread, through on_done. */
    static sp_provider p;
    sp_init(&p);
    models_provider_callbacks cb = {0};
    cb.size = sizeof cb;
    cb.chat = sp_chat;
    CHECK(models_router_add_provider(r, "mine", &cb, &p, &err) == MODELS_OK);
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(e, "{\"model\":\"mine/m1\",\"input\":\"a\"}", NULL, NULL, on_done, &o, &err) == MODELS_OK);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(o.message, "provider \"mine\" has no embeddings API");

    /* A bad request fails at once; on_done is never called. */
    memset(&o, 0, sizeof o);
    rc = models_embed_async(e, "{\"input\":[]}", NULL, NULL, on_done, &o, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "must not be an empty array");
    models_error_free(err);
    err = NULL;
    rc = models_embed_async(NULL, ONE, NULL, NULL, on_done, &o, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    err = NULL;
    rc = models_embed_async(e, ONE, NULL, NULL, NULL, &o, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    err = NULL;
    CHECK(o.done == 0);

    /* Cancelled while the server hangs. */
    ts_reset();
    ts_script("emb", "[{\"hang\":true}]");
    models_call *call = models_call_new();
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(e, ONE, NULL, call, on_done, &o, &err) == MODELS_OK);
    for (int i = 0; i < 5; i++) models_engine_process(e, 10);
    CHECK(o.done == 0);
    models_call_cancel(call);
    run(e, &o);
    CHECK(o.code == MODELS_ERR_CANCELLED);
    models_call_free(call);

    models_engine_free(e);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_one_input();
    test_batch_tokens_dimensions_base64();
    test_retry_fallback_cooldown();
    test_limits_events_metrics_cost();
    test_azure();
    test_providers_without_embeddings();
    test_bad_requests();
    test_cancel();
    test_engine();
    return check_report("test_embeddings");
}
