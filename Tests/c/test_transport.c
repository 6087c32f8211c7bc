/* SPDX-License-Identifier: Apache-2.0 */
/* The transport's promises, through the C API against the loopback test
 * server: kept-alive connections reused across requests and threads, TLS
 * verification always on, redirects not followed, proxies from the
 * environment, the User-Agent, connection failures classified, and no thread
 * created per request. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_util.h"

static models_code chat(models_router *r, const char *request, models_error **err) {
    char *response = NULL;
    models_code rc = models_chat(r, request, &response, err);
    models_free(response);
    return rc;
}

/* 1 when a request succeeds; prints why when it does not. */
static int chat_ok(models_router *r) {
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    if (rc != MODELS_OK) fprintf(stderr, "  request failed: %s\n", models_error_message(err));
    models_error_free(err);
    return rc == MODELS_OK;
}

/* 30 sequential requests to one host travel over one TCP connection. */
static void test_keep_alive_sequential(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    int ok = 0;
    for (int i = 0; i < 30; i++) ok += chat_ok(r);
    CHECK(ok == 30);
    CHECK(ts_stat("requests") == 30);
    CHECK(ts_stat("connections") == 1);
    models_router_free(r);
}

/* A request of 2 MB (past libcurl's 100-continue threshold, and past what an
 * idle handle keeps of its body buffer), then small ones: each reaches the
 * server whole, with no wait for "100 Continue", over the same connection. */
static void test_large_then_small_requests(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    size_t n = 2 << 20;
    const char *head = "{\"messages\":[{\"role\":\"user\",\"content\":\"";
    char *big = malloc(strlen(head) + n + 8);
    CHECK(big != NULL);
    if (!big) return;
    strcpy(big, head);
    memset(big + strlen(head), 'x', n);
    strcpy(big + strlen(head) + n, "\"}]}");
    char *response = NULL;
    CHECK(models_chat(r, big, &response, NULL) == MODELS_OK);
    CHECK(response && strlen(response) > n);
    models_free(response);
    free(big);
    for (int i = 0; i < 3; i++) {
        response = NULL;
        char small[128];
        snprintf(small, sizeof small, "{\"messages\":[{\"role\":\"user\",\"content\":\"small %d\"}]}", i);
        CHECK(models_chat(r, small, &response, NULL) == MODELS_OK);
        char expected[32];
        snprintf(expected, sizeof expected, "echo: small %d", i);
        CHECK_STR_CONTAINS(response, expected);
        models_free(response);
    }
    CHECK(ts_stat("requests") == 4);
    CHECK(ts_stat("connections") == 1);
    models_router_free(r);
}

static void *chat_once(void *router) {
    return (void *)(intptr_t)chat(router, HELLO, NULL);
}

/* Requests from different threads, one after another, reuse the connection:
 * the connection cache is process-wide, not per thread. */
static void test_keep_alive_across_threads(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    int ok = 0;
    for (int i = 0; i < 6; i++) {
        pthread_t t;
        void *rc = NULL;
        pthread_create(&t, NULL, chat_once, r);
        pthread_join(t, &rc);
        ok += (intptr_t)rc == MODELS_OK;
    }
    CHECK(ok == 6);
    CHECK(ts_stat("requests") == 6);
    CHECK(ts_stat("connections") == 1);
    models_router_free(r);
}

/* A stream read to its end leaves its connection reusable, for streams and
 * for plain requests alike. */
static void test_keep_alive_after_streams(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    int ok = 0;
    for (int i = 0; i < 5; i++) {
        models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
        char *text = NULL;
        ok += s && models_stream_collect(s, &text, NULL) == MODELS_OK;
        models_free(text);
        models_stream_close(s);
        ok += chat_ok(r);
    }
    CHECK(ok == 10);
    CHECK(ts_stat("connections") == 1);
    models_router_free(r);
}

static void test_user_agent(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    CHECK(chat_ok(r));
    char expected[64];
    snprintf(expected, sizeof expected, "\"user-agent\":\"libmodels/%s\"", models_version());
    char *requests = ts_get("requests");
    CHECK_STR_CONTAINS(requests, expected);
    free(requests);
    models_router_free(r);
}

/* A 302 is the provider's answer, not an instruction: one request, no retry,
 * MODELS_ERR_API with the status. */
static void test_redirect_not_followed(void) {
    models_router *r = local_router("\"retry_base_ms\":1");
    ts_reset();
    ts_script("m1", "[{\"status\":302,\"headers\":{\"Location\":\"/v2/chat/completions\"}}]");
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(models_error_status(err) == 302);
    CHECK(models_error_is_transient(err) == 0);
    models_error_free(err);
    CHECK(ts_stat("requests") == 1);
    char *requests = ts_get("requests");
    CHECK(strstr(requests, "/v2/") == NULL);
    free(requests);
    models_router_free(r);
}

/* A port nobody listens on: bind one, note it, close it. */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static models_router *router_at(const char *base_url, const char *extra) {
    char config[1024];
    snprintf(config, sizeof config,
             "{\"primary\":\"px/m1\",\"max_retries\":0%s%s,\"providers\":{\"px\":{\"base_url\":\"%s\",\"api_key\":\"sk-px-0123456789\"}}}",
             extra && *extra ? "," : "", extra ? extra : "", base_url);
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) {
        fprintf(stderr, "models_router_new(%s): %s\n", config, models_error_message(err));
        exit(2);
    }
    return r;
}

static void test_connection_refused(void) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", closed_port());
    models_router *r = router_at(url, "");
    models_error *err = NULL;
    int64_t start = now_ms();
    models_code rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    CHECK(models_error_is_transient(err) == 1);
    CHECK(models_error_status(err) == 0);
    CHECK(now_ms() - start < 2000);
    models_error_free(err);
    models_router_free(r);
}

/* A host that does not resolve fails as a transport error, and leaves the
 * library working: the pooled handle that saw the failure serves the next
 * requests (libcurl once refused to reconfigure such a handle). */
static void test_unresolvable_host(void) {
    models_router *bad = router_at("http://no-such-host.invalid/v1", "");
    models_router *good = local_router("\"max_retries\":0");
    for (int i = 0; i < 3; i++) {
        models_error *err = NULL;
        models_code rc = chat(bad, HELLO, &err);
        CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
        CHECK_STR_CONTAINS(models_error_message(err), "no-such-host.invalid");
        models_error_free(err);
        CHECK(chat_ok(good));
    }
    models_router_free(bad);
    models_router_free(good);
}

/* The server resets the connection (TCP RST) instead of answering. Scripted
 * twice: libcurl itself retries once on a fresh connection when a reused one
 * dies before any answer, which is right and not what is tested here. */
static void test_connection_reset(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    ts_script("m1", "[{\"reset\":true},{\"reset\":true}]");
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    CHECK(models_error_is_transient(err) == 1);
    models_error_free(err);
    /* The next request works: the dead connection left the cache. */
    CHECK(chat_ok(r));
    models_router_free(r);
}

/* HTTP_PROXY: the request goes to the proxy with the absolute URI; NO_PROXY
 * exempts a host; loopback hosts never use the proxy. */
static void test_http_proxy(void) {
    models_router *r = router_at("http://proxied.invalid/v1", "");
    setenv("HTTP_PROXY", ts_url(), 1);
    ts_reset();
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  proxied request: %s\n", models_error_message(err));
    models_error_free(err);
    char *requests = ts_get("requests");
    CHECK_STR_CONTAINS(requests, "\"path\":\"http://proxied.invalid/v1/chat/completions\"");
    free(requests);

    /* NO_PROXY names the host: the library goes direct, and proxied.invalid
     * does not resolve. Nothing reaches the server. */
    setenv("NO_PROXY", "example.com,proxied.invalid", 1);
    ts_reset();
    err = NULL;
    rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    models_error_free(err);
    CHECK(ts_stat("requests") == 0);
    unsetenv("NO_PROXY");
    models_router_free(r);

    /* A proxy that does not exist does not disturb a loopback provider. */
    char bogus[64];
    snprintf(bogus, sizeof bogus, "http://127.0.0.1:%d", closed_port());
    setenv("HTTP_PROXY", bogus, 1);
    r = local_router("\"max_retries\":0");
    CHECK(chat_ok(r));
    models_router_free(r);
    unsetenv("HTTP_PROXY");
}

/* HTTPS_PROXY: an https request opens a CONNECT tunnel through the proxy. The
 * test server refuses CONNECT, so the request fails, but the connection it
 * accepted shows the proxy was used (without one, proxied.invalid does not
 * resolve and nothing connects). */
static void test_https_proxy(void) {
    models_router *r = router_at("https://proxied.invalid/v1", "");
    setenv("HTTPS_PROXY", ts_url(), 1);
    ts_reset();
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    models_error_free(err);
    /* accepted: the CONNECT, plus this stats call's own connection. */
    CHECK(ts_stat("accepted") == 2);
    unsetenv("HTTPS_PROXY");
    models_router_free(r);
}

/* A TLS server with a self-signed certificate for 127.0.0.1, made with
 * openssl and served by Python's ssl module: verification must refuse it. */
static void test_tls_self_signed_refused(void) {
    if (system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1") != 0) {
        printf("SKIP tls: openssl or python3 not found\n");
        return;
    }
    char dir[] = "/tmp/models-tls-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0); return; }
    char command[2048];
    snprintf(command, sizeof command,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -keyout key.pem -out cert.pem -days 1 -subj /CN=127.0.0.1"
             " -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 && exec python3 -c '"
             "import os, socket, ssl\n"
             "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
             "ctx.load_cert_chain(\"cert.pem\", \"key.pem\")\n"
             "s = socket.socket()\n"
             "s.bind((\"127.0.0.1\", 0))\n"
             "s.listen(8)\n"
             "s.settimeout(30)\n"
             "print(os.getpid(), s.getsockname()[1], flush=True)\n"
             "while True:\n"
             "    c, _ = s.accept()\n"
             "    try:\n"
             "        ctx.wrap_socket(c, server_side=True).close()\n"
             "    except Exception:\n"
             "        c.close()\n"
             "'", dir);
    FILE *server = popen(command, "r");
    int pid = 0, port = 0;
    if (!server || fscanf(server, "%d %d", &pid, &port) != 2) {
        fprintf(stderr, "could not start the TLS server\n");
        CHECK(0);
        if (server) pclose(server);
        return;
    }
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/v1", port);
    models_router *r = router_at(url, "");
    models_error *err = NULL;
    models_code rc = chat(r, HELLO, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_TRANSPORT);
    CHECK(models_error_is_transient(err) == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "certificate");
    models_error_free(err);
    models_router_free(r);

    kill(pid, SIGTERM);
    pclose(server);
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
}

struct stall_probe {
    int threads_during;
};

static void *count_threads_later(void *arg) {
    struct stall_probe *probe = arg;
    sleep_ms(150);
    probe->threads_during = thread_count();
    return NULL;
}

/* The calling thread does the work: the thread count does not change while a
 * request waits on the server, while a stream is open and stalled, or after. */
static void test_no_thread_per_request(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    CHECK(chat_ok(r));
    int before = thread_count();
    CHECK(before >= 1);

    /* During a blocking call: a probe thread (counted in `before + 1`) looks
     * while models_chat waits for a delayed answer. */
    ts_script("m1", "[{\"delay_ms\":400}]");
    struct stall_probe probe = {0};
    pthread_t t;
    pthread_create(&t, NULL, count_threads_later, &probe);
    CHECK(chat_ok(r));
    pthread_join(t, NULL);
    CHECK(probe.threads_during == before + 1);

    /* An open stream whose server stalls after two events. */
    ts_script("m1", "[{\"stall_after\":2,\"stall_ms\":300}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    CHECK(s != NULL);
    const char *chunk;
    CHECK(models_stream_next(s, &chunk, NULL, NULL) == MODELS_OK);
    CHECK(thread_count() == before);
    char *text = NULL;
    CHECK(models_stream_collect(s, &text, NULL) == MODELS_OK);
    models_free(text);
    models_stream_close(s);

    for (int i = 0; i < 10; i++) chat(r, HELLO, NULL);
    CHECK(thread_count() == before);
    models_router_free(r);
    CHECK(thread_count() == before);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    /* The proxy tests set these themselves; a developer's own must not interfere. */
    const char *proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof *proxy_vars; i++) unsetenv(proxy_vars[i]);
    test_keep_alive_sequential();
    test_large_then_small_requests();
    test_keep_alive_across_threads();
    test_keep_alive_after_streams();
    test_user_agent();
    test_redirect_not_followed();
    test_connection_refused();
    test_unresolvable_host();
    test_connection_reset();
    test_http_proxy();
    test_https_proxy();
    test_tls_self_signed_refused();
    test_no_thread_per_request();
    return check_report("test_transport");
}
