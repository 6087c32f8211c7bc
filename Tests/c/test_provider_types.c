/* SPDX-License-Identifier: Apache-2.0 */
/* A provider's "type" through the C API, against the loopback test server: two
 * Anthropic providers with keys of their own ("anthropic" and "anthropic-2"),
 * one falling back to the other, each request carrying its provider's key and
 * errors naming the provider as configured; an OpenAI-compatible provider of
 * any name; a type that overrides what the name implies; a Copilot provider
 * with a name of its own; and the types that are refused. */
#define _POSIX_C_SOURCE 200809L
#include <models.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_server.h"
#include "test_util.h"

#define KEY_ONE "anthropic-key-one-1111"
#define KEY_TWO "anthropic-key-two-2222"
#define KEY_TWO_DEFAULT "anthropic-key-two-default-3333"
#define OPENAI_KEY "openai-two-key-4444"
#define GITHUB_TOKEN "ghu_TypedCopilot0123456789abcdef"
#define REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"

static const char *const secrets[] = {KEY_ONE, KEY_TWO, KEY_TWO_DEFAULT, OPENAI_KEY, GITHUB_TOKEN};

static int log_leaks = 0;

static void check_no_secret(const char *text, const char *where) {
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        check_count++;
        if (text && strstr(text, secrets[i])) {
            check_failures++;
            fprintf(stderr, "%s leaks \"%s\": %s\n", where, secrets[i], text);
        }
    }
}

static void capture_log(void *user, int level, const char *message) {
    (void)user;
    (void)level;
    int before = check_failures;
    check_no_secret(message, "a log line");
    if (check_failures != before) log_leaks++;
}

static int request_count(void) {
    char *all = ts_get("requests");
    int n = count_of(all, "{\"method\":");
    free(all);
    return n;
}

static models_router *router(const char *config) {
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) fprintf(stderr, "models_router_new: %s\n  config: %s\n", models_error_message(err), config);
    CHECK(r != NULL);
    models_error_free(err);
    return r;
}

/* One chat that must succeed with the test server's echo. */
static void chat_ok(models_router *r) {
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, REQUEST, &response, &err) == MODELS_OK);
    if (err) fprintf(stderr, "  chat: %s\n", models_error_message(err));
    CHECK_STR_CONTAINS(response, "echo: hi");
    models_free(response);
    models_error_free(err);
}

/* ---- Two Anthropic providers, two keys --------------------------------------- */

static void test_two_anthropic_keys_fall_back(void) {
    char config[2048];
    setenv("ANTHROPIC_API_KEY_2", KEY_TWO, 1);
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-a\",\"fallbacks\":[\"anthropic-2/claude-b\"],\"max_retries\":0,"
             "\"providers\":{\"anthropic\":{\"base_url\":\"%s/v1\",\"api_key\":\"" KEY_ONE "\"},"
             "\"anthropic-2\":{\"type\":\"anthropic\",\"base_url\":\"%s/v1\",\"api_key_env\":\"ANTHROPIC_API_KEY_2\"}}}",
             ts_url(), ts_url());
    models_router *r = router(config);
    if (!r) return;
    char *providers = models_router_providers(r);
    CHECK_STR_CONTAINS(providers, "\"anthropic-2\"");
    models_free(providers);

    /* The first key is refused for the moment; the second provider answers. */
    ts_reset();
    ts_script("claude-a", "[{\"status\": 503}]");
    chat_ok(r);
    CHECK(request_count() == 2);
    char *first = nth_request(0), *second = nth_request(1);
    CHECK_STR_CONTAINS(first, "\"path\":\"/v1/messages\"");
    CHECK_STR_CONTAINS(first, "\"x-api-key\":\"" KEY_ONE "\"");
    CHECK_STR_CONTAINS(first, "\"model\":\"claude-a\"");
    CHECK(strstr(first, KEY_TWO) == NULL);
    /* The fallback speaks Anthropic's Messages API with its own key. */
    CHECK_STR_CONTAINS(second, "\"path\":\"/v1/messages\"");
    CHECK_STR_CONTAINS(second, "\"anthropic-version\":\"2023-06-01\"");
    CHECK_STR_CONTAINS(second, "\"x-api-key\":\"" KEY_TWO "\"");
    CHECK_STR_CONTAINS(second, "\"model\":\"claude-b\"");
    CHECK(strstr(second, KEY_ONE) == NULL);
    CHECK(strstr(second, "authorization") == NULL);
    free(first);
    free(second);
    models_router_free(r);

    /* The other way round: the error of the typed provider names it as configured. */
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic-2/claude-b\",\"max_retries\":0,"
             "\"providers\":{\"anthropic-2\":{\"type\":\"anthropic\",\"base_url\":\"%s/v1\",\"api_key_env\":\"ANTHROPIC_API_KEY_2\"}}}",
             ts_url());
    r = router(config);
    if (!r) return;
    ts_reset();
    ts_script("claude-b", "[{\"status\": 401, \"body\": {\"type\": \"error\", \"error\": {\"type\": \"authentication_error\","
                          " \"message\": \"invalid x-api-key " KEY_TWO "\"}}}]");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, REQUEST, &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 401);
    CHECK_STR_CONTAINS(models_error_message(err), "anthropic-2 answered HTTP 401: authentication_error");
    check_no_secret(models_error_message(err), "the error message");
    models_error_free(err);

    /* A stream that does not open names it too. */
    ts_script("claude-b", "[{\"status\": 529}]");
    err = NULL;
    CHECK(models_stream_open(r, REQUEST, &err) == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "anthropic-2 answered HTTP 529");
    models_error_free(err);
    models_router_free(r);
    unsetenv("ANTHROPIC_API_KEY_2");

    /* Without api_key or api_key_env, the key comes from <NAME>_API_KEY of its own name. */
    setenv("ANTHROPIC_2_API_KEY", KEY_TWO_DEFAULT, 1);
    setenv("ANTHROPIC_API_KEY", KEY_ONE, 1);
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic-2/claude-b\",\"max_retries\":0,"
             "\"providers\":{\"anthropic-2\":{\"type\":\"anthropic\",\"base_url\":\"%s/v1\"}}}", ts_url());
    r = router(config);
    if (!r) return;
    ts_reset();
    chat_ok(r);
    char *only = nth_request(0);
    CHECK_STR_CONTAINS(only, "\"path\":\"/v1/messages\"");
    CHECK_STR_CONTAINS(only, "\"x-api-key\":\"" KEY_TWO_DEFAULT "\"");
    free(only);
    models_router_free(r);
    unsetenv("ANTHROPIC_2_API_KEY");
    unsetenv("ANTHROPIC_API_KEY");
}

/* ---- OpenAI-compatible by type -------------------------------------------------- */

static void test_typed_openai(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"openai-2/gpt-x\",\"max_retries\":0,"
             "\"providers\":{\"openai-2\":{\"type\":\"openai\",\"base_url\":\"%s/v1\",\"api_key\":\"" OPENAI_KEY "\"}}}",
             ts_url());
    models_router *r = router(config);
    if (r) {
        ts_reset();
        chat_ok(r);
        char *only = nth_request(0);
        CHECK_STR_CONTAINS(only, "\"path\":\"/v1/chat/completions\"");
        CHECK_STR_CONTAINS(only, "\"authorization\":\"Bearer " OPENAI_KEY "\"");
        CHECK_STR_CONTAINS(only, "\"model\":\"gpt-x\"");
        free(only);
        models_router_free(r);
    }

    /* The type wins over the name: an "anthropic" entry of type openai speaks OpenAI's API. */
    snprintf(config, sizeof config,
             "{\"primary\":\"anthropic/claude-via-gateway\",\"max_retries\":0,"
             "\"providers\":{\"anthropic\":{\"type\":\"openai\",\"base_url\":\"%s/gw\",\"api_key\":\"" OPENAI_KEY "\"}}}",
             ts_url());
    r = router(config);
    if (r) {
        ts_reset();
        chat_ok(r);
        char *only = nth_request(0);
        CHECK_STR_CONTAINS(only, "\"path\":\"/gw/chat/completions\"");
        CHECK_STR_CONTAINS(only, "\"authorization\":\"Bearer " OPENAI_KEY "\"");
        free(only);
        models_router_free(r);
    }
}

/* ---- Copilot with a name of its own ------------------------------------------------ */

static void test_typed_copilot(void) {
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\":\"copilot-work/gpt-4.1\",\"max_retries\":0,"
             "\"providers\":{\"copilot-work\":{\"type\":\"github-copilot\",\"github_token\":\"" GITHUB_TOKEN "\","
             "\"token_url\":\"%s/copilot_internal/v2/token\"}}}",
             ts_url());
    models_router *r = router(config);
    if (!r) return;
    ts_reset();
    chat_ok(r);
    CHECK(request_count() == 2);
    char *exchange = nth_request(0), *api = nth_request(1);
    CHECK_STR_CONTAINS(exchange, "\"path\":\"/copilot_internal/v2/token\"");
    CHECK_STR_CONTAINS(exchange, "\"authorization\":\"Bearer " GITHUB_TOKEN "\"");
    CHECK_STR_CONTAINS(api, "\"path\":\"/chat/completions\"");
    CHECK_STR_CONTAINS(api, "\"authorization\":\"Bearer cop-tok-");
    CHECK_STR_CONTAINS(api, "\"copilot-integration-id\":\"vscode-chat\"");
    CHECK_STR_CONTAINS(api, "\"model\":\"gpt-4.1\"");
    free(exchange);
    free(api);
    models_router_free(r);
}

/* ---- Refused types ------------------------------------------------------------------ */

static void check_refused(const char *provider, const char *expected) {
    char config[512];
    snprintf(config, sizeof config, "{\"primary\":\"x/m\",\"providers\":{\"x\":%s}}", provider);
    models_error *err = NULL;
    CHECK(models_router_new(config, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "providers.x.type");
    CHECK_STR_CONTAINS(models_error_message(err), expected);
    models_error_free(err);
}

static void test_refused_types(void) {
    check_refused("{\"type\":\"gemini\"}", "\"openai\", \"anthropic\", \"github-copilot\", \"azure\", \"bedrock\"");
    check_refused("{\"type\":7}", "must be a string");
}

int main(void) {
    models_set_log_handler(capture_log, NULL, MODELS_LOG_DEBUG);
    test_two_anthropic_keys_fall_back();
    test_typed_openai();
    test_typed_copilot();
    test_refused_types();
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(log_leaks == 0);
    return check_report("test_provider_types");
}
