/* SPDX-License-Identifier: Apache-2.0 */
/* Azure OpenAI ("type": "azure") against the loopback test server: the
 * deployment URL with its api-version and the /openai/v1 form; the key in the
 * api-key header and never as a bearer, nor in a message or a log line; the
 * content filter (an HTTP 400 with code content_filter, or an answer that
 * finishes with "content_filter") as the content_policy kind, falling back
 * through content_policy_fallbacks; streams; the engine (models_chat_async,
 * models_stream_async); a call's extra_query after the api-version; and the
 * config's checks. */
#define _GNU_SOURCE
#include "test_util.h"

#define AZ_KEY "azure-key-0123456789abcdef"
#define AZ_ENV_KEY "azure-env-key-fedcba9876543210"
#define VERSION "2024-10-21"
#define DEPLOYMENT_PATH "/openai/deployments/dep-1/chat/completions?api-version=" VERSION

static int log_leaks = 0;

static void capture_log(void *user, int level, const char *message) {
    (void)user, (void)level;
    if (strstr(message, AZ_KEY) || strstr(message, AZ_ENV_KEY)) {
        log_leaks++;
        fprintf(stderr, "a log line leaks the key: %s\n", message);
    }
}

static void check_no_key(const char *text) {
    CHECK(text == NULL || (strstr(text, AZ_KEY) == NULL && strstr(text, AZ_ENV_KEY) == NULL));
}

/* A router whose primary is az/<deployment> on the test server, as an Azure
 * resource endpoint (`form` "" for the deployment form, "/openai/v1" for the
 * v1 form); `extra` adds top-level members, with a "local" provider for fallbacks. */
static models_router *azure_router(const char *primary, const char *form, const char *provider_extra, const char *extra) {
    char config[4096];
    snprintf(config, sizeof config,
             "{\"primary\":\"%s\",\"max_retries\":0%s%s,\"providers\":{"
             "\"az\":{\"type\":\"azure\",\"base_url\":\"%s%s\",\"api_key\":\"" AZ_KEY "\"%s},"
             "\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\"}}}",
             primary, *extra ? "," : "", extra, ts_url(), form, provider_extra, ts_url());
    return router_or_exit(config);
}

/* The request at `i` went to `path` with the Azure key in api-key and no Authorization. */
static void check_azure_request(int i, const char *path) {
    char *req = nth_request(i);
    char want[512];
    snprintf(want, sizeof want, "\"path\":\"%s\"", path);
    CHECK_STR_CONTAINS(req, want);
    CHECK_STR_CONTAINS(req, "\"api-key\":\"" AZ_KEY "\"");
    CHECK(strstr(req, "\"authorization\"") == NULL);
    CHECK(strstr(req, "Bearer") == NULL);
    free(req);
}

static void test_deployment_form(void) {
    models_router *r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "");
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "echo: hi");
    CHECK_STR_CONTAINS(response, "\"model\":\"az/dep-1\"");
    check_azure_request(0, DEPLOYMENT_PATH);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"model\":\"dep-1\""); /* the body names the deployment too */
    free(req);
    models_free(response);
    models_error_free(err);

    /* A stream, read with models_stream_next. */
    ts_reset();
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL);
    struct stream_text text = {0};
    const char *chunk = NULL;
    size_t len = 0;
    while (s && models_stream_next(s, &chunk, &len, &err) == MODELS_OK) stream_text_add(&text, chunk);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    models_stream_close(s);
    check_azure_request(0, DEPLOYMENT_PATH);

    /* A call's extra_query follows the api-version; its extra headers go along. */
    ts_reset();
    CHECK(models_chat_ex(r, HELLO, "{\"extra_query\":{\"trace\":\"on\"},\"extra_headers\":{\"X-Req\":\"r1\"}}", NULL,
                         &response, &err) == MODELS_OK);
    check_azure_request(0, DEPLOYMENT_PATH "&trace=on");
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"x-req\":\"r1\"");
    free(req);
    models_free(response);
    models_router_free(r);
}

static void test_v1_form(void) {
    models_router *r = azure_router("az/gpt-4o", "/openai/v1", "", "");
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "echo: hi");
    check_azure_request(0, "/openai/v1/chat/completions");
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"model\":\"gpt-4o\"");
    free(req);
    models_free(response);

    ts_reset();
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, &err) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    check_azure_request(0, "/openai/v1/chat/completions");
    models_router_free(r);

    /* An api_version, when given, is sent with the v1 form too. */
    r = azure_router("az/gpt-4o", "/openai/v1", ",\"api_version\":\"preview\"", "");
    ts_reset();
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    check_azure_request(0, "/openai/v1/chat/completions?api-version=preview");
    models_free(response);
    models_router_free(r);
}

/* The key from AZURE_OPENAI_API_KEY when the entry names none. */
static void test_key_from_environment(void) {
    setenv("AZURE_OPENAI_API_KEY", AZ_ENV_KEY, 1);
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"azure/dep-1\",\"providers\":{\"azure\":{\"type\":\"azure\",\"base_url\":\"%s\","
             "\"api_version\":\"" VERSION "\"}}}", ts_url());
    models_router *r = router_or_exit(config);
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"api-key\":\"" AZ_ENV_KEY "\"");
    CHECK(strstr(req, "authorization") == NULL);
    free(req);
    models_free(response);
    models_router_free(r);
    unsetenv("AZURE_OPENAI_API_KEY");
}

#define FILTER_400 "{\"status\":400,\"body\":{\"error\":{\"code\":\"content_filter\",\"status\":400,\"message\":" \
    "\"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.\"," \
    "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\",\"content_filter_result\":{\"hate\":{\"filtered\":true}}}}}}"

static void test_errors_never_show_the_key(void) {
    models_router *r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "");
    ts_reset();
    ts_script("dep-1", "[{\"status\":401,\"body\":{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid "
                       "subscription key " AZ_KEY ".\"}}}]");
    char *response = NULL;
    models_error *err = NULL;
    {
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    }
    CHECK(models_error_status(err) == 401);
    CHECK(strcmp(models_error_kind(err), "auth") == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "az answered HTTP 401");
    check_no_key(models_error_message(err));
    models_error_free(err);
    models_router_free(r);
}

static void test_content_filter_400(void) {
    /* Without content_policy_fallbacks: the caller sees the kind. */
    models_router *r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "");
    ts_reset();
    ts_script("dep-1", "[" FILTER_400 "]");
    char *response = NULL;
    models_error *err = NULL;
    {
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    }
    CHECK(models_error_status(err) == 400);
    CHECK(strcmp(models_error_kind(err), "content_policy") == 0);
    models_error_free(err);
    models_router_free(r);

    /* With them: the fallback answers, blocking and streamed. */
    r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "\"content_policy_fallbacks\":[\"local/m2\"]");
    ts_reset();
    ts_script("dep-1", "[" FILTER_400 "," FILTER_400 "]");
    err = NULL;
    CHECK(models_chat(r, HELLO, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    models_free(response);
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, &err) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    CHECK(requests_for("dep-1") == 2 && requests_for("m2") == 2);
    models_router_free(r);
}

static void test_content_filter_finish(void) {
    const char *filtered = "[{\"content\":\"\",\"finish_reason\":\"content_filter\"}]";
    models_router *r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "");
    ts_reset();
    ts_script("dep-1", filtered);
    char *response = NULL;
    models_error *err = NULL;
    {
        models_code rc = models_chat(r, HELLO, &response, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    }
    CHECK(strcmp(models_error_kind(err), "content_policy") == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "content filter");
    models_error_free(err);

    /* In a stream: the chunk that says so ends it with the same kind. */
    ts_script("dep-1", filtered);
    err = NULL;
    struct stream_text text = {0};
    {
        models_code rc = models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    }
    CHECK(strcmp(models_error_kind(err), "content_policy") == 0);
    models_error_free(err);

    /* An answer that finishes otherwise is an answer. */
    ts_script("dep-1", "[{\"content\":\"the content_filter word\"}]");
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "the content_filter word");
    models_free(response);
    models_router_free(r);

    r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "\"content_policy_fallbacks\":[\"local/m2\"]");
    ts_reset();
    ts_script("dep-1", filtered);
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/m2\"");
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);
    /* A stream the filter stops before its first word falls back too. */
    ts_script("dep-1", filtered);
    memset(&text, 0, sizeof text);
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, NULL) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    CHECK(requests_for("dep-1") == 2 && requests_for("m2") == 2);
    models_router_free(r);
}

/* ---- The engine -------------------------------------------------------------- */

static void test_engine(void) {
    models_router *r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "\"content_policy_fallbacks\":[\"local/m2\"]");
    models_engine *e = models_engine_new(r, NULL);
    CHECK(e != NULL);
    models_router_free(r);
    if (!e) return;
    ts_reset();
    struct async_outcome o;
    memset(&o, 0, sizeof o);
    CHECK(models_chat_async(e, HELLO, "{\"extra_query\":{\"trace\":\"on\"}}", NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "echo: hi");
    CHECK_STR_CONTAINS(o.response, "\"model\":\"az/dep-1\"");
    check_azure_request(0, DEPLOYMENT_PATH "&trace=on");

    ts_reset();
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, async_on_chunk, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(strcmp(o.stream.text, "echo: hi") == 0);
    check_azure_request(0, DEPLOYMENT_PATH);

    /* The content filter, both ways, falls back on the engine too. */
    ts_reset();
    ts_script("dep-1", "[" FILTER_400 ",{\"content\":\"\",\"finish_reason\":\"content_filter\"}]");
    memset(&o, 0, sizeof o);
    CHECK(models_chat_async(e, HELLO, NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/m2\"");
    memset(&o, 0, sizeof o);
    CHECK(models_chat_async(e, HELLO, NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"local/m2\"");
    CHECK(requests_for("dep-1") == 2 && requests_for("m2") == 2);
    models_engine_free(e);

    /* Without fallbacks, the engine reports the kind. */
    r = azure_router("az/dep-1", "", ",\"api_version\":\"" VERSION "\"", "");
    e = models_engine_new(r, NULL);
    models_router_free(r);
    ts_reset();
    ts_script("dep-1", "[{\"content\":\"\",\"finish_reason\":\"content_filter\"}]");
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, async_on_chunk, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(strcmp(o.kind, "content_policy") == 0);
    check_no_key(o.message);
    models_engine_free(e);
}

/* ---- Config checks ----------------------------------------------------------- */

static void check_refused(const char *entry, const char *expected) {
    char config[1024];
    snprintf(config, sizeof config, "{\"primary\":\"az/d\",\"providers\":{\"az\":%s}}", entry);
    models_error *err = NULL;
    CHECK(models_router_new(config, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), expected);
    check_no_key(models_error_message(err));
    models_error_free(err);
}

static void test_config_checks(void) {
    check_refused("{\"type\":\"azure\",\"base_url\":\"https://r.openai.azure.com\",\"api_key\":\"" AZ_KEY "\"}",
                  "\"providers.az.api_version\" is required for type azure");
    check_refused("{\"type\":\"azure\",\"api_version\":\"" VERSION "\",\"api_key\":\"" AZ_KEY "\"}",
                  "\"providers.az.base_url\" is required for type azure");
    check_refused("{\"type\":\"azure\",\"base_url\":\"https://r.openai.azure.com\",\"api_version\":\"24-10\",\"api_key\":\"" AZ_KEY "\"}",
                  "\"providers.az.api_version\" must be an Azure API version");
    check_refused("{\"type\":\"azure\",\"base_url\":\"https://r.openai.azure.com\",\"apiversion\":\"" VERSION "\",\"api_key\":\"" AZ_KEY "\"}",
                  "did you mean \"api_version\"?");
    check_refused("{\"type\":\"azure\",\"base_url\":\"https://r.openai.azure.com?api-version=" VERSION "\",\"api_key\":\"" AZ_KEY "\"}",
                  "must not hold a query");
    check_refused("{\"base_url\":\"https://x.example.com/v1\",\"api_version\":\"" VERSION "\",\"api_key\":\"" AZ_KEY "\"}",
                  "applies to providers with \"type\": \"azure\" only");
    check_refused("{\"type\":\"azure\",\"base_url\":\"https://r.openai.azure.com\",\"api_version\":\"" VERSION "\",\"api_key\":\"" AZ_KEY "\\n\"}",
                  "\"providers.az.api_key\"");
}

int main(void) {
    models_set_log_handler(capture_log, NULL, MODELS_LOG_DEBUG);
    test_deployment_form();
    test_v1_form();
    test_key_from_environment();
    test_errors_never_show_the_key();
    test_content_filter_400();
    test_content_filter_finish();
    test_engine();
    test_config_checks();
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(log_leaks == 0);
    return check_report("test_azure");
}
