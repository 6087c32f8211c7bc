/* SPDX-License-Identifier: Apache-2.0 */
/* fallback.c: what the router does when the primary model fails.
 *
 * The primary, "flaky/gpt-4o-mini", lives at an address where nothing listens,
 * so every attempt fails with "connection refused", which is transient. The
 * router retries it (max_retries), gives up on it, cools it down, and asks
 * the fallback, Anthropic. We then print the health table, which shows the
 * cooldown, and send a second request, which skips the cooling primary.
 *
 *   ANTHROPIC_API_KEY=sk-ant-... ./fallback
 *   MODELS_TEST_SERVER=http://127.0.0.1:PORT ./fallback   # the loopback test server
 *
 * The library's log lines (to stderr here) narrate each decision.
 */
#include <jansson.h>
#include <models.h>
#include <stdio.h>
#include <stdlib.h>

static void log_line(void *user, int level, const char *message) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    (void)user;
    fprintf(stderr, "  [libmodels %s] %s\n", names[level & 3], message);
}

/* models_router_health() is a JSON array; print it as a table. */
static void print_health(models_router *router) {
    char *health = models_router_health(router); /* ours: models_free() */
    json_t *models = json_loads(health, 0, NULL);
    size_t i;
    json_t *m;
    printf("%-28s %-10s %-10s %s\n", "MODEL", "PROVIDER", "AVAILABLE", "REASON");
    json_array_foreach(models, i, m) {
        const char *reason = json_string_value(json_object_get(m, "reason"));
        printf("%-28s %-10s %-10s %s\n", json_string_value(json_object_get(m, "model")),
               json_string_value(json_object_get(m, "provider")),
               json_is_true(json_object_get(m, "available")) ? "yes" : "no", reason ? reason : "");
    }
    json_decref(models);
    models_free(health);
}

/* Sends one request and prints who answered what. Returns 0 on success. */
static int ask(models_router *router, const char *prompt) {
    json_t *request = json_pack("{s:[{s:s, s:s}], s:i}", "messages", "role", "user",
                                "content", prompt, "max_tokens", 100);
    char *request_text = json_dumps(request, 0);
    json_decref(request);
    char *reply = NULL;
    models_error *err = NULL;
    models_code code = models_chat(router, request_text, &reply, &err);
    free(request_text);
    if (code != MODELS_OK) {
        fprintf(stderr, "error: %s (%s)\n", models_error_message(err), models_code_name(code));
        models_error_free(err);
        return 1;
    }
    json_t *response = json_loads(reply, 0, NULL);
    json_t *message = json_object_get(json_array_get(json_object_get(response, "choices"), 0), "message");
    printf("%s answered: %s\n", json_string_value(json_object_get(response, "model")),
           json_string_value(json_object_get(message, "content")));
    json_decref(response);
    models_free(reply);
    return 0;
}

int main(void) {
    char anthropic[512] = ""; /* empty: the real API, key from ANTHROPIC_API_KEY */
    const char *server = getenv("MODELS_TEST_SERVER");
    if (server)
        snprintf(anthropic, sizeof anthropic, ", \"anthropic\": {\"base_url\": \"%s/anthropic/v1\", "
                 "\"api_key\": \"test-key\"}", server);

    /* Short retry backoffs so the demo is quick; a 30 s cooldown, doubling. */
    char config[2048];
    snprintf(config, sizeof config,
             "{\"primary\": \"flaky/gpt-4o-mini\","
             " \"fallbacks\": [\"anthropic/claude-haiku-4-5\"],"
             " \"providers\": {\"flaky\": {\"base_url\": \"http://127.0.0.1:1/v1\", \"api_key\": \"none\"}%s},"
             " \"max_retries\": 2, \"retry_base_ms\": 100, \"retry_max_ms\": 1000,"
             " \"cooldown\": {\"base_ms\": 30000, \"max_ms\": 600000, \"multiplier\": 2}}",
             anthropic);

    setvbuf(stdout, NULL, _IOLBF, 0); /* keep our lines and the log lines in order in a pipe */
    models_set_log_handler(log_line, NULL, MODELS_LOG_DEBUG);
    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (!router) {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        return 1;
    }

    printf("1. First request: the primary fails three times, then the fallback answers.\n");
    int failed = ask(router, "Name a colour.");

    printf("\n2. Health, without calling any API:\n");
    print_health(router);

    printf("\n3. Second request: the cooling primary is skipped at once.\n");
    failed |= ask(router, "Name a fruit.");

    models_set_log_handler(NULL, NULL, 0);
    models_router_free(router);
    return failed;
}
