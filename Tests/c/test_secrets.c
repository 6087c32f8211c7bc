/* SPDX-License-Identifier: Apache-2.0 */
/* Keys, tokens and configured header values (issue 12): none can split a
 * request, and none reaches an error message or a log line, whether a config
 * has a syntax error next to it, a server quotes it back, or an error body is
 * cut right through it. A connection whose answer cannot be matched to its
 * request is not used again. */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>

#define MAX_LINES 512

typedef struct {
    pthread_mutex_t lock;
    int n;
    char line[MAX_LINES][1024];
} log_record;

static log_record logged = {PTHREAD_MUTEX_INITIALIZER, 0, {{0}}};

static void record_line(void *user, int level, const char *message) {
    (void)level;
    log_record *log = user;
    pthread_mutex_lock(&log->lock);
    if (log->n < MAX_LINES) snprintf(log->line[log->n++], sizeof log->line[0], "%s", message);
    pthread_mutex_unlock(&log->lock);
}

static void log_clear(void) {
    pthread_mutex_lock(&logged.lock);
    logged.n = 0;
    pthread_mutex_unlock(&logged.lock);
}

/* The first log line containing `needle`, or NULL. */
static const char *log_line_with(const char *needle) {
    for (int i = 0; i < logged.n; i++)
        if (strstr(logged.line[i], needle)) return logged.line[i];
    return NULL;
}

#define CHECK_LACKS(text, needle) do { \
    const char *t_ = (text); \
    check_count++; \
    if (t_ && strstr(t_, (needle))) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: \"%s\" must not contain \"%s\"\n", __FILE__, __LINE__, t_, (needle)); \
    } \
} while (0)

#define CHECK_LOG_LACKS(needle) do { \
    const char *l_ = log_line_with(needle); \
    check_count++; \
    if (l_) { check_failures++; fprintf(stderr, "%s:%d: a log line holds \"%s\": %s\n", __FILE__, __LINE__, (needle), l_); } \
} while (0)

/* The two provider kinds, each on the test server: OpenAI-compatible and Anthropic. */
static const char *const PROVIDERS[] = {"local", "anthropic"};

/* A config whose one model is <provider>/m1 on the test server; `members` are
 * extra members of the provider's object (e.g. "\"api_key\":\"k\""). */
static char *provider_config(char *buf, size_t size, const char *provider, const char *members) {
    snprintf(buf, size,
             "{\"primary\":\"%s/m1\",\"max_retries\":0,\"providers\":{\"%s\":{\"base_url\":\"%s/v1\"%s%s}}}",
             provider, provider, ts_url(), members && *members ? "," : "", members ? members : "");
    return buf;
}

/* One chat with `text` as the user's message; the response or the error message (malloc'd). */
static models_code chat_text(models_router *r, const char *text, char **out) {
    char request[512];
    snprintf(request, sizeof request, "{\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", text);
    char *response = NULL;
    models_error *err = NULL;
    models_code code = models_chat(r, request, &response, &err);
    *out = strdup(code == MODELS_OK ? response : models_error_message(err));
    models_free(response);
    models_error_free(err);
    return code;
}

/* After a refused config: the server saw no request, in particular none with
 * the injected header, and a good router's calls each get their own answer. */
static void check_server_clean_and_good_router_answers(const char *provider) {
    char *requests = ts_get("requests");
    CHECK_LACKS(requests, "x-injected");
    CHECK_LACKS(requests, "X-Injected");
    CHECK(count_of(requests, "\"method\":") == 0);
    free(requests);

    char config[1024];
    models_router *good = router_or_exit(provider_config(config, sizeof config, provider, "\"api_key\":\"sk-good-0123456789\""));
    char *answer = NULL;
    CHECK(chat_text(good, "first", &answer) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "echo: first");
    free(answer);
    CHECK(chat_text(good, "second", &answer) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "echo: second");
    free(answer);
    models_router_free(good);
}

/* A router that should not have been made: use it as a caller would, so the
 * checks after it show what reached the server. */
static void use_anyway(models_router *r) {
    if (!r) return;
    for (int i = 0; i < 2; i++) {
        char *answer = NULL;
        chat_text(r, "leaked prompt", &answer);
        free(answer);
    }
    models_router_free(r);
}

/* Case 4: a key with CR/LF, a trailing newline, spaces around it or another
 * control character is a config error naming the key, never its value. */
static void test_bad_keys_in_config(void) {
    static const char *const bad_keys[] = {
        "k\\r\\nX-Injected: yes", "sk-live-secret-4711\\n", " sk-live-secret-4711", "sk-live-secret-4711 ",
        "sk-live-secret-4711\\r", "sk-live\\u0007secret-4711", "sk-live\\tsecret-4711",
    };
    for (size_t p = 0; p < sizeof PROVIDERS / sizeof *PROVIDERS; p++) {
        for (size_t k = 0; k < sizeof bad_keys / sizeof *bad_keys; k++) {
            ts_reset();
            char members[256], config[1024], path[128];
            snprintf(members, sizeof members, "\"api_key\":\"%s\"", bad_keys[k]);
            snprintf(path, sizeof path, "providers.%s.api_key", PROVIDERS[p]);
            models_error *err = NULL;
            models_router *r = models_router_new(provider_config(config, sizeof config, PROVIDERS[p], members), &err);
            CHECK(r == NULL);
            CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
            CHECK_STR_CONTAINS(models_error_message(err), path);
            CHECK_LACKS(models_error_message(err), "X-Injected");
            CHECK_LACKS(models_error_message(err), "secret-4711");
            models_error_free(err);
            use_anyway(r);
            check_server_clean_and_good_router_answers(PROVIDERS[p]);
        }
    }
}

/* The same for a key read from the environment variable api_key_env names,
 * and from the provider's default variable (ANTHROPIC_API_KEY): the error names
 * the variable. */
static void test_bad_keys_in_environment(void) {
    static const char *const bad_values[] = {"k\r\nX-Injected: yes", "sk-live-secret-4711\n", "sk-live-secret-4711\r\n"};
    for (size_t p = 0; p < sizeof PROVIDERS / sizeof *PROVIDERS; p++) {
        for (size_t k = 0; k < sizeof bad_values / sizeof *bad_values; k++) {
            ts_reset();
            setenv("MODELS_TEST_BAD_KEY", bad_values[k], 1);
            char config[1024], path[128];
            snprintf(path, sizeof path, "providers.%s.api_key_env", PROVIDERS[p]);
            models_error *err = NULL;
            models_router *r = models_router_new(
                provider_config(config, sizeof config, PROVIDERS[p], "\"api_key_env\":\"MODELS_TEST_BAD_KEY\""), &err);
            CHECK(r == NULL);
            CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
            CHECK_STR_CONTAINS(models_error_message(err), "MODELS_TEST_BAD_KEY");
            CHECK_STR_CONTAINS(models_error_message(err), path);
            CHECK_LACKS(models_error_message(err), "X-Injected");
            CHECK_LACKS(models_error_message(err), "secret-4711");
            models_error_free(err);
            use_anyway(r);
            unsetenv("MODELS_TEST_BAD_KEY");
            check_server_clean_and_good_router_answers(PROVIDERS[p]);
        }
    }

    /* The provider's own variable, read when the config gives no key. */
    ts_reset();
    setenv("ANTHROPIC_API_KEY", "sk-ant-secret-4711\n", 1);
    char config[1024];
    models_error *err = NULL;
    models_router *r = models_router_new(provider_config(config, sizeof config, "anthropic", NULL), &err);
    CHECK(r == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "ANTHROPIC_API_KEY");
    CHECK_LACKS(models_error_message(err), "secret-4711");
    models_error_free(err);
    use_anyway(r);
    unsetenv("ANTHROPIC_API_KEY");
    check_server_clean_and_good_router_answers("anthropic");
}

/* GitHub tokens (config and environment) and a token the Copilot exchange
 * returns are checked the same way. */
static void test_bad_github_and_copilot_tokens(void) {
    ts_reset();
    char config[1024];
    models_error *err = NULL;
    snprintf(config, sizeof config, "{\"primary\":\"gpt-4.1\",\"providers\":{\"github-copilot\":{\"github_token\":"
             "\"ghp_secret4711\\r\\nX-Injected: yes\",\"token_url\":\"%s/copilot_internal/v2/token\"}}}", ts_url());
    models_router *r = models_router_new(config, &err);
    CHECK(r == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "providers.github-copilot.github_token");
    CHECK_LACKS(models_error_message(err), "secret4711");
    models_error_free(err);
    use_anyway(r);

    setenv("MODELS_TEST_BAD_GH", "ghp_secret4711\n", 1);
    snprintf(config, sizeof config, "{\"primary\":\"gpt-4.1\",\"providers\":{\"github-copilot\":{\"github_token_env\":"
             "\"MODELS_TEST_BAD_GH\",\"token_url\":\"%s/copilot_internal/v2/token\"}}}", ts_url());
    r = models_router_new(config, &err);
    CHECK(r == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), "MODELS_TEST_BAD_GH");
    CHECK_LACKS(models_error_message(err), "secret4711");
    models_error_free(err);
    use_anyway(r);
    unsetenv("MODELS_TEST_BAD_GH");

    /* The exchange answers a token with CRLF: a clear error, and the API never sees it. */
    ts_reset();
    char script[1024];
    snprintf(script, sizeof script, "[{\"body\":{\"token\":\"tid=secret4711\\r\\nX-Injected: yes\",\"expires_at\":%lld,"
             "\"endpoints\":{\"api\":\"%s\"}}}]", (long long)time(NULL) + 1800, ts_url());
    ts_script("token", script);
    snprintf(config, sizeof config, "{\"primary\":\"gpt-4.1\",\"max_retries\":0,\"providers\":{\"github-copilot\":{"
             "\"github_token\":\"ghp_good0123456789\",\"token_url\":\"%s/copilot_internal/v2/token\"}}}", ts_url());
    r = router_or_exit(config);
    char *answer = NULL;
    CHECK(chat_text(r, "hi", &answer) == MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(answer, "token");
    CHECK_LACKS(answer, "secret4711");
    CHECK_LACKS(answer, "X-Injected");
    free(answer);
    models_router_free(r);
    char *requests = ts_get("requests");
    CHECK_LACKS(requests, "x-injected");
    CHECK(count_of(requests, "chat/completions") == 0);
    free(requests);
}

static const char *const BOGUS_ANSWER =
    "HTTP/1.1 404 Not Found\\r\\nContent-Type: application/json\\r\\nContent-Length: 29\\r\\n\\r\\n"
    "{\\\"error\\\":{\\\"message\\\":\\\"bogus\\\"}}";

/* Case 4 (d): bytes after an answer that belong to no request (the answer to
 * the second half of a split request) never reach the next call: a kept-alive
 * connection with bytes waiting is not reused, and the next call goes out on a
 * new one at once. (Bytes that come only after the next request went out
 * cannot be told from its answer; no client can catch those.) */
static void test_unmatched_answer_is_not_reused(void) {
    models_router *r = local_router("\"max_retries\":0");
    for (int delay = 0; delay <= 30; delay += 30) {
        ts_reset();
        char script[1024];
        snprintf(script, sizeof script, "[{\"content\":\"one\",\"trailing\":\"%s\",\"trailing_delay_ms\":%d}]",
                 BOGUS_ANSWER, delay);
        ts_script("m1", script);
        char *answer = NULL;
        CHECK(chat_text(r, "first", &answer) == MODELS_OK);
        CHECK_STR_CONTAINS(answer, "\"one\"");
        free(answer);
        sleep_ms(500); /* the stray answer has come before the next request */
        CHECK(chat_text(r, "second", &answer) == MODELS_OK);
        CHECK_STR_CONTAINS(answer, "echo: second");
        CHECK_LACKS(answer, "bogus");
        free(answer);
        CHECK(chat_text(r, "third", &answer) == MODELS_OK);
        CHECK_STR_CONTAINS(answer, "echo: third");
        free(answer);
        CHECK(ts_stat("requests") == 3);
        CHECK(ts_stat("connections") == 2);
    }
    models_router_free(r);
}

/* Case 4 (d): a transfer given up before its answer ended leaves a
 * connection whose next bytes belong to no request: it is closed, not reused. */
static void test_unfinished_answer_is_not_reused(void) {
    models_router *r = local_router("\"max_retries\":0");
    /* A stream given up halfway: its connection is closed, not reused mid-answer. */
    ts_reset();
    ts_script("m1", "[{\"chunks\":50,\"stall_after\":2,\"stall_ms\":5000}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    const char *chunk = NULL;
    size_t len = 0;
    CHECK(models_stream_next(s, &chunk, &len, NULL) == MODELS_OK);
    models_stream_close(s);
    char *answer = NULL;
    CHECK(chat_text(r, "after", &answer) == MODELS_OK);
    CHECK_STR_CONTAINS(answer, "echo: after");
    free(answer);
    CHECK(ts_stat("connections") == 2);
    models_router_free(r);
}

/* Case 9: a syntax error next to (or inside) a key: line and column, never the text. */
static void test_config_syntax_error_quotes_nothing(void) {
    static const char *const broken[] = {
        /* A missing comma right after the key. */
        "{\"primary\":\"local/m1\",\"providers\":{\"local\":{\"api_key\":\"sk-live-SECRET4711xyz\" \"base_url\":\"http://x\"}}}",
        /* The text ends inside the key. */
        "{\"primary\":\"local/m1\",\"providers\":{\"local\":{\"api_key\":\"sk-live-SECRET4711xyz",
        /* A bad escape inside the key. */
        "{\"primary\":\"local/m1\",\"providers\":{\"local\":{\"api_key\":\"sk-live-SECRET4711\\qxyz\"}}}",
        /* A raw newline inside the key. */
        "{\"primary\":\"local/m1\",\"providers\":{\"local\":{\"api_key\":\"sk-live-SECRET4711\nxyz\"}}}",
        /* A key without quotes. */
        "{\"primary\":\"local/m1\",\"providers\":{\"local\":{\"api_key\":sk-live-SECRET4711xyz}}}",
        /* Garbage after the config. */
        "{\"primary\":\"local/m1\"} sk-live-SECRET4711xyz",
    };
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
        models_error *err = NULL;
        CHECK(models_router_new(broken[i], &err) == NULL);
        CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
        const char *m = models_error_message(err);
        CHECK_STR_CONTAINS(m, "line ");
        CHECK_STR_CONTAINS(m, "column ");
        CHECK_LACKS(m, "sk-");
        CHECK_LACKS(m, "SECRET");
        CHECK_LACKS(m, "4711");
        CHECK_LACKS(m, "xyz");
        models_error_free(err);
    }

    /* A request is the caller's own text, but it may hold secrets too: no quote either. */
    models_router *r = local_router("");
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"password hunter2\"", &response, &err)
          == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "line 1");
    CHECK_LACKS(models_error_message(err), "hunter2");
    models_error_free(err);
    models_router_free(r);
}

#define HEADER_SECRET "hdr-secret-value-4711"

/* Case 10: configured header values are secrets: a server that quotes one back
 * (JSON error message or plain body) does not get it into the message or the log. */
static void test_header_values_are_redacted(void) {
    static const char *const bodies[] = {
        "{\\\"error\\\":{\\\"message\\\":\\\"header X-Custom-Auth " HEADER_SECRET " is not valid\\\"}}",
        "{\\\"type\\\":\\\"error\\\",\\\"error\\\":{\\\"type\\\":\\\"authentication_error\\\",\\\"message\\\":\\\"bad " HEADER_SECRET "\\\"}}",
        "header X-Custom-Auth: " HEADER_SECRET " refused",
    };
    for (size_t p = 0; p < sizeof PROVIDERS / sizeof *PROVIDERS; p++) {
        char config[1024];
        models_router *r = router_or_exit(provider_config(config, sizeof config, PROVIDERS[p],
            "\"api_key\":\"sk-good-0123456789\",\"headers\":{\"X-Custom-Auth\":\"" HEADER_SECRET "\"}"));
        for (size_t b = 0; b < sizeof bodies / sizeof *bodies; b++) {
            ts_reset();
            char script[1024];
            snprintf(script, sizeof script, "[{\"status\":401,\"body\":\"%s\"}]", bodies[b]);
            ts_script("*", script);
            log_clear();
            char *answer = NULL;
            CHECK(chat_text(r, "hi", &answer) == MODELS_ERR_API);
            CHECK_STR_CONTAINS(answer, "401");
            CHECK_STR_CONTAINS(answer, "[redacted]");
            CHECK_LACKS(answer, HEADER_SECRET);
            CHECK_LACKS(answer, "secret-value");
            free(answer);
            CHECK(log_line_with("401") != NULL);
            CHECK_LOG_LACKS(HEADER_SECRET);
            CHECK_LOG_LACKS("secret-value");
            char *requests = ts_get("requests");
            CHECK_STR_CONTAINS(requests, HEADER_SECRET); /* it was sent, as configured */
            free(requests);
        }
        models_router_free(r);
    }
}

/* Case 11: a plain-text error body is cut at 300 bytes; a key straddling the
 * cut is redacted before the cut, so not even its first characters show. */
static void test_key_cut_at_the_limit_is_redacted(void) {
    static const char *const CONFIGURED = "sk-live-Q7xYz2Wv9Lm4Np8Rt1Ks6Hd3Fg5Jb0Vc";
    static const char *const shapes[] = {
        "sk-live-Q7xYz2Wv9Lm4Np8Rt1Ks6Hd3Fg5Jb0Vc",   /* the configured key */
        "sk-proj-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk",   /* another OpenAI-shaped key */
        "ghp_Zq8Rk2Lm9Xv4Tb7Nw1Yc5Hd3Jf6Gs0PaQeWu",  /* a GitHub token */
        "Zq8Rk2Lm9Xv4Tb7Nw1Yc5Hd3Jf6Gs0PaQeWuEiOx",  /* a long random key */
    };
    static const int before_cut[] = {6, 9, 11, 13, 20, 31, 35};
    for (size_t p = 0; p < sizeof PROVIDERS / sizeof *PROVIDERS; p++) {
        char config[1024], members[256];
        snprintf(members, sizeof members, "\"api_key\":\"%s\"", CONFIGURED);
        models_router *r = router_or_exit(provider_config(config, sizeof config, PROVIDERS[p], members));
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            for (size_t c = 0; c < sizeof before_cut / sizeof *before_cut; c++) {
                /* "aaa…a " then the key, whose first before_cut[c] bytes fall before byte 300. */
                char body[512];
                int pad = 300 - before_cut[c];
                memset(body, 'a', (size_t)pad - 1);
                body[pad - 1] = ' ';
                snprintf(body + pad, sizeof body - (size_t)pad, "%s was refused", shapes[s]);
                char script[1024];
                snprintf(script, sizeof script, "[{\"status\":401,\"body\":\"%s\"}]", body);
                ts_reset();
                ts_script("*", script);
                log_clear();
                char *answer = NULL;
                CHECK(chat_text(r, "hi", &answer) == MODELS_ERR_API);
                /* Four characters stay to tell the kind of key ("sk-l…"); six never do. */
                char start[8];
                snprintf(start, sizeof start, "%.6s", shapes[s]);
                CHECK_LACKS(answer, start);
                CHECK_LOG_LACKS(start);
                CHECK_STR_CONTAINS(answer, "aaaa");
                free(answer);
            }
        }
        models_router_free(r);
    }
}

int main(void) {
    models_set_log_handler(record_line, &logged, MODELS_LOG_DEBUG);
    test_bad_keys_in_config();
    test_bad_keys_in_environment();
    test_bad_github_and_copilot_tokens();
    test_unmatched_answer_is_not_reused();
    test_unfinished_answer_is_not_reused();
    test_config_syntax_error_quotes_nothing();
    test_header_values_are_redacted();
    test_key_cut_at_the_limit_is_redacted();
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    return check_report("test_secrets");
}
