/* SPDX-License-Identifier: Apache-2.0 */
/* Cooldowns, rate limits and deployment load shared through Redis
 * ("shared_state", issue 14), against a real redis-server that this test
 * starts on a free loopback port (or a unix socket), and the loopback test
 * server. Routers in one process and in forked processes share one Redis;
 * Redis down at the start, killed, paused, refusing the password or not
 * Redis at all never fails a call. Skips (exit 0 with a message) only when
 * redis-server is not installed. */
#include <models.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "redis_server.h"
#include "test_server.h"
#include "test_util.h"

static rs_server redis;

/* ---- helpers ---------------------------------------------------------- */

/* shared_state's timeout_ms: generous, so that a slow machine does not make
 * Redis look down; the test of a paused Redis sets the default of 50. */
static int redis_timeout_ms = 1000;

/* A router config on the test server ("local") sharing through `url` under
 * the key prefix `prefix`, with the top-level `members`. */
static char *shared_config(char *buf, size_t size, const char *url, const char *prefix, const char *members) {
    char extra[2048];
    snprintf(extra, sizeof extra, "%s,\"shared_state\":{\"redis_url\":\"%s\",\"key_prefix\":\"%s\",\"timeout_ms\":%d}",
             members, url, prefix, redis_timeout_ms);
    return ts_config(buf, size, extra, "local", NULL);
}

static models_router *shared_router(const char *prefix, const char *members) {
    char url[256], config[4096];
    return router_or_exit(shared_config(config, sizeof config, rs_url(&redis, url, sizeof url), prefix, members));
}

/* One chat (chat_model of test_util.h) that prints its error. */
static models_code chat_logged(models_router *r, const char *request, char *model, size_t size) {
    models_error *err = NULL;
    models_code rc = chat_model(r, request, model, size, &err);
    if (rc != MODELS_OK) fprintf(stderr, "  chat: %s\n", models_error_message(err));
    models_error_free(err);
    return rc;
}


static int is_cooling(models_router *r, const char *model) {
    char h[1024];
    return strstr(health_of(r, model, h, sizeof h), "cooldown (") != NULL;
}

static double wall_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Requests the server recorded with a time in [from, to] (wall seconds). */
static int requests_between(double from, double to) {
    char *requests = ts_get("requests");
    int n = 0;
    for (const char *p = requests; (p = strstr(p, "\"time\":")) != NULL; p += 7) {
        double t = strtod(p + 7, NULL);
        if (t >= from && t <= to) n++;
    }
    free(requests);
    return n;
}

/* Another process: this test run again as `child ROLE PREFIX [ARG...]` (a
 * fresh exec, not a bare fork: the library's connections are per process). */
static char self_path[512];
static pid_t spawn(const char *role, const char *prefix, const char *arg1, const char *arg2) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_path, self_path, "child", role, prefix, arg1 ? arg1 : "", arg2 ? arg2 : "", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits for a child; its exit status (1 when it did not exit normally). */
static int wait_child(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Log lines, kept for the checks on what is logged (and what is not). */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536];
static void on_log(void *user, int level, const char *message) {
    (void)user;
    pthread_mutex_lock(&log_mutex);
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%d %s\n", level, message);
    pthread_mutex_unlock(&log_mutex);
}
static void log_clear(void) {
    pthread_mutex_lock(&log_mutex);
    log_text[0] = '\0';
    pthread_mutex_unlock(&log_mutex);
}
static int log_count(const char *needle) {
    pthread_mutex_lock(&log_mutex);
    int n = count_of(log_text, needle);
    pthread_mutex_unlock(&log_mutex);
    return n;
}

static const char *const TPM_GROUP = "\"primary\":\"g\",\"model_groups\":{\"g\":{\"deployments\":["
                                     "{\"model\":\"local/d1\",\"tpm\":1000},{\"model\":\"local/d2\"}]}}";
static const char *const BUSY_GROUP = "\"primary\":\"g\",\"model_groups\":{\"g\":{\"strategy\":\"least_busy\","
                                      "\"deployments\":[{\"model\":\"local/d1\"},{\"model\":\"local/d2\"}]}}";
static const char *const RATE_10 = "\"primary\":\"local/m1\",\"rate_limits\":{\"local\":{\"requests_per_second\":10,\"burst\":1}}";
static const char *const M1_FAILS = "[{\"status\": 503}]";
static const char *const COOLING =
    "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
    "\"cooldown\":{\"base_ms\":400,\"max_ms\":60000,\"multiplier\":10}";

/* ---- config ----------------------------------------------------------- */

static void test_config_errors(void) {
    static const char *const bad[] = {
        "\"redis_url\":\"http://:pw-Secret-4242@127.0.0.1:6379\"",
        "\"redis_url\":\"redis://:pw-Secret-4242@127.0.0.1:70000/0\"",
        "\"redis_url\":\"redis://:pw-Secret-4242@\"",
        "\"redis_url\":\"rediss://:pw-Secret-4242@h\"",
        "\"redis_url_env\":\"MODELS_TEST_UNSET_REDIS_URL\"",
        "\"redis_url\":\"redis://h\",\"timeout_ms\":0",
        "\"redis_urll\":\"redis://h\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char config[512];
        snprintf(config, sizeof config, "{\"primary\":\"local/m1\",\"shared_state\":{%s}}", bad[i]);
        models_error *err = NULL;
        models_router *r = models_router_new(config, &err);
        CHECK(r == NULL);
        CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(models_error_message(err), "shared_state");
        CHECK(strstr(models_error_message(err), "Secret-4242") == NULL);
        models_error_free(err);
        models_router_free(r);
    }
    /* redis_url_env names a variable that holds the URL. */
    char config[512];
    snprintf(config, sizeof config, "{\"primary\":\"local/m1\",\"shared_state\":{\"redis_url_env\":\"MODELS_TEST_REDIS_URL\"}}");
    models_router *r = router_or_exit(config);
    models_router_free(r);
}

/* ---- cooldowns ---------------------------------------------------------- */

/* A cooldown set by router A is seen (health) and honoured (no call) by
 * router B, in this process and in another one; a success in A clears it for B. */
static void test_cooldown_shared(void) {
    ts_reset();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cd:%d:", (int)getpid());
    models_router *a = shared_router(prefix, COOLING);
    models_router *b = shared_router(prefix, COOLING);
    char model[64];

    ts_script("m1", M1_FAILS);
    CHECK(chat_logged(a, HELLO, model, sizeof model) == MODELS_OK);
    CHECK(strcmp(model, "local/m2") == 0);
    CHECK(requests_for("m1") == 1);
    CHECK(is_cooling(a, "local/m1"));
    /* B never called m1, yet sees it cooling and skips it. */
    CHECK(is_cooling(b, "local/m1"));
    CHECK(chat_logged(b, HELLO, model, sizeof model) == MODELS_OK);
    CHECK(strcmp(model, "local/m2") == 0);
    CHECK(requests_for("m1") == 1);

    /* Another process, its own router, the same Redis. */
    CHECK(wait_child(spawn("cooled", prefix, NULL, NULL)) == 0);
    CHECK(requests_for("m1") == 1);

    /* After the cooldown, a success in A clears the failures for everyone: B's
     * next failure cools m1 for the base 400 ms ("1s"), not 4 s. */
    sleep_ms(450);
    CHECK(chat_logged(a, HELLO, model, sizeof model) == MODELS_OK);
    CHECK(strcmp(model, "local/m1") == 0);
    ts_script("m1", M1_FAILS);
    CHECK(chat_logged(b, HELLO, model, sizeof model) == MODELS_OK);
    char h[1024];
    CHECK_STR_CONTAINS(health_of(a, "local/m1", h, sizeof h), "cooldown (1s remaining)");
    /* Without the success it escalates: the next failure (from A) is 4 s. */
    sleep_ms(450);
    ts_script("m1", M1_FAILS);
    CHECK(chat_logged(a, HELLO, model, sizeof model) == MODELS_OK);
    CHECK_STR_CONTAINS(health_of(b, "local/m1", h, sizeof h), "cooldown (4s remaining)");
    models_router_free(a);
    models_router_free(b);
}

/* ---- rate limits -------------------------------------------------------- */

/* `procs` processes each call as fast as they can from `start` to `start +
 * seconds` (wall clock); returns the requests the server saw in that time. */
static int hammer(int procs, double seconds, int shared, const char *prefix) {
    ts_reset();
    /* Time for every process to start and build its router, even on a slow machine. */
    double start = wall_s() + 1.0;
    pid_t pids[8];
    char from[64], to[64];
    snprintf(from, sizeof from, "%.6f", start);
    snprintf(to, sizeof to, "%.6f", start + seconds);
    for (int i = 0; i < procs; i++) pids[i] = spawn(shared ? "hammer-shared" : "hammer-alone", prefix, from, to);
    for (int i = 0; i < procs; i++) CHECK(wait_child(pids[i]) == 0);
    return requests_between(start, start + seconds);
}

static void test_rate_limit_shared(void) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "rl:%d:", (int)getpid());
    /* 4 processes, one limit of 10 requests/s: 30 in 3 s (±10 %). */
    int n = hammer(4, 3.0, 1, prefix);
    printf("4 processes, shared 10/s, 3 s: %d requests\n", n);
    CHECK(n >= 27 && n <= 33);
    /* Each on its own: every process allows the whole limit (about 4 × 10/s). */
    int alone = hammer(4, 1.0, 0, prefix);
    printf("4 processes, each its own 10/s, 1 s: %d requests\n", alone);
    CHECK(alone >= 30);
}

/* ---- deployments: tpm and least_busy ------------------------------------ */

static void test_tpm_shared(void) {
    ts_reset();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "tpm:%d:", (int)getpid());
    const char *members = TPM_GROUP;
    /* Another process uses up d1's tokens for this minute. */
    ts_script("d1", "[{\"usage\": {\"prompt_tokens\": 700, \"completion_tokens\": 500}}]");
    CHECK(wait_child(spawn("d1", prefix, "tpm", NULL)) == 0);
    CHECK(requests_for("d1") == 1);
    /* This process's router skips d1 every time (alone it would pick it half the time). */
    models_router *r = shared_router(prefix, members);
    char h[1024];
    CHECK_STR_CONTAINS(health_of(r, "local/d1", h, sizeof h), "\"tokens_this_minute\":1200");
    CHECK_STR_CONTAINS(h, "tpm limit");
    for (int i = 0; i < 8; i++) {
        char m[64];
        CHECK(chat_logged(r, HELLO, m, sizeof m) == MODELS_OK);
        CHECK(strcmp(m, "local/d2") == 0);
    }
    CHECK(requests_for("d1") == 1);
    models_router_free(r);
}

static void test_least_busy_shared(void) {
    ts_reset();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "lb:%d:", (int)getpid());
    const char *members = BUSY_GROUP;
    /* Another process holds a slow call on d1. */
    ts_script("d1", "[{\"delay_ms\": 1500}]");
    pid_t pid = spawn("d1", prefix, "least_busy", NULL);
    models_router *r = shared_router(prefix, members);
    char h[1024];
    for (int i = 0; i < 200 && !strstr(health_of(r, "local/d1", h, sizeof h), "\"in_flight\":1"); i++) sleep_ms(10);
    CHECK_STR_CONTAINS(h, "\"in_flight\":1");
    /* While it is in flight, every call here goes to d2 (alone: half to d1). */
    for (int i = 0; i < 6; i++) {
        char m[64];
        CHECK(chat_logged(r, HELLO, m, sizeof m) == MODELS_OK);
        CHECK(strcmp(m, "local/d2") == 0);
    }
    CHECK(wait_child(pid) == 0);
    CHECK_STR_CONTAINS(health_of(r, "local/d1", h, sizeof h), "\"in_flight\":0");
    models_router_free(r);
}

/* Threads of one router share its connections to Redis (a pool): calls at
 * once all succeed, and every call in flight is counted out again. */
struct threaded { models_router *r; int failures; };
static void *threaded_calls(void *arg) {
    struct threaded *t = arg;
    for (int i = 0; i < 20; i++) {
        char m[64];
        if (chat_logged(t->r, HELLO, m, sizeof m) != MODELS_OK) t->failures++;
    }
    return NULL;
}

static void test_threads_share_a_pool(void) {
    ts_reset();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "thr:%d:", (int)getpid());
    models_router *r = shared_router(prefix, BUSY_GROUP);
    pthread_t threads[8];
    struct threaded t[8];
    for (int i = 0; i < 8; i++) {
        t[i].r = r;
        t[i].failures = 0;
        pthread_create(&threads[i], NULL, threaded_calls, &t[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        CHECK(t[i].failures == 0);
    }
    /* The last ends are written without waiting: give them a moment. */
    char h1[1024], h2[1024];
    for (int i = 0; i < 100; i++) {
        if (strstr(health_of(r, "local/d1", h1, sizeof h1), "\"in_flight\":0") &&
            strstr(health_of(r, "local/d2", h2, sizeof h2), "\"in_flight\":0")) break;
        sleep_ms(10);
    }
    CHECK_STR_CONTAINS(h1, "\"in_flight\":0");
    CHECK_STR_CONTAINS(h2, "\"in_flight\":0");
    CHECK(requests_for("d1") + requests_for("d2") == 160);
    models_router_free(r);
}

/* ---- faults ------------------------------------------------------------- */

/* Calls on `r` (m1 answering) that must all succeed, each within `bound_ms`. */
static void calls_succeed(models_router *r, int n, int64_t bound_ms) {
    for (int i = 0; i < n; i++) {
        char m[64];
        int64_t t0 = now_ms();
        CHECK(chat_logged(r, HELLO, m, sizeof m) == MODELS_OK);
        int64_t took = now_ms() - t0;
        if (took > bound_ms) fprintf(stderr, "  call %d took %lld ms\n", i, (long long)took);
        CHECK(took <= bound_ms);
    }
}

/* Cools m1 down in A (after its previous cooldown ran out) until B sees it:
 * sharing works. Polls for up to 8 s (the client retries with a backoff of at most 2 s). */
static int sharing_works(models_router *a, models_router *b) {
    for (int i = 0; i < 40; i++) {
        char m[64];
        ts_script("m1", M1_FAILS);
        CHECK(chat_logged(a, HELLO, m, sizeof m) == MODELS_OK);
        if (is_cooling(b, "local/m1")) return 1;
        sleep_ms(200);
    }
    return 0;
}

static void test_redis_down_killed_restarted(void) {
    ts_reset();
    log_clear();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "down:%d:", (int)getpid());
    /* A short cooldown, so that A tries m1 again between the checks. */
    const char *members = "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                          "\"cooldown\":{\"base_ms\":150,\"max_ms\":150}";
    rs_kill(&redis);
    /* Down at the start: the routers build and serve on local state. */
    models_router *a = shared_router(prefix, members);
    models_router *b = shared_router(prefix, members);
    calls_succeed(a, 5, 2000);
    calls_succeed(b, 5, 2000);
    CHECK(log_count("is not usable") == 2); /* one WARN per router, not per call */
    CHECK(!is_cooling(b, "local/m1"));

    rs_start(&redis);
    CHECK(sharing_works(a, b));
    CHECK(log_count("sharing resumes") >= 1);

    /* Killed in the middle of a run: no call fails, none waits on Redis. */
    rs_kill(&redis);
    ts_script("*", "[]");
    sleep_ms(200);
    calls_succeed(a, 10, 2000);
    calls_succeed(b, 10, 2000);
    rs_start(&redis);
    CHECK(sharing_works(a, b));
    models_router_free(a);
    models_router_free(b);
}

static void test_redis_paused(void) {
    ts_reset();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "slow:%d:", (int)getpid());
    const char *members = "\"primary\":\"local/m1\",\"fallbacks\":[\"local/m2\"],\"max_retries\":0,"
                          "\"cooldown\":{\"base_ms\":150,\"max_ms\":150},"
                          "\"rate_limits\":{\"local\":{\"requests_per_second\":1000}}";
    redis_timeout_ms = 50;
    models_router *a = shared_router(prefix, members);
    models_router *b = shared_router(prefix, members);
    redis_timeout_ms = 1000;
    CHECK(sharing_works(a, b));
    sleep_ms(200);
    /* Redis stops answering (timeout_ms 50): each call goes on after at most
     * about 50 ms per talk with Redis; the bound is loose for slow machines.
     * (The timeout is 1 s in the other tests, so that they do not depend on speed.) */
    rs_signal(&redis, SIGSTOP);
    calls_succeed(a, 10, 1500);
    calls_succeed(b, 10, 1500);
    rs_signal(&redis, SIGCONT);
    CHECK(sharing_works(a, b));
    models_router_free(a);
    models_router_free(b);
}

/* Redis killed while a connection sits in the pool, then writes that do not
 * wait for an answer (a deployment named directly, no cooldowns: no read):
 * the second write to the closed socket raises SIGPIPE, which must not end
 * the process (this test runs with SIGPIPE's default action). */
static void test_no_sigpipe(void) {
    ts_reset();
    rs_server own;
    rs_init(&own, 0, NULL);
    rs_start(&own);
    char config[4096], url[256];
    models_router *r = router_or_exit(shared_config(config, sizeof config, rs_url(&own, url, sizeof url), "pipe:", BUSY_GROUP));
    const char *d1 = "{\"model\":\"local/d1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char m[64];
    CHECK(chat_logged(r, d1, m, sizeof m) == MODELS_OK);
    rs_kill(&own);
    for (int i = 0; i < 5; i++) CHECK(chat_logged(r, d1, m, sizeof m) == MODELS_OK);
    models_router_free(r);
    rs_cleanup(&own);
}

/* Redis forgets its scripts (SCRIPT FLUSH, as after a restart): writes sent
 * without waiting are run again in full, none is lost. */
static void test_scripts_flushed(void) {
    ts_reset();
    char prefix[64], cmd[128];
    snprintf(prefix, sizeof prefix, "flush:%d:", (int)getpid());
    models_router *r = shared_router(prefix, BUSY_GROUP);
    const char *d1 = "{\"model\":\"local/d1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char m[64], h[1024];
    CHECK(chat_logged(r, d1, m, sizeof m) == MODELS_OK);
    CHECK_STR_CONTAINS(health_of(r, "local/d1", h, sizeof h), "\"requests_this_minute\":1,");
    snprintf(cmd, sizeof cmd, "redis-cli -p %d SCRIPT FLUSH > /dev/null", redis.port);
    CHECK(system(cmd) == 0);
    for (int i = 0; i < 3; i++) CHECK(chat_logged(r, d1, m, sizeof m) == MODELS_OK);
    /* Another router reads what Redis holds (this one's own counts are local too). */
    models_router *other = shared_router(prefix, BUSY_GROUP);
    health_of(r, "local/d1", h, sizeof h); /* the first router's next talk runs the lost scripts */
    CHECK_STR_CONTAINS(health_of(other, "local/d1", h, sizeof h), "\"requests_this_minute\":4,");
    CHECK_STR_CONTAINS(h, "\"in_flight\":0");
    models_router_free(other);
    models_router_free(r);
}

/* ---- wrong password, not Redis, unix socket ------------------------------ */

static void test_wrong_password_and_not_redis(void) {
    ts_reset();
    log_clear();
    redis_timeout_ms = 100;
    rs_server locked;
    rs_init(&locked, 0, "right-pass-9876");
    rs_start(&locked);
    char config[4096], url[256];
    snprintf(url, sizeof url, "redis://:Wrong-Pass-1234@127.0.0.1:%d/0", locked.port);
    models_router *r = router_or_exit(shared_config(config, sizeof config, url, "pw:", COOLING));
    calls_succeed(r, 3, 2000);
    CHECK(log_count("refused the password") == 1);
    CHECK(log_count("Wrong-Pass-1234") == 0);
    CHECK(log_count("[redacted]") >= 1);
    models_router_free(r);
    /* No password at all: said so. */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", locked.port);
    r = router_or_exit(shared_config(config, sizeof config, url, "pw:", COOLING));
    calls_succeed(r, 2, 2000);
    CHECK(log_count("wants a password") == 1);
    models_router_free(r);
    rs_cleanup(&locked);

    /* The test server's HTTP port: not Redis. No hang, no failed call. */
    log_clear();
    const char *port = strrchr(ts_url(), ':');
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port ? atoi(port + 1) : 1);
    r = router_or_exit(shared_config(config, sizeof config, url, "http:", COOLING));
    calls_succeed(r, 3, 2000);
    CHECK(log_count("is not usable") == 1);
    models_router_free(r);
    ts_reset();
    redis_timeout_ms = 1000;
}

static void test_unix_socket(void) {
    ts_reset();
    rs_server sock;
    rs_init(&sock, 1, "sock-pass-5555");
    rs_start(&sock);
    char config[4096], url[256];
    rs_url(&sock, url, sizeof url);
    models_router *a = router_or_exit(shared_config(config, sizeof config, url, "unix:", COOLING));
    models_router *b = router_or_exit(shared_config(config, sizeof config, url, "unix:", COOLING));
    char m[64];
    ts_script("m1", M1_FAILS);
    CHECK(chat_logged(a, HELLO, m, sizeof m) == MODELS_OK);
    CHECK(is_cooling(b, "local/m1"));
    /* Another prefix is another shared state. */
    models_router *other = router_or_exit(shared_config(config, sizeof config, url, "other:", COOLING));
    CHECK(!is_cooling(other, "local/m1"));
    models_router_free(a);
    models_router_free(b);
    models_router_free(other);
    rs_cleanup(&sock);
}

/* ---- two models-chat processes ------------------------------------------ */

static void test_models_chat_health(void) {
    const char *tool = getenv("MODELS_CHAT");
    if (!tool || !*tool) {
        printf("MODELS_CHAT not set: models-chat --health not checked\n");
        return;
    }
    ts_reset();
    char path[128], config[4096], url[256], prefix[64], cmd[1024];
    snprintf(path, sizeof path, "%s/config.json", redis.dir);
    snprintf(prefix, sizeof prefix, "chat:%d:", (int)getpid());
    shared_config(config, sizeof config, rs_url(&redis, url, sizeof url), prefix, COOLING);
    FILE *f = fopen(path, "w");
    fputs(config, f);
    fclose(f);
    ts_script("m1", M1_FAILS);
    snprintf(cmd, sizeof cmd, "%s --config %s --health hi > /dev/null 2>&1", tool, path);
    CHECK(system(cmd) == 0);
    /* A second run, no prompt: shows the first one's cooldown. */
    snprintf(cmd, sizeof cmd, "%s --config %s --health 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    char out[8192] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    CHECK(pclose(p) == 0);
    CHECK_STR_CONTAINS(out, "cooldown");
    CHECK(requests_for("m1") == 1);
    /* --print-config shows the URL without its password. */
    snprintf(cmd, sizeof cmd, "%s --config %s --print-config 2>&1", tool, path);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    CHECK_STR_CONTAINS(out, "redis_url");
    /* A URL with a password: shown without it. */
    char secret_url[256];
    snprintf(secret_url, sizeof secret_url, "redis://:Chat-Secret-777@127.0.0.1:%d/0", redis.port);
    shared_config(config, sizeof config, secret_url, prefix, COOLING);
    f = fopen(path, "w");
    fputs(config, f);
    fclose(f);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    CHECK_STR_CONTAINS(out, "redis://:[redacted]@127.0.0.1:");
    CHECK(strstr(out, "Chat-Secret-777") == NULL);
}

/* The other processes' parts (see `spawn`); the exit status is the verdict. */
static int child(int argc, char **argv) {
    if (argc < 6) return 2;
    const char *role = argv[2], *prefix = argv[3];
    snprintf(redis.dir, sizeof redis.dir, "-");
    char url[256];
    snprintf(url, sizeof url, "%s", getenv("MODELS_TEST_REDIS_URL"));
    char config[4096], m[64];
    if (strcmp(role, "cooled") == 0) {
        /* m1 was cooled by another process: seen, and skipped without a call. */
        models_router *r = router_or_exit(shared_config(config, sizeof config, url, prefix, COOLING));
        int ok = is_cooling(r, "local/m1") && chat_logged(r, HELLO, m, sizeof m) == MODELS_OK && strcmp(m, "local/m2") == 0;
        models_router_free(r);
        return ok ? 0 : 1;
    }
    if (strcmp(role, "d1") == 0) {
        /* One call to deployment d1 named directly. */
        const char *members = strcmp(argv[4], "tpm") == 0 ? TPM_GROUP : BUSY_GROUP;
        models_router *r = router_or_exit(shared_config(config, sizeof config, url, prefix, members));
        int ok = chat_logged(r, "{\"model\":\"local/d1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", m, sizeof m) == MODELS_OK;
        models_router_free(r);
        return ok ? 0 : 1;
    }
    if (strncmp(role, "hammer-", 7) == 0) {
        /* Calls as fast as the rate limit lets it, from argv[4] to argv[5] (wall seconds). */
        double start = strtod(argv[4], NULL), end = strtod(argv[5], NULL);
        models_router *r = strcmp(role, "hammer-shared") == 0
            ? router_or_exit(shared_config(config, sizeof config, url, prefix, RATE_10))
            : router_or_exit(ts_config(config, sizeof config, RATE_10, "local", NULL));
        while (wall_s() < start) sleep_ms(2);
        int failures = 0;
        while (wall_s() < end) {
            if (chat_logged(r, HELLO, m, sizeof m) != MODELS_OK) failures++;
        }
        models_router_free(r);
        return failures == 0 ? 0 : 1;
    }
    return 2;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return child(argc, argv);
    ssize_t len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len <= 0) return 2;
    self_path[len] = '\0';
    if (!rs_available()) {
        printf("test_shared_state: SKIPPED: redis-server is not installed (Debian: apt-get install redis-server)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE from the library would end this test */
    models_set_log_handler(on_log, NULL, MODELS_LOG_INFO);
    rs_init(&redis, 0, NULL);
    rs_start(&redis);
    char url[256];
    setenv("MODELS_TEST_REDIS_URL", rs_url(&redis, url, sizeof url), 1);
    test_config_errors();
    test_cooldown_shared();
    test_tpm_shared();
    test_least_busy_shared();
    test_rate_limit_shared();
    test_threads_share_a_pool();
    test_unix_socket();
    test_models_chat_health();
    test_scripts_flushed();
    test_no_sigpipe();
    test_redis_paused();
    test_wrong_password_and_not_redis();
    test_redis_down_killed_restarted();
    models_set_log_handler(NULL, NULL, 0);
    rs_cleanup(&redis);
    return check_report("test_shared_state");
}
