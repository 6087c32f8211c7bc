/* SPDX-License-Identifier: Apache-2.0 */
/* The C API's promises for version, codes, errors, router config validation,
 * model names and logging, including bad input that must never crash. */
#include <models.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static models_error *new_router_error(const char *config) {
    models_error *err = (models_error *)0x1; /* must be overwritten */
    models_router *r = models_router_new(config, &err);
    CHECK(r == NULL);
    models_router_free(r);
    return err;
}

static void test_version_and_codes(void) {
    CHECK(strcmp(models_version(), "0.1.0") == 0);
    CHECK(strcmp(models_code_name(MODELS_OK), "MODELS_OK") == 0);
    CHECK(strcmp(models_code_name(MODELS_ERR_API), "MODELS_ERR_API") == 0);
    CHECK(strcmp(models_code_name(MODELS_ERR_NOMEM), "MODELS_ERR_NOMEM") == 0);
    CHECK(strcmp(models_code_name((models_code)42), "MODELS_UNKNOWN_CODE") == 0);
    models_free(NULL);
}

/* The header's version macros are the library's version (Version.swift). */
static void test_header_version_is_the_library_version(void) {
    char header[32];
    snprintf(header, sizeof header, "%d.%d.%d", MODELS_VERSION_MAJOR, MODELS_VERSION_MINOR, MODELS_VERSION_PATCH);
    CHECK(strcmp(models_version(), header) == 0);
    CHECK(MODELS_VERSION_NUM == MODELS_VERSION_MAJOR * 10000 + MODELS_VERSION_MINOR * 100 + MODELS_VERSION_PATCH);
    CHECK(MODELS_AT_LEAST_VERSION(MODELS_VERSION_MAJOR, MODELS_VERSION_MINOR, MODELS_VERSION_PATCH));
    CHECK(MODELS_AT_LEAST_VERSION(0, 0, 1));
    CHECK(!MODELS_AT_LEAST_VERSION(MODELS_VERSION_MAJOR, MODELS_VERSION_MINOR, MODELS_VERSION_PATCH + 1));
    CHECK(!MODELS_AT_LEAST_VERSION(MODELS_VERSION_MAJOR + 1, 0, 0));
}

/* One list of transient HTTP statuses: models_status_is_transient() and the
** errors made by models_error_new() agree with models.h (501 is not transient). */
static void test_transient_statuses(void) {
    for (int status = -1; status <= 1000; status++) {
        int expected = status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
                       status == 504 || status == 529;
        if (models_status_is_transient(status) != expected) {
            fprintf(stderr, "models_status_is_transient(%d) is not %d\n", status, expected);
            CHECK(0);
        }
        models_error *e = models_error_new(MODELS_ERR_API, "x", status, 0);
        CHECK(models_error_is_transient(e) == expected);
        models_error_free(e);
    }
    CHECK(models_status_is_transient(501) == 0);
    CHECK(models_status_is_transient(505) == 0);
    CHECK(models_status_is_transient(529) == 1);
    CHECK(models_status_is_transient(INT32_MIN) == 0);
    CHECK(models_status_is_transient(INT32_MAX) == 0);
}

static void test_error_accessors_on_null(void) {
    CHECK(models_error_code(NULL) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(models_error_message(NULL) != NULL);
    CHECK(models_error_status(NULL) == 0);
    CHECK(models_error_retry_after_ms(NULL) == 0);
    CHECK(models_error_is_transient(NULL) == 0);
    models_error_free(NULL);
}

static void test_router_new_success_clears_err(void) {
    models_error *err = (models_error *)0x1;
    models_router *r = models_router_new("{\"primary\":\"openai/gpt-4o\"}", &err);
    CHECK(r != NULL);
    CHECK(err == NULL);
    models_router_free(r);
    /* err may be NULL. */
    r = models_router_new("{\"primary\":\"openai/gpt-4o\"}", NULL);
    CHECK(r != NULL);
    models_router_free(r);
    CHECK(models_router_new(NULL, NULL) == NULL);
    models_router_free(NULL);
}

static void test_router_new_bad_configs(void) {
    struct { const char *config; const char *message; } cases[] = {
        {"", "not valid JSON"},
        {"{", "not valid JSON"},
        {"[]", "must be an object"},
        {"{}", "\"primary\" is required"},
        {"{\"primary\": 3}", "\"primary\" must be a string"},
        {"{\"primary\": \"openai/gpt-4o\", \"timeout\": 5}", "unknown key \"timeout\""},
        {"{\"primary\": \"openai/gpt-4o\", \"timeout_ms\": \"5\"}", "\"timeout_ms\" must be a whole number"},
        {"{\"primary\": \"openai/gpt-4o\", \"fallbacks\": [1]}", "\"fallbacks[0]\" must be a string"},
        {"{\"primary\": \"openai/gpt-4o\", \"providers\": {\"openai\": {\"apikey\": \"x\"}}}",
         "unknown key \"providers.openai.apikey\" (did you mean \"api_key\"?)"},
        {"{\"primary\": \"openai/gpt-4o\", \"rate_limits\": {\"openai\": {\"burst\": 2}}}",
         "\"rate_limits.openai.requests_per_second\" is required"},
        {"{\"primary\": \"openai/gpt-4o\", \"thinking\": {\"level\": \"max\"}}", "\"thinking.level\""},
        {"{\"primary\": \"openai/gpt-4o\", \"cooldown\": {\"multiplier\": \"x\"}}", "\"cooldown.multiplier\" must be a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        models_error *err = new_router_error(cases[i].config);
        CHECK(err != NULL);
        CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(models_error_message(err), cases[i].message);
        models_error_free(err);
    }
}

static void test_router_new_invalid_utf8_and_huge(void) {
    models_error *err = new_router_error("{\"primary\": \"openai/\xff\xfe\"}");
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);

    size_t n = 10u * 1024u * 1024u;
    char *huge = malloc(n + 1);
    CHECK(huge != NULL);
    if (!huge) return;
    memset(huge, ' ', n);
    memcpy(huge, "{\"primary\":\"openai/gpt-4o\"}", 27);
    huge[n] = '\0';
    err = new_router_error(huge);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "limit");
    models_error_free(err);
    free(huge);
}

static void test_secrets_not_in_errors(void) {
    models_error *err = new_router_error(
        "{\"primary\": \"openai/gpt-4o\", \"providers\": {\"openai\": {\"api_key\": 12345678}}}");
    CHECK(err != NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "\"providers.openai.api_key\" must be a string");
    CHECK(strstr(models_error_message(err), "12345678") == NULL);
    models_error_free(err);
}

/* Each argument error of models_router_set_models and models_router_add_provider
 * names the argument that is wrong and says what is wrong with it. */
static void test_argument_errors_say_what_is_wrong(void) {
    models_router *r = models_router_new("{\"primary\":\"openai/gpt-4o\"}", NULL);
    const char *fallbacks[] = {"openai/gpt-4o-mini", NULL};
    models_error *err = NULL;
    CHECK(models_router_set_models(r, "openai/gpt-4o", fallbacks, SIZE_MAX, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "n_fallbacks is 18446744073709551615, more than the limit of 10000");
    CHECK(strstr(models_error_message(err), "NULL") == NULL);
    CHECK(strstr(models_error_message(err), "-1") == NULL);
    models_error_free(err);
    CHECK(models_router_set_models(r, "openai/gpt-4o", NULL, 2, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "fallbacks is NULL but n_fallbacks is 2");
    models_error_free(err);
    CHECK(models_router_set_models(r, "openai/gpt-4o", fallbacks, 2, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "fallbacks[1] is NULL");
    models_error_free(err);
    CHECK(models_router_set_models(r, NULL, fallbacks, 1, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "primary is NULL");
    models_error_free(err);
    CHECK(models_router_set_models(r, "\xff", fallbacks, 1, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "primary is not valid UTF-8");
    models_error_free(err);
    CHECK(models_router_set_models(r, "openai/gpt-4o", fallbacks, 1, &err) == MODELS_OK);

    models_provider_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.size = sizeof callbacks;
    CHECK(models_router_add_provider(r, NULL, &callbacks, NULL, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "name is NULL");
    models_error_free(err);
    CHECK(models_router_add_provider(r, "", &callbacks, NULL, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "name is empty");
    models_error_free(err);
    CHECK(models_router_add_provider(r, "a/b", &callbacks, NULL, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "name contains '/'");
    models_error_free(err);
    models_router_free(r);
}

static void test_model_names(void) {
    char *id = models_model_id("anthropic/claude-sonnet-4-6");
    CHECK(id && strcmp(id, "claude-sonnet-4-6") == 0);
    models_free(id);
    id = models_model_id("openrouter/meta/llama-3");
    CHECK(id && strcmp(id, "meta/llama-3") == 0);
    models_free(id);
    id = models_model_id("gpt-4.1");
    CHECK(id && strcmp(id, "gpt-4.1") == 0);
    models_free(id);
    CHECK(models_model_id(NULL) == NULL);
    CHECK(models_model_id("\xff") == NULL);

    CHECK(strcmp(models_default_base_url("openai"), "https://api.openai.com/v1") == 0);
    CHECK(strcmp(models_default_base_url("groq"), "https://api.groq.com/openai/v1") == 0);
    CHECK(models_default_base_url("no-such-provider") == NULL);
    CHECK(models_default_base_url(NULL) == NULL);
}

static int log_lines = 0;
static void count_log(void *user, int level, const char *message) {
    (void)level; (void)message;
    (*(int *)user)++;
}

static void test_log_handler(void) {
    models_set_log_handler(count_log, &log_lines, MODELS_LOG_DEBUG);
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    models_set_log_handler(count_log, &log_lines, 99); /* out of range levels are clamped */
    models_set_log_handler(NULL, NULL, -5);
    CHECK(log_lines >= 0);
}

int main(void) {
    test_version_and_codes();
    test_header_version_is_the_library_version();
    test_transient_statuses();
    test_error_accessors_on_null();
    test_router_new_success_clears_err();
    test_router_new_bad_configs();
    test_router_new_invalid_utf8_and_huge();
    test_secrets_not_in_errors();
    test_argument_errors_say_what_is_wrong();
    test_model_names();
    test_log_handler();
    return check_report("test_api_basics");
}
